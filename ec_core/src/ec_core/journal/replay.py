"""Rebuild a tracker from the journal after a crash or a restart.

Replaying applies every record to the tracker in the order it was written, with
its original timestamps, so the tracker ends where the journal ends. Then
recovery is explicit about what it cannot know: an order whose intent was
journaled but whose send was not may or may not have left, and an order still
waiting for an answer may have been answered while we were down. Both become
UNKNOWN, to be reconciled with the venue (``Executor.reconcile``), never dropped.
"""

from __future__ import annotations

import msgspec

from ec_core.journal.records import (
    AdoptedPosition,
    EventReceived,
    IntentRecorded,
    JournalRecord,
    MarkedUnknown,
    OrderVoided,
    RequestSent,
    SendFailed,
)
from ec_core.journal.store import Journal
from ec_core.model import (
    CancelAll,
    CancelOrder,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
)
from ec_core.tracking import OrderTracker

__all__ = ["RecoveryReport", "apply_record", "replay", "track_sent"]

_UNANSWERED = frozenset(
    {OrderState.PENDING_NEW, OrderState.PENDING_MODIFY, OrderState.PENDING_CANCEL}
)


class RecoveryReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a replay found. ``client_order_ids`` are every id ever used (never reuse one)."""

    records: int
    last_seq: int
    orders: int
    open_orders: tuple[str, ...] = ()
    marked_unknown: tuple[str, ...] = ()
    client_order_ids: frozenset[str] = frozenset()


_REFERRING = (ModifyOrder, CancelOrder)  # tuples: `A | B` builds a union object per call
_BULK = (CancelAll, LiquidateAll, GoFlat)


def track_sent(tracker: OrderTracker, request: OrderRequest, ts_ns: int | None = None) -> None:
    """Tell the tracker a request left; the one mapping shared by live path and replay."""
    if isinstance(request, NewOrder):
        tracker.track_new(request, ts_ns=ts_ns)
    elif isinstance(request, _REFERRING):
        tracker.track_request(request, ts_ns=ts_ns)
    elif isinstance(request, _BULK):
        tracker.track_bulk(request)


def apply_record(
    tracker: OrderTracker, record: JournalRecord, intents: dict[str, OrderRequest]
) -> None:
    """Apply one journal record; ``intents`` holds requests journaled but not yet sent."""
    if isinstance(record, IntentRecorded):
        intents[record.request.cl_order_id] = record.request
    elif isinstance(record, RequestSent):
        request = intents.pop(record.cl_order_id, None)
        if request is not None:
            track_sent(tracker, request, record.ts_ns)
    elif isinstance(record, SendFailed):
        intents.pop(record.cl_order_id, None)
    elif isinstance(record, MarkedUnknown):
        tracker.mark_unknown(record.cl_order_id, record.reason, ts_ns=record.ts_ns)
    elif isinstance(record, EventReceived):
        tracker.apply(record.event, ts_ns=record.ts_ns)
    elif isinstance(record, AdoptedPosition):
        # reconciliation's: the venue's quantity, our realized P&L (points included)
        tracker.adopt_position(record.position, keep_realized=True)
    elif isinstance(record, OrderVoided):
        tracker.apply(record.report, ts_ns=record.ts_ns)


def replay(
    journal: Journal, tracker: OrderTracker, *, mark_unanswered: bool = True
) -> RecoveryReport:
    """Apply every committed record to ``tracker`` (best a fresh one) and report.

    With ``mark_unanswered`` (the default, for a restart) every order the journal
    leaves without an answer, and every intent without a send record, is marked
    UNKNOWN so the next reconcile asks the venue about it.
    """
    journal.commit()
    intents: dict[str, OrderRequest] = {}
    used: set[str] = set()
    count = 0
    last_seq = 0
    for seq, record in journal.records():
        count += 1
        last_seq = seq
        if isinstance(record, IntentRecorded):
            used.add(record.request.cl_order_id)
        apply_record(tracker, record, intents)
    marked: list[str] = []
    if mark_unanswered:
        for cl_order_id, request in intents.items():  # journaled, maybe sent: assume it was
            track_sent(tracker, request)
            if tracker.mark_unknown(cl_order_id, "recovered: intent without send record"):
                marked.append(cl_order_id)
        for order in tracker.orders():
            if order.state in _UNANSWERED:
                tracker.mark_unknown(order.cl_order_id, "recovered: no answer journaled")
                marked.append(order.chain_id)
    return RecoveryReport(
        records=count,
        last_seq=last_seq,
        orders=len(tracker.orders()),
        open_orders=tuple(o.chain_id for o in tracker.open_orders()),
        marked_unknown=tuple(marked),
        client_order_ids=frozenset(used),
    )
