"""Review regressions of the tracker: answers that race the send, waiters that time out.

Before the fixes, the venue's answer to a modify or cancel that arrived before
``track_request`` was never recorded as that request's outcome (the executor
waited in vain, then called a cancelled order UNKNOWN), a refused cancel that
arrived early turned a working order REJECTED (final: its exposure vanished
while it still worked at the venue), and every timed-out wait left its event
behind in the tracker for good.
"""

from __future__ import annotations

import anyio
import pytest
from ec_core.clock import ManualClock
from ec_core.model import CancelOrder, ModifyOrder, OrderState, ReportKind, RequestType
from ec_core.tracking import OrderTracker, RequestOutcome
from tracker_support import ACCOUNT, SYMBOL, new_order, report

S = OrderState
K = ReportKind


def _working(tracker: OrderTracker) -> None:
    tracker.track_new(new_order("A1"))
    tracker.apply(report(K.ACCEPTED, S.WORKING, "A1"))


def test_a_cancel_answered_before_it_was_tracked_is_resolved() -> None:
    tracker = OrderTracker(clock=ManualClock())
    _working(tracker)
    tracker.apply(report(K.CANCELLED, S.CANCELLED, "C1", orig_cl_order_id="A1"))
    assert tracker.outcome("C1") is RequestOutcome.ACCEPTED
    cancel = CancelOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="A1", cl_order_id="C1")
    order = tracker.track_request(cancel)  # the send is recorded after its answer
    assert order is not None
    assert order.state is S.CANCELLED
    assert tracker.open_orders() == []


def test_a_modify_answered_before_it_was_tracked_is_resolved_and_not_pending() -> None:
    tracker = OrderTracker(clock=ManualClock())
    _working(tracker)
    tracker.apply(report(K.MODIFIED, S.WORKING, "M1", orig_cl_order_id="A1", qty=7))
    assert tracker.outcome("M1") is RequestOutcome.ACCEPTED
    modify = ModifyOrder(
        account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="A1", cl_order_id="M1", qty=7
    )
    order = tracker.track_request(modify)
    assert order is not None
    assert (order.state, order.qty, order.cl_order_id) == (S.WORKING, 7, "M1")


@pytest.mark.parametrize("venue_state", [S.REJECTED, S.WORKING])
def test_a_cancel_refused_before_it_was_tracked_leaves_the_order_working(
    venue_state: OrderState,
) -> None:
    tracker = OrderTracker(clock=ManualClock())
    _working(tracker)
    tracker.apply(
        report(
            K.REJECTED, venue_state, "C1", orig_cl_order_id="A1",
            request_type=RequestType.CANCEL, reject_code="TOO_LATE",
        )
    )  # fmt: skip
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.WORKING  # still at the venue: never final here
    assert [o.chain_id for o in tracker.open_orders()] == ["A1"]
    assert tracker.outcome("C1") is RequestOutcome.REJECTED


@pytest.mark.anyio
async def test_a_timed_out_wait_leaves_no_waiter_behind() -> None:
    tracker = OrderTracker(clock=ManualClock())
    tracker.track_new(new_order("A1"))
    for _ in range(3):
        with anyio.move_on_after(0):
            await tracker.wait_outcome("A1")
    assert tracker.sizes()["outcome_waiters"] == 0
    tracker.apply(report(K.ACCEPTED, S.WORKING, "A1"))
    with anyio.fail_after(1):
        assert await tracker.wait_outcome("A1") is RequestOutcome.ACCEPTED
