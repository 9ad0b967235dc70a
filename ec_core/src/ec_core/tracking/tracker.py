"""The order tracker: one place that knows every order we sent or heard of.

Orders are keyed by a stable *chain id* (the first client order id of the chain)
across modifies and cancels. The venue's execution reports carry the order's
whole state, so the tracker applies them idempotently:

* a fill whose ``fill_id`` was seen before is ignored (and counted);
* a report older than what we know (fewer lots filled) is ignored as stale;
* a report asking for a transition the table in :mod:`ec_core.model.state`
  forbids (e.g. a late WORKING after FILLED) is logged, counted and ignored;
* an order we never sent (snapshot, placed elsewhere) is adopted.

Nothing here raises into the trading path. Observer hooks fire through
:class:`~ec_core.plugins.PluginHost`, which isolates their exceptions. Not
thread-safe: use from one event loop.

Retention (memory stays bounded over a long run; the journal keeps the full
history, and a replay of it ends in the same state):

* open orders are always kept, whole;
* at most ``retain_final`` final chains (and, with ``retain_final_ns``, none
  final for longer than that) are kept whole: order, history, fills, request
  outcomes. Older ones are *retired* from these maps, oldest final first;
* a retired chain is remembered compactly (its final order, client ids, request
  outcomes and fill ids) for ``retired_window`` more retired chains, so that a
  late or repeated report about it is recognised: its fills are deduplicated
  (a genuinely new one is still booked), it is counted as ``late_reports`` and
  it is never adopted as a stranger's order. Venues resend reports and fills
  around reconnects, snapshots and status queries, which concern open and
  recently final orders; a report about an order that ended ``retired_window``
  chains ago does not come back in practice;
* each chain's ``history`` keeps its last ``history_limit`` events.

Positions and P&L never depend on retention: they are booked from each accepted
fill as it comes (:class:`~ec_core.tracking.positions.PositionBook`).
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from decimal import Decimal
from typing import final

import anyio
import msgspec

from ec_core.clock import Clock
from ec_core.errors import ConnectionLostError
from ec_core.model import (
    Account,
    AccountReport,
    CancelAll,
    CancelOrder,
    ExecutionReport,
    Fill,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    Order,
    OrderState,
    Position,
    PositionReport,
    ReportKind,
    RequestType,
    SessionEvent,
    SessionEventKind,
    SnapshotComplete,
    TradeEvent,
    can_transition,
)
from ec_core.plugins.host import PluginHost
from ec_core.tracking.events import OrderEvent, OrderEventKind, RequestOutcome, TrackerStats
from ec_core.tracking.positions import PositionBook

__all__ = ["OrderTracker"]

log = logging.getLogger(__name__)

_S = OrderState
_PENDING = frozenset({_S.PENDING_NEW, _S.PENDING_MODIFY, _S.PENDING_CANCEL})
_UNANSWERED = _PENDING | {_S.UNKNOWN}
_BULK = frozenset({RequestType.CANCEL_ALL, RequestType.LIQUIDATE_ALL, RequestType.GO_FLAT})
_REQUESTS = frozenset({RequestType.MODIFY, RequestType.CANCEL})
_replace = msgspec.structs.replace


class _Chain:
    """Mutable bookkeeping of one order chain."""

    __slots__ = (
        "events",
        "fill_ids",
        "heard",
        "ids",
        "order",
        "pending",
        "unknown_since_ns",
        "waiters",
    )

    def __init__(self, order: Order, history_limit: int | None) -> None:
        self.order = order
        self.heard = 0  # the tracker's report_seq when a venue report about it last came
        self.ids: list[str] = [order.cl_order_id]
        self.events: deque[OrderEvent] = deque(maxlen=history_limit)
        self.fill_ids: list[str] = []
        self.pending: dict[str, RequestType] = {}  # requests sent, not answered yet
        self.unknown_since_ns: int | None = None
        self.waiters: list[anyio.Event] = []


class _Retired:
    """What is remembered of a chain retired from the hot maps (see the module docstring)."""

    __slots__ = ("fill_ids", "ids", "order", "outcomes")

    def __init__(
        self,
        order: Order,
        ids: list[str],
        fill_ids: list[str],
        outcomes: dict[str, tuple[RequestOutcome, ExecutionReport | None]],
    ) -> None:
        self.order = order
        self.ids = ids
        self.fill_ids = fill_ids
        self.outcomes = outcomes


DEFAULT_RETAIN_FINAL = 10_000
DEFAULT_RETIRED_WINDOW = 100_000
DEFAULT_HISTORY_LIMIT = 1_000


@final
class OrderTracker:
    """Orders by chain id, fills, positions and P&L, fed by :meth:`apply`.

    ``retain_final``, ``retain_final_ns``, ``retired_window`` and ``history_limit``
    bound its memory (see the module docstring); ``retain_final=None`` keeps every
    final chain (a short backtest that wants every order's history).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        host: PluginHost | None = None,
        multiplier: Callable[[str], Decimal] | None = None,
        retain_final: int | None = DEFAULT_RETAIN_FINAL,
        retain_final_ns: int | None = None,
        retired_window: int = DEFAULT_RETIRED_WINDOW,
        history_limit: int | None = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        if retain_final is not None and retain_final < 1:
            raise ValueError("retain_final must be at least 1 (the order just ended is kept)")
        if retain_final_ns is not None and retain_final_ns < 0:
            raise ValueError("retain_final_ns must be >= 0")
        if retired_window < 0:
            raise ValueError("retired_window must be >= 0")
        if history_limit is not None and history_limit < 1:
            raise ValueError("history_limit must be at least 1")
        self._clock = clock
        self._host = host
        self.retain_final = retain_final
        self.retain_final_ns = retain_final_ns
        self.retired_window = retired_window
        self.history_limit = history_limit
        self._chains: dict[str, _Chain] = {}
        self._chain_of: dict[str, str] = {}  # any client order id -> chain id
        self._open: dict[str, _Chain] = {}  # chains not in a final state
        self._final: OrderedDict[str, int] = OrderedDict()  # chain id -> final since (ns)
        self._retired: dict[str, _Retired] = {}  # any id of a retired chain -> it
        self._retired_order: OrderedDict[str, _Retired] = OrderedDict()  # by chain id, FIFO
        self._retired_fill_ids: set[str] = set()
        self._fills: dict[str, Fill] = {}  # fill id -> fill, of chains kept whole
        self._fill_total = 0
        self._book = PositionBook(multiplier)
        self._venue_positions: dict[tuple[str, str], Position] = {}
        self._accounts: dict[str, Account] = {}
        self._outcomes: dict[str, tuple[RequestOutcome, ExecutionReport | None]] = {}
        self._outcome_waiters: dict[str, anyio.Event] = {}
        self._bulk: dict[str, CancelAll | LiquidateAll | GoFlat] = {}
        self._bulk_ids: OrderedDict[str, None] = OrderedDict()  # bulk ids sent or answered
        self._snapshots: Counter[str] = Counter()
        self._disconnects = 0
        self._seq = 0
        self._report_seq = 0  # venue reports applied to a chain, for heard_since
        self._counts: Counter[str] = Counter()

    # -- what we send ----------------------------------------------------------

    def track_new(self, request: NewOrder, *, ts_ns: int | None = None) -> Order:
        """Start tracking an order we sent (PENDING_NEW). Idempotent per client order id."""
        if not request.cl_order_id:
            raise ValueError("track_new needs a client order id")
        known = self._chain_for_id(request.cl_order_id)
        if known is not None:  # the venue answered before we got here, or a replay
            return known.order
        retired = self._retired.get(request.cl_order_id)
        if retired is not None:
            return retired.order
        self._retire_due()
        order = Order(
            chain_id=request.cl_order_id,
            cl_order_id=request.cl_order_id,
            account_id=request.account_id,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            qty=request.qty,
            state=_S.PENDING_NEW,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            duration=request.duration,
            good_thru_date=request.good_thru_date,
            exec_instructions=request.exec_instructions,
            updated_ns=self._now(ts_ns),
        )
        chain = _Chain(order, self.history_limit)
        chain.pending[order.cl_order_id] = RequestType.NEW
        self._chains[order.chain_id] = chain
        self._open[order.chain_id] = chain
        self._chain_of[order.cl_order_id] = order.chain_id
        self._record(chain, OrderEventKind.TRACKED, order.cl_order_id, None, ts_ns)
        self._notify_order(order, None)
        return order

    def track_request(
        self, request: ModifyOrder | CancelOrder, *, ts_ns: int | None = None
    ) -> Order | None:
        """Record a modify or cancel we sent; the order goes PENDING_MODIFY / PENDING_CANCEL.

        Returns ``None`` if the order it refers to is not tracked.
        """
        chain = self._chain_for_id(request.orig_cl_order_id)
        if chain is None or not request.cl_order_id:
            retired = self._retired.get(request.orig_cl_order_id)
            if retired is not None and request.cl_order_id:
                # It ended (and was retired) before this request left: nothing to wait for.
                if request.cl_order_id not in self._retired:
                    self._retired[request.cl_order_id] = retired
                    retired.ids.append(request.cl_order_id)
                retired.outcomes.setdefault(request.cl_order_id, (RequestOutcome.OVERTAKEN, None))
                return retired.order
            return None
        if request.cl_order_id in chain.pending or request.cl_order_id in self._outcomes:
            return chain.order  # replayed
        if chain.order.state.is_final:
            # It ended while this request was on its way: the request is moot, and
            # waiting for its answer (or keeping it pending on a final chain) is not.
            if request.cl_order_id not in self._chain_of:
                self._chain_of[request.cl_order_id] = chain.order.chain_id
                chain.ids.append(request.cl_order_id)
            self._resolve(request.cl_order_id, RequestOutcome.OVERTAKEN, None)
            return chain.order
        if request.cl_order_id not in self._chain_of:
            self._chain_of[request.cl_order_id] = chain.order.chain_id
            chain.ids.append(request.cl_order_id)
        chain.pending[request.cl_order_id] = request.request_type
        previous = chain.order
        target = _S.PENDING_MODIFY if isinstance(request, ModifyOrder) else _S.PENDING_CANCEL
        if can_transition(previous.state, target):
            chain.order = _replace(previous, state=target, updated_ns=self._now(ts_ns))
        self._record(chain, OrderEventKind.REQUESTED, request.cl_order_id, previous.state, ts_ns)
        if chain.order is not previous:
            self._notify_order(chain.order, previous)
        return chain.order

    def track_bulk(self, request: CancelAll | LiquidateAll | GoFlat) -> None:
        """Remember a bulk request so its answer is not mistaken for an order."""
        self._bulk[request.cl_order_id] = request
        self._bulk_seen(request.cl_order_id)

    def mark_unknown(
        self, cl_order_id: str, reason: str, *, ts_ns: int | None = None
    ) -> Order | None:
        """We cannot tell what happened (timeout, disconnect): UNKNOWN until reconciled.

        A final order stays final. Returns the order, or ``None`` if not tracked.
        """
        chain = self._chain_for_id(cl_order_id)
        if chain is None:
            return None
        previous = chain.order
        if previous.state.is_final or previous.state is _S.UNKNOWN:
            return previous
        now = self._now(ts_ns)
        chain.order = _replace(previous, state=_S.UNKNOWN, updated_ns=now)
        chain.unknown_since_ns = now
        self._counts["unknown_marked"] += 1
        self._record(chain, OrderEventKind.UNKNOWN, cl_order_id, previous.state, ts_ns, reason)
        self._notify_order(chain.order, previous)
        self._wake(chain)
        return chain.order

    # -- what the venue says ---------------------------------------------------

    def apply(self, event: TradeEvent, *, ts_ns: int | None = None) -> None:
        """Apply one trade-stream event. Never raises on odd input: it is counted instead."""
        if isinstance(event, ExecutionReport):
            if self._final:
                self._retire_due()
            self._apply_report(event, ts_ns)
        elif isinstance(event, PositionReport):
            position = event.position
            self._venue_positions[(position.account_id, position.symbol)] = position
            if self._host is not None:
                self._host.notify_position(position)
        elif isinstance(event, AccountReport):
            self._accounts[event.account.account_id] = event.account
        elif isinstance(event, SnapshotComplete):
            self._snapshots[event.account_id] += 1
        elif isinstance(event, SessionEvent) and event.kind is SessionEventKind.DISCONNECTED:
            self._disconnects += 1
            for chain in self._chains.values():
                self._wake(chain)
            for waiter in self._outcome_waiters.values():
                waiter.set()

    def adopt_position(self, position: Position) -> None:
        """Take the venue's position as ours (after reconciliation found a difference)."""
        self._book.set(position)
        if self._host is not None:
            self._host.notify_position(position)

    def _apply_report(self, report: ExecutionReport, ts_ns: int | None) -> None:
        self._counts["reports"] += 1
        if report.request_type in _BULK or report.cl_order_id in self._bulk:
            if report.kind is ReportKind.REJECTED:
                self._resolve(report.cl_order_id, RequestOutcome.REJECTED, report)
            else:
                self._resolve(report.cl_order_id, RequestOutcome.ACCEPTED, report)
            self._bulk_seen(report.cl_order_id)
            for open_chain in list(self._open.values()):  # bulk waiters watch these orders
                if open_chain.order.account_id == report.account_id:
                    self._wake(open_chain)
            if report.request_type in _BULK:
                return
        self._report_seq += 1
        chain = self._chain_for_report(report)
        if chain is None:
            retired = self._retired_for_report(report)
            if retired is not None:
                self._late(retired, report, ts_ns)
            else:
                self._adopt(report, ts_ns)
            return
        chain.heard = self._report_seq
        # A client id the chain did not have: the answer to a modify or cancel whose
        # send was not recorded yet (the trade stream raced the send), or one placed
        # elsewhere. Either way that request has been answered.
        fresh = bool(report.cl_order_id) and report.cl_order_id not in self._chain_of
        for cl_order_id in (report.cl_order_id, report.orig_cl_order_id):
            if cl_order_id and cl_order_id not in self._chain_of:
                self._chain_of[cl_order_id] = chain.order.chain_id
                chain.ids.append(cl_order_id)
        new_fill = self._accept_fill(chain, report, ts_ns)
        self._apply_state(chain, report, ts_ns, new_fill=new_fill, fresh=fresh)
        self._wake(chain)

    def _apply_state(
        self,
        chain: _Chain,
        report: ExecutionReport,
        ts_ns: int | None,
        *,
        new_fill: bool,
        fresh: bool = False,
    ) -> None:
        current = chain.order
        answered = chain.pending.get(report.cl_order_id)
        if answered is None and fresh and report.cl_order_id not in self._outcomes:
            # Resolve it as if it had been pending: its late track_request then finds
            # the outcome (a no-op) instead of waiting in vain, and a refused cancel
            # leaves the order working instead of turning it REJECTED.
            answered = (
                report.request_type
                if report.request_type in _REQUESTS
                else RequestType.CANCEL
                if report.kind is ReportKind.CANCELLED
                else RequestType.MODIFY
            )
        if report.kind is ReportKind.REJECTED and answered in (
            RequestType.MODIFY,
            RequestType.CANCEL,
        ):
            # A modify or cancel was refused: the order itself is as the venue says.
            chain.pending.pop(report.cl_order_id, None)
            self._resolve(report.cl_order_id, RequestOutcome.REJECTED, report)
            state = report.state if report.state not in _UNANSWERED else current.state
            if state is _S.REJECTED:  # the venue names the order's state, not the request's
                state = _S.PARTIALLY_FILLED if current.filled_qty else _S.WORKING
            self._move(chain, report, state, current.cl_order_id, ts_ns, new_fill=new_fill)
            return
        if report.filled_qty < current.filled_qty:
            self._counts["stale_reports"] += 1
            self._record(
                chain,
                OrderEventKind.STALE,
                report.cl_order_id,
                current.state,
                ts_ns,
                f"filled {report.filled_qty} < known {current.filled_qty}",
                report=report,
            )
            return
        state = report.state
        cl_order_id = current.cl_order_id
        if answered is not None and report.state not in _UNANSWERED:
            chain.pending.pop(report.cl_order_id, None)
            outcome = (
                RequestOutcome.REJECTED
                if report.kind is ReportKind.REJECTED
                else RequestOutcome.ACCEPTED
            )
            self._resolve(report.cl_order_id, outcome, report)
            if outcome is RequestOutcome.ACCEPTED:
                cl_order_id = report.cl_order_id
        elif report.kind is ReportKind.MODIFIED:
            cl_order_id = report.cl_order_id
        elif (
            chain.pending
            and current.state in (_S.PENDING_MODIFY, _S.PENDING_CANCEL)
            and state in (_S.WORKING, _S.PARTIALLY_FILLED)
        ):
            state = current.state  # our request is still unanswered: stay pending
        if not can_transition(current.state, state):
            self._counts["illegal_transitions"] += 1
            log.warning(
                "order %s: ignored illegal transition %s -> %s (report %s)",
                current.chain_id,
                current.state.value,
                state.value,
                report.kind.value,
            )
            self._record(
                chain,
                OrderEventKind.ILLEGAL,
                report.cl_order_id,
                current.state,
                ts_ns,
                f"{current.state.value} -> {state.value}",
                report=report,
            )
            return
        self._move(chain, report, state, cl_order_id, ts_ns, new_fill=new_fill)

    def _move(
        self,
        chain: _Chain,
        report: ExecutionReport,
        state: OrderState,
        cl_order_id: str,
        ts_ns: int | None,
        *,
        new_fill: bool,
    ) -> None:
        current = chain.order
        rejected = state is _S.REJECTED
        now = self._clock.now_ns() if ts_ns is None else ts_ns
        candidate = Order(
            chain_id=current.chain_id,
            cl_order_id=cl_order_id,
            account_id=current.account_id,
            symbol=current.symbol,
            side=current.side,
            order_type=report.order_type,
            qty=report.qty,
            state=state,
            filled_qty=max(report.filled_qty, current.filled_qty),
            avg_fill_price=(
                report.avg_fill_price
                if report.filled_qty >= current.filled_qty and report.avg_fill_price is not None
                else current.avg_fill_price
            ),
            limit_price=report.limit_price,
            stop_price=report.stop_price,
            duration=report.duration,
            good_thru_date=report.good_thru_date,
            exec_instructions=current.exec_instructions,
            venue_order_id=report.venue_order_id or current.venue_order_id,
            reject_code=report.reject_code if rejected else current.reject_code,
            reject_text=report.reject_text if rejected else current.reject_text,
            updated_ns=current.updated_ns,
        )
        if candidate == current:
            if not new_fill:
                self._counts["duplicate_reports"] += 1
                self._record(
                    chain,
                    OrderEventKind.DUPLICATE,
                    report.cl_order_id,
                    current.state,
                    ts_ns,
                    report=report,
                )
            return
        # candidate is ours alone until stored: stamp it without building another copy
        msgspec.structs.force_setattr(candidate, "updated_ns", now)
        chain.order = candidate
        final = state.is_final
        if final:
            self._open.pop(current.chain_id, None)
            if not current.state.is_final:
                self._final[current.chain_id] = now
        if current.state is _S.UNKNOWN and state is not _S.UNKNOWN:
            chain.unknown_since_ns = None
        if final and chain.pending:
            for pending in list(chain.pending):
                self._resolve(pending, RequestOutcome.OVERTAKEN, report)
            chain.pending.clear()
        self._record(
            chain, OrderEventKind.REPORT, report.cl_order_id, current.state, ts_ns, report=report
        )
        self._notify_order(chain.order, current)

    def _accept_fill(self, chain: _Chain, report: ExecutionReport, ts_ns: int | None) -> bool:
        fill = report.fill
        if fill is None:
            return False
        if fill.fill_id in self._fills or fill.fill_id in self._retired_fill_ids:
            self._counts["duplicate_fills"] += 1
            self._record(
                chain,
                OrderEventKind.DUPLICATE,
                report.cl_order_id,
                chain.order.state,
                ts_ns,
                f"fill {fill.fill_id}",
                fill=fill,
            )
            return False
        if not fill.chain_id:
            fill = _replace(fill, chain_id=chain.order.chain_id)
        self._fills[fill.fill_id] = fill
        chain.fill_ids.append(fill.fill_id)
        self._fill_total += 1
        self._counts["fills"] += 1
        position = self._book.apply(fill)
        self._record(
            chain, OrderEventKind.FILL, report.cl_order_id, chain.order.state, ts_ns, fill=fill
        )
        if self._host is not None:
            self._host.notify_fill(fill)
            self._host.notify_position(position)
        return True

    def _adopt(self, report: ExecutionReport, ts_ns: int | None) -> None:
        chain_id = report.chain_id or report.orig_cl_order_id or report.cl_order_id
        order = Order(
            chain_id=chain_id,
            cl_order_id=report.cl_order_id,
            account_id=report.account_id,
            symbol=report.symbol,
            side=report.side,
            order_type=report.order_type,
            qty=report.qty,
            state=report.state,
            filled_qty=report.filled_qty,
            avg_fill_price=report.avg_fill_price,
            limit_price=report.limit_price,
            stop_price=report.stop_price,
            duration=report.duration,
            good_thru_date=report.good_thru_date,
            venue_order_id=report.venue_order_id,
            reject_code=report.reject_code,
            reject_text=report.reject_text,
            updated_ns=self._now(ts_ns),
        )
        chain = _Chain(order, self.history_limit)
        chain.heard = self._report_seq
        self._chains[chain_id] = chain
        if order.state.is_open:
            self._open[chain_id] = chain
        else:
            self._final[chain_id] = order.updated_ns
        for cl_order_id in (chain_id, report.orig_cl_order_id, report.cl_order_id):
            if cl_order_id and cl_order_id not in self._chain_of:
                self._chain_of[cl_order_id] = chain_id
                if cl_order_id not in chain.ids:
                    chain.ids.append(cl_order_id)
        self._counts["adopted"] += 1
        self._record(chain, OrderEventKind.ADOPTED, report.cl_order_id, None, ts_ns, report=report)
        self._notify_order(order, None)
        self._accept_fill(chain, report, ts_ns)
        if report.state not in _UNANSWERED:
            outcome = (
                RequestOutcome.REJECTED
                if report.kind is ReportKind.REJECTED
                else RequestOutcome.ACCEPTED
            )
            self._resolve(report.cl_order_id, outcome, report)

    # -- queries ---------------------------------------------------------------

    def order(self, order_id: str) -> Order | None:
        """The order by chain id or by any client order id of its chain (a retired
        chain's final order too, while it is remembered)."""
        chain = self._chain_for_id(order_id)
        if chain is not None:
            return chain.order
        retired = self._retired.get(order_id)
        return None if retired is None else retired.order

    def chain_id(self, order_id: str) -> str | None:
        chain_id = self._chain_of.get(order_id)
        if chain_id is None:
            retired = self._retired.get(order_id)
            if retired is not None:
                return retired.order.chain_id
        return chain_id

    def orders(self, account_id: str | None = None) -> list[Order]:
        """Open orders and the final ones retained (not the retired)."""
        return [
            c.order
            for c in self._chains.values()
            if account_id is None or c.order.account_id == account_id
        ]

    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[Order]:
        """Orders that could still trade (every state that is not final, UNKNOWN included)."""
        return [
            c.order
            for c in self._open.values()
            if (account_id is None or c.order.account_id == account_id)
            and (symbol is None or c.order.symbol == symbol)
        ]

    def unknown_orders(self, account_id: str | None = None) -> list[tuple[Order, int]]:
        """UNKNOWN orders with the age in nanoseconds of their uncertainty."""
        now = self._clock.now_ns()
        return [
            (c.order, now - (c.unknown_since_ns or c.order.updated_ns))
            for c in self._open.values()
            if c.order.state is _S.UNKNOWN
            and (account_id is None or c.order.account_id == account_id)
        ]

    def history(self, order_id: str) -> list[OrderEvent]:
        """The events of the order's chain, oldest first (its last ``history_limit``;
        none once it is retired: the journal has them all)."""
        chain = self._chain_for_id(order_id)
        return [] if chain is None else list(chain.events)

    def client_order_ids(self, order_id: str) -> list[str]:
        """Every client order id of the chain, the first (the chain id) first."""
        chain = self._chain_for_id(order_id)
        if chain is None:
            retired = self._retired.get(order_id)
            return [] if retired is None else list(retired.ids)
        return list(chain.ids)

    def fills(self, account_id: str | None = None) -> list[Fill]:
        """Fills of the chains kept whole, oldest first (retired ones' are in the journal)."""
        return [f for f in self._fills.values() if account_id is None or f.account_id == account_id]

    def position(self, account_id: str, symbol: str) -> Position:
        """Our position from fills (flat if none)."""
        return self._book.get(account_id, symbol)

    def positions(self, account_id: str | None = None) -> list[Position]:
        return self._book.all(account_id)

    def venue_position(self, account_id: str, symbol: str) -> Position | None:
        """The venue's last word on a position (from the trade stream), if any."""
        return self._venue_positions.get((account_id, symbol))

    def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def realized_pnl(self, account_id: str) -> Decimal:
        return self._book.realized_pnl(account_id)

    def unrealized_pnl(self, account_id: str, symbol: str, mark: Decimal) -> Decimal:
        return self._book.unrealized_pnl(account_id, symbol, mark)

    def outcome(self, cl_order_id: str) -> RequestOutcome | None:
        """How the venue answered the request with this client order id, if it has."""
        found = self._outcome(cl_order_id)
        return None if found is None else found[0]

    def outcome_report(self, cl_order_id: str) -> ExecutionReport | None:
        found = self._outcome(cl_order_id)
        return None if found is None else found[1]

    def _outcome(self, cl_order_id: str) -> tuple[RequestOutcome, ExecutionReport | None] | None:
        found = self._outcomes.get(cl_order_id)
        if found is None:
            retired = self._retired.get(cl_order_id)
            if retired is not None:
                found = retired.outcomes.get(cl_order_id)
        return found

    @property
    def report_seq(self) -> int:
        """How many venue reports about orders were applied so far (a mark for
        :meth:`heard_since`)."""
        return self._report_seq

    def heard_since(self, order_id: str, mark: int) -> bool:
        """Whether a venue report about the order came after ``mark`` (a
        :attr:`report_seq`): after a gap, an open order not heard of since is asked about."""
        chain = self._chain_for_id(order_id)
        return chain is not None and chain.heard > mark

    def snapshots(self, account_id: str) -> int:
        """How many snapshots of the account completed (see ``SnapshotComplete``)."""
        return self._snapshots[account_id]

    @property
    def fill_count(self) -> int:
        """Fills accepted so far (duplicates not counted): cheap change detection."""
        return self._fill_total

    def sizes(self) -> dict[str, int]:
        """How many entries each internal map holds (what retention bounds)."""
        return {
            "chains": len(self._chains),
            "open": len(self._open),
            "final": len(self._final),
            "client_ids": len(self._chain_of),
            "outcomes": len(self._outcomes),
            "fills": len(self._fills),
            "retired": len(self._retired_order),
            "retired_ids": len(self._retired),
            "retired_fill_ids": len(self._retired_fill_ids),
            "bulk": len(self._bulk_ids),
            "outcome_waiters": len(self._outcome_waiters),
            "events": sum(len(c.events) for c in self._chains.values()),
        }

    @property
    def disconnects(self) -> int:
        return self._disconnects

    def stats(self) -> TrackerStats:
        return TrackerStats(**dict(self._counts))

    # -- waiting ---------------------------------------------------------------

    async def wait_outcome(self, cl_order_id: str) -> RequestOutcome:
        """Wait until the venue answers the request. Cancel-safe.

        Raises :class:`ConnectionLostError` if the session reports a disconnect meanwhile.
        """
        disconnects = self._disconnects
        while True:
            found = self._outcome(cl_order_id)
            if found is not None:
                return found[0]
            if self._disconnects != disconnects:
                raise ConnectionLostError(f"disconnected while waiting for {cl_order_id}")
            waiter = self._outcome_waiters.get(cl_order_id)
            if waiter is None:
                waiter = self._outcome_waiters[cl_order_id] = anyio.Event()
            try:
                await waiter.wait()
            finally:
                # Set, or abandoned by its last waiter (a timed-out request): drop it, or
                # every request that timed out would keep its event here for good.
                if self._outcome_waiters.get(cl_order_id) is waiter and (
                    waiter.is_set() or not waiter.statistics().tasks_waiting
                ):
                    del self._outcome_waiters[cl_order_id]

    async def wait_for(self, order_id: str, predicate: Callable[[Order], bool]) -> Order:
        """Wait until the order (chain id or any client id) satisfies ``predicate``. Cancel-safe.

        Raises :class:`KeyError` if the order is not tracked and
        :class:`ConnectionLostError` on a disconnect meanwhile.
        """
        disconnects = self._disconnects
        while True:
            chain = self._chain_for_id(order_id)
            if chain is None:
                retired = self._retired.get(order_id)
                if retired is not None and predicate(retired.order):
                    return retired.order  # retired (final) while this waiter was waking
                raise KeyError(order_id)
            if predicate(chain.order):
                return chain.order
            if self._disconnects != disconnects:
                raise ConnectionLostError(f"disconnected while waiting for {order_id}")
            waiter = anyio.Event()
            chain.waiters.append(waiter)
            try:
                await waiter.wait()
            finally:
                if waiter in chain.waiters:
                    chain.waiters.remove(waiter)

    # -- internals -------------------------------------------------------------

    def _chain_for_id(self, order_id: str) -> _Chain | None:
        chain_id = self._chain_of.get(order_id)
        return None if chain_id is None else self._chains.get(chain_id)

    def _chain_for_report(self, report: ExecutionReport) -> _Chain | None:
        if report.chain_id and report.chain_id in self._chains:
            return self._chains[report.chain_id]
        chain = self._chain_for_id(report.cl_order_id)
        if chain is None and report.orig_cl_order_id:
            chain = self._chain_for_id(report.orig_cl_order_id)
        return chain

    def _retired_for_report(self, report: ExecutionReport) -> _Retired | None:
        retired = self._retired
        if not retired:
            return None
        for order_id in (report.chain_id, report.cl_order_id, report.orig_cl_order_id):
            if order_id and order_id in retired:
                return retired[order_id]
        return None

    def _late(self, retired: _Retired, report: ExecutionReport, ts_ns: int | None) -> None:
        """A report about a retired (final) chain: book a fill we have not seen, else ignore."""
        self._counts["late_reports"] += 1
        fill = report.fill
        if fill is None:
            return
        if fill.fill_id in self._fills or fill.fill_id in self._retired_fill_ids:
            self._counts["duplicate_fills"] += 1
            return
        log.warning(
            "order %s: a new fill %s after it was retired (final %s): booked",
            retired.order.chain_id,
            fill.fill_id,
            retired.order.state.value,
        )
        if not fill.chain_id:
            fill = _replace(fill, chain_id=retired.order.chain_id)
        retired.fill_ids.append(fill.fill_id)
        self._retired_fill_ids.add(fill.fill_id)
        self._fill_total += 1
        self._counts["fills"] += 1
        position = self._book.apply(fill)
        if self._host is not None:
            self._host.notify_fill(fill)
            self._host.notify_position(position)

    def _retire_due(self) -> None:
        """Retire the final chains beyond ``retain_final`` or older than ``retain_final_ns``.

        Called before an event is applied, never inside one, so the order an event
        just ended is whole for whoever handles that event.
        """
        final = self._final
        limit = self.retain_final
        max_age = self.retain_final_ns
        if max_age is None and (limit is None or len(final) <= limit):
            return  # nothing is due: the common case, decided without a clock read
        oldest_allowed = None if max_age is None else self._clock.now_ns() - max_age
        while final:
            chain_id, since = next(iter(final.items()))
            over = limit is not None and len(final) > limit
            if not over and (oldest_allowed is None or since >= oldest_allowed):
                return
            del final[chain_id]
            self._retire(chain_id)

    def _retire(self, chain_id: str) -> None:
        chain = self._chains.pop(chain_id, None)
        if chain is None:
            return
        self._counts["retired"] += 1
        outcomes: dict[str, tuple[RequestOutcome, ExecutionReport | None]] = {}
        for cl_order_id in chain.ids:
            if self._chain_of.get(cl_order_id) == chain_id:
                del self._chain_of[cl_order_id]
            found = self._outcomes.pop(cl_order_id, None)
            if found is not None:
                outcomes[cl_order_id] = found
        for fill_id in chain.fill_ids:
            self._fills.pop(fill_id, None)
        if chain.waiters:  # nobody should wait on a final order; wake them to see it
            self._wake(chain)
        if self.retired_window == 0:
            return
        retired = _Retired(chain.order, chain.ids, chain.fill_ids, outcomes)
        self._retired_order[chain_id] = retired
        for order_id in (chain_id, *chain.ids):
            self._retired[order_id] = retired
        self._retired_fill_ids.update(chain.fill_ids)
        while len(self._retired_order) > self.retired_window:
            _, forgotten = self._retired_order.popitem(last=False)
            for order_id in (forgotten.order.chain_id, *forgotten.ids):
                if self._retired.get(order_id) is forgotten:
                    del self._retired[order_id]
            self._retired_fill_ids.difference_update(forgotten.fill_ids)

    def _bulk_seen(self, cl_order_id: str) -> None:
        """Keep the last ``retain_final`` bulk requests and their answers (or all)."""
        seen = self._bulk_ids
        seen[cl_order_id] = None
        limit = self.retain_final
        if limit is None:
            return
        while len(seen) > limit:
            old, _ = seen.popitem(last=False)
            self._bulk.pop(old, None)
            self._outcomes.pop(old, None)

    def _resolve(
        self, cl_order_id: str, outcome: RequestOutcome, report: ExecutionReport | None
    ) -> None:
        if cl_order_id in self._outcomes:
            return
        self._outcomes[cl_order_id] = (outcome, report)
        waiter = self._outcome_waiters.pop(cl_order_id, None)
        if waiter is not None:
            waiter.set()

    def _wake(self, chain: _Chain) -> None:
        if chain.waiters:
            waiters, chain.waiters = chain.waiters, []
            for waiter in waiters:
                waiter.set()

    def _record(
        self,
        chain: _Chain,
        kind: OrderEventKind,
        cl_order_id: str,
        previous: OrderState | None,
        ts_ns: int | None,
        detail: str = "",
        *,
        report: ExecutionReport | None = None,
        fill: Fill | None = None,
    ) -> None:
        self._seq += 1
        order = chain.order
        chain.events.append(
            OrderEvent(
                seq=self._seq,
                ts_ns=self._clock.now_ns() if ts_ns is None else ts_ns,
                kind=kind,
                chain_id=order.chain_id,
                cl_order_id=cl_order_id,
                state=order.state,
                previous_state=previous,
                detail=detail,
                report=report,
                fill=fill,
            )
        )

    def _notify_order(self, order: Order, previous: Order | None) -> None:
        if self._host is not None:
            self._host.notify_order(order, previous)

    def _now(self, ts_ns: int | None) -> int:
        return self._clock.now_ns() if ts_ns is None else ts_ns
