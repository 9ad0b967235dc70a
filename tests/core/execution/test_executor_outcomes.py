"""Review regressions of the executor: every order ends denied, rejected, known or UNKNOWN.

Each test failed before its fix: a request the gateway refused before writing was
tracked as an UNKNOWN order forever; a cancelled wait for the answer left the
payload SENT and the order PENDING_NEW with nobody asking about it; a resolver
or price source that raised escaped as a bare exception; one odd payload aborted
a whole basket; a non-str client order id reached the maps and the venue.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.clock import ManualClock
from ec_core.errors import EcError, JournalError, OrderDeniedError, Violation
from ec_core.execution import Payload, PayloadStatus
from ec_core.journal import Journal, MarkedUnknown, RequestSent, SendFailed
from ec_core.model import CancelOrder, ExecutionReport, Order, OrderRequest, OrderState, TradeEvent
from ec_core.plugins import PluginHost, hookimpl
from ec_core.tracking import OrderTracker
from ec_core.vendor import OrderGateway
from ec_mock.faults import FaultPlan
from exec_rig import ACCOUNT, SYMBOL, limit, rig

P = PayloadStatus
S = OrderState
CQG_MAX_CL_ORDER_ID_BYTES = 64


def status(payload: Payload) -> PayloadStatus:
    """The payload's status now (a call, so the type checker does not narrow it)."""
    return payload.status


class FormatCheckingGateway:
    """The gateway contract the CQG client keeps: what the venue's format cannot
    express raises :class:`OrderDeniedError` before a byte is written."""

    def __init__(self, inner: OrderGateway) -> None:
        self.inner = inner

    async def send(self, request: OrderRequest) -> None:
        if len(request.cl_order_id.encode()) > CQG_MAX_CL_ORDER_ID_BYTES:
            raise OrderDeniedError(
                [
                    Violation(
                        code="CQG_REQUEST",
                        field="cl_order_id",
                        rule="must be 1..64 UTF-8 bytes",
                        value=request.cl_order_id,
                        limit=CQG_MAX_CL_ORDER_ID_BYTES,
                    )
                ]
            )
        await self.inner.send(request)

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        return await self.inner.order_status(account_id, cl_order_id)

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        return await self.inner.open_orders(account_id)

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        return await self.inner.historical_orders(account_id, start, end)


class DeniedLog:
    def __init__(self) -> None:
        self.codes: list[tuple[str, ...]] = []

    @hookimpl
    def ec_on_denied(self, request: OrderRequest, violations: Sequence[Violation]) -> None:
        self.codes.append(tuple(v.code for v in violations))


@pytest.mark.anyio
@pytest.mark.parametrize("direct", [False, True])
async def test_a_request_the_gateway_refuses_is_denied_and_never_tracked(
    tmp_path: Path, direct: bool
) -> None:
    host = PluginHost()
    denied = DeniedLog()
    host.register(denied, name="denied-log")
    path = tmp_path / "j.sqlite"
    async with rig(journal_path=path, host=host) as r:
        r.executor.gateway = FormatCheckingGateway(r.session.orders)
        long_id = "é" * 33  # 33 characters, 66 UTF-8 bytes
        payload = Payload(request=limit(cl_order_id=long_id))
        send = r.executor.send_direct(payload.request) if direct else r.executor.execute(payload)
        with pytest.raises(OrderDeniedError) as caught:
            await send
        assert caught.value.codes == ("CQG_REQUEST",)
        assert r.received() == []
        assert r.tracker.order(long_id) is None  # not an order that "may have left"
        assert r.tracker.unknown_orders() == []
        assert r.tracker.open_orders() == []
        if not direct:
            assert status(payload) is P.DENIED
        assert denied.codes == [("CQG_REQUEST",)]
        assert r.executor.stats().reserved == 0
        r.executor.flush()
        assert r.journal is not None
        kinds = [type(rec) for _, rec in r.journal.records()]
        assert SendFailed in kinds
        assert RequestSent not in kinds
        assert MarkedUnknown not in kinds
        # a fixed order still goes out: nothing phantom is left in the way
        assert await r.executor.execute(Payload(request=limit(cl_order_id="short-1"))) is not None
    replayed = OrderTracker(clock=ManualClock())
    with Journal(path) as journal:
        report = journal.replay(replayed)
    assert long_id not in report.marked_unknown
    assert replayed.order(long_id) is None


@pytest.mark.anyio
async def test_cancelled_while_awaiting_the_answer_is_unknown_then_resolved(
    tmp_path: Path,
) -> None:
    async with rig(faults=FaultPlan(drop_acks=1), journal_path=tmp_path / "j.sqlite") as r:
        payload = Payload(request=limit())
        scope = anyio.CancelScope()

        async def execute() -> None:
            with scope:
                await r.executor.execute(payload)

        async with anyio.create_task_group() as tg:
            tg.start_soon(execute)
            await anyio.wait_all_tasks_blocked()  # sent; its ack was dropped: it waits
            assert status(payload) is P.SENT
            scope.cancel()
        cl_order_id = payload.request.cl_order_id
        assert r.received() == [cl_order_id]
        assert status(payload) is P.UNKNOWN
        order = r.tracker.order(cl_order_id)
        assert order is not None
        assert order.state is S.UNKNOWN  # not PENDING_NEW with nobody asking
        r.executor.flush()
        assert r.journal is not None
        assert any(isinstance(rec, MarkedUnknown) for _, rec in r.journal.records())
        assert await r.executor.resolve_unknown() == []
        order = r.tracker.order(cl_order_id)
        assert order is not None
        assert order.state is S.WORKING
        assert status(payload) is P.ACKNOWLEDGED


