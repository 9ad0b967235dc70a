"""Every reject reason: a stable code, a text naming the values, the request type."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    ReportKind,
    RequestType,
    Side,
)
from ec_mock.engine import RejectCode
from engine_support import SECOND, T0, make_exchange, order

BUY, SELL = Side.BUY, Side.SELL


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        (order("x", BUY, 1, "4500", symbol="NOPE"), RejectCode.UNKNOWN_INSTRUMENT, "NOPE"),
        (order("x", BUY, 1, "4500", account="ZZ"), RejectCode.UNKNOWN_ACCOUNT, "ZZ"),
        (order("x", BUY, 1, "4500.10"), RejectCode.PRICE_OFF_TICK, "4500.10"),
        (order("x", BUY, 1, "110.01", symbol="ZN"), RejectCode.PRICE_OFF_TICK, "0.015625"),
        (order("x", BUY, 0, "4500"), RejectCode.QTY_INVALID, "0"),
        (order("x", BUY, -3, "4500"), RejectCode.QTY_INVALID, "-3"),
        (order("x", BUY, 101, "4500"), RejectCode.QTY_OVER_MAX, "100"),
        (order("x", BUY, 1, order_type=OrderType.LMT), RejectCode.PRICE_MISSING, "limit"),
        (order("x", BUY, 1, order_type=OrderType.STP), RejectCode.PRICE_MISSING, "stop"),
        (
            order("x", BUY, 1, "4500", duration=Duration.GTD),
            RejectCode.GTD_MISSING_DATE,
            "good_thru_date",
        ),
        (
            order("x", BUY, 1, "4500", duration=Duration.GTD, good_thru_date=date(2024, 1, 9)),
            RejectCode.GTD_IN_PAST,
            "2024-01-09",
        ),
        (
            order("x", BUY, 1, "4500", exec_instructions=frozenset({ExecInstruction.ICEBERG})),
            RejectCode.DISPLAY_QTY_INVALID,
            "display_qty",
        ),
        (
            order("x", BUY, 1, "4510", exec_instructions=frozenset({ExecInstruction.POST_ONLY})),
            RejectCode.POST_ONLY_WOULD_CROSS,
            "4505",
        ),
        (
            order("x", BUY, 1, stop="4504", order_type=OrderType.STP),
            RejectCode.STOP_WRONG_SIDE,
            "above",
        ),
        (
            order("x", SELL, 1, stop="4506", order_type=OrderType.STP),
            RejectCode.STOP_WRONG_SIDE,
            "below",
        ),
        (order("x", BUY, 50, "4400"), RejectCode.INSUFFICIENT_BUYING_POWER, "buying power"),
        (order("dup", BUY, 1, "4500"), RejectCode.DUPLICATE_ORDER_ID, "dup"),
        (
            CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="ghost"),
            RejectCode.UNKNOWN_ORDER,
            "ghost",
        ),
        (
            ModifyOrder(account_id="A", symbol="ES", orig_cl_order_id="ghost", qty=2),
            RejectCode.UNKNOWN_ORDER,
            "ghost",
        ),
        (
            ModifyOrder(account_id="A", symbol="ES", orig_cl_order_id="dup", qty=0),
            RejectCode.QTY_INVALID,
            "0",
        ),
        (
            ModifyOrder(
                account_id="A", symbol="ES", orig_cl_order_id="dup", limit_price=Decimal("1.1")
            ),
            RejectCode.PRICE_OFF_TICK,
            "1.1",
        ),
        (
            ModifyOrder(account_id="A", symbol="ZN", orig_cl_order_id="dup", qty=2),
            RejectCode.SYMBOL_MISMATCH,
            "ES",
        ),
        (
            ModifyOrder(
                account_id="A", symbol="ES", orig_cl_order_id="dup", stop_price=Decimal(4000)
            ),
            RejectCode.MODIFY_NOT_ALLOWED,
            "stop",
        ),
        (CancelAll(account_id="ZZ"), RejectCode.UNKNOWN_ACCOUNT, "ZZ"),
        (CancelAll(account_id="A", symbol="NOPE"), RejectCode.UNKNOWN_INSTRUMENT, "NOPE"),
    ],
)
def test_reject_reasons(request_: OrderRequest, code: RejectCode, words: str) -> None:
    ex, _, rec = make_exchange(accounts=("A", "B"))
    ex.open_account("POOR", balance=Decimal(10_000))
    # a market: 4505 traded, 4500 bid / 4505.25 offered; "dup" is working
    ex.submit(order("m1", SELL, 1, "4505", account="B"))
    ex.submit(order("m2", BUY, 1, "4505", account="B"))
    ex.submit(order("dup", BUY, 1, "4500"))
    ex.submit(order("ask", SELL, 1, "4505.25", account="B"))
    if isinstance(request_, NewOrder) and request_.qty == 50:
        request_ = msgspec.structs.replace(request_, account_id="POOR")
    before = len(rec.rejects())
    ex.submit(request_)
    rejects = rec.rejects()
    assert len(rejects) == before + 1
    reject = rejects[-1]
    assert reject.kind is ReportKind.REJECTED
    assert reject.reject_code == code
    assert words in reject.reject_text
    assert reject.request_type is request_.request_type
    if isinstance(request_, NewOrder) and code is not RejectCode.DUPLICATE_ORDER_ID:
        assert reject.state is OrderState.REJECTED


def test_modify_qty_down_to_the_filled_qty_ends_the_order_filled() -> None:
    """CME Globex: a quantity reduced to (or below) the cumulative filled quantity ends
    the order, filled. It used to be rejected MODIFY_QTY_BELOW_FILLED and keep working."""
    ex, _, rec = make_exchange()
    ex.submit(order("b1", BUY, 5, "4500"))
    ex.submit(order("s1", SELL, 3, "4500", account="B"))
    ex.submit(
        ModifyOrder(account_id="A", symbol="ES", orig_cl_order_id="b1", cl_order_id="b2", qty=2)
    )
    last = rec.last("b2")
    assert (last.kind, last.state, last.qty, last.filled_qty) == (
        ReportKind.MODIFIED,
        OrderState.FILLED,
        3,
        3,
    )
    assert last.request_type is RequestType.MODIFY
    assert rec.rejects() == []
    assert ex.book("ES").bids == ()
    assert ex.open_orders("A") == []


def test_cancel_of_a_filled_order_is_rejected() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("b1", BUY, 1, "4500"))
    ex.submit(order("s1", SELL, 1, "4500", account="B"))
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="b1"))
    reject = rec.rejects()[-1]
    assert (reject.reject_code, reject.state) == (RejectCode.ORDER_FINAL, OrderState.FILLED)


def test_market_closed_outside_the_session_and_day_orders_expire_at_the_close() -> None:
    ex, _clock, rec = make_exchange()
    ex.submit(order("day", BUY, 1, "70", symbol="CL"))
    ex.submit(order("gtc", BUY, 1, "69", symbol="CL", duration=Duration.GTC))
    close = T0 + 7 * 3600 * SECOND  # 16:00 Chicago on 2024-01-10
    ex.advance_to(close + SECOND)
    assert rec.last("day").kind is ReportKind.EXPIRED
    assert rec.last("day").ts_ns == close
    assert rec.last("gtc").state is OrderState.WORKING
    ex.submit(order("late", BUY, 1, "70", symbol="CL"))
    assert rec.last("late").reject_code == RejectCode.MARKET_CLOSED
    assert not ex.is_open("CL")
    ex.advance_to(close + 3600 * SECOND)  # 17:00: the next session opens
    assert ex.is_open("CL")
    ex.submit(order("again", BUY, 1, "70", symbol="CL"))
    assert rec.last("again").kind is ReportKind.ACCEPTED


def test_sessions_can_be_switched_off() -> None:
    ex, _, rec = make_exchange(
        enforce_sessions=False, start_ns=T0 + 7 * 3600 * SECOND + 60 * SECOND
    )
    ex.submit(order("x", BUY, 1, "70", symbol="CL"))
    assert rec.last("x").kind is ReportKind.ACCEPTED
