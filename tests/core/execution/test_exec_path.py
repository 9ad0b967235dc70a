"""The executor's order path on the real in-process mock venue."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.errors import (
    ConnectionLostError,
    EcError,
    JournalError,
    OrderDeniedError,
    Violation,
)
from ec_core.execution import Payload, PayloadStatus
from ec_core.journal import EventReceived, IntentRecorded, RequestSent
from ec_core.model import (
    CancelAll,
    CancelOrder,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from ec_core.plugins import PluginHost, hookimpl
from exec_rig import ACCOUNT, SYMBOL, Rule, default_gate, limit, rig

P = PayloadStatus
S = OrderState


def _cancel(orig: str) -> CancelOrder:
    return CancelOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id=orig)


def _at(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


@pytest.mark.anyio
async def test_accepted_order_is_journaled_before_it_leaves(tmp_path: Path) -> None:
    async with rig(journal_path=tmp_path / "j.sqlite") as r:
        payload = Payload(request=limit(), request_id=1)
        order = await r.executor.execute(payload)
        assert order is not None
        assert order.state is S.WORKING
        assert payload.status is P.ACKNOWLEDGED
        cl_order_id = payload.request.cl_order_id
        assert cl_order_id.startswith(r.executor.ids.token)
        assert r.received() == [cl_order_id]
        assert r.journal is not None
        r.executor.flush()
        records = [rec for _, rec in r.journal.records()]
        kinds = [type(rec) for rec in records]
        answer = next(
            i
            for i, rec in enumerate(records)
            if isinstance(rec, EventReceived)
            and getattr(rec.event, "cl_order_id", None) == cl_order_id
        )  # the snapshot's events may come before: only the order's answer is ordered
        assert kinds.index(IntentRecorded) < kinds.index(RequestSent) < answer


@pytest.mark.anyio
async def test_fill_settles_the_payload_and_the_position() -> None:
    async with rig() as r:
        payload = Payload(request=limit(qty=2, price="70.00"))
        await r.executor.execute(payload)
        await r.cross(Side.SELL, 2, "70.00")
        order = r.tracker.order(payload.request.cl_order_id)
        assert order is not None
        assert (order.state, order.filled_qty) == (S.FILLED, 2)
        assert payload.status is P.DONE
        assert r.tracker.position(ACCOUNT, SYMBOL).qty == 2
        report = await r.executor.reconcile(ACCOUNT)
        assert report.clean, report


@pytest.mark.anyio
async def test_denied_order_never_leaves_and_observers_hear_of_it() -> None:
    denied: list[tuple[str, ...]] = []

    class Observer:
        @hookimpl
        def ec_on_denied(self, request: OrderRequest, violations: list[Violation]) -> None:
            denied.append(tuple(v.code for v in violations))

    host = PluginHost(strict=True)
    host.register(Observer(), name="observer")
    async with rig(host=host) as r:
        payload = Payload(request=limit(qty=0, price="70.005"))
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(payload)
        assert set(caught.value.codes) == {"QTY_NOT_POSITIVE", "PRICE_OFF_TICK"}
        assert payload.status is P.DENIED
        assert denied == [caught.value.codes]
        assert r.received() == []
        with pytest.raises(EcError, match="executed before"):
            await r.executor.execute(payload)


@pytest.mark.anyio
async def test_reused_client_order_id_is_denied() -> None:
    async with rig() as r:
        await r.executor.execute(Payload(request=limit(cl_order_id="MINE-1")))
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(Payload(request=limit(cl_order_id="MINE-1")))
        assert caught.value.codes == ("DUPLICATE_CL_ORDER_ID",)
        assert r.received() == ["MINE-1"]


@pytest.mark.anyio
async def test_activation_window() -> None:
    async with rig() as r:
        now = r.clock.now_ns()
        expired = Payload(request=limit(), end_time=_at(now))
        assert await r.executor.execute(expired) is None
        assert expired.status is P.EXPIRED
        invalid = Payload(request=limit(), start_time=_at(now + 10**9), end_time=_at(now))
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(invalid)
        assert caught.value.codes == ("ACTIVATION_WINDOW_INVALID",)
        naive = Payload(request=limit(), start_time=datetime(2030, 1, 1))
        with pytest.raises(OrderDeniedError):
            await r.executor.execute(naive)
        assert r.received() == []


@pytest.mark.anyio
async def test_held_until_start_then_sent() -> None:
    slept: list[float] = []
    sleeps: list[Callable[[float], Awaitable[None]]] = []  # the sleep in use: the last one

    async def sleep(seconds: float) -> None:
        await sleeps[-1](seconds)

    async with rig(sleep=sleep) as r:

        async def fake_sleep(seconds: float) -> None:  # time passes on the venue's clock
            slept.append(seconds)
            r.venue.advance(int(seconds * 1e9))

        sleeps.append(fake_sleep)
        start = r.clock.now_ns() + 3 * 10**9
        payload = Payload(request=limit(), start_time=_at(start), end_time=_at(start + 10**9))
        order = await r.executor.execute(payload)
        assert order is not None
        assert slept == [3.0]
        assert r.clock.now_ns() >= start
        assert payload.status is P.ACKNOWLEDGED

        closing = r.clock.now_ns() + 10**9

        async def oversleep(seconds: float) -> None:
            r.venue.advance(int(seconds * 1e9) + 10**9)

        sleeps.append(oversleep)
        late = Payload(request=limit(), start_time=_at(closing), end_time=_at(closing + 1000))
        assert await r.executor.execute(late) is None
        assert late.status is P.EXPIRED
        assert len(r.received()) == 1


@pytest.mark.anyio
async def test_modify_then_cancel_keep_one_chain() -> None:
    async with rig() as r:
        new = Payload(request=limit(price="70.00"))
        await r.executor.execute(new)
        chain = new.request.cl_order_id
        modify = Payload(
            request=ModifyOrder(
                account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id=chain,
                limit_price=Decimal("69.50"),
            )
        )  # fmt: skip
        order = await r.executor.execute(modify)
        assert order is not None
        assert (order.chain_id, order.limit_price) == (chain, Decimal("69.50"))
        assert order.state is S.WORKING
        assert modify.status is P.ACKNOWLEDGED
        cancel = Payload(request=_cancel(order.cl_order_id))
        order = await r.executor.execute(cancel)
        assert order is not None
        assert (order.chain_id, order.state) == (chain, S.CANCELLED)
        assert cancel.status is P.DONE
        await r.settle()
        assert [new.status, modify.status] == [P.DONE, P.DONE]
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(Payload(request=_cancel(chain)))
        assert caught.value.codes == ("ORDER_NOT_OPEN",)
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(Payload(request=_cancel("nope")))
        assert caught.value.codes == ("ORDER_NOT_FOUND",)


@pytest.mark.anyio
async def test_cancel_all_waits_for_every_target() -> None:
    async with rig() as r:
        for price in ("69.00", "69.50", "70.00"):
            await r.executor.execute(Payload(request=limit(price=price)))
        assert len(r.tracker.open_orders(ACCOUNT)) == 3
        bulk = Payload(request=CancelAll(account_id=ACCOUNT))
        assert await r.executor.execute(bulk) is None
        assert bulk.status is P.DONE
        assert r.tracker.open_orders(ACCOUNT) == []
        assert {o.state for o in r.tracker.orders(ACCOUNT)} == {S.CANCELLED}


@pytest.mark.anyio
async def test_direct_path_skips_optional_rules_not_mandatory_ones() -> None:
    never = Rule("house style", "STYLE", lambda request, context: True)
    async with rig(gate=default_gate([never])) as r:
        with pytest.raises(OrderDeniedError):
            await r.executor.execute(Payload(request=limit()))
        order = await r.executor.send_direct(limit())
        assert order is not None
        assert order.state is S.WORKING
        unknown_symbol = NewOrder(
            account_id=ACCOUNT, symbol="NOPE", side=Side.BUY, qty=1, order_type=OrderType.MKT
        )
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.send_direct(unknown_symbol)
        assert caught.value.codes == ("INSTRUMENT_NOT_ALLOWED",)
        assert len(r.received()) == 1


@pytest.mark.anyio
async def test_journal_failure_fails_closed_until_cleared(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    async with rig(journal_path=path) as r:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        first = Payload(request=limit())
        with pytest.raises(JournalError):
            await r.executor.execute(first)
        assert first.status is P.FAILED
        assert r.executor.halted is not None
        blocker.execute("ROLLBACK")  # the disk is fine again, but nobody said so
        second = Payload(request=limit())
        with pytest.raises(JournalError, match="new orders stopped"):
            await r.executor.execute(second)
        assert second.status is P.FAILED
        assert r.received() == []
        r.executor.clear_halt()
        blocker.close()
        third = Payload(request=limit())
        assert await r.executor.execute(third) is not None
        assert r.received() == [third.request.cl_order_id]


@pytest.mark.anyio
async def test_send_on_a_dead_session_fails_and_is_not_tracked() -> None:
    async with rig() as r:
        r.session.disconnect("test: line down")
        payload = Payload(request=limit())
        with pytest.raises(ConnectionLostError):
            await r.executor.execute(payload)
        assert payload.status is P.FAILED
        assert r.tracker.order(payload.request.cl_order_id) is None
        assert r.received() == []


@pytest.mark.anyio
async def test_concurrent_intents_share_one_commit(tmp_path: Path) -> None:
    async with rig(journal_path=tmp_path / "j.sqlite") as r:
        assert r.journal is not None
        before = r.journal.commits
        payloads = [Payload(request=limit(price=f"69.{i:02d}")) for i in range(10)]
        async with anyio.create_task_group() as tg:
            for payload in payloads:
                tg.start_soon(r.executor.execute, payload)
        assert {p.status for p in payloads} == {P.ACKNOWLEDGED}
        assert r.journal.commits - before == 1  # one group commit for ten intents
        r.executor.flush()
        records = [rec for _, rec in r.journal.records()]
        intents = [i for i, rec in enumerate(records) if isinstance(rec, IntentRecorded)]
        sends = [i for i, rec in enumerate(records) if isinstance(rec, RequestSent)]
        assert len(intents) == len(sends) == 10
        assert max(intents) < min(sends)  # every intent was on disk before any send
