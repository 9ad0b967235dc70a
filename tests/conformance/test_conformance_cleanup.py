"""At teardown the kit cancels what its test left working (a real account stays clean)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conformance_support import TRADER
from ec_core.clock import ManualClock
from ec_core.model import Duration, NewOrder, OrderType, Side
from ec_core.plugins import PluginHost
from ec_core.testing.conformance import ConformanceBase, KitOrders
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS


@pytest.mark.anyio
async def test_leftover_orders_of_the_kit_are_cancelled_and_others_kept() -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), accounts=[TRADER], market=False)
    orders = KitOrders()
    async with PluginHost.load().open_session("mock", {"venue": venue, "account_id": TRADER}) as s:
        for cl in (orders.new_id(), orders.new_id(), "not-the-kits"):
            await s.orders.send(
                NewOrder(
                    account_id=TRADER,
                    symbol="EP",
                    side=Side.BUY,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=Decimal("4000"),
                    duration=Duration.GTC,
                    cl_order_id=cl,
                )
            )
        assert len(await s.orders.open_orders(TRADER)) == 3
        await ConformanceBase()._cancel_leftovers(s, TRADER, orders)
        left = await s.orders.open_orders(TRADER)
    assert [r.cl_order_id for r in left] == ["not-the-kits"]
    assert len(orders.ids) == 4  # two orders and the cancel of each
    venue.check()
