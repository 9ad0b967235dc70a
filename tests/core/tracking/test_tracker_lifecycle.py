"""The tracker follows orders through their lifecycle, idempotently."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from ec_core.clock import ManualClock
from ec_core.errors import ConnectionLostError
from ec_core.model import (
    CancelAll,
    CancelOrder,
    ModifyOrder,
    OrderState,
    ReportKind,
    RequestType,
    SessionEvent,
    SessionEventKind,
)
from ec_core.tracking import OrderEventKind, OrderTracker, RequestOutcome
from tracker_support import ACCOUNT, SYMBOL, fill_report, new_order, report

S = OrderState
K = ReportKind


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def tracker(clock: ManualClock) -> OrderTracker:
    return OrderTracker(clock=clock)


def test_new_order_accepted_then_filled(tracker: OrderTracker) -> None:
    order = tracker.track_new(new_order())
    assert order.state is S.PENDING_NEW
    assert tracker.outcome("A1") is None
    tracker.apply(report(K.ACCEPTED, S.WORKING, venue_order_id="V1"))
    assert tracker.outcome("A1") is RequestOutcome.ACCEPTED
    tracker.apply(fill_report("F1", 2, filled=2))
    tracker.apply(fill_report("F2", 3, filled=5, price="70.00"))
    final = tracker.order("A1")
    assert final is not None
    assert final.state is S.FILLED
    assert final.filled_qty == 5
    assert final.venue_order_id == "V1"
    assert tracker.open_orders() == []
    assert tracker.position(ACCOUNT, SYMBOL).qty == 5
    kinds = [e.kind for e in tracker.history("A1")]
    assert kinds == [
        OrderEventKind.TRACKED,
        OrderEventKind.REPORT,
        OrderEventKind.FILL,
        OrderEventKind.REPORT,
        OrderEventKind.FILL,
        OrderEventKind.REPORT,
    ]
    assert [e.state for e in tracker.history("A1")][-1] is S.FILLED


def test_duplicate_fill_is_counted_once(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.ACCEPTED, S.WORKING))
    tracker.apply(fill_report("F1", 2, filled=2))
    tracker.apply(fill_report("F1", 2, filled=2))
    assert tracker.position(ACCOUNT, SYMBOL).qty == 2
    assert len(tracker.fills()) == 1
    assert tracker.stats().duplicate_fills == 1
    assert tracker.history("A1")[-1].kind is OrderEventKind.DUPLICATE


def test_duplicate_report_changes_nothing(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.ACCEPTED, S.WORKING))
    before = tracker.order("A1")
    tracker.apply(report(K.ACCEPTED, S.WORKING))
    assert tracker.order("A1") == before
    assert tracker.stats().duplicate_reports == 1


def test_fill_before_ack_then_late_ack_is_stale(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(fill_report("F1", 2, filled=2))
    assert tracker.outcome("A1") is RequestOutcome.ACCEPTED
    tracker.apply(report(K.ACCEPTED, S.WORKING, filled=0))
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.PARTIALLY_FILLED
    assert order.filled_qty == 2
    assert tracker.stats().stale_reports == 1


def test_illegal_transition_is_ignored_and_counted(
    tracker: OrderTracker, caplog: pytest.LogCaptureFixture
) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.CANCELLED, S.CANCELLED))
    tracker.apply(report(K.STATUS, S.WORKING))
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.CANCELLED
    assert tracker.stats().illegal_transitions == 1
    assert tracker.history("A1")[-1].kind is OrderEventKind.ILLEGAL
    assert "illegal transition CANCELLED -> WORKING" in caplog.text


def test_venue_reject_of_new_order(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.REJECTED, S.REJECTED, reject_code="101", reject_text="bad price"))
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.REJECTED
    assert (order.reject_code, order.reject_text) == ("101", "bad price")
    assert tracker.outcome("A1") is RequestOutcome.REJECTED
    assert tracker.outcome_report("A1") is not None


def test_modify_keeps_the_chain_and_moves_the_client_id(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.ACCEPTED, S.WORKING))
    modify = ModifyOrder(
        account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="A1", cl_order_id="A2",
        limit_price=Decimal("69.50"),
    )  # fmt: skip
    pending = tracker.track_request(modify)
    assert pending is not None
    assert pending.state is S.PENDING_MODIFY
    tracker.apply(
        report(K.MODIFIED, S.WORKING, "A2", orig_cl_order_id="A1", limit_price=Decimal("69.50"))
    )
    for key in ("A1", "A2"):
        order = tracker.order(key)
        assert order is not None
        assert order.chain_id == "A1"
        assert order.cl_order_id == "A2"
        assert order.limit_price == Decimal("69.50")
        assert order.state is S.WORKING
    assert tracker.outcome("A2") is RequestOutcome.ACCEPTED
    assert tracker.client_order_ids("A2") == ["A1", "A2"]


def test_rejected_modify_returns_to_working(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.ACCEPTED, S.WORKING))
    tracker.track_request(
        ModifyOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="A1", cl_order_id="A2")
    )
    tracker.apply(
        report(
            K.REJECTED, S.WORKING, "A2", orig_cl_order_id="A1",
            request_type=RequestType.MODIFY, reject_code="TOO_LATE",
        )
    )  # fmt: skip
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.WORKING
    assert order.cl_order_id == "A1"
    assert tracker.outcome("A2") is RequestOutcome.REJECTED


def test_fill_while_cancel_pending_stays_pending_then_cancelled(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.ACCEPTED, S.WORKING))
    tracker.track_request(
        CancelOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="A1", cl_order_id="C1")
    )
    tracker.apply(fill_report("F1", 2, filled=2))
    order = tracker.order("A1")
    assert order is not None
    assert (order.state, order.filled_qty) == (S.PENDING_CANCEL, 2)
    tracker.apply(report(K.CANCELLED, S.CANCELLED, "C1", orig_cl_order_id="A1", filled=2))
    order = tracker.order("C1")
    assert order is not None
    assert (order.state, order.filled_qty, order.remaining_qty) == (S.CANCELLED, 2, 0)
    assert tracker.outcome("C1") is RequestOutcome.ACCEPTED


def test_cancel_overtaken_by_fill(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(report(K.ACCEPTED, S.WORKING))
    tracker.track_request(
        CancelOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="A1", cl_order_id="C1")
    )
    tracker.apply(fill_report("F1", 5, filled=5))
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.FILLED
    assert tracker.outcome("C1") is RequestOutcome.OVERTAKEN


def test_unknown_order_resolves_and_still_takes_fills(
    tracker: OrderTracker, clock: ManualClock
) -> None:
    tracker.track_new(new_order())
    tracker.mark_unknown("A1", "timeout")
    clock.advance(3_000_000_000)
    [(order, age)] = tracker.unknown_orders(ACCOUNT)
    assert order.state is S.UNKNOWN
    assert age == 3_000_000_000
    assert tracker.open_orders(ACCOUNT, SYMBOL) == [order]
    tracker.apply(fill_report("F1", 1, filled=1))
    resolved = tracker.order("A1")
    assert resolved is not None
    assert (resolved.state, resolved.filled_qty) == (S.PARTIALLY_FILLED, 1)
    assert tracker.position(ACCOUNT, SYMBOL).qty == 1
    assert tracker.unknown_orders() == []
    assert tracker.outcome("A1") is RequestOutcome.ACCEPTED


def test_mark_unknown_leaves_a_final_order_final(tracker: OrderTracker) -> None:
    tracker.track_new(new_order())
    tracker.apply(fill_report("F1", 5, filled=5))
    order = tracker.mark_unknown("A1", "late timeout")
    assert order is not None
    assert order.state is S.FILLED
    assert tracker.mark_unknown("nope", "x") is None


def test_order_from_the_venue_is_adopted(tracker: OrderTracker) -> None:
    tracker.apply(report(K.STATUS, S.WORKING, "X9", chain_id="X1", orig_cl_order_id="X1"))
    for key in ("X1", "X9"):
        order = tracker.order(key)
        assert order is not None
        assert order.chain_id == "X1"
    assert tracker.stats().adopted == 1
    assert tracker.history("X1")[0].kind is OrderEventKind.ADOPTED


def test_bulk_answer_is_not_adopted_as_an_order(tracker: OrderTracker) -> None:
    tracker.track_bulk(CancelAll(account_id=ACCOUNT, cl_order_id="B1"))
    tracker.apply(
        report(
            K.REJECTED, S.REJECTED, "B1", request_type=RequestType.CANCEL_ALL,
            reject_code="NO_ORDERS",
        )
    )  # fmt: skip
    assert tracker.order("B1") is None
    assert tracker.outcome("B1") is RequestOutcome.REJECTED


@pytest.mark.anyio
async def test_waiters_wake_on_answer() -> None:
    tracker = OrderTracker(clock=ManualClock())
    tracker.track_new(new_order())
    results: list[object] = []

    async def wait() -> None:
        results.append(await tracker.wait_outcome("A1"))
        results.append(await tracker.wait_for("A1", lambda o: o.state is S.FILLED))

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await anyio.wait_all_tasks_blocked()
        tracker.apply(report(K.ACCEPTED, S.WORKING))
        await anyio.wait_all_tasks_blocked()
        assert results == [RequestOutcome.ACCEPTED]
        tracker.apply(fill_report("F1", 5, filled=5))
    assert results[0] is RequestOutcome.ACCEPTED
    assert getattr(results[1], "state", None) is S.FILLED


@pytest.mark.anyio
async def test_disconnect_interrupts_waiters() -> None:
    tracker = OrderTracker(clock=ManualClock())
    tracker.track_new(new_order())
    errors: list[BaseException] = []

    async def wait() -> None:
        try:
            await tracker.wait_outcome("A1")
        except ConnectionLostError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await anyio.wait_all_tasks_blocked()
        tracker.apply(SessionEvent(kind=SessionEventKind.DISCONNECTED))
    assert len(errors) == 1
    assert tracker.disconnects == 1
    with pytest.raises(KeyError):
        await tracker.wait_for("missing", lambda o: True)