@pytest.mark.anyio
async def test_a_price_source_that_raises_denies_the_order() -> None:
    def no_prices(symbol: str) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        raise KeyError(symbol)  # e.g. market data not subscribed

    async with rig(prices=no_prices) as r:
        payload = Payload(request=limit())
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(payload)
        (violation,) = caught.value.violations
        assert (violation.code, violation.field) == ("CHECK_FAILED", "symbol")
        assert "KeyError" in str(violation.value)
        assert status(payload) is P.DENIED
        assert r.received() == []


@pytest.mark.anyio
async def test_one_odd_payload_does_not_abort_its_basket() -> None:
    async with rig() as r:
        first = Payload(request=limit(price="69.00"))
        last = Payload(request=limit(price="68.00"))
        results = await r.executor.execute_many([first, first, last])  # the same payload twice
        assert isinstance(results[0], Order)
        assert isinstance(results[1], EcError)
        assert isinstance(results[2], Order)
        assert r.received() == [first.request.cl_order_id, last.request.cl_order_id]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("bad_id", "rule"),
    [
        (123, "must be a str"),
        (b"raw-bytes", "must be a str"),
        # sent before: a blank id or one with control characters reached the venue, the
        # journal and every log line that names the order
        *((bad, "printable") for bad in (" ", " pad", "pad\t", "nul\x00", "2\nlines", "\u2028")),
    ],
)
async def test_a_client_order_id_that_is_not_printable_text_is_denied(
    bad_id: object, rule: str
) -> None:
    async with rig() as r:
        payload = Payload(request=limit(cl_order_id=bad_id))
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(payload)
        assert caught.value.codes == ("CL_ORDER_ID_INVALID",)
        [violation] = caught.value.violations
        assert violation.field == "cl_order_id"
        assert rule in violation.rule
        assert r.received() == []
        assert r.tracker.orders() == []


@pytest.mark.anyio
async def test_a_cancel_answered_before_its_send_returns_is_not_a_timeout() -> None:
    """A network gateway may still be draining its write when the venue's answer has
    already been read and applied by the consumer: the answer must count."""
    async with rig(consume=False, ack_timeout=5.0) as r, r.session.trades.stream(ACCOUNT) as events:
        applied: list[str] = []
        consumer_asked = anyio.Event()

        async def plain() -> AsyncIterator[TradeEvent]:
            nonlocal consumer_asked
            async for event in events:
                yield event  # the consumer applies it before asking for the next one
                if isinstance(event, ExecutionReport):
                    applied.append(event.cl_order_id)
                    consumer_asked.set()

        async with r.executor.consume(plain()):
            order = await r.executor.execute(Payload(request=limit()))
            assert order is not None
            inner = r.session.orders

            class DrainingGateway(FormatCheckingGateway):
                async def send(self, request: OrderRequest) -> None:
                    nonlocal consumer_asked
                    consumer_asked = anyio.Event()
                    await inner.send(request)
                    while request.cl_order_id not in applied:  # the drain outlives the answer
                        await consumer_asked.wait()
                        consumer_asked = anyio.Event()

            r.executor.gateway = DrainingGateway(inner)
            cancel = Payload(
                request=CancelOrder(
                    account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id=order.cl_order_id
                )
            )
            with anyio.fail_after(2):  # far below ack_timeout: a wait in vain fails here
                await r.executor.execute(cancel)
            assert status(cancel) is P.DONE
            final = r.tracker.order(order.chain_id)
            assert final is not None
            assert final.state is S.CANCELLED
            assert r.executor.stats().in_flight == 0


@pytest.mark.anyio
async def test_a_batch_commit_failing_inside_the_intent_append_fails_closed(
    tmp_path: Path,
) -> None:
    """With a full batch, appending the intent itself commits; a failure there must halt
    and fail the order like a failed group commit, not leave it VALIDATED with its
    exposure reserved for every later check and the executor still taking orders."""
    path = tmp_path / "j.sqlite"
    async with rig(journal_path=path) as r:
        assert r.journal is not None
        r.journal.batch_size = 1  # every append commits
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        payload = Payload(request=limit())
        try:
            with pytest.raises(JournalError):
                await r.executor.execute(payload)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert status(payload) is P.FAILED
        assert r.executor.stats().reserved == 0  # no phantom exposure left behind
        assert r.executor.halted is not None  # fail closed until cleared
        assert r.received() == []
        r.executor.clear_halt()
        kinds = [type(rec).__name__ for _, rec in r.journal.records()]
        assert kinds.count("IntentRecorded") == kinds.count("SendFailed") == 1
