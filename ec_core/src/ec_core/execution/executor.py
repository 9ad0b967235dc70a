"""The executor: the one choke point every order leaves through.

``await executor.execute(payload)`` runs, in order:

1. the activation window: held until ``start_time``, EXPIRED after ``end_time``;
2. a client order id, generated if empty; a reused id is denied;
3. the pre-trade gate: every violation is collected into one
   :class:`~ec_core.errors.OrderDeniedError`, the payload is DENIED, observers
   hear of it, and *nothing is sent*;
4. the journal: the intent is committed before the send (write-ahead); a journal
   failure raises :class:`~ec_core.errors.JournalError` and stops every new order
   until :meth:`Executor.clear_halt` (fail closed);
5. the send through the vendor's gateway;
6. the answer, awaited with a per-request deadline. A venue reject raises
   :class:`~ec_core.errors.OrderRejectedError`; no answer in time, or a disconnect,
   makes the order UNKNOWN (:class:`~ec_core.errors.RequestTimeoutError`,
   :class:`~ec_core.errors.OrderUnknownError`): it stays tracked, its fills are
   still taken, and :meth:`Executor.resolve_unknown` / :meth:`Executor.reconcile`
   or the next snapshot settle it. It is never assumed void.

Venue events reach the tracker through :meth:`Executor.on_event` (journal first,
then tracker), fed by :meth:`Executor.run` or ``async with executor.consume(stream)``.
See ``docs/outcomes.md`` and ``docs/safety/execution.md``.

Cancel-safety: ``execute`` is cancel-safe until the send starts; cancelled during
or after the send, the order is marked UNKNOWN (and journaled so) before the
cancellation propagates.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Collection, Sequence
from contextlib import aclosing, asynccontextmanager
from typing import final

import anyio
import anyio.lowlevel
import msgspec

from ec_core.clock import Clock
from ec_core.errors import (
    EcError,
    JournalError,
    OrderDeniedError,
    Violation,
)
from ec_core.execution.admission import (
    Admission,
    InstrumentResolver,
    PriceSource,
    Sleep,
    StaleLookup,
)
from ec_core.execution.answers import Answers
from ec_core.execution.feed import NO_FENCE, DirectDelivery, DirectFeed
from ec_core.execution.gate import PreTradeGate, TrackedSendGate
from ec_core.execution.ids import ClientOrderIds
from ec_core.execution.intake import Intake
from ec_core.execution.journaling import Intent, JournalWriter
from ec_core.execution.payload import Payload, PayloadStatus
from ec_core.execution.reconcile import Reconciler, ReconcileReport
from ec_core.execution.sending import Sender
from ec_core.execution.void import void_order
from ec_core.journal import (
    Journal,
    RecordNotEncodable,
    RecoveryReport,
    SendFailed,
)
from ec_core.model import (
    Order,
    OrderRequest,
    TradeEvent,
)
from ec_core.plugins.host import PluginHost
from ec_core.safety.codes import Code
from ec_core.task_errors import lone_error
from ec_core.tracking import OrderTracker
from ec_core.vendor import OrderGateway, TradeMonitor

__all__ = ["Executor", "ExecutorStats", "InstrumentResolver", "PriceSource", "StaleLookup"]

log = logging.getLogger(__name__)

_P = PayloadStatus


class ExecutorStats(msgspec.Struct, frozen=True, kw_only=True):
    """What the executor holds right now (for tests, monitoring and retention checks).

    ``in_flight``: orders with a payload waiting for them to end; ``bulk_unknown``:
    bulk requests without an answer, kept until ``unknown_bulk_ttl``; ``reserved``:
    new orders admitted and not sent yet; ``gaps_pending``: accounts that had a gap
    and are not resynced yet; ``halted``: why new orders are stopped, if they are;
    ``unknown_followed``: orders the venue reported UNKNOWN waiting for a status query,
    ``unknown_queries`` / ``unknown_resolved`` / ``unknown_unresolved``: the follow-up's
    queries asked, orders it took out of UNKNOWN, orders it gave up on;
    ``status_queries_joined``: status queries not sent because one about the same order
    was already out (a resync's and the follow-up's at once): they took its answer.
    """

    in_flight: int
    bulk_unknown: tuple[str, ...]
    reserved: int
    gaps_pending: tuple[str, ...]
    halted: str | None
    unknown_followed: tuple[str, ...] = ()
    unknown_queries: int = 0
    unknown_resolved: int = 0
    unknown_unresolved: int = 0
    status_queries_joined: int = 0


@final
class Executor:
    """Validate, journal, send, await the answer, track. One per vendor session.

    ``unknown_bulk_ttl`` (seconds): how long a bulk request (cancel-all, liquidate,
    go-flat) that timed out is kept waiting for a late answer before it is forgotten;
    it holds no order, and the orders it targeted are settled on their own.

    ``session_accounts``: the accounts the session trades (``Session.accounts()``);
    a request for any other is denied (``ACCOUNT_UNKNOWN``) before it is sent.
    ``None`` leaves the question to the venue.

    ``prices``: the price band's reference; ``stale_market``: why a symbol's market data
    stopped (a :class:`~ec_core.data.FeedSet`'s ``stale`` beside its ``prices``), so an
    order denied for want of a price names the reason.

    ``unknown_timer``: the status queries of orders the venue reported UNKNOWN are
    retried by a timer sleeping on ``sleep`` beside each trade stream's consumer, so a
    quiet stream does not hold them; ``False`` (a replay, whose clock moves only with its
    events) checks them only as events arrive.
    """

    def __init__(
        self,
        *,
        gateway: OrderGateway,
        checks: PreTradeGate,
        tracker: OrderTracker,
        journal: Journal | None,
        clock: Clock,
        vendor: str,
        instruments: InstrumentResolver,
        ack_timeout: float = 5.0,
        host: PluginHost | None = None,
        monitor: TradeMonitor | None = None,
        prices: PriceSource | None = None,
        stale_market: StaleLookup | None = None,
        ids: ClientOrderIds | None = None,
        sleep: Sleep = anyio.sleep,
        flush_interval: float = 0.05,
        unknown_bulk_ttl: float = 600.0,
        session_accounts: Collection[str] | None = None,
        unknown_timer: bool = True,
    ) -> None:
        self._gateway = gateway
        self.checks = checks
        self.tracker = tracker
        self.journal = journal
        self.clock = clock
        self.vendor = vendor
        self.host = host
        self.monitor = monitor
        self._journal = JournalWriter(
            journal,
            clock,
            flush_interval=flush_interval,
            not_encodable=self._not_encodable,
            intents_failed=self._intents_failed,
        )
        self._admission = Admission(
            checks=checks,
            tracker=tracker,
            clock=clock,
            vendor=vendor,
            instruments=instruments,
            ids=ids if ids is not None else ClientOrderIds(clock),
            journal=self._journal,
            host=host,
            prices=prices,
            stale_market=stale_market,
            sleep=sleep,
            session_accounts=session_accounts,
        )
        self.session_accounts = self._admission.session_accounts
        # account -> requests denied because the session does not trade it (ACCOUNT_UNKNOWN)
        self.unknown_accounts = self._admission.unknown_accounts
        self._answers = Answers(
            tracker,
            clock,
            append=self._journal.append,
            ack_timeout=ack_timeout,
            unknown_bulk_ttl=unknown_bulk_ttl,
        )
        self._reconciler = Reconciler(
            gateway=gateway,
            monitor=monitor,
            tracker=tracker,
            clock=clock,
            apply=self.on_event,
            void=lambda order_id, reason, by: self.void(order_id, reason=reason, by=by),
            append=self._journal.append,
            flush=self.flush,
        )
        self._intake = Intake(
            tracker=tracker,
            clock=clock,
            checks=checks,
            answers=self._answers,
            reconciler=self._reconciler,
            append=self._journal.append if journal is not None else None,
            flush=self.flush,
            timer=sleep if unknown_timer else None,
        )
        self._sender = Sender(
            gateway=gateway,
            tracker=tracker,
            clock=clock,
            admission=self._admission,
            journal=self._journal,
            journaled=journal is not None,
            answers=self._answers,
            intake=self._intake,
            host=host,
            record_sent=(
                checks.record_tracked if isinstance(checks, TrackedSendGate) else checks.record_sent
            ),
        )
        self._direct: DirectDelivery | None = None  # shared by every direct stream
        self._direct_runs = 0

    @property
    def gateway(self) -> OrderGateway:
        """Where orders are sent and statuses asked (replaceable, e.g. in tests)."""
        return self._gateway

    @gateway.setter
    def gateway(self, gateway: OrderGateway) -> None:
        self._gateway = self._reconciler.gateway = self._sender.gateway = gateway

    @property
    def ack_timeout(self) -> float:
        """Seconds a sent request's answer is awaited before the order is UNKNOWN."""
        return self._answers.ack_timeout

    @ack_timeout.setter
    def ack_timeout(self, seconds: float) -> None:
        self._answers.ack_timeout = seconds

    @property
    def flush_interval(self) -> float:
        return self._journal.flush_interval

    @property
    def unknown_bulk_ttl(self) -> float:
        return self._answers.unknown_bulk_ttl

    @property
    def ids(self) -> ClientOrderIds:
        """The client order ids of this session (generated, reserved, checked for reuse)."""
        return self._admission.ids

    @ids.setter
    def ids(self, ids: ClientOrderIds) -> None:
        self._admission.ids = ids

    def stats(self) -> ExecutorStats:
        """What the executor holds right now; see :class:`ExecutorStats`."""
        follow_up = self._intake.follow_up
        return ExecutorStats(
            in_flight=self._answers.chains,
            bulk_unknown=self._answers.bulk_unknown,
            reserved=self._admission.reserved,
            gaps_pending=self._intake.gaps_pending,
            halted=self._journal.halted,
            unknown_followed=follow_up.pending,
            unknown_queries=follow_up.queries,
            unknown_resolved=follow_up.resolved,
            unknown_unresolved=follow_up.unresolved,
            status_queries_joined=self._reconciler.joined,
        )

    # -- the order path --------------------------------------------------------

    async def execute(self, payload: Payload) -> Order | None:
        """Send ``payload`` safely; return the order as acknowledged.

        Returns ``None`` when nothing was sent because the window closed (payload
        EXPIRED), or for a bulk request (cancel-all, liquidate, go-flat) once every
        order it targeted is final. Raises :class:`OrderDeniedError`,
        :class:`OrderRejectedError`, :class:`RequestTimeoutError` /
        :class:`OrderUnknownError`, :class:`JournalError`, or
        :class:`~ec_core.errors.ConnectionLostError` (payload FAILED: not sent).
        """
        return await self._execute(payload, direct=False)

    async def send_direct(self, request: OrderRequest, *, request_id: int = 0) -> Order | None:
        """The expert path: skips optional validators, never the mandatory guards.

        The gate's ``check_mandatory`` (kill switch, rate limit, allowed
        instruments) still runs, and the order is journaled and tracked as usual.
        """
        return await self._execute(Payload(request=request, request_id=request_id), direct=True)

    async def execute_many(self, payloads: Sequence[Payload]) -> list[Order | EcError | None]:
        """Send a basket: every intent shares one journal commit, then each is sent.

        Each payload is admitted in turn (activation window, id, checks: a later
        one is checked with the earlier ones already counted as open orders), the
        intents of all admitted ones are committed together *before* the first is
        sent, then they are sent and answered in order. Returns, per payload, what
        :meth:`execute` would have returned, or the :class:`~ec_core.errors.EcError`
        it would have raised (denied, rejected, unknown, journal, connection).
        A payload held by its activation window holds the ones after it.
        """
        results: list[Order | EcError | None] = [None] * len(payloads)
        admitted: list[tuple[int, Payload, OrderRequest]] = []
        journaled = False
        try:
            for index, payload in enumerate(payloads):
                try:
                    request = (
                        self._admission.admit_open(payload, direct=False)
                        if payload.start_time is None and payload.end_time is None
                        else await self._admission.admit(payload, direct=False)
                    )
                except EcError as exc:  # denied, journal halted, executed before
                    results[index] = exc
                    continue
                if request is not None:
                    admitted.append((index, payload, request))
            if self.journal is not None and admitted:
                journaled = True
                try:
                    denials = await self._journal.write_ahead(
                        [(p, r, False) for _, p, r in admitted]
                    )
                except JournalError as exc:
                    for index, _, _ in admitted:
                        results[index] = exc
                    admitted = []
                else:
                    for (index, _, _), denial in zip(admitted, denials, strict=True):
                        if denial is not None:
                            results[index] = denial
                    admitted = [a for a, d in zip(admitted, denials, strict=True) if d is None]
            while admitted:
                index, payload, request = admitted.pop(0)
                try:
                    results[index] = await self._sender.dispatch(payload, request)
                except EcError as exc:  # each payload's outcome is its own
                    results[index] = exc
        finally:
            for _, payload, request in admitted:  # cancelled before these were sent
                self._sender.not_sent(
                    payload, request, "cancelled before send", journaled=journaled
                )
        return results

    async def _execute(self, payload: Payload, *, direct: bool) -> Order | None:
        # Without an activation window nothing is awaited before the send.
        request = (
            self._admission.admit_open(payload, direct=direct)
            if payload.start_time is None and payload.end_time is None
            else await self._admission.admit(payload, direct=direct)
        )
        if request is None:
            return None
        if self.journal is not None:
            try:
                (denial,) = await self._journal.write_ahead([(payload, request, direct)])
            except anyio.get_cancelled_exc_class():
                self._sender.not_sent(payload, request, "cancelled before send", journaled=True)
                raise
            if denial is not None:
                raise denial
        return await self._sender.dispatch(payload, request)

    # -- journal ---------------------------------------------------------------

    def _not_encodable(
        self, payload: Payload, request: OrderRequest, error: RecordNotEncodable
    ) -> OrderDeniedError:
        """The journal cannot encode this intent: deny it (nothing was buffered or sent)."""
        log.error("intent of %s not journaled: %s", request.cl_order_id, error.reason)
        self._admission.release(request.cl_order_id)
        violations = [
            Violation(
                code=Code.RECORD_NOT_ENCODABLE,
                field="request",
                rule="the journal must be able to encode the intent (write-ahead)",
                value=error.reason,
            )
        ]
        payload.advance(_P.DENIED, Code.RECORD_NOT_ENCODABLE)
        if self.host is not None:
            self.host.notify_denied(payload.request, violations)
        return OrderDeniedError(violations)

    def _intents_failed(self, entries: list[Intent], error: JournalError) -> None:
        """The intents of ``entries`` could not be committed: halt new orders, release
        their reserved exposure and fail them (nothing was sent)."""
        self._journal.halt(str(error))
        # The intents stay buffered (and are committed once the journal recovers):
        # say they never left, or recovery would think they may have.
        for payload, request, _ in entries:
            self._admission.release(request.cl_order_id)
            self._journal.append(
                SendFailed(cl_order_id=request.cl_order_id, reason="journal failed")
            )
            payload.advance(_P.FAILED, f"journal failed: {error}")

    @property
    def halted(self) -> str | None:
        """Why new orders are stopped (a journal failure), or ``None``."""
        return self._journal.halted

    def clear_halt(self) -> None:
        """Accept orders again once the journal commits; raises :class:`JournalError` if not."""
        self._journal.clear_halt()

    def flush(self) -> None:
        """Commit buffered journal records now (a failure halts new orders)."""
        self._journal.flush()

    def recover(self) -> RecoveryReport | None:
        """After a restart: rebuild the tracker from the journal, reserve every id used.

        Orders the journal leaves unanswered become UNKNOWN; follow with
        :meth:`reconcile` once the session is up.
        """
        if self.journal is None:
            return None
        report = self.journal.replay(self.tracker)
        self.ids.reserve_all(report.client_order_ids)
        self._intake.recovered()
        return report

    # -- what the venue says (see :mod:`ec_core.execution.intake`) --------------

    def on_event(self, event: TradeEvent) -> None:
        """Journal ``event``, apply it to the tracker, settle payloads it answers."""
        self._intake.on_event(event)

    async def run(self, events: AsyncIterable[TradeEvent]) -> None:
        """Feed a trade stream into the tracker until it ends.

        After a snapshot completes (at subscription or after a reconnect), every
        UNKNOWN order, and after a gap every open order the snapshot did not
        mention (it may have filled or been cancelled while we heard nothing), is
        asked about with a status query. Positions are not adopted here: fills
        lost on the line show up in :meth:`reconcile`.

        A stream that is a :class:`~ec_core.execution.DirectFeed` (an in-process
        venue) gets a sink: its events are applied the moment the venue produces
        them, in order, without a turn of the event loop each; those produced
        during one of our own sends are applied right after the send is recorded.
        That adapter (:class:`~ec_core.execution.feed.DirectDelivery`) and a plain
        stream both end in the same intake step.
        """
        if not isinstance(events, DirectFeed):
            await self._intake.run(events)
            return
        delivery = self._direct
        if delivery is None:
            delivery = self._direct = DirectDelivery(self._intake.take)
        self._sender.fence = delivery  # until the last direct stream ends
        self._direct_runs += 1
        take = self._intake.stream_take()  # the stream's events come two ways: one scope
        try:
            async with aclosing(delivery.marked(events, take)) as marked:
                await self._intake.run(marked, take)
        finally:
            self._direct_runs -= 1
            if not self._direct_runs:
                self._sender.fence = NO_FENCE

    @asynccontextmanager
    async def consume(self, events: AsyncIterable[TradeEvent]) -> AsyncIterator[Executor]:
        """Run :meth:`run` (and a periodic journal flush) in the background of a block.

        A single exception (from the block or the consumer) is re-raised as itself,
        not wrapped in an exception group.
        """
        try:
            # counted from the block's start, not the task's: a wait for the follow-up at
            # once inside the block must not find no stream consumed
            with lone_error(), self._intake.follow_up.consumed():
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self.run, events)
                    if self.journal is not None:
                        tg.start_soon(self._journal.flush_periodically)
                    try:
                        yield self
                    finally:
                        tg.cancel_scope.cancel()
        finally:
            self.flush()

    # -- reconciliation (see :mod:`ec_core.execution.reconcile`) -----------------

    async def unknown_followed_up(self) -> None:
        """Wait until every order the venue reported UNKNOWN has been asked about (no
        status query due or in flight; a retry waiting for its backoff may remain).

        Raises :class:`~ec_core.execution.NoTradeStreamError` when a query is due and no
        trade stream is consumed (only its consumer asks): nothing would ever answer."""
        await self._intake.follow_up.settled()

    async def resolve_unknown(self, account_id: str | None = None) -> list[Order]:
        """Ask the venue about every UNKNOWN order; return those still unknown. Cancel-safe."""
        return await self._reconciler.resolve_unknown(account_id)

    def void(self, order_id: str, *, reason: str, by: str = "operator") -> Order:
        """Close an open order the venue does not have as VOIDED (journaled, then
        tracked): it no longer counts against any limit. See :mod:`ec_core.execution.void`."""
        order = void_order(
            self.tracker,
            order_id,
            reason=reason,
            by=by,
            now_ns=self.clock.now_ns(),
            journal=self._journal.append if self.journal is not None else None,
        )
        self.flush()
        log.warning("order %s VOIDED by %s: %s", order.chain_id, by, reason)
        return order

    async def reconcile(self, account_id: str) -> ReconcileReport:
        """Compare our orders and positions with the venue's; the venue wins.

        Every disagreement is applied (as a venue status report or an adopted
        position, both journaled) and reported with a deterministic id. An order
        MISSING_AT_VENUE whose absence is positive (the account's snapshot is
        complete, the status query answered "not found") for an order the venue had
        acknowledged and that had no fills is VOIDED (``report.voided``); any other
        (UNKNOWN, fills on our side) is left to the operator (``ec orders void``).
        """
        return await self._reconciler.reconcile(account_id)
