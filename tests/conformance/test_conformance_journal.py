"""The trade journal: the rules every execution report keeps, checked one report at a time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from ec_core.model import (
    TRANSITIONS,
    ExecutionReport,
    Fill,
    OrderState,
    OrderType,
    ReportKind,
    RequestType,
    Side,
    SnapshotComplete,
)
from ec_core.testing.conformance import ConformanceViolation, TradeJournal
from hypothesis import given, settings
from hypothesis import strategies as st

S = OrderState
PRICE = Decimal("4500.25")


def report(kind: ReportKind, state: OrderState, cl: str = "a", **fields: Any) -> ExecutionReport:
    values: dict[str, Any] = {
        "kind": kind,
        "account_id": "ACC",
        "symbol": "EP",
        "cl_order_id": cl,
        "state": state,
        "side": Side.BUY,
        "order_type": OrderType.LMT,
        "qty": 3,
        "limit_price": PRICE,
    }
    values.update(fields)
    return ExecutionReport(**values)


def fill(cl: str, filled: int, qty: int, fill_id: str, *, total: int = 3) -> ExecutionReport:
    state = S.FILLED if filled == total else S.PARTIALLY_FILLED
    piece = Fill(
        fill_id=fill_id,
        account_id="ACC",
        symbol="EP",
        side=Side.BUY,
        qty=qty,
        price=PRICE,
        ts_ns=1,
        cl_order_id=cl,
    )
    return report(ReportKind.FILL, state, cl, filled_qty=filled, fill=piece, qty=total)


def violation(journal: TradeJournal, event: ExecutionReport) -> str:
    with pytest.raises(ConformanceViolation) as raised:
        journal.observe(event)
    return raised.value.code


def test_a_clean_life_is_accepted_and_recorded_per_chain() -> None:
    journal = TradeJournal()
    journal.observe_all(
        [
            SnapshotComplete(account_id="ACC"),
            report(ReportKind.ACCEPTED, S.WORKING, "a"),
            report(ReportKind.MODIFIED, S.WORKING, "b", orig_cl_order_id="a"),
            fill("b", 1, 1, "F1"),
            fill("b", 3, 2, "F2"),
        ]
    )
    assert journal.states("a") == journal.states("b")
    assert journal.states("a") == [S.WORKING, S.WORKING, S.PARTIALLY_FILLED, S.FILLED]
    assert journal.chain_key("b") == journal.chain_key("a") == "a"
    assert [r.fill.fill_id for r in journal.fills("a") if r.fill] == ["F1", "F2"]
    assert journal.fill_ids == {"F1", "F2"}


def test_chain_id_links_reports_without_orig_ids() -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.ACCEPTED, S.WORKING, "a", chain_id="a"))
    journal.observe(report(ReportKind.MODIFIED, S.WORKING, "b", chain_id="a"))
    assert journal.chain_key("b") == "a"
    assert violation(journal, report(ReportKind.ACCEPTED, S.PENDING_NEW, "c", chain_id="a")) == (
        "ILLEGAL_TRANSITION"
    )


def test_an_illegal_transition_is_named_with_both_states() -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.CANCELLED, S.CANCELLED))
    with pytest.raises(ConformanceViolation, match="CANCELLED -> WORKING") as raised:
        journal.observe(report(ReportKind.STATUS, S.WORKING))
    assert raised.value.code == "ILLEGAL_TRANSITION"
    assert raised.value.report is not None


def test_a_snapshot_may_start_a_chain_in_any_state() -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.STATUS, S.PARTIALLY_FILLED, filled_qty=1))
    journal.observe(fill("a", 3, 2, "F9"))
    assert journal.states("a") == [S.PARTIALLY_FILLED, S.FILLED]


def test_a_first_report_that_skips_the_accept_must_still_be_legal_after_pending_new() -> None:
    assert violation(TradeJournal(), report(ReportKind.MODIFIED, S.PENDING_CANCEL)) == (
        "ILLEGAL_TRANSITION"
    )


def test_fill_ids_are_unique_across_orders() -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.ACCEPTED, S.WORKING, "a"))
    journal.observe(report(ReportKind.ACCEPTED, S.WORKING, "b"))
    journal.observe(fill("a", 1, 1, "F1"))
    assert violation(journal, fill("b", 1, 1, "F1")) == "FILL_ID_NOT_UNIQUE"
    assert violation(journal, fill("b", 1, 1, "")) == "FILL_ID_NOT_UNIQUE"


def test_a_fill_must_grow_filled_qty_by_its_own_qty() -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.ACCEPTED, S.WORKING))
    assert violation(journal, fill("a", 2, 1, "F1")) == "FILL_QTY_MISMATCH"


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (fill("a", 4, 4, "F1"), "OVERFILL"),
        (fill("a", 0, 0, "F1"), "FILL_QTY_INVALID"),
        (report(ReportKind.FILL, S.PARTIALLY_FILLED, filled_qty=1), "FILL_MISSING"),
        (report(ReportKind.STATUS, S.FILLED, filled_qty=2), "FILLED_NOT_FULL"),
        (report(ReportKind.MODIFIED, S.PARTIALLY_FILLED, filled_qty=1), "FILLED_QTY_WITHOUT_FILL"),
        (
            msgspec.structs.replace(fill("a", 1, 1, "F1"), state=S.WORKING),
            "PARTIAL_FILL_NOT_PARTIALLY_FILLED",
        ),
        (report(ReportKind.STATUS, S.WORKING, filled_qty=2), "PARTIAL_FILL_NOT_PARTIALLY_FILLED"),
        (
            report(ReportKind.REJECTED, S.WORKING, request_type=RequestType.MODIFY),
            "REJECT_WITHOUT_CODE",
        ),
    ],
)
def test_quantity_and_reject_rules(event: ExecutionReport, code: str) -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.ACCEPTED, S.WORKING))
    assert violation(journal, event) == code


def test_filled_qty_never_shrinks() -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.ACCEPTED, S.WORKING))
    journal.observe(fill("a", 2, 2, "F1"))
    assert violation(journal, report(ReportKind.STATUS, S.PARTIALLY_FILLED, filled_qty=1)) == (
        "FILLED_QTY_SHRANK"
    )


def test_a_reject_of_a_request_on_an_unknown_order_needs_a_code_but_no_chain() -> None:
    journal = TradeJournal()
    ok = report(
        ReportKind.REJECTED,
        S.REJECTED,
        "c",
        orig_cl_order_id="zz",
        request_type=RequestType.CANCEL,
        reject_code="UNKNOWN_ORDER",
    )
    journal.observe(ok)
    assert journal.chain_key("c") is None
    no_code = report(
        ReportKind.REJECTED, S.REJECTED, "d", orig_cl_order_id="zz", request_type=RequestType.CANCEL
    )
    assert violation(journal, no_code) == "REJECT_WITHOUT_CODE"


def test_a_rejected_modify_of_a_live_order_must_keep_its_state() -> None:
    journal = TradeJournal()
    journal.observe(report(ReportKind.ACCEPTED, S.WORKING, "a"))
    journal.observe(
        report(
            ReportKind.REJECTED,
            S.WORKING,
            "b",
            orig_cl_order_id="a",
            request_type=RequestType.MODIFY,
            reject_code="X",
        )
    )
    bad = report(
        ReportKind.REJECTED,
        S.REJECTED,
        "c",
        orig_cl_order_id="a",
        request_type=RequestType.MODIFY,
        reject_code="X",
    )
    assert violation(journal, bad) == "LIVE_ORDER_REPORTED_REJECTED"
    cancel = msgspec.structs.replace(bad, request_type=RequestType.CANCEL)
    with pytest.raises(ConformanceViolation, match="rejected CANCEL of a live order must report"):
        journal.observe(cancel)


def _status(state: OrderState, filled: int) -> ExecutionReport:
    if state is S.FILLED:
        filled = 3
    elif state is S.PARTIALLY_FILLED:
        filled = max(filled, 1)
    return report(ReportKind.STATUS, state, filled_qty=filled)


@settings(max_examples=60)
@given(st.data())
def test_any_path_through_the_table_is_accepted_and_any_step_off_it_is_not(
    data: st.DataObject,
) -> None:
    journal = TradeJournal()
    state, filled = S.PENDING_NEW, 0
    first = report(ReportKind.ACCEPTED, S.WORKING)
    journal.observe(first)
    state = S.WORKING
    for _ in range(data.draw(st.integers(0, 8), label="steps")):
        targets = sorted(TRANSITIONS[state])
        if filled:  # legal by the table, but a partly filled order is never WORKING again
            targets = [t for t in targets if t not in (S.WORKING, S.PENDING_NEW)]
        if not targets:
            break
        target = data.draw(st.sampled_from(targets), label="next")
        event = _status(target, filled)
        journal.observe(event)
        state, filled = target, event.filled_qty
    illegal = sorted(set(S) - TRANSITIONS[state] - {state})
    if illegal:
        target = data.draw(st.sampled_from(illegal), label="illegal")
        assert violation(journal, _status(target, filled)) == "ILLEGAL_TRANSITION"
    assert journal.states("a")[-1] is state
