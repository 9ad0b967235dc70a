"""Market-to-limit and iceberg orders over the CQG wire, both ways, on the real
CQG-dialect server and the ec-mock engine (issue 17 items 2 and 6).

The client sends market-to-limit as ``order_type`` MKT with ``EXEC_INSTRUCTION_MTL`` and
an iceberg as ``EXEC_INSTRUCTION_ICEBERG`` with ``visible_qty``; the server maps them
back to the core order the engine matches. Qualifiers CQG has no field for (minimum
quantity, SMP per order) are denied before a byte is sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from cqgclient_real import (
    ACCOUNT,
    next_event,
    of_type,
    report_of,
    served,
    settings,
)
from ec_core.errors import OrderDeniedError
from ec_core.model import (
    Duration,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    Side,
    SmpInstruction,
    SnapshotComplete,
)
from ec_cqg.client import CqgSession
from ec_cqg.protocol.mapping.requests import OrderTarget, new_order_request
from ec_cqg.protocol.pb import order_2
from ec_cqg.protocol.prices import PriceScale

pytestmark = pytest.mark.anyio

HOUSE = "E2E-2"  # the other venue account: its orders make the book
TICK = Decimal("0.25")


def new(cl: str, order_type: OrderType, side: Side, qty: int, **more: Any) -> NewOrder:
    return NewOrder(
        account_id=ACCOUNT,
        symbol="EP",
        side=side,
        qty=qty,
        order_type=order_type,
        cl_order_id=cl,
        **more,
    )


def rest(srv: Any, cl: str, side: Side, qty: int, price: Decimal) -> None:
    """An order of the other account, placed on the venue directly."""
    srv.venue.exchange.submit(
        NewOrder(
            account_id=HOUSE,
            symbol="EP",
            side=side,
            qty=qty,
            order_type=OrderType.LMT,
            limit_price=price,
            cl_order_id=cl,
        )
    )


async def test_market_to_limit_round_trips_and_rests_at_the_price_it_took() -> None:
    async with served(market=False) as srv, CqgSession(settings(srv.url)) as session:
        rest(srv, "a1", Side.SELL, 1, Decimal("4500"))
        rest(srv, "a2", Side.SELL, 5, Decimal("4500.25"))
        async with session.trades.stream(ACCOUNT) as events:
            await next_event(events, of_type(SnapshotComplete))
            await session.orders.send(new("mtl", OrderType.MTL, Side.BUY, 3))
            accepted = await next_event(events, report_of("mtl", ReportKind.ACCEPTED))
            assert accepted.order_type is OrderType.MTL
            fill = await next_event(events, report_of("mtl", ReportKind.FILL))
            assert fill.fill is not None
            assert (fill.fill.qty, fill.fill.price) == (1, Decimal("4500"))
            assert (fill.state, fill.order_type) == (OrderState.PARTIALLY_FILLED, OrderType.MTL)
        book = srv.venue.exchange.book("EP")
        assert [(lv.price * TICK, lv.qty) for lv in book.bids] == [(Decimal("4500"), 2)]


async def test_an_iceberg_round_trips_and_the_book_shows_its_display_only() -> None:
    async with served(market=False) as srv, CqgSession(settings(srv.url)) as session:
        async with session.trades.stream(ACCOUNT) as events:
            await next_event(events, of_type(SnapshotComplete))
            iceberg = new(
                "ice",
                OrderType.LMT,
                Side.SELL,
                10,
                limit_price=Decimal("4510"),
                display_qty=2,
                duration=Duration.GTC,
            )
            await session.orders.send(iceberg)
            accepted = await next_event(events, report_of("ice", ReportKind.ACCEPTED))
            assert (accepted.state, accepted.qty) == (OrderState.WORKING, 10)
            book = srv.venue.exchange.book("EP")
            assert [(lv.price * TICK, lv.qty) for lv in book.asks] == [(Decimal("4510"), 2)]
            rest(srv, "take", Side.BUY, 3, Decimal("4510"))
            fills: list[int] = []
            while sum(fills) < 3:
                fill = await next_event(events, report_of("ice", ReportKind.FILL))
                assert fill.fill is not None
                fills.append(fill.fill.qty)
        assert srv.venue.exchange.remaining_qty("E2E-1", "ice") == 7
        book = srv.venue.exchange.book("EP")  # a slice of 2 filled, then 1 of the next
        assert [(lv.price * TICK, lv.qty) for lv in book.asks] == [(Decimal("4510"), 1)]


@pytest.mark.parametrize(
    ("more", "field"),
    [
        ({"min_qty": 1, "duration": Duration.IOC}, "min_qty"),
        ({"smp_id": "DESK1"}, "smp_id"),
        ({"smp_id": "DESK1", "smp_instruction": SmpInstruction.CANCEL_AGGRESSING}, "smp_id"),
    ],
)
async def test_qualifiers_cqg_has_no_field_for_are_denied_and_nothing_is_sent(
    more: dict[str, Any], field: str
) -> None:
    async with served(market=False) as srv, CqgSession(settings(srv.url)) as session:
        order = new("q", OrderType.LMT, Side.BUY, 2, limit_price=Decimal("4490"), **more)
        with pytest.raises(OrderDeniedError) as denied:
            await session.orders.send(order)
        assert field in {v.field for v in denied.value.violations}
        assert srv.venue.exchange.order_status("E2E-1", "q") is None


def test_the_frames_carry_mtl_and_visible_qty() -> None:
    scale = PriceScale(correct_price_scale=Decimal("0.01"), tick_size=TICK)
    target = OrderTarget(account_id=1001, contract_id=1, prices=scale)
    mtl = new_order_request(
        new("m", OrderType.MTL, Side.BUY, 1), request_id=1, target=target, now_ns=0
    ).new_order.order
    assert (mtl.order_type, list(mtl.exec_instructions)) == (
        order_2.Order.ORDER_TYPE_MKT,
        [order_2.Order.EXEC_INSTRUCTION_MTL],
    )
    ice = new_order_request(
        new("i", OrderType.LMT, Side.BUY, 9, limit_price=Decimal("4500"), display_qty=3),
        request_id=2,
        target=target,
        now_ns=0,
    ).new_order.order
    assert list(ice.exec_instructions) == [order_2.Order.EXEC_INSTRUCTION_ICEBERG]
    assert (ice.visible_qty.significand, ice.visible_qty.exponent) == (3, 0)
