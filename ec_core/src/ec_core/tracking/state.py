"""The tracker's state: the maps it keeps, and the small steps every writer of them shares.

:class:`~ec_core.tracking.tracker.OrderTracker` (what we send, the queries and the
waits) and :class:`~ec_core.tracking.reports.ReportIntake` (what the venue says)
both work on one :class:`TrackerState`; each step on it (record an event, resolve
a request, book a fill, retire a chain) is written once, here.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from typing import final

import anyio

from ec_core.clock import Clock
from ec_core.model import (
    FINAL_STATES,
    Account,
    CancelAll,
    ExecutionReport,
    Fill,
    GoFlat,
    LiquidateAll,
    Order,
    OrderState,
    Position,
)
from ec_core.plugins.host import PluginHost
from ec_core.tracking.chain import Chain
from ec_core.tracking.events import (
    FillAnomaly,
    FillAnomalyKind,
    OrderEvent,
    OrderEventKind,
    RequestOutcome,
)
from ec_core.tracking.positions import MultiplierSource, PositionBook
from ec_core.tracking.retention import Outcome, Retention

__all__ = ["ANOMALIES_KEPT", "TrackerState"]

log = logging.getLogger("ec_core.tracking")

ANOMALIES_KEPT = 1_000  # the last impossible fills, for anomalies(); all are counted


def _no_notice(order: Order, previous: Order | None) -> None:
    """No plugin host: nobody to tell."""


@final
class TrackerState:
    """Every map of one tracker (internal: the tracker's public methods are the API)."""

    def __init__(
        self,
        *,
        clock: Clock,
        host: PluginHost | None,
        multiplier: MultiplierSource | None,
        on_unpriced: Callable[[str], None] | None = None,
        retention: Retention,
        history_limit: int | None,
    ) -> None:
        if history_limit is not None and history_limit < 1:
            raise ValueError("history_limit must be at least 1")
        self.clock = clock
        # The clock's read, bound once: a step given no time (``ts_ns=None``) stamps
        # ``now_ns()`` there, with no wrapper call between it and the clock.
        self.now_ns: Callable[[], int] = clock.now_ns
        self.host = host
        # Told of every order change: the host's notice bound once (it resolves its
        # observers itself), or nothing.
        self.notify_order: Callable[[Order, Order | None], None] = (
            _no_notice if host is None else host.notify_order
        )
        self.retention = retention
        self.history_limit = history_limit
        self.chains: dict[str, Chain] = {}
        self.chain_of: dict[str, Chain] = {}  # any client order id -> its chain
        # The chain by chain id or any client order id: the map's own get, bound once
        # (the map is never rebound), so the look-up every step makes is no Python call.
        self.chain_for_id: Callable[[str], Chain | None] = self.chain_of.get
        self.open: dict[str, Chain] = {}  # chains not in a final state
        self.fills: dict[str, Fill] = {}  # fill id -> fill, of chains kept whole
        self.fill_total = 0
        self.book = PositionBook(multiplier, on_unpriced=on_unpriced)
        self.venue_positions: dict[tuple[str, str], Position] = {}
        self.accounts: dict[str, Account] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.outcome_waiters: dict[str, anyio.Event] = {}
        self.bulk: dict[str, CancelAll | LiquidateAll | GoFlat] = {}
        self.bulk_ids: OrderedDict[str, None] = OrderedDict()  # bulk ids sent or answered
        self.snapshots: Counter[str] = Counter()
        self.disconnects = 0
        self.seq = 0
        self.report_seq = 0  # venue reports applied to a chain, for heard_since
        self.counts: Counter[str] = Counter()
        self.anomalies: deque[FillAnomaly] = deque(maxlen=ANOMALIES_KEPT)
        self.anomaly_total = 0

    def link(self, chain: Chain, cl_order_id: str) -> None:
        """A client order id belongs to the chain (a modify, a cancel, a venue's id)."""
        if cl_order_id not in self.chain_of:
            self.chain_of[cl_order_id] = chain
            chain.add_id(cl_order_id)

    def add_chain(self, chain: Chain) -> None:
        """Start keeping a chain (sent by us or adopted), open or final as its order is."""
        chain_id = chain.order.chain_id
        self.chains[chain_id] = chain
        if chain.order.state not in FINAL_STATES:
            self.open[chain_id] = chain
        else:
            self.retention.ended(chain_id, chain.order.updated_ns)

    def outcome(self, cl_order_id: str) -> Outcome | None:
        found = self.outcomes.get(cl_order_id)
        if found is None:
            retired = self.retention.get(cl_order_id)
            if retired is not None:
                found = retired.outcomes.get(cl_order_id)
        return found

    def record(
        self,
        chain: Chain,
        kind: OrderEventKind,
        cl_order_id: str,
        previous: OrderState | None,
        ts_ns: int | None,
        detail: str = "",
        *,
        report: ExecutionReport | None = None,
        fill: Fill | None = None,
    ) -> None:
        """Append one event to the chain's history (its state is the order's now),
        keeping the last ``history_limit`` (``None``: all)."""
        self.seq += 1
        order = chain.order
        events = chain.events
        events.append(
            OrderEvent(
                seq=self.seq,
                ts_ns=self.now_ns() if ts_ns is None else ts_ns,
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
        limit = self.history_limit
        if limit is not None and len(events) > limit:
            del events[0]

    def resolve(
        self, cl_order_id: str, outcome: RequestOutcome, report: ExecutionReport | None
    ) -> None:
        """The venue answered the request (first answer wins); wake who waits for it."""
        if cl_order_id in self.outcomes:
            return
        self.outcomes[cl_order_id] = Outcome(outcome, report)
        waiters = self.outcome_waiters
        if waiters:  # none waits when the venue answered during the send: no pop
            waiter = waiters.pop(cl_order_id, None)
            if waiter is not None:
                waiter.set()

    def book_fill(self, fill: Fill) -> Position:
        """Book one accepted (new) fill into the positions and tell the observers."""
        self.fill_total += 1
        self.counts["fills"] += 1
        position = self.book.apply(fill)
        if self.host is not None:
            self.host.notify_fill(fill)
            self.host.notify_position(position)
        return position

    def raise_anomaly(
        self,
        kind: FillAnomalyKind,
        before: Order,
        after: Order,
        fill: Fill,
        *,
        booked: int | None = None,
    ) -> None:
        """Say loudly that an impossible fill was booked: log, count, keep, tell observers."""
        anomaly = FillAnomaly(
            kind=kind,
            chain_id=after.chain_id,
            account_id=after.account_id,
            symbol=after.symbol,
            fill=fill,
            order_qty=after.qty,
            filled_qty=after.filled_qty if booked is None else booked,
            previous_state=before.state,
            state=after.state,
            ts_ns=after.updated_ns,
        )
        self.counts["impossible_fills"] += 1
        self.anomalies.append(anomaly)
        self.anomaly_total += 1
        log.error(
            "impossible fill booked: %s on order %s (%s %s, qty %d, %s -> %s): fill %s of %d"
            " at %s makes %d filled",
            kind.value,
            anomaly.chain_id,
            anomaly.account_id,
            anomaly.symbol,
            anomaly.order_qty,
            anomaly.previous_state.value,
            anomaly.state.value,
            fill.fill_id,
            fill.qty,
            fill.price,
            anomaly.filled_qty,
        )
        if self.host is not None:
            self.host.notify_fill_anomaly(anomaly)

    def retire_due(self) -> None:
        """Retire the chains :class:`Retention` says are due.

        Called before an event is applied, never inside one, so the order an event
        just ended is whole for whoever handles that event.
        """
        for chain_id in self.retention.due():
            self._retire(chain_id)

    def _retire(self, chain_id: str) -> None:
        chain = self.chains.pop(chain_id, None)
        if chain is None:
            return
        self.counts["retired"] += 1
        outcomes: dict[str, Outcome] = {}
        for cl_order_id in chain.ids:
            if self.chain_of.get(cl_order_id) is chain:
                del self.chain_of[cl_order_id]
            found = self.outcomes.pop(cl_order_id, None)
            if found is not None:
                outcomes[cl_order_id] = found
        for fill_id in chain.fill_ids:
            self.fills.pop(fill_id, None)
        if chain.waiters:  # nobody should wait on a final order; wake them to see it
            chain.wake()
        self.retention.remember(chain.order, list(chain.ids), list(chain.fill_ids), outcomes)

    def bulk_seen(self, cl_order_id: str) -> None:
        """Keep the last ``retain_final`` bulk requests and their answers (or all)."""
        seen = self.bulk_ids
        seen[cl_order_id] = None
        limit = self.retention.retain_final
        if limit is None:
            return
        while len(seen) > limit:
            old, _ = seen.popitem(last=False)
            self.bulk.pop(old, None)
            self.outcomes.pop(old, None)
