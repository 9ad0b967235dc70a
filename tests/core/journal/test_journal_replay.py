"""Replaying the journal rebuilds the tracker; recovery marks what it cannot know UNKNOWN."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from ec_core.clock import ManualClock
from ec_core.journal import (
    EventReceived,
    IntentRecorded,
    Journal,
    MarkedUnknown,
    RequestSent,
    SendFailed,
)
from ec_core.model import (
    ExecutionReport,
    Fill,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    Side,
)
from ec_core.tracking import OrderTracker
from hypothesis import given, settings
from hypothesis import strategies as st


def _order(i: int) -> NewOrder:
    return NewOrder(
        account_id="ACC1", symbol="CLE", side=Side.BUY if i % 2 else Side.SELL, qty=4,
        order_type=OrderType.LMT, limit_price=Decimal("70.00") + i, cl_order_id=f"A{i}",
    )  # fmt: skip


def _report(
    i: int, kind: ReportKind, state: OrderState, filled: int, fill: Fill | None = None
) -> ExecutionReport:
    order = _order(i)
    return ExecutionReport(
        kind=kind, account_id="ACC1", symbol="CLE", cl_order_id=order.cl_order_id, state=state,
        side=order.side, order_type=OrderType.LMT, qty=4, filled_qty=filled,
        limit_price=order.limit_price, fill=fill,
    )  # fmt: skip


ops = st.lists(
    st.tuples(
        st.sampled_from(["accept", "fill", "dup", "cancel", "unknown", "stale"]),
        st.integers(0, 3),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(ops=ops)
def test_replay_rebuilds_the_same_tracker(ops: list[tuple[str, int]]) -> None:
    clock = ManualClock()
    live = OrderTracker(clock=clock)
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "j.sqlite", batch_size=7)
        for i in range(4):
            journal.write_ahead(IntentRecorded(request=_order(i), ts_ns=clock.now_ns()))
            live.track_new(_order(i))
            journal.append(RequestSent(cl_order_id=f"A{i}", ts_ns=clock.now_ns()))
        filled = [0] * 4
        fill_no = 0
        last_fill: dict[int, ExecutionReport] = {}
        for op, i in ops:
            clock.advance(1000)
            event: ExecutionReport | None = None
            if op == "accept":
                event = _report(i, ReportKind.ACCEPTED, OrderState.WORKING, filled[i])
            elif op == "fill" and filled[i] < 4:
                fill_no += 1
                filled[i] += 1
                side = _order(i).side
                fill = Fill(
                    fill_id=f"F{fill_no}", account_id="ACC1", symbol="CLE", side=side, qty=1,
                    price=Decimal("70.00") + fill_no, ts_ns=clock.now_ns(),
                )  # fmt: skip
                state = OrderState.FILLED if filled[i] == 4 else OrderState.PARTIALLY_FILLED
                event = last_fill[i] = _report(i, ReportKind.FILL, state, filled[i], fill)
            elif op == "dup" and i in last_fill:
                event = last_fill[i]
            elif op == "cancel":
                event = _report(i, ReportKind.CANCELLED, OrderState.CANCELLED, filled[i])
            elif op == "stale":
                event = _report(i, ReportKind.STATUS, OrderState.WORKING, 0)
            elif op == "unknown":
                live.mark_unknown(f"A{i}", "timeout")
                journal.append(
                    MarkedUnknown(cl_order_id=f"A{i}", reason="timeout", ts_ns=clock.now_ns())
                )
            if event is not None:
                live.apply(event)
                journal.append(EventReceived(event=event, ts_ns=clock.now_ns()))
        journal.close()
        rebuilt = OrderTracker(clock=clock)
        with Journal(Path(tmp) / "j.sqlite") as reopened:
            report = reopened.replay(rebuilt, mark_unanswered=False)
    assert report.client_order_ids == {"A0", "A1", "A2", "A3"}
    assert rebuilt.orders() == live.orders()
    assert rebuilt.positions() == live.positions()
    assert rebuilt.fills() == live.fills()
    assert rebuilt.stats() == live.stats()
    for i in range(4):
        assert rebuilt.history(f"A{i}") == live.history(f"A{i}")


def test_recovery_marks_unanswered_and_unsent_orders_unknown(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        for i in range(4):
            journal.write_ahead(IntentRecorded(request=_order(i)))
        journal.append(RequestSent(cl_order_id="A0"))  # sent, answered
        journal.append(EventReceived(event=_report(0, ReportKind.ACCEPTED, OrderState.WORKING, 0)))
        journal.append(RequestSent(cl_order_id="A1"))  # sent, no answer
        journal.append(SendFailed(cl_order_id="A2", reason="connection down"))
        # A3: intent only (crash between the intent and the send record)
    tracker = OrderTracker(clock=ManualClock())
    with Journal(tmp_path / "j.sqlite") as journal:
        report = journal.replay(tracker)
    states = {o.chain_id: o.state for o in tracker.orders()}
    assert states == {
        "A0": OrderState.WORKING,
        "A1": OrderState.UNKNOWN,
        "A3": OrderState.UNKNOWN,
    }
    assert sorted(report.marked_unknown) == ["A1", "A3"]
    assert sorted(report.open_orders) == ["A0", "A1", "A3"]
    assert report.records == 8
    assert report.client_order_ids == {"A0", "A1", "A2", "A3"}
