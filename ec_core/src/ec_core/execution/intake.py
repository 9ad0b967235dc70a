"""Intake: what the venue says, applied in order, with gaps and resyncs kept.

Every venue event is journaled, then applied to the tracker, then settles the
payloads it answers (:meth:`Intake.on_event`). A disconnect or gap marks the accounts
of the stream it came in on that have open orders; after that account's snapshot
completes, its open orders the snapshot did not mention and its UNKNOWN orders are
asked about.

An order a venue report itself leaves UNKNOWN while the session is up is asked about
too, without waiting for a reconnect: :class:`~ec_core.execution.venue_unknown.UnknownFollowUp`
queues it and the stream's consumer runs the same per-order status query; its retries
are run by a timer task beside the consumer (:meth:`Intake.run`), so a quiet stream
does not hold them.

A session event names no account, and an executor may consume one stream per
account: their events arrive interleaved however the consumers run. So each stream
has its own ``take`` (:meth:`Intake.stream_take`) that remembers the accounts the
stream carries (from its ``SnapshotComplete``, which every subscription starts
with); a gap on it marks those accounts only. A gap on a stream that has not
completed a snapshot yet marks every account with open orders, as before.

:meth:`Intake.take` is the one way an event comes in: :meth:`Intake.run` calls it for
each event of a trade stream, and so does the in-process adapter
(:class:`~ec_core.execution.feed.DirectDelivery`) for events a venue in the same loop
hands over synchronously.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, Callable
from functools import partial
from typing import final

import anyio

from ec_core.clock import Clock
from ec_core.errors import ConnectionLostError
from ec_core.execution.admission import Sleep
from ec_core.execution.answers import Answers
from ec_core.execution.gate import FillAnomalyListener, PnlListener, PreTradeGate
from ec_core.execution.reconcile import Reconciler
from ec_core.execution.venue_unknown import UnknownFollowUp
from ec_core.journal import EventReceived, JournalRecord
from ec_core.model import (
    ExecutionReport,
    OrderState,
    SessionEvent,
    SessionEventKind,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.task_errors import lone_error
from ec_core.tracking import OrderTracker

__all__ = ["Intake"]

log = logging.getLogger("ec_core.execution.executor")

_GAP_KINDS = frozenset({SessionEventKind.DISCONNECTED, SessionEventKind.GAP})


@final
class Intake:
    """Consumes the trade stream for one executor.

    ``append`` journals (``None``: no journal); ``flush`` commits; the gate's
    optional listeners hear of realized P&L and impossible fills. ``timer``: the sleep on
    the executor's clock of the follow-up's retry timer (``None``: no timer, retries are
    checked as events arrive; a replay's clock moves only with them).
    """

    def __init__(
        self,
        *,
        tracker: OrderTracker,
        clock: Clock,
        checks: PreTradeGate,
        answers: Answers,
        reconciler: Reconciler,
        append: Callable[[JournalRecord], None] | None,
        flush: Callable[[], None],
        timer: Sleep | None = None,
    ) -> None:
        self.tracker = tracker
        self.clock = clock
        self._answers = answers
        self._reconciler = reconciler
        self._append = append
        self._flush = flush
        self._on_pnl = checks.on_pnl if isinstance(checks, PnlListener) else None
        self._on_anomaly = (
            checks.on_fill_anomaly if isinstance(checks, FillAnomalyListener) else None
        )
        self._fills_seen = 0
        self._anomalies_seen = 0
        # account -> the tracker's report_seq at the last gap, until its snapshot resyncs it
        self._gap_marks: dict[str, int] = {}
        self._resyncs: list[str] = []  # accounts whose snapshot completed, resync due
        self.follow_up = UnknownFollowUp(tracker=tracker, clock=clock, reconciler=reconciler)
        self._timer = timer

    @property
    def gaps_pending(self) -> tuple[str, ...]:
        """Accounts that had a gap and whose snapshot has not resynced them yet."""
        return tuple(self._gap_marks)

    def recovered(self) -> None:
        """The tracker was rebuilt from the journal: what it replayed was acted on then."""
        self._fills_seen = self.tracker.fill_count
        # Anomalies replayed were acted on when they happened (the kill switch keeps
        # its state in its file): an operator's reset since then holds.
        self._anomalies_seen = self.tracker.anomaly_count

    def on_event(self, event: TradeEvent) -> None:
        """Journal ``event``, apply it to the tracker, settle payloads it answers."""
        if self._append is not None:
            self._append(EventReceived(event=event, ts_ns=self.clock.now_ns()))
        tracker = self.tracker
        tracker.apply(event)
        if isinstance(event, ExecutionReport):
            self._answers.on_report(event.cl_order_id)
            if tracker.fill_count != self._fills_seen:
                self._fills_seen = tracker.fill_count
                if tracker.anomaly_count != self._anomalies_seen:
                    self._impossible_fills()
                if self._on_pnl is not None:
                    account = event.account_id
                    # the money it can judge: a symbol whose instrument is not known
                    # (booked in points, logged) counts once it is priced
                    self._on_pnl(account, tracker.realized_pnl(account, priced_only=True))

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

    # -- the stream ------------------------------------------------------------

    async def run(
        self,
        events: AsyncIterable[TradeEvent],
        take: Callable[[TradeEvent], None] | None = None,
    ) -> None:
        """See ``Executor.run``. ``take``: the stream's own (:meth:`stream_take`), when
        events of the same stream also arrive another way (direct delivery)."""
        if take is None:
            take = self.stream_take()
        try:
            with self.follow_up.consumed():
                timer = self._timer
                if timer is None:
                    await self._consume(events, take)
                    return
                with lone_error():  # the timer raises nothing: the stream's error
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(self.follow_up.run_timer, timer)
                        await self._consume(events, take)
                        tg.cancel_scope.cancel()  # the stream ended: so does its timer
        finally:
            self._flush()

    async def _consume(
        self, events: AsyncIterable[TradeEvent], take: Callable[[TradeEvent], None]
    ) -> None:
        # Checked here first: the common event makes no coroutine (a replay sends ~1 M).
        due = self.follow_up.due
        async for event in events:
            take(event)
            if self._resyncs or due():
                await self.resync_due()

    def stream_take(self) -> Callable[[TradeEvent], None]:
        """:meth:`take` for one trade stream: its gaps mark the accounts it carries."""
        return partial(self.take, accounts=set())

    def take(self, event: TradeEvent, accounts: set[str] | None = None) -> None:
        """One event of a trade stream: apply it and keep the resync bookkeeping.

        ``accounts``: the accounts this stream carries so far (filled in here from its
        ``SnapshotComplete`` events); ``None`` or empty: not known, a gap marks all.
        """
        self.on_event(event)
        if isinstance(event, ExecutionReport):
            if event.state is OrderState.UNKNOWN:  # the venue cannot tell: ask it again
                chain_id = self.tracker.chain_id(event.cl_order_id)
                if chain_id is not None:
                    self.follow_up.note(chain_id)
        elif isinstance(event, SessionEvent):
            if event.kind in _GAP_KINDS:
                self._mark_gap(accounts)
        elif isinstance(event, SnapshotComplete):
            self._resyncs.append(event.account_id)
            if accounts is not None:
                accounts.add(event.account_id)

    def _mark_gap(self, accounts: set[str] | None) -> None:
        """A gap: every account of the stream with open orders (or still waiting for
        its resync) owes one. What each order heard after this point is what its
        account's snapshot or later reports told us; the rest is asked about after
        the snapshot.

        The same disconnect arrives once per stream, in any order relative to the
        other streams' snapshots: a stream marks only its own accounts, so another
        stream's late gap cannot re-open an account whose snapshot already resynced it.
        A stream whose accounts are not known yet marks every account (marking again
        only moves a mark later: more queries, never fewer).
        """
        mark = self.tracker.report_seq
        marks = self._gap_marks
        tracker = self.tracker
        if not accounts:
            for account_id in marks:
                marks[account_id] = mark
            for order in tracker.open_orders():
                marks[order.account_id] = mark
            return
        for account_id in accounts:
            if account_id in marks or tracker.open_orders(account_id):
                marks[account_id] = mark

    @property
    def resync_pending(self) -> bool:
        """A snapshot completed and its resync (:meth:`resync_due`) has not run yet."""
        return bool(self._resyncs)

    async def resync_due(self) -> None:
        """Run the resyncs of completed snapshots, then the status queries due for
        orders the venue reported UNKNOWN."""
        while self._resyncs:
            account_id = self._resyncs.pop(0)
            try:
                await self._resync(account_id)
            except ConnectionLostError as exc:  # the next snapshot will try again
                log.warning("resync of %s interrupted: %s", account_id, exc)
        follow_up = self.follow_up
        if follow_up.due():
            await follow_up.run_due()

    async def _resync(self, account_id: str) -> None:
        """After a snapshot: ask about our open orders it did not mention (after a gap)
        and about every UNKNOWN order: they may have filled or ended meanwhile."""
        mark = self._gap_marks.pop(account_id, None)
        tracker = self.tracker
        if mark is not None:
            for order in tracker.open_orders(account_id):
                if order.state is not OrderState.UNKNOWN and not tracker.heard_since(
                    order.chain_id, mark
                ):
                    await self._reconciler.query(order)
        if tracker.unknown_orders(account_id):
            await self._reconciler.resolve_unknown(account_id)
