"""The order tracker: one place that knows every order we sent or heard of.

Orders are keyed by a stable *chain id* (the first client order id of the chain)
across modifies and cancels. This module is the tracker's face: what we send
(``track_*``), the queries and the waits. The rooms behind it:

* :mod:`~ec_core.tracking.reports`: what the venue says, applied idempotently;
* :mod:`~ec_core.tracking.state`: the maps, and the steps every writer shares;
* :mod:`~ec_core.tracking.chain`: one chain's bookkeeping and the order builders;
* :mod:`~ec_core.tracking.retention`: memory bounded over a long run;
* :mod:`~ec_core.tracking.positions`: positions and P&L from fills.

Nothing here raises into the trading path. Observer hooks fire through
:class:`~ec_core.plugins.PluginHost`, which isolates their exceptions. Not
thread-safe: use from one event loop.

Retention (memory stays bounded over a long run) is :mod:`ec_core.tracking.retention`;
positions and P&L never depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import final

import anyio
import msgspec

from ec_core.clock import Clock
from ec_core.errors import ConnectionLostError
from ec_core.model import (
    FINAL_STATES,
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
    RequestType,
    SessionEvent,
    SessionEventKind,
    SnapshotComplete,
    TradeEvent,
    can_transition,
)
from ec_core.plugins.host import PluginHost
from ec_core.safety.checks import pending_order
from ec_core.tracking.chain import Chain
from ec_core.tracking.events import (
    FillAnomaly,
    OrderEvent,
    OrderEventKind,
    RequestOutcome,
    TrackerStats,
)
from ec_core.tracking.positions import MultiplierSource
from ec_core.tracking.reports import ReportIntake
from ec_core.tracking.retention import (
    DEFAULT_HISTORY_LIMIT,
    DEFAULT_RETAIN_FINAL,
    DEFAULT_RETIRED_WINDOW,
    Retention,
)
from ec_core.tracking.state import TrackerState

__all__ = ["OrderTracker"]

log = logging.getLogger(__name__)

_S = OrderState
_replace = msgspec.structs.replace


@final
class OrderTracker:
    """Orders by chain id, fills, positions and P&L, fed by :meth:`apply`.

    ``multiplier``: each symbol's, for P&L in money (none: every symbol counts 1, P&L in
    price points); a symbol it does not know is booked in points and listed by
    :meth:`unpriced`, and P&L in money refuses with :class:`~ec_core.errors.PnlUnknownError`
    until it knows it (see :mod:`ec_core.tracking.positions`). ``on_unpriced`` hears such
    a symbol once, at its first fill.
    ``retain_final``, ``retain_final_ns``, ``retired_window`` and ``history_limit``
    bound its memory (see the module docstring); ``retain_final=None`` keeps every
    final chain (a short backtest that wants every order's history).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        host: PluginHost | None = None,
        multiplier: MultiplierSource | None = None,
        on_unpriced: Callable[[str], None] | None = None,
        retain_final: int | None = DEFAULT_RETAIN_FINAL,
        retain_final_ns: int | None = None,
        retired_window: int = DEFAULT_RETIRED_WINDOW,
        history_limit: int | None = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        self._state = TrackerState(
            clock=clock,
            host=host,
            multiplier=multiplier,
            on_unpriced=on_unpriced,
            retention=Retention(
                clock=clock,
                retain_final=retain_final,
                retain_final_ns=retain_final_ns,
                retired_window=retired_window,
            ),
            history_limit=history_limit,
        )
        self._retention = self._state.retention
        self._now_ns = self._state.now_ns  # a step given no time stamps the clock's
        self._final = self._retention.final  # tested on every report: bound once
        self._apply_report = ReportIntake(self._state).apply

    # -- what we send ----------------------------------------------------------

    def track_new(self, request: NewOrder, *, ts_ns: int | None = None) -> Order:
        """Start tracking an order we sent (PENDING_NEW). Idempotent per client order id."""
        if not request.cl_order_id:
            raise ValueError("track_new needs a client order id")
        known = self._state.chain_for_id(request.cl_order_id)
        if known is not None:  # the venue answered before we got here, or a replay
            return known.order
        retired = self._retention.get(request.cl_order_id)
        if retired is not None:
            return retired.order
        if self._final:  # chains wait to retire (none ever do when every one is kept)
            self._state.retire_due()
        order = pending_order(request, self._now_ns() if ts_ns is None else ts_ns)
        chain = Chain(order)
        chain.pending[order.cl_order_id] = RequestType.NEW
        self._state.add_chain(chain)
        self._state.chain_of[order.cl_order_id] = chain
        self._state.record(chain, OrderEventKind.TRACKED, order.cl_order_id, None, order.updated_ns)
        self._state.notify_order(order, None)
        return order

    def track_request(
        self, request: ModifyOrder | CancelOrder, *, ts_ns: int | None = None
    ) -> Order | None:
        """Record a modify or cancel we sent; the order goes PENDING_MODIFY / PENDING_CANCEL.

        Returns ``None`` if the order it refers to is not tracked.
        """
        chain = self._state.chain_for_id(request.orig_cl_order_id)
        if chain is None or not request.cl_order_id:
            retired = self._retention.get(request.orig_cl_order_id)
            if retired is not None and request.cl_order_id:
                # It ended (and was retired) before this request left: nothing to wait for.
                self._retention.add_request(retired, request.cl_order_id)
                return retired.order
            return None
        if request.cl_order_id in chain.pending or request.cl_order_id in self._state.outcomes:
            return chain.order  # replayed
        if chain.order.state in FINAL_STATES:
            # It ended while this request was on its way: the request is moot, and
            # waiting for its answer (or keeping it pending on a final chain) is not.
            self._state.link(chain, request.cl_order_id)
            self._state.resolve(request.cl_order_id, RequestOutcome.OVERTAKEN, None)
            return chain.order
        self._state.link(chain, request.cl_order_id)
        chain.pending[request.cl_order_id] = request.request_type
        previous = chain.order
        now = self._now_ns() if ts_ns is None else ts_ns
        target = _S.PENDING_MODIFY if isinstance(request, ModifyOrder) else _S.PENDING_CANCEL
        if can_transition(previous.state, target):
            chain.order = _replace(previous, state=target, updated_ns=now)
        self._state.record(
            chain, OrderEventKind.REQUESTED, request.cl_order_id, previous.state, now
        )
        if chain.order is not previous:
            self._state.notify_order(chain.order, previous)
        return chain.order

    def track_bulk(self, request: CancelAll | LiquidateAll | GoFlat) -> None:
        """Remember a bulk request so its answer is not mistaken for an order."""
        self._state.bulk[request.cl_order_id] = request
        self._state.bulk_seen(request.cl_order_id)

    def mark_unknown(
        self, cl_order_id: str, reason: str, *, ts_ns: int | None = None
    ) -> Order | None:
        """We cannot tell what happened (timeout, disconnect): UNKNOWN until reconciled.

        A final order stays final. Returns the order, or ``None`` if not tracked.
        """
        chain = self._state.chain_for_id(cl_order_id)
        if chain is None:
            return None
        previous = chain.order
        if previous.state.is_final or previous.state is _S.UNKNOWN:
            return previous
        now = self._now_ns() if ts_ns is None else ts_ns
        chain.order = _replace(previous, state=_S.UNKNOWN, updated_ns=now)
        chain.unknown_since_ns = now
        self._state.counts["unknown_marked"] += 1
        self._state.record(chain, OrderEventKind.UNKNOWN, cl_order_id, previous.state, now, reason)
        self._state.notify_order(chain.order, previous)
        chain.wake()
        return chain.order

    # -- what the venue says ---------------------------------------------------

    def apply(self, event: TradeEvent, *, ts_ns: int | None = None) -> None:
        """Apply one trade-stream event. Never raises on odd input: it is counted instead."""
        if isinstance(event, ExecutionReport):
            if self._final:
                self._state.retire_due()
            self._apply_report(event, ts_ns)
        elif isinstance(event, PositionReport):
            position = event.position
            self._state.venue_positions[(position.account_id, position.symbol)] = position
            if self._state.host is not None:
                self._state.host.notify_position(position)
        elif isinstance(event, AccountReport):
            self._state.accounts[event.account.account_id] = event.account
        elif isinstance(event, SnapshotComplete):
            self._state.snapshots[event.account_id] += 1
        elif isinstance(event, SessionEvent) and event.kind is SessionEventKind.DISCONNECTED:
            self._state.disconnects += 1
            for chain in self._state.chains.values():
                chain.wake()
            for waiter in self._state.outcome_waiters.values():
                waiter.set()

    def adopt_position(self, position: Position, *, keep_realized: bool = False) -> None:
        """Take the venue's position as ours (after reconciliation found a difference).

        ``keep_realized``: only its quantity and average; the P&L realized here stays
        (price points of a symbol not priced yet included)."""
        self._state.book.set(position, keep_realized=keep_realized)
        if self._state.host is not None:
            self._state.host.notify_position(
                self._state.book.get(position.account_id, position.symbol)
            )

    # -- queries ---------------------------------------------------------------

    def order(self, order_id: str) -> Order | None:
        """The order by chain id or by any client order id of its chain (a retired
        chain's final order too, while it is remembered)."""
        chain = self._state.chain_for_id(order_id)
        if chain is not None:
            return chain.order
        retired = self._retention.get(order_id)
        return None if retired is None else retired.order

    def chain_id(self, order_id: str) -> str | None:
        chain = self._state.chain_of.get(order_id)
        if chain is None:
            retired = self._retention.get(order_id)
            return None if retired is None else retired.order.chain_id
        return chain.order.chain_id

    def orders(self, account_id: str | None = None) -> list[Order]:
        """Open orders and the final ones retained (not the retired)."""
        return [
            c.order
            for c in self._state.chains.values()
            if account_id is None or c.order.account_id == account_id
        ]

    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[Order]:
        """Orders that could still trade (every state that is not final, UNKNOWN included)."""
        return [
            c.order
            for c in self._state.open.values()
            if (account_id is None or c.order.account_id == account_id)
            and (symbol is None or c.order.symbol == symbol)
        ]

    def unknown_orders(self, account_id: str | None = None) -> list[tuple[Order, int]]:
        """UNKNOWN orders with the age in nanoseconds of their uncertainty."""
        now = self._state.clock.now_ns()
        return [
            (c.order, now - (c.unknown_since_ns or c.order.updated_ns))
            for c in self._state.open.values()
            if c.order.state is _S.UNKNOWN
            and (account_id is None or c.order.account_id == account_id)
        ]

    def history(self, order_id: str) -> list[OrderEvent]:
        """The events of the order's chain, oldest first (its last ``history_limit``;
        none once it is retired: the journal has them all)."""
        chain = self._state.chain_for_id(order_id)
        return [] if chain is None else list(chain.events)

    def client_order_ids(self, order_id: str) -> list[str]:
        """Every client order id of the chain, the first (the chain id) first."""
        chain = self._state.chain_for_id(order_id)
        if chain is None:
            retired = self._retention.get(order_id)
            return [] if retired is None else list(retired.ids)
        return list(chain.ids)

    def fills(self, account_id: str | None = None) -> list[Fill]:
        """Fills of the chains kept whole, oldest first (retired ones' are in the journal)."""
        return [
            f
            for f in self._state.fills.values()
            if account_id is None or f.account_id == account_id
        ]

    def position(self, account_id: str, symbol: str) -> Position:
        """Our position from fills (flat if none)."""
        return self._state.book.get(account_id, symbol)

    def positions(self, account_id: str | None = None) -> list[Position]:
        return self._state.book.all(account_id)

    def venue_position(self, account_id: str, symbol: str) -> Position | None:
        """The venue's last word on a position (from the trade stream), if any."""
        return self._state.venue_positions.get((account_id, symbol))

    def account(self, account_id: str) -> Account | None:
        return self._state.accounts.get(account_id)

    def realized_pnl(
        self, account_id: str, symbol: str | None = None, *, priced_only: bool = False
    ) -> Decimal:
        """Realized P&L in money of the account (or of one symbol). Raises
        :class:`~ec_core.errors.PnlUnknownError` naming the symbols whose instrument is not
        known (their fills are in price points); ``priced_only``: the others' alone."""
        return self._state.book.realized_pnl(account_id, symbol, priced_only=priced_only)

    def unrealized_pnl(self, account_id: str, symbol: str, mark: Decimal) -> Decimal:
        """Open P&L in money of one position valued at ``mark``; raises
        :class:`~ec_core.errors.PnlUnknownError` when the symbol's instrument is not known."""
        return self._state.book.unrealized_pnl(account_id, symbol, mark)

    def unpriced(self, account_id: str | None = None) -> tuple[str, ...]:
        """Symbols with fills booked in price points: their instrument is not known yet."""
        return self._state.book.unpriced(account_id)

    def realized_points(self, account_id: str, symbol: str) -> Decimal:
        """Realized P&L in price points of an unpriced symbol (0 once it is priced)."""
        return self._state.book.realized_points(account_id, symbol)

    def outcome(self, cl_order_id: str) -> RequestOutcome | None:
        """How the venue answered the request with this client order id, if it has."""
        found = self._state.outcome(cl_order_id)
        return None if found is None else found.kind

    def outcome_report(self, cl_order_id: str) -> ExecutionReport | None:
        found = self._state.outcome(cl_order_id)
        return None if found is None else found.report

    @property
    def report_seq(self) -> int:
        """How many venue reports about orders were applied so far (a mark for
        :meth:`heard_since`)."""
        return self._state.report_seq

    def heard_since(self, order_id: str, mark: int) -> bool:
        """Whether a venue report about the order came after ``mark`` (a
        :attr:`report_seq`): after a gap, an open order not heard of since is asked about."""
        chain = self._state.chain_for_id(order_id)
        return chain is not None and chain.heard > mark

    def snapshots(self, account_id: str) -> int:
        """How many snapshots of the account completed (see ``SnapshotComplete``)."""
        return self._state.snapshots[account_id]

    @property
    def fill_count(self) -> int:
        """Fills accepted so far (duplicates not counted): cheap change detection."""
        return self._state.fill_total

    def sizes(self) -> dict[str, int]:
        """How many entries each internal map holds (what retention bounds)."""
        return {
            "chains": len(self._state.chains),
            "open": len(self._state.open),
            "client_ids": len(self._state.chain_of),
            "outcomes": len(self._state.outcomes),
            "fills": len(self._state.fills),
            **self._retention.sizes(),
            # the final chains held: those queued to retire, or every one when all are kept
            # (then none is queued, and retention's own count stays 0)
            "final": len(self._state.chains) - len(self._state.open),
            "bulk": len(self._state.bulk_ids),
            "outcome_waiters": len(self._state.outcome_waiters),
            "events": sum(len(c.events) for c in self._state.chains.values()),
        }

    @property
    def retain_final(self) -> int | None:
        return self._retention.retain_final

    @property
    def retain_final_ns(self) -> int | None:
        return self._retention.retain_final_ns

    @property
    def retired_window(self) -> int:
        return self._retention.retired_window

    @property
    def disconnects(self) -> int:
        return self._state.disconnects

    def anomalies(self) -> list[FillAnomaly]:
        """The last impossible fills booked (overfills, fills after a final state), oldest
        first; :attr:`anomaly_count` counts them all."""
        return list(self._state.anomalies)

    @property
    def anomaly_count(self) -> int:
        """Impossible fills booked so far: cheap change detection, like :attr:`fill_count`."""
        return self._state.anomaly_total

    def stats(self) -> TrackerStats:
        return TrackerStats(**dict(self._state.counts))

    # -- waiting ---------------------------------------------------------------

    async def wait_outcome(self, cl_order_id: str) -> RequestOutcome:
        """Wait until the venue answers the request. Cancel-safe.

        Raises :class:`ConnectionLostError` if the session reports a disconnect meanwhile.
        """
        disconnects = self._state.disconnects
        while True:
            found = self._state.outcome(cl_order_id)
            if found is not None:
                return found.kind
            if self._state.disconnects != disconnects:
                raise ConnectionLostError(f"disconnected while waiting for {cl_order_id}")
            waiter = self._state.outcome_waiters.get(cl_order_id)
            if waiter is None:
                waiter = self._state.outcome_waiters[cl_order_id] = anyio.Event()
            try:
                await waiter.wait()
            finally:
                # Set, or abandoned by its last waiter (a timed-out request): drop it, or
                # every request that timed out would keep its event here for good.
                if self._state.outcome_waiters.get(cl_order_id) is waiter and (
                    waiter.is_set() or not waiter.statistics().tasks_waiting
                ):
                    del self._state.outcome_waiters[cl_order_id]

    async def wait_for(self, order_id: str, predicate: Callable[[Order], bool]) -> Order:
        """Wait until the order (chain id or any client id) satisfies ``predicate``. Cancel-safe.

        Raises :class:`KeyError` if the order is not tracked and
        :class:`ConnectionLostError` on a disconnect meanwhile.
        """
        disconnects = self._state.disconnects
        while True:
            chain = self._state.chain_for_id(order_id)
            if chain is None:
                retired = self._retention.get(order_id)
                if retired is not None and predicate(retired.order):
                    return retired.order  # retired (final) while this waiter was waking
                raise KeyError(order_id)
            if predicate(chain.order):
                return chain.order
            if self._state.disconnects != disconnects:
                raise ConnectionLostError(f"disconnected while waiting for {order_id}")
            waiter = chain.waiter()
            try:
                await waiter.wait()
            finally:
                chain.forget(waiter)
