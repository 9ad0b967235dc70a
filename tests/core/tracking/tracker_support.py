"""Builders of orders and venue reports for the tracker tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ec_core.model import (
    ExecutionReport,
    Fill,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    Side,
)

ACCOUNT = "ACC1"
SYMBOL = "CLE"


def new_order(cl_order_id: str = "A1", **kw: Any) -> NewOrder:
    fields: dict[str, Any] = {
        "account_id": ACCOUNT,
        "symbol": SYMBOL,
        "side": Side.BUY,
        "qty": 5,
        "order_type": OrderType.LMT,
        "limit_price": Decimal("70.00"),
        "cl_order_id": cl_order_id,
    }
    fields.update(kw)
    return NewOrder(**fields)


def report(
    kind: ReportKind,
    state: OrderState,
    cl_order_id: str = "A1",
    *,
    filled: int = 0,
    fill: Fill | None = None,
    **kw: Any,
) -> ExecutionReport:
    fields: dict[str, Any] = {
        "kind": kind,
        "account_id": ACCOUNT,
        "symbol": SYMBOL,
        "cl_order_id": cl_order_id,
        "state": state,
        "side": Side.BUY,
        "order_type": OrderType.LMT,
        "qty": 5,
        "filled_qty": filled,
        "limit_price": Decimal("70.00"),
        "fill": fill,
    }
    fields.update(kw)
    return ExecutionReport(**fields)


def fill(
    fill_id: str,
    qty: int,
    price: str = "70.00",
    *,
    side: Side = Side.BUY,
    cl_order_id: str = "A1",
    symbol: str = SYMBOL,
) -> Fill:
    return Fill(
        fill_id=fill_id,
        account_id=ACCOUNT,
        symbol=symbol,
        side=side,
        qty=qty,
        price=Decimal(price),
        ts_ns=1,
        cl_order_id=cl_order_id,
    )


def fill_report(
    fill_id: str, qty: int, filled: int, price: str = "70.00", cl_order_id: str = "A1"
) -> ExecutionReport:
    state = OrderState.FILLED if filled >= 5 else OrderState.PARTIALLY_FILLED
    return report(
        ReportKind.FILL,
        state,
        cl_order_id,
        filled=filled,
        avg_fill_price=Decimal(price),
        fill=fill(fill_id, qty, price, cl_order_id=cl_order_id),
    )
