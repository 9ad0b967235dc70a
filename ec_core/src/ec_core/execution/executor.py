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

import contextlib
import logging
from collections import OrderedDict
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import NoReturn, TypeAlias, final

import anyio
import anyio.lowlevel
import msgspec

from ec_core.clock import Clock
from ec_core.errors import (
    ConnectionLostError,
    EcError,
    JournalError,
    OrderDeniedError,
    OrderRejectedError,
    OrderUnknownError,
    RequestTimeoutError,
    Violation,
)
from ec_core.execution.feed import DirectFeed
from ec_core.execution.gate import (
    FillAnomalyListener,
    MandatoryGate,
    PnlListener,
    PreTradeGate,
    RoundingGate,
    TrackedSendGate,
)
from ec_core.execution.ids import ClientOrderIds
from ec_core.execution.payload import Payload, PayloadStatus
from ec_core.execution.reconcile import Difference, DifferenceKind, ReconcileReport
from ec_core.execution.void import void_order
from ec_core.journal import (
    AdoptedPosition,
    EventReceived,
    IntentRecorded,
    Journal,
    JournalRecord,
    MarkedUnknown,
    RecordNotEncodable,
    RecoveryReport,
    RequestSent,
    SendFailed,
    track_sent,
)
from ec_core.model import (
    CancelAll,
    CancelOrder,
    ExecutionReport,
    GoFlat,
    Instrument,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    Order,
    OrderRequest,
    OrderState,
    Position,
    SessionEvent,
    SessionEventKind,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.plugins.host import PluginHost
from ec_core.safety import PreTradeChecks, check_activation, check_known_account, datetime_ns
from ec_core.safety.checks import pending_order
from ec_core.safety.codes import Code
from ec_core.safety.shape import check_shape
from ec_core.tracking import OrderTracker, RequestOutcome
from ec_core.validation import PreTradeContext, ValidatorRegistry
from ec_core.vendor import OrderGateway, TradeMonitor

__all__ = ["Executor", "InstrumentResolver", "PriceSource"]

log = logging.getLogger(__name__)

InstrumentResolver: TypeAlias = Mapping[str, Instrument] | Callable[[str], Instrument | None]
"""Symbol -> instrument, synchronous (resolve through the session beforehand)."""

PriceSource: TypeAlias = Callable[[str], tuple[Decimal | None, Decimal | None, Decimal | None]]
"""Symbol -> (last trade, best bid, best ask), for price-band rules."""

Sleep: TypeAlias = Callable[[float], Awaitable[None]]

_P = PayloadStatus
_BULK = (CancelAll, LiquidateAll, GoFlat)
_REFERRING = frozenset({ModifyOrder, CancelOrder})
_GAP_KINDS = frozenset({SessionEventKind.DISCONNECTED, SessionEventKind.GAP})


class _CommitGroup:
    """Intents waiting for one shared commit, and how it went."""

    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.error: JournalError | None = None


@final
class Executor:
    """Validate, journal, send, await the answer, track. One per vendor session.

    ``unknown_bulk_ttl`` (seconds): how long a bulk request (cancel-all, liquidate,
    go-flat) that timed out is kept waiting for a late answer before it is forgotten;
    it holds no order, and the orders it targeted are settled on their own.

    ``session_accounts``: the accounts the session trades (``Session.accounts()``);
    a request for any other is denied (``ACCOUNT_UNKNOWN``) before it is sent.
    ``None`` leaves the question to the venue.
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
        ids: ClientOrderIds | None = None,
        sleep: Sleep = anyio.sleep,
        flush_interval: float = 0.05,
        unknown_bulk_ttl: float = 600.0,
        session_accounts: Collection[str] | None = None,
    ) -> None:
        self.gateway = gateway
        self.session_accounts = None if session_accounts is None else frozenset(session_accounts)
        # account -> requests denied because the session does not trade it (ACCOUNT_UNKNOWN)
        self.unknown_accounts: dict[str, int] = {}
        self.checks = checks
        self.tracker = tracker
        self.journal = journal
        self.clock = clock
        self.vendor = vendor
        self.ack_timeout = ack_timeout
        self.host = host
        self.monitor = monitor
        self.ids = ids if ids is not None else ClientOrderIds(clock)
        self.flush_interval = flush_interval
        self._instruments = instruments
        # One lookup callable, chosen once: a mapping's bound .get or the resolver.
        self._instrument_of: Callable[[str], Instrument | None] = (
            instruments if callable(instruments) else instruments.get
        )
        self._prices = prices
        self._sleep = sleep
        self._halted: str | None = None
        self._inflight: dict[str, list[Payload]] = {}  # chain id -> payloads not final
        # Bulk requests (cancel-all, liquidate, go-flat) without an answer: they are no
        # order, so nothing else settles them; dropped after unknown_bulk_ttl seconds.
        self._bulk_unknown: OrderedDict[str, tuple[int, Payload]] = OrderedDict()
        self.unknown_bulk_ttl = unknown_bulk_ttl
        self._fills_seen = 0
        # account -> the tracker's report_seq at the last gap, until its snapshot resyncs it
        self._gap_marks: dict[str, int] = {}
        self._mandatory: tuple[PreTradeChecks, PreTradeChecks] | None = None
        self._commit_group: _CommitGroup | None = None
        self._buffered: anyio.Event | None = None  # set when a record is buffered
        self._reserved: dict[str, NewOrder] = {}  # validated new orders not sent yet
        self._reserved_as_orders: dict[str, Order] = {}  # built on first need, then kept
        self._sending = 0  # sends in progress
        self._deferred: list[TradeEvent] = []  # delivered directly during a send
        self._resyncs: list[str] = []  # accounts whose snapshot completed, resync due
        # Protocol isinstance checks are slow: decide once what the gate can do.
        self._rounding = checks.apply_rounding if isinstance(checks, RoundingGate) else None
        self._on_pnl = checks.on_pnl if isinstance(checks, PnlListener) else None
        self._on_anomaly = (
            checks.on_fill_anomaly if isinstance(checks, FillAnomalyListener) else None
        )
        self._anomalies_seen = 0
        self._record_sent = (
            checks.record_tracked if isinstance(checks, TrackedSendGate) else checks.record_sent
        )
        # PreTradeChecks runs the shape guards itself; any other gate gets them here.
        self._shape_here = not isinstance(checks, PreTradeChecks)

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
                    request = await self._admit(payload, direct=False)
                except EcError as exc:  # denied, journal halted, executed before
                    results[index] = exc
                    continue
                if request is not None:
                    admitted.append((index, payload, request))
            if self.journal is not None and admitted:
                journaled = True
                try:
                    denials = await self._write_ahead([(p, r, False) for _, p, r in admitted])
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
                    results[index] = await self._dispatch(payload, request)
                except EcError as exc:  # each payload's outcome is its own
                    results[index] = exc
        finally:
            for _, payload, request in admitted:  # cancelled before these were sent
                self._not_sent(payload, request, "cancelled before send", journaled=journaled)
        return results

    async def _execute(self, payload: Payload, *, direct: bool) -> Order | None:
        request = await self._admit(payload, direct=direct)
        if request is None:
            return None
        if self.journal is not None:
            try:
                (denial,) = await self._write_ahead([(payload, request, direct)])
            except anyio.get_cancelled_exc_class():
                self._not_sent(payload, request, "cancelled before send", journaled=True)
                raise
            if denial is not None:
                raise denial
        return await self._dispatch(payload, request)

    async def _admit(self, payload: Payload, *, direct: bool) -> OrderRequest | None:
        """Window, id, checks: the request to send (VALIDATED, its exposure reserved),
        or ``None`` if the window closed. Raises :class:`OrderDeniedError` or, while
        the journal is halted, :class:`JournalError`."""
        if payload.status is not _P.PENDING:
            raise EcError(f"payload {payload.request_id} was executed before ({payload.status})")
        if (payload.start_time or payload.end_time) and not await self._activate(payload):
            return None
        request = payload.request
        ids = self.ids
        if type(request.cl_order_id) is not str:  # an int or a list would key every map wrongly
            self._deny(
                payload,
                [
                    Violation(
                        code="CL_ORDER_ID_INVALID",
                        field="cl_order_id",
                        rule="must be a str (empty: one is generated)",
                        value=repr(request.cl_order_id),
                    )
                ],
            )
        if request.cl_order_id:
            # The tracker may remember an id the id window no longer holds: a reuse
            # would be taken for that old order (track_new is idempotent per id).
            if ids.is_used(request.cl_order_id) or self.tracker.chain_id(request.cl_order_id):
                self._deny(
                    payload,
                    [
                        Violation(
                            code="DUPLICATE_CL_ORDER_ID",
                            field="cl_order_id",
                            rule="must not be reused in a session and day",
                            value=request.cl_order_id,
                        )
                    ],
                )
        else:
            request = msgspec.structs.replace(request, cl_order_id=ids.next())
            payload.request = request
        violations = self._references(request) if type(request) in _REFERRING else []
        if self.session_accounts is not None:
            unknown = check_known_account(request.account_id, self.session_accounts)
            if unknown is not None:
                violations.append(unknown)
                named = str(request.account_id)
                self.unknown_accounts[named] = self.unknown_accounts.get(named, 0) + 1
        try:
            context = self._context(request)
        except Exception as exc:  # a resolver or price source that raises denies, not escapes
            log.exception("pre-trade context failed on %s", request.cl_order_id)
            violations.append(
                Violation(
                    code="CHECK_FAILED",
                    field="symbol",
                    rule="instrument, position and prices must resolve",
                    value=repr(exc),
                )
            )
            self._deny(payload, violations)
        try:
            if self._rounding is not None:
                rounded = self._rounding(request, context)
                if rounded is not request:
                    request = payload.request = rounded
            shape = check_shape(request, context) if self._shape_here else None
            if direct:
                found = self._check_mandatory(request, context)
            else:
                found = self.checks.check(request, context)
            if shape:
                seen = {(v.code, v.field, v.rule) for v in shape}
                violations += shape
                violations += [v for v in found if (v.code, v.field, v.rule) not in seen]
            else:
                violations += found
        except Exception as exc:  # a broken check must not let an order through
            log.exception("pre-trade check raised on %s", request.cl_order_id)
            violations.append(
                Violation(
                    code="CHECK_FAILED", field="request", rule="checks must run", value=repr(exc)
                )
            )
        if violations:
            self._deny(payload, violations)
        payload.advance(_P.VALIDATED)
        ids.reserve(request.cl_order_id)
        if self._halted is not None:
            payload.advance(_P.FAILED, f"journal halted: {self._halted}")
            raise JournalError(f"new orders stopped: journal failed earlier ({self._halted})")
        if type(request) is NewOrder:
            # Counted as an open order by every later check until the tracker has it.
            self._reserved[request.cl_order_id] = request
        return request

    async def _dispatch(self, payload: Payload, request: OrderRequest) -> Order | None:
        """Send a validated (and journaled) request and await its answer."""
        targets = self._bulk_targets(request) if isinstance(request, _BULK) else None
        try:
            await self._send(payload, request)
            return await self._await_answer(payload, request, targets)
        except BaseException:
            if payload.status is _P.SENT:  # left, and nobody will await its answer now
                self._interrupted(payload, request.cl_order_id)
            raise

    def _interrupted(self, payload: Payload, cl_order_id: str) -> None:
        """The wait for a sent request's answer ended early (cancelled, or an error while
        resyncing): settle it if the answer is in, else make it UNKNOWN, so that it is
        reconciled and never left SENT and PENDING with nobody asking about it."""
        outcome = self.tracker.outcome(cl_order_id)
        if outcome is None:
            self._unknown(payload, cl_order_id, "interrupted while awaiting the answer")
            return
        with contextlib.suppress(OrderRejectedError):  # the payload is REJECTED: settled
            self._settle(payload, cl_order_id, outcome)

    def _not_sent(
        self, payload: Payload, request: OrderRequest, reason: str, *, journaled: bool
    ) -> None:
        """A validated request will not be sent: release its reserved exposure and, if
        its intent was journaled, say so (recovery must not think it may have left)."""
        self._release(request.cl_order_id)
        if journaled:
            self._journal(SendFailed(cl_order_id=request.cl_order_id, reason=reason))
        if payload.status is _P.VALIDATED:
            payload.advance(_P.FAILED, reason)

    def _deny(self, payload: Payload, violations: list[Violation]) -> NoReturn:
        payload.advance(_P.DENIED, ", ".join(v.code for v in violations))
        if self.host is not None:
            self.host.notify_denied(payload.request, violations)
        raise OrderDeniedError(violations)

    async def _activate(self, payload: Payload) -> bool:
        """Apply the activation window: ``False`` if it expired (payload EXPIRED).

        Before ``start_time`` the payload is held (the clock's time, slept on with
        ``sleep``); an invalid window is denied.
        """
        while True:
            violation = check_activation(payload.start_time, payload.end_time, self.clock.now_ns())
            if violation is None:
                return True
            if violation.code == Code.ACTIVATION_EXPIRED:
                payload.advance(_P.EXPIRED, str(violation))
                return False
            if violation.code != Code.NOT_YET_ACTIVE or payload.start_time is None:
                self._deny(payload, [violation])
            await self._hold_until(datetime_ns(payload.start_time))

    def _check_mandatory(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        """The direct path's checks: only the guards no path may skip.

        A :class:`PreTradeChecks` gets a view of itself without validators that
        shares its kill switch, rate limiter and limits; a gate with
        ``check_mandatory`` is asked that; any other gate runs in full.
        """
        checks = self.checks
        if isinstance(checks, PreTradeChecks):
            if self._mandatory is None or self._mandatory[0] is not checks:
                view = PreTradeChecks(
                    ValidatorRegistry(),
                    limits=checks.limits_source,
                    clock=self.clock,
                    kill_switch=checks.kill_switch,
                    rate_limiter=checks.rate_limiter,
                )
                self._mandatory = (checks, view)
            return self._mandatory[1].check(request, context)
        if isinstance(checks, MandatoryGate):
            return checks.check_mandatory(request, context)
        return checks.check(request, context)

    async def _hold_until(self, start_ns: int) -> None:
        while (remaining := start_ns - self.clock.now_ns()) > 0:
            await self._sleep(remaining / 1e9)

    def _references(self, request: OrderRequest) -> list[Violation]:
        """A modify or cancel must name an order we track that is still open."""
        if not isinstance(request, ModifyOrder | CancelOrder):
            return []
        order = self.tracker.order(request.orig_cl_order_id)
        if order is None:
            return [
                Violation(
                    code="ORDER_NOT_FOUND",
                    field="orig_cl_order_id",
                    rule="must name a tracked order",
                    value=request.orig_cl_order_id,
                )
            ]
        if order.state.is_final:
            return [
                Violation(
                    code="ORDER_NOT_OPEN",
                    field="orig_cl_order_id",
                    rule="order must be open",
                    value=order.state.value,
                )
            ]
        return []

    def _context(self, request: OrderRequest) -> PreTradeContext:
        symbol = getattr(request, "symbol", None)
        instrument = None
        position = None
        last = bid = ask = None
        if symbol:
            instrument = self._instrument_of(symbol)
            position = self.tracker.position(request.account_id, symbol)
            if self._prices is not None:
                last, bid, ask = self._prices(symbol)
        open_orders = self.tracker.open_orders(request.account_id)
        if self._reserved:
            open_orders += self._reserved_orders(request.account_id)
        return PreTradeContext(
            now_ns=self.clock.now_ns(),
            vendor=self.vendor,
            instrument=instrument,
            position=position,
            open_orders=open_orders,
            last_price=last,
            best_bid=bid,
            best_ask=ask,
        )

    def _reserved_orders(self, account_id: str) -> list[Order]:
        """New orders validated but not sent yet (a basket, or waiting for the group
        commit), as the PENDING_NEW orders the tracker will show once they leave."""
        built = self._reserved_as_orders
        orders = []
        for cl_order_id, request in self._reserved.items():
            if request.account_id != account_id:
                continue
            order = built.get(cl_order_id)
            if order is None:
                order = built[cl_order_id] = pending_order(request, self.clock.now_ns())
            orders.append(order)
        return orders

    def _release(self, cl_order_id: str) -> None:
        """The reserved order was sent (the tracker has it now) or will not be."""
        if self._reserved.pop(cl_order_id, None) is not None:
            self._reserved_as_orders.pop(cl_order_id, None)

    def _bulk_targets(self, request: CancelAll | LiquidateAll | GoFlat) -> list[str]:
        symbol = getattr(request, "symbol", None)
        return [o.chain_id for o in self.tracker.open_orders(request.account_id, symbol)]

    async def _send(self, payload: Payload, request: OrderRequest) -> None:
        cl_order_id = request.cl_order_id
        self._sending += 1  # what the venue delivers meanwhile waits for _sent (deferred)
        try:
            await self.gateway.send(request)
        except ConnectionLostError as exc:
            self._not_placed(payload, _P.FAILED, f"not sent: {exc}", str(exc))
            raise
        except OrderDeniedError as exc:
            # The gateway refused it before writing a byte (what the venue's format
            # cannot express, e.g. a cl_order_id over CQG's 64 bytes): a denial like
            # any other, never an order that "may have left".
            codes = ", ".join(exc.codes)
            self._not_placed(payload, _P.DENIED, codes, f"denied by the gateway: {codes}")
            if self.host is not None:
                self.host.notify_denied(payload.request, exc.violations)
            raise
        except OrderRejectedError as exc:
            # The venue refused it at the door (an in-process venue answers the send
            # itself, e.g. an account this logon does not trade): nothing was placed,
            # nothing is tracked, the answer is final.
            answer = f"{exc.code}: {exc.text}"
            self._not_placed(payload, _P.REJECTED, answer, f"rejected by the venue: {answer}")
            raise
        except BaseException:
            self._sending -= 1
            # Cancelled (or failed) while writing: it may have left. UNKNOWN, never void.
            self._sent(payload, request)  # synchronous: safe under cancellation
            self._unknown(payload, cl_order_id, "send interrupted")
            self._take_deferred()
            raise
        self._sending -= 1
        self._sent(payload, request)
        if self._deferred:
            self._take_deferred()
            await self._resync_due()

    def _not_placed(
        self, payload: Payload, status: PayloadStatus, why: str, journaled: str
    ) -> None:
        """The send ended before the order could be placed: release it, journal
        ``SendFailed`` (recovery knows it never left), settle the payload."""
        self._sending -= 1
        cl_order_id = payload.request.cl_order_id
        self._release(cl_order_id)
        self._journal(
            SendFailed(cl_order_id=cl_order_id, reason=journaled, ts_ns=self.clock.now_ns())
        )
        payload.advance(status, why)
        self._take_deferred()

    def _sent(self, payload: Payload, request: OrderRequest) -> None:
        if self.journal is not None:
            self._journal(RequestSent(cl_order_id=request.cl_order_id, ts_ns=self.clock.now_ns()))
        track_sent(self.tracker, request)
        self._release(request.cl_order_id)
        self._record_sent(request)
        payload.advance(_P.SENT)

    async def _await_answer(
        self, payload: Payload, request: OrderRequest, targets: list[str] | None
    ) -> Order | None:
        """``targets``: for a bulk request, the orders it should end (None otherwise)."""
        cl_order_id = request.cl_order_id
        tracker = self.tracker
        outcome = tracker.outcome(cl_order_id)
        if outcome is None and targets is None:
            # An in-process or fast venue has usually queued the answer already: one
            # turn of the loop lets the consumer apply it, without a deadline scope.
            await anyio.lowlevel.checkpoint()
            outcome = tracker.outcome(cl_order_id)
        lost: ConnectionLostError | None = None
        if outcome is None or targets:
            with anyio.move_on_after(self.ack_timeout):
                try:
                    if targets is not None:
                        outcome = await self._await_bulk(cl_order_id, targets)
                    else:
                        outcome = await tracker.wait_outcome(cl_order_id)
                except ConnectionLostError as exc:
                    lost = exc
        if outcome is None:
            reason = f"disconnected: {lost}" if lost else f"no answer within {self.ack_timeout}s"
            self._unknown(payload, cl_order_id, reason)
            if lost is not None:
                raise OrderUnknownError(
                    f"order {cl_order_id}: connection lost after sending; state UNKNOWN",
                    cl_order_id=cl_order_id,
                ) from lost
            raise RequestTimeoutError(cl_order_id=cl_order_id, timeout=self.ack_timeout)
        return self._settle(payload, cl_order_id, outcome)

    async def _await_bulk(self, cl_order_id: str, targets: list[str]) -> RequestOutcome | None:
        tracker = self.tracker

        def settled(order: Order) -> bool:
            return order.state.is_final or tracker.outcome(cl_order_id) is RequestOutcome.REJECTED

        for chain_id in targets:
            await tracker.wait_for(chain_id, settled)
            if tracker.outcome(cl_order_id) is RequestOutcome.REJECTED:
                return RequestOutcome.REJECTED
        return tracker.outcome(cl_order_id) or RequestOutcome.ACCEPTED

    def _settle(self, payload: Payload, cl_order_id: str, outcome: RequestOutcome) -> Order | None:
        """Move the payload to what the venue's answer means; raise on a reject."""
        order = self.tracker.order(cl_order_id)
        if outcome is RequestOutcome.REJECTED and not self._filled_after_reject(payload, order):
            report = self.tracker.outcome_report(cl_order_id)
            code = report.reject_code if report else ""
            text = report.reject_text if report else ""
            payload.advance(_P.REJECTED, f"{code}: {text}")
            raise OrderRejectedError(
                text or "rejected",
                code=code or None,
                cl_order_id=cl_order_id,
                details={"request_type": payload.request.request_type.value},
            )
        if outcome is RequestOutcome.ACCEPTED:
            payload.advance(_P.ACKNOWLEDGED)
        if order is None or order.state.is_final:
            payload.advance(_P.DONE)
        else:
            self._inflight.setdefault(order.chain_id, []).append(payload)
        return order

    @staticmethod
    def _filled_after_reject(payload: Payload, order: Order | None) -> bool:
        """A new order the venue rejected and then filled: its fills are the truth (the
        tracker raised the impossible fill), so the caller gets the order, not a reject."""
        return isinstance(payload.request, NewOrder) and order is not None and order.filled_qty > 0

    def _unknown(self, payload: Payload, cl_order_id: str, reason: str) -> None:
        now = self.clock.now_ns()
        self._journal(MarkedUnknown(cl_order_id=cl_order_id, reason=reason, ts_ns=now))
        tracker = self.tracker
        order = tracker.mark_unknown(cl_order_id, reason) or tracker.order(cl_order_id)
        if payload.status is _P.SENT:
            payload.advance(_P.UNKNOWN, reason)
        if order is None:  # a bulk request: no order of its own to settle it
            self._bulk_unknown[cl_order_id] = (now, payload)
            self._expire_bulk(now)
            return
        self._inflight.setdefault(order.chain_id, []).append(payload)
        if order.state.is_final:  # it ended meanwhile: nothing more will come about it
            self._settle_inflight(order.chain_id)

    # -- journal ---------------------------------------------------------------

    async def _write_ahead(
        self, entries: list[tuple[Payload, OrderRequest, bool]]
    ) -> list[OrderDeniedError | None]:
        """Journal the intents of ``entries`` (payload, request, direct) and return once
        a commit holds them (group commit).

        The first caller to need a commit yields once so that concurrent callers
        append their intents too, then commits them all in one transaction; the
        others wait for that commit. A sequential caller pays one loop turn; a
        basket (:meth:`execute_many`) brings all its intents at once.

        Returns, per entry, ``None`` (journaled) or the :class:`OrderDeniedError` of
        an intent the journal cannot encode (``RECORD_NOT_ENCODABLE``): that payload
        is DENIED and its exposure released; nothing of it was buffered, so the
        journal stays healthy and the other entries go on.
        """
        journal = self.journal
        assert journal is not None
        now = self.clock.now_ns()
        outcome: list[OrderDeniedError | None] = [None] * len(entries)
        written: list[tuple[Payload, OrderRequest, bool]] = []
        try:
            for index, entry in enumerate(entries):
                payload, request, direct = entry
                try:
                    journal.append(  # may commit a full batch, and that commit may fail
                        IntentRecorded(
                            request=request, request_id=payload.request_id, direct=direct, ts_ns=now
                        )
                    )
                except RecordNotEncodable as exc:
                    outcome[index] = self._not_encodable(payload, request, exc)
                    continue
                written.append(entry)
        except JournalError as exc:
            # The failed commit's buffer holds every intent appended so far and the
            # current one: fail them all, and the ones not reached yet too.
            self._intents_failed(
                [e for e, o in zip(entries, outcome, strict=True) if o is None], exc
            )
            raise
        if not written:
            return outcome
        group = self._commit_group
        if group is None:
            group = self._commit_group = _CommitGroup()
            try:
                await anyio.lowlevel.checkpoint()
            finally:  # even if cancelled: the others wait for this commit
                self._commit_group = None
                try:
                    journal.commit()
                except JournalError as exc:
                    group.error = exc
                group.done.set()
        else:
            await group.done.wait()
        if group.error is not None:
            self._intents_failed(written, group.error)
            raise group.error
        return outcome

    def _not_encodable(
        self, payload: Payload, request: OrderRequest, error: RecordNotEncodable
    ) -> OrderDeniedError:
        """The journal cannot encode this intent: deny it (nothing was buffered or sent)."""
        log.error("intent of %s not journaled: %s", request.cl_order_id, error.reason)
        self._release(request.cl_order_id)
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

    def _intents_failed(
        self, entries: list[tuple[Payload, OrderRequest, bool]], error: JournalError
    ) -> None:
        """The intents of ``entries`` could not be committed: halt new orders, release
        their reserved exposure and fail them (nothing was sent)."""
        self._halt(str(error))
        # The intents stay buffered (and are committed once the journal recovers):
        # say they never left, or recovery would think they may have.
        for payload, request, _ in entries:
            self._release(request.cl_order_id)
            self._journal(SendFailed(cl_order_id=request.cl_order_id, reason="journal failed"))
            payload.advance(_P.FAILED, f"journal failed: {error}")

    def _journal(self, record: JournalRecord) -> None:
        """Append a record; a failure halts new orders but never the tracking.

        A record the journal cannot encode (a venue event with a value MessagePack
        cannot carry) halts too: the history recovery would replay is incomplete.
        """
        if self.journal is None:
            return
        try:
            self.journal.append(record)
        except (JournalError, RecordNotEncodable) as exc:
            self._halt(str(exc))
        if self._buffered is not None:
            self._buffered.set()

    def _halt(self, reason: str) -> None:
        if self._halted is None:
            log.error("journal failed, new orders stopped: %s", reason)
        self._halted = reason

    @property
    def halted(self) -> str | None:
        """Why new orders are stopped (a journal failure), or ``None``."""
        return self._halted

    def clear_halt(self) -> None:
        """Accept orders again once the journal commits; raises :class:`JournalError` if not."""
        if self.journal is not None:
            self.journal.check()
        self._halted = None

    def flush(self) -> None:
        """Commit buffered journal records now (a failure halts new orders)."""
        if self.journal is None:
            return
        try:
            self.journal.commit()
        except JournalError as exc:
            self._halt(str(exc))

    def recover(self) -> RecoveryReport | None:
        """After a restart: rebuild the tracker from the journal, reserve every id used.

        Orders the journal leaves unanswered become UNKNOWN; follow with
        :meth:`reconcile` once the session is up.
        """
        if self.journal is None:
            return None
        report = self.journal.replay(self.tracker)
        self.ids.reserve_all(report.client_order_ids)
        self._fills_seen = self.tracker.fill_count
        # Anomalies replayed were acted on when they happened (the kill switch keeps
        # its state in its file): an operator's reset since then holds.
        self._anomalies_seen = self.tracker.anomaly_count
        return report

    # -- what the venue says ---------------------------------------------------

    def on_event(self, event: TradeEvent) -> None:
        """Journal ``event``, apply it to the tracker, settle payloads it answers."""
        if self.journal is not None:
            self._journal(EventReceived(event=event, ts_ns=self.clock.now_ns()))
        self.tracker.apply(event)
        if isinstance(event, ExecutionReport):
            chain_id = self.tracker.chain_id(event.cl_order_id)
            if chain_id is not None and chain_id in self._inflight:
                self._settle_inflight(chain_id)
            if self._bulk_unknown:
                self._settle_bulk(event.cl_order_id)
            if self.tracker.fill_count != self._fills_seen:
                self._fills_seen = self.tracker.fill_count
                if self.tracker.anomaly_count != self._anomalies_seen:
                    self._impossible_fills()
                if self._on_pnl is not None:
                    account = event.account_id
                    self._on_pnl(account, self.tracker.realized_pnl(account))

    def _impossible_fills(self) -> None:
        """The tracker booked impossible fills: the gate's policy acts on each (the
        kill switch, see docs/safety/policies.md). Never raises to the caller."""
        tracker = self.tracker
        new = tracker.anomaly_count - self._anomalies_seen
        self._anomalies_seen = tracker.anomaly_count
        if self._on_anomaly is None:
            return
        for anomaly in tracker.anomalies()[-new:]:
            self._on_anomaly(anomaly)

    def _settle_inflight(self, chain_id: str) -> None:
        order = self.tracker.order(chain_id)
        final = order is not None and order.state.is_final
        payloads = self._inflight.get(chain_id, [])
        for payload in list(payloads):
            if payload.status is _P.UNKNOWN:
                outcome = self.tracker.outcome(payload.request.cl_order_id)
                if outcome is RequestOutcome.ACCEPTED:
                    payload.advance(_P.ACKNOWLEDGED, "resolved")
                elif outcome is RequestOutcome.REJECTED:
                    payload.advance(_P.REJECTED, "resolved: rejected by the venue")
                elif outcome is RequestOutcome.OVERTAKEN or final:
                    # A final order hears nothing more: this request is moot.
                    payload.advance(_P.DONE, "resolved: order final before an answer")
            if payload.status is _P.ACKNOWLEDGED and order is not None and order.state.is_final:
                payload.advance(_P.DONE)
            if payload.status.is_final:
                payloads.remove(payload)
        if not payloads:
            self._inflight.pop(chain_id, None)

    def _settle_bulk(self, cl_order_id: str) -> None:
        """An answer to a bulk request that timed out: settle its payload and drop it."""
        self._expire_bulk(self.clock.now_ns())
        found = self._bulk_unknown.get(cl_order_id)
        if found is None:
            return
        outcome = self.tracker.outcome(cl_order_id)
        if outcome is None:
            return
        payload = found[1]
        if outcome is RequestOutcome.REJECTED:
            payload.advance(_P.REJECTED, "resolved: rejected by the venue")
        else:
            payload.advance(_P.ACKNOWLEDGED, "resolved")
            payload.advance(_P.DONE)
        del self._bulk_unknown[cl_order_id]

    def _expire_bulk(self, now_ns: int) -> None:
        """Forget bulk requests unanswered for ``unknown_bulk_ttl``: they hold no order
        (each order they targeted is tracked and settled on its own); the caller had
        its :class:`RequestTimeoutError` and the payload stays UNKNOWN."""
        oldest_allowed = now_ns - int(self.unknown_bulk_ttl * 1e9)
        pending = self._bulk_unknown
        while pending:
            cl_order_id, (since, _) = next(iter(pending.items()))
            if since >= oldest_allowed:
                return
            log.warning("bulk request %s: no answer in %ss, forgotten", cl_order_id,
                        self.unknown_bulk_ttl)  # fmt: skip
            pending.popitem(last=False)

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
        """
        feed = events if isinstance(events, DirectFeed) else None
        busy = False  # an event taken from the stream is being handled

        def sink(event: TradeEvent) -> bool:
            if busy:
                return False  # keep the order: it queues behind the one in hand
            if self._sending:
                self._deferred.append(event)
                return True
            if isinstance(event, SnapshotComplete):
                return False  # the resync after it awaits: the consumer does it
            self._take(event)
            return True

        if feed is not None:
            feed.set_sink(sink)
        try:
            async for event in events:
                busy = True
                try:
                    self._take(event)
                    await self._resync_due()
                finally:
                    busy = False
        finally:
            if feed is not None:
                feed.set_sink(None)
            self.flush()

    def _take(self, event: TradeEvent) -> None:
        """One event of the trade stream: apply it and keep the resync bookkeeping."""
        self.on_event(event)
        if isinstance(event, SessionEvent):
            if event.kind in _GAP_KINDS:
                self._mark_gap()
        elif isinstance(event, SnapshotComplete):
            self._resyncs.append(event.account_id)

    def _mark_gap(self) -> None:
        """A gap: every account with open orders (or still waiting for its resync) owes
        one. What each order heard after this point is what its account's snapshot
        or later reports told us; the rest is asked about after the snapshot.

        A session event names no account, and one may arrive per stream of the same
        disconnect: marking again only moves the mark later (more queries, never fewer).
        """
        mark = self.tracker.report_seq
        marks = self._gap_marks
        for account_id in marks:
            marks[account_id] = mark
        for order in self.tracker.open_orders():
            marks[order.account_id] = mark

    def _take_deferred(self) -> None:
        """Apply what the venue delivered while we were sending, once no send is open."""
        if self._sending or not self._deferred:
            return
        events, self._deferred = self._deferred, []
        for event in events:
            self._take(event)

    async def _resync_due(self) -> None:
        while self._resyncs:
            account_id = self._resyncs.pop(0)
            try:
                await self._resync(account_id)
            except ConnectionLostError as exc:  # the next snapshot will try again
                log.warning("resync of %s interrupted: %s", account_id, exc)

    async def _resync(self, account_id: str) -> None:
        """After a snapshot: ask about our open orders it did not mention (after a gap)
        and about every UNKNOWN order: they may have filled or ended meanwhile."""
        mark = self._gap_marks.pop(account_id, None)
        if mark is not None:
            tracker = self.tracker
            for order in tracker.open_orders(account_id):
                if order.state is not OrderState.UNKNOWN and not tracker.heard_since(
                    order.chain_id, mark
                ):
                    await self._query(order)
        if self.tracker.unknown_orders(account_id):
            await self.resolve_unknown(account_id)

    async def _query(self, order: Order) -> ExecutionReport | None:
        for cl_order_id in reversed(self.tracker.client_order_ids(order.chain_id)):
            status = await self.gateway.order_status(order.account_id, cl_order_id)
            if status is not None:
                self.on_event(status)
                return status
        return None

    @asynccontextmanager
    async def consume(self, events: AsyncIterable[TradeEvent]) -> AsyncIterator[Executor]:
        """Run :meth:`run` (and a periodic journal flush) in the background of a block.

        A single exception (from the block or the consumer) is re-raised as itself,
        not wrapped in an exception group.
        """
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self.run, events)
                if self.journal is not None:
                    tg.start_soon(self._flush_periodically)
                try:
                    yield self
                finally:
                    tg.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        finally:
            self.flush()

    async def _flush_periodically(self) -> None:
        """Commit buffered records at most ``flush_interval`` after the first one.

        Idle (nothing buffered) it waits on an event, not a timer.
        """
        while True:
            self._buffered = anyio.Event()
            if self.journal is None or not self.journal.pending:
                await self._buffered.wait()
            await anyio.sleep(self.flush_interval)
            self.flush()

    # -- reconciliation --------------------------------------------------------

    async def resolve_unknown(self, account_id: str | None = None) -> list[Order]:
        """Ask the venue about every UNKNOWN order; return those still unknown. Cancel-safe."""
        for order, _age in self.tracker.unknown_orders(account_id):
            await self._query(order)
        return [order for order, _ in self.tracker.unknown_orders(account_id)]

    def void(self, order_id: str, *, reason: str, by: str = "operator") -> Order:
        """Close an open order the venue does not have as VOIDED (journaled, then
        tracked): it no longer counts against any limit. See :mod:`ec_core.execution.void`."""
        order = void_order(
            self.tracker,
            order_id,
            reason=reason,
            by=by,
            now_ns=self.clock.now_ns(),
            journal=self._journal if self.journal is not None else None,
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
        tracker = self.tracker
        differences: list[Difference] = []
        voided: list[str] = []
        venue_open = await self.gateway.open_orders(account_id)
        checked = len(venue_open)
        seen: set[str] = set()
        for report in venue_open:
            ours = tracker.order(report.chain_id or report.cl_order_id) or (
                tracker.order(report.orig_cl_order_id) if report.orig_cl_order_id else None
            )
            if ours is None:
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.EXTERNAL_ORDER,
                        report.chain_id or report.cl_order_id, "-", report.state.value,
                    )
                )  # fmt: skip
            elif (ours.state, ours.filled_qty) != (report.state, report.filled_qty):
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.STATE_MISMATCH, ours.chain_id,
                        f"{ours.state.value}/{ours.filled_qty}",
                        f"{report.state.value}/{report.filled_qty}",
                    )
                )  # fmt: skip
            self.on_event(report)
            chain_id = tracker.chain_id(report.cl_order_id)
            if chain_id is not None:
                seen.add(chain_id)
        for order in tracker.open_orders(account_id):
            if order.chain_id in seen:
                continue
            checked += 1
            status = await self._query(order)
            if status is None:
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.MISSING_AT_VENUE, order.chain_id,
                        order.state.value, "-",
                    )
                )  # fmt: skip
                if (
                    order.filled_qty == 0
                    # the venue acknowledged it once and no longer has it; a PENDING_NEW or
                    # UNKNOWN one may still be on its way: the operator's call
                    and order.state not in (OrderState.PENDING_NEW, OrderState.UNKNOWN)
                    and tracker.snapshots(account_id) > 0
                ):
                    self.void(
                        order.chain_id,
                        reason="reconcile: snapshot complete, order status not found at the"
                        " venue, no fills",
                        by="reconcile",
                    )
                    voided.append(order.chain_id)
                continue
            if status.state.is_final:
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.CLOSED_AT_VENUE, order.chain_id,
                        order.state.value, status.state.value,
                    )
                )  # fmt: skip
        positions_checked = 0
        if self.monitor is not None:
            venue_positions = {p.symbol: p for p in await self.monitor.positions(account_id)}
            ours_by_symbol = {p.symbol: p for p in tracker.positions(account_id)}
            for symbol in sorted(venue_positions.keys() | ours_by_symbol.keys()):
                positions_checked += 1
                venue = venue_positions.get(symbol) or Position(
                    account_id=account_id, symbol=symbol
                )
                ours_qty = tracker.position(account_id, symbol).qty
                if venue.qty != ours_qty:
                    difference = Difference.of(
                        account_id, DifferenceKind.POSITION_MISMATCH, symbol, ours_qty, venue.qty
                    )
                    differences.append(difference)
                    adopted = msgspec.structs.replace(
                        venue, realized_pnl=tracker.position(account_id, symbol).realized_pnl
                    )
                    self._journal(
                        AdoptedPosition(
                            position=adopted, difference_id=difference.id, ts_ns=self.clock.now_ns()
                        )
                    )
                    tracker.adopt_position(adopted)
        self.flush()
        for difference in differences:
            log.warning("reconcile %s: %s %s ours=%s venue=%s", account_id, difference.kind.value,
                        difference.key, difference.ours, difference.venue)  # fmt: skip
        return ReconcileReport(
            account_id=account_id,
            ts_ns=self.clock.now_ns(),
            orders_checked=checked,
            positions_checked=positions_checked,
            differences=tuple(differences),
            still_unknown=tuple(o.chain_id for o, _ in tracker.unknown_orders(account_id)),
            voided=tuple(voided),
        )
