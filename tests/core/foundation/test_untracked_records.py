"""The records kept per order action are not tracked by the cyclic garbage collector.

A replay keeps every order's requests, reports and history; each tracked object kept
is walked again by every full collection, which made the collector a large share of
an order action's cost. These records cannot form a cycle (scalars, enums, dates,
frozensets, other such records), so they are declared ``gc=False``.
"""

from __future__ import annotations

import gc
from datetime import date
from decimal import Decimal

from ec_core.model import (
    CancelAll,
    CancelOrder,
    ExecInstruction,
    ExecutionReport,
    Fill,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    ReportKind,
    Side,
)
from ec_core.tracking import OrderEvent, OrderEventKind


def test_requests_orders_fills_reports_and_history_entries_are_untracked() -> None:
    fill = Fill(
        fill_id="f1", account_id="A", symbol="CLE", side=Side.BUY, qty=1,
        price=Decimal("70.00"), ts_ns=1,
    )  # fmt: skip
    report = ExecutionReport(
        kind=ReportKind.FILL, account_id="A", symbol="CLE", cl_order_id="c1",
        state=OrderState.FILLED, side=Side.BUY, order_type=OrderType.LMT, qty=1,
        filled_qty=1, limit_price=Decimal("70.00"), good_thru_date=date(2026, 12, 7), fill=fill,
    )  # fmt: skip
    records: list[object] = [
        NewOrder(
            account_id="A", symbol="CLE", side=Side.BUY, qty=1, order_type=OrderType.LMT,
            limit_price=Decimal("70.00"), exec_instructions=frozenset({ExecInstruction.AON}),
        ),
        ModifyOrder(account_id="A", symbol="CLE", orig_cl_order_id="c1", qty=2),
        CancelOrder(account_id="A", symbol="CLE", orig_cl_order_id="c1"),
        CancelAll(account_id="A"),
        LiquidateAll(account_id="A"),
        GoFlat(account_id="A"),
        Order(
            chain_id="c1", cl_order_id="c1", account_id="A", symbol="CLE", side=Side.BUY,
            order_type=OrderType.LMT, qty=1, state=OrderState.WORKING,
            exec_instructions=frozenset({ExecInstruction.AON}),
        ),
        fill,
        report,
        OrderEvent(
            seq=1, ts_ns=1, kind=OrderEventKind.FILL, chain_id="c1", cl_order_id="c1",
            state=OrderState.FILLED, report=report, fill=fill,
        ),
    ]  # fmt: skip
    assert [type(r).__name__ for r in records if gc.is_tracked(r)] == []
