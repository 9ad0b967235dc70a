"""Fault injection on the mock venue: every order ends in a correct state, nothing is lost."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import (
    ConnectionLostError,
    OrderRejectedError,
    OrderUnknownError,
    RequestTimeoutError,
)
from ec_core.execution import Payload, PayloadStatus
from ec_core.model import ModifyOrder, OrderState, RequestType, Side
from ec_core.tracking import OrderTracker
from ec_mock.faults import FaultPlan
from exec_rig import ACCOUNT, SYMBOL, Rig, limit, rig

P = PayloadStatus
S = OrderState
SHORT = 0.05  # seconds: a deadline that expires because the ack was dropped


def status(payload: Payload) -> PayloadStatus:
    """The payload's status now (a call, so the type checker does not narrow it)."""
    return payload.status


def _venue_state(r: Rig, cl_order_id: str) -> OrderState:
    status = r.exchange.order_status(ACCOUNT, cl_order_id)
    assert status is not None
    return status.state


@pytest.mark.anyio
async def test_dropped_ack_is_unknown_then_resolved_by_status_query(tmp_path: Path) -> None:
    async with rig(
        faults=FaultPlan(drop_acks=1), ack_timeout=SHORT, journal_path=tmp_path / "j.sqlite"
    ) as r:
        payload = Payload(request=limit(qty=2))
        with pytest.raises(RequestTimeoutError):
            await r.executor.execute(payload)
        cl_order_id = payload.request.cl_order_id
        order = r.tracker.order(cl_order_id)
        assert order is not None
        assert order.state is S.UNKNOWN
        assert status(payload) is P.UNKNOWN
        assert r.received() == [cl_order_id]  # it did reach the venue
        assert await r.executor.resolve_unknown() == []
        order = r.tracker.order(cl_order_id)
        assert order is not None
        assert order.state is S.WORKING
        assert status(payload) is P.ACKNOWLEDGED
        await r.cross(Side.SELL, 2, "70.00")
        assert status(payload) is P.DONE
        assert r.tracker.position(ACCOUNT, SYMBOL).qty == 2
        assert (await r.executor.reconcile(ACCOUNT)).clean
    replayed = OrderTracker(clock=ManualClock())
    assert r.journal is not None
    from ec_core.journal import Journal

    with Journal(tmp_path / "j.sqlite") as journal:
        journal.replay(replayed)
    assert replayed.orders() == r.tracker.orders()
    assert replayed.positions() == r.tracker.positions()


@pytest.mark.anyio
async def test_fills_for_an_unknown_order_are_accepted() -> None:
    async with rig(faults=FaultPlan(drop_acks=1), ack_timeout=SHORT) as r:
        payload = Payload(request=limit(qty=1))
        with pytest.raises(RequestTimeoutError):
            await r.executor.execute(payload)
        await r.cross(Side.SELL, 1, "70.00")
        order = r.tracker.order(payload.request.cl_order_id)
        assert order is not None
        assert (order.state, order.filled_qty) == (S.FILLED, 1)
        assert status(payload) is P.DONE
        assert r.tracker.position(ACCOUNT, SYMBOL).qty == 1


@pytest.mark.anyio
async def test_duplicate_fills_are_counted_once() -> None:
    plan = FaultPlan(kinds=("FILL",), duplicate_probability=1.0)
    async with rig(faults=plan) as r:
        payload = Payload(request=limit(qty=3))
        await r.executor.execute(payload)
        await r.cross(Side.SELL, 1, "70.00")
        await r.cross(Side.SELL, 2, "70.00")
        assert r.session.gate is not None
        assert r.session.gate.injector.duplicated >= 2  # the counterparty's fills pass here too
        assert r.tracker.stats().duplicate_fills == 2
        assert len(r.tracker.fills(ACCOUNT)) == 2
        assert r.tracker.position(ACCOUNT, SYMBOL).qty == 3
        assert status(payload) is P.DONE
        assert (await r.executor.reconcile(ACCOUNT)).clean


@pytest.mark.anyio
async def test_disconnect_after_send_is_unknown_then_the_snapshot_settles_it() -> None:
    async with rig(faults=FaultPlan(drop_acks=1, disconnect_after=1)) as r:
        payload = Payload(request=limit(qty=1))
        with pytest.raises(OrderUnknownError, match="connection lost"):
            await r.executor.execute(payload)
        assert status(payload) is P.UNKNOWN
        blocked = Payload(request=limit(qty=1))
        with pytest.raises(ConnectionLostError):
            await r.executor.execute(blocked)  # the line is down: not sent, FAILED
        assert status(blocked) is P.FAILED
        r.venue.advance(1)  # the line comes back: GAP, snapshot, RECONNECTED
        await r.settle()
        order = r.tracker.order(payload.request.cl_order_id)
        assert order is not None
        assert order.state is S.WORKING
        assert status(payload) is P.ACKNOWLEDGED
        assert r.received() == [payload.request.cl_order_id]


