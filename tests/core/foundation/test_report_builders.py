"""Report builders: the venue's next word on an order from what changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.model import (
    CancelOrder,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    RequestType,
    Side,
)
from ec_core.tracking import OrderTracker
from hypothesis import given
from hypothesis import strategies as st

from ec_core import reports

NEW = NewOrder(
    account_id="A", symbol="ESZ5", side=Side.SELL, qty=5, order_type=OrderType.LMT,
    limit_price=Decimal("100.25"), cl_order_id="n1",
)  # fmt: skip


def test_accepted_and_rejected_new_orders() -> None:
    ok = reports.accepted(NEW, ts_ns=1, venue_order_id="V1")
    assert (ok.kind, ok.state, ok.side, ok.qty, ok.chain_id) == (
        ReportKind.ACCEPTED, OrderState.WORKING, Side.SELL, 5, "n1"
    )  # fmt: skip
    assert ok.venue_order_id == "V1"
    no = reports.rejected(NEW, "BAD_QTY", "too many", ts_ns=2)
    assert (no.kind, no.state, no.request_type) == (
        ReportKind.REJECTED, OrderState.REJECTED, RequestType.NEW
    )  # fmt: skip
    assert (no.reject_code, no.reject_text, no.ts_ns) == ("BAD_QTY", "too many", 2)


def test_a_refused_modify_keeps_the_live_orders_state() -> None:
    live = reports.filled(
        reports.accepted(NEW, ts_ns=1), qty=2, price=Decimal(100), fill_id="F1", ts_ns=2
    )
    modify = ModifyOrder(
        account_id="A", symbol="ESZ5", orig_cl_order_id="n1", cl_order_id="m1", qty=1
    )
    refused = reports.refused(live, modify, "BAD_QTY", "below filled", ts_ns=3)
    assert refused.kind is ReportKind.REJECTED
    assert refused.state is OrderState.PARTIALLY_FILLED  # never REJECTED
    assert (refused.cl_order_id, refused.orig_cl_order_id) == ("m1", "n1")
    assert refused.request_type is RequestType.MODIFY
    assert refused.fill is None
    assert refused.filled_qty == 2


def test_unknown_order_leaves_what_the_venue_cannot_know_unset() -> None:
    cancel = CancelOrder(account_id="A", symbol="ESZ5", orig_cl_order_id="ghost", cl_order_id="c1")
    report = reports.unknown_order(cancel, "UNKNOWN_ORDER", "no such order", ts_ns=4)
    assert (report.side, report.order_type, report.qty) == (None, None, 0)
    assert (report.state, report.request_type) == (OrderState.REJECTED, RequestType.CANCEL)
    assert report.orig_cl_order_id == "ghost"


def test_modified_then_cancelled_keeps_the_chain_and_the_fills() -> None:
    working = reports.accepted(NEW, ts_ns=1)
    modify = ModifyOrder(
        account_id="A", symbol="ESZ5", orig_cl_order_id="n1", cl_order_id="m1",
        limit_price=Decimal("100.50"),
    )  # fmt: skip
    moved = reports.modified(working, modify, ts_ns=2)
    assert (moved.kind, moved.cl_order_id, moved.orig_cl_order_id) == (
        ReportKind.MODIFIED,
        "m1",
        "n1",
    )
    assert (moved.qty, moved.limit_price, moved.chain_id) == (5, Decimal("100.50"), "n1")
    cancel = CancelOrder(account_id="A", symbol="ESZ5", orig_cl_order_id="m1", cl_order_id="c1")
    gone = reports.cancelled(moved, ts_ns=3, request=cancel)
    assert (gone.state, gone.cl_order_id, gone.orig_cl_order_id) == (
        OrderState.CANCELLED,
        "c1",
        "m1",
    )
    assert reports.status(gone).kind is ReportKind.STATUS


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(90, 110)), min_size=1, max_size=5))
def test_fills_add_up_to_the_filled_quantity_and_average(parts: list[tuple[int, int]]) -> None:
    order = NewOrder(
        account_id="A", symbol="ESZ5", side=Side.BUY, qty=sum(q for q, _ in parts),
        order_type=OrderType.MKT, cl_order_id="n1",
    )  # fmt: skip
    report = reports.accepted(order, ts_ns=0)
    for n, (qty, price) in enumerate(parts):
        report = reports.filled(report, qty=qty, price=Decimal(price), fill_id=f"F{n}", ts_ns=n)
        assert report.fill is not None
        assert (report.fill.qty, report.fill.side) == (qty, Side.BUY)
    assert report.state is OrderState.FILLED
    paid = sum((Decimal(q * p) for q, p in parts), Decimal(0))
    assert report.avg_fill_price is not None
    assert abs(report.avg_fill_price - paid / order.qty) < Decimal("1e-20")  # an average


def test_a_fill_needs_the_order() -> None:
    cancel = CancelOrder(account_id="A", symbol="ESZ5", orig_cl_order_id="ghost", cl_order_id="c1")
    with pytest.raises(ValueError, match="needs the order"):
        reports.filled(
            reports.unknown_order(cancel, "UNKNOWN_ORDER", "x", ts_ns=1),
            qty=1, price=Decimal(1), fill_id="F", ts_ns=2,
        )  # fmt: skip


def test_the_tracker_adopts_no_order_from_a_reject_of_an_unknown_one() -> None:
    tracker = OrderTracker(clock=ManualClock(0))
    cancel = CancelOrder(account_id="A", symbol="ESZ5", orig_cl_order_id="ghost", cl_order_id="c1")
    tracker.apply(reports.unknown_order(cancel, "UNKNOWN_ORDER", "no such order", ts_ns=1))
    assert tracker.open_orders() == []
    assert tracker.stats().adopted == 0
