"""Review regression: the resync after a gap asks about every account's silent orders.

Before the fix, the set of orders heard of since the gap was one set for all
accounts, consumed by the first account whose snapshot completed: the other
accounts' open orders that their snapshot did not mention (filled or cancelled
while we heard nothing) were never asked about, and stayed WORKING here while the
venue had them final.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.execution import Payload, PayloadStatus
from ec_core.model import NewOrder, OrderState, OrderType, Side
from ec_mock.faults import FaultPlan
from exec_rig import ACCOUNT, COUNTERPARTY, SYMBOL, Rig, limit, rig

S = OrderState
P = PayloadStatus
OTHER = "ACC2"


def other(price: str) -> NewOrder:
    return NewOrder(
        account_id=OTHER, symbol=SYMBOL, side=Side.BUY, qty=1, order_type=OrderType.LMT,
        limit_price=Decimal(price),
    )  # fmt: skip


async def fill_at(r: Rig, price: str) -> None:
    """The counterparty sells one lot at ``price`` (it trades with a resting buy there)."""
    await r.cp.orders.send(
        NewOrder(
            account_id=COUNTERPARTY, symbol=SYMBOL, side=Side.SELL, qty=1,
            order_type=OrderType.LMT, limit_price=Decimal(price),
        )
    )  # fmt: skip
    await r.settle()


def venue_state(r: Rig, account_id: str, cl_order_id: str) -> OrderState:
    status = r.exchange.order_status(account_id, cl_order_id)
    assert status is not None
    return status.state


@pytest.mark.anyio
@pytest.mark.parametrize("both", [True, False])
async def test_orders_of_every_account_that_ended_during_a_gap_are_resolved(both: bool) -> None:
    """``both``: an order of each account fills during the gap; else only the second
    account's does, and the first account's snapshot mentions its working order."""
    # both orders are acknowledged (3 messages: the first order brings 2), then the line drops
    async with rig(faults=FaultPlan(disconnect_after=3), accounts=(OTHER,)) as r:
        mine = Payload(request=limit(price="70.00" if both else "68.00"))
        theirs = Payload(request=other("69.00"))
        await r.executor.execute(mine)
        await r.executor.execute(theirs)
        await r.settle()
        assert r.session.gate is not None
        assert r.session.gate.disconnects == 1
        # while we hear nothing, the counterparty sells at 70.00 then 69.00
        await fill_at(r, "70.00")
        await fill_at(r, "69.00")
        ids = {ACCOUNT: mine.request.cl_order_id, OTHER: theirs.request.cl_order_id}
        expected = {ACCOUNT: S.FILLED if both else S.WORKING, OTHER: S.FILLED}
        for account_id, cl_order_id in ids.items():
            assert venue_state(r, account_id, cl_order_id) is expected[account_id]
            order = r.tracker.order(cl_order_id)
            assert order is not None
            assert order.state is S.WORKING  # we have not heard yet
        r.venue.advance(1)  # back: a snapshot per account, none mentions a filled order
        await r.settle()
        for account_id, cl_order_id in ids.items():
            order = r.tracker.order(cl_order_id)
            assert order is not None
            assert order.state is expected[account_id], account_id  # asked, per account
        assert theirs.status is P.DONE
        assert mine.status is (P.DONE if both else P.ACKNOWLEDGED)
        assert len(r.tracker.open_orders()) == (0 if both else 1)
        assert r.executor.stats().gaps_pending == ()  # every account resynced: nothing pending


@pytest.mark.anyio
async def test_an_account_without_open_orders_does_not_hold_the_resync_open() -> None:
    async with rig(faults=FaultPlan(disconnect_after=2), accounts=(OTHER,)) as r:
        mine = Payload(request=limit(price="70.00"))
        await r.executor.execute(mine)
        await r.settle()
        await fill_at(r, "70.00")
        r.venue.advance(1)
        await r.settle()
        order = r.tracker.order(mine.request.cl_order_id)
        assert order is not None
        assert order.state is S.FILLED
        assert r.executor.stats().gaps_pending == ()