@pytest.mark.anyio
async def test_fill_during_disconnect_is_recovered_by_reconcile() -> None:
    async with rig(faults=FaultPlan(disconnect_after=1)) as r:
        payload = Payload(request=limit(qty=1))
        await r.executor.execute(payload)  # the ack gets through, then the line drops
        await r.settle()
        await r.cross(Side.SELL, 1, "70.00")  # fills while we hear nothing
        assert _venue_state(r, payload.request.cl_order_id) is S.FILLED
        r.venue.advance(1)
        await r.settle()  # snapshot without the order, then a status query: FILLED
        order = r.tracker.order(payload.request.cl_order_id)
        assert order is not None
        assert order.state is S.FILLED
        assert status(payload) is P.DONE
        report = await r.executor.reconcile(ACCOUNT)  # the fill itself was lost on the line
        assert [d.kind.value for d in report.differences] == ["POSITION_MISMATCH"]
        assert r.tracker.position(ACCOUNT, SYMBOL).qty == 1
        again = await r.executor.reconcile(ACCOUNT)
        assert again.clean


@pytest.mark.anyio
async def test_venue_reject_is_rejected_not_denied() -> None:
    async with rig(faults=FaultPlan.reject_next_orders(1, "NO_MONEY")) as r:
        payload = Payload(request=limit())
        with pytest.raises(OrderRejectedError) as caught:
            await r.executor.execute(payload)
        assert caught.value.code == "NO_MONEY"
        assert status(payload) is P.REJECTED
        order = r.tracker.order(payload.request.cl_order_id)
        assert order is not None
        assert order.state is S.REJECTED
        assert r.received() == [payload.request.cl_order_id]


@pytest.mark.anyio
async def test_random_faults_lose_nothing() -> None:
    plan = FaultPlan(
        seed=11,
        kinds=("ACCEPTED", "FILL", "CANCELLED"),
        drop_probability=0.15,
        duplicate_probability=0.2,
        reorder_probability=0.2,
    )
    async with rig(faults=plan, ack_timeout=0.02) as r:
        payloads = []
        for i in range(30):
            side = Side.BUY if i % 2 else Side.SELL
            payload = Payload(request=limit(qty=1 + i % 3, price="70.00", side=side))
            payloads.append(payload)
            with contextlib.suppress(RequestTimeoutError):
                await r.executor.execute(payload)
            if i % 5 == 4:
                await r.cross(Side.SELL, 3, "70.00")
                await r.cross(Side.BUY, 3, "70.00")
        assert r.session.gate is not None
        r.session.gate.flush()
        await r.settle()
        await r.executor.resolve_unknown()
        await r.executor.reconcile(ACCOUNT)
        final = await r.executor.reconcile(ACCOUNT)
        assert final.clean, final
        received = r.received()
        assert sorted(received) == sorted(p.request.cl_order_id for p in payloads)
        for payload in payloads:
            cl_order_id = payload.request.cl_order_id
            order = r.tracker.order(cl_order_id)
            assert order is not None
            assert order.state is _venue_state(r, cl_order_id), cl_order_id
            assert payload.status in (P.ACKNOWLEDGED, P.DONE)
            assert (payload.status is P.DONE) == order.state.is_final
        venue_qty = {p.symbol: p.qty for p in r.exchange.positions(ACCOUNT)}
        assert r.tracker.position(ACCOUNT, SYMBOL).qty == venue_qty.get(SYMBOL, 0)


@pytest.mark.anyio
async def test_rejected_modify_leaves_the_order_working() -> None:
    plan = FaultPlan(
        reject_next=1, reject_code="NO_MODIFY", reject_request_types=(RequestType.MODIFY,)
    )
    async with rig(faults=plan) as r:
        new = Payload(request=limit(price="70.00"))
        await r.executor.execute(new)
        chain = new.request.cl_order_id
        modify = Payload(
            request=ModifyOrder(
                account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id=chain,
                limit_price=Decimal("69.00"),
            )
        )  # fmt: skip
        with pytest.raises(OrderRejectedError) as caught:
            await r.executor.execute(modify)
        assert caught.value.code == "NO_MODIFY"
        assert status(modify) is P.REJECTED
        order = r.tracker.order(chain)
        assert order is not None
        assert (order.state, order.cl_order_id, order.limit_price) == (
            S.WORKING, chain, Decimal("70.00"),
        )  # fmt: skip
        assert status(new) is P.ACKNOWLEDGED
