"""Small helpers shared by the built-in rules (kept allocation-free on the pass path)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from ec_core.errors import Violation
from ec_core.model import ModifyOrder, Order, OrderRequest
from ec_core.safety.exposure import find_order
from ec_core.validation import PreTradeContext

PASS: Final[tuple[Violation, ...]] = ()


def target_of(request: ModifyOrder, context: PreTradeContext) -> Order | None:
    """The open order a modify refers to (resolved by PreTradeChecks, else looked up)."""
    target = context.target_order
    if target is None:
        target = find_order(context.open_orders, request.orig_cl_order_id)
    return target


def is_price(value: object) -> bool:
    """A usable price: a finite Decimal (negative prices exist, e.g. crude in 2020)."""
    return type(value) is Decimal and value.is_finite()


def is_qty(value: object) -> bool:
    """A usable quantity: a positive int (``bool`` is not a quantity)."""
    return type(value) is int and value > 0


def reference_price(context: PreTradeContext) -> Decimal | None:
    """Last trade, else the explicit reference, else the mid of a two-sided quote."""
    if context.last_price is not None:
        return context.last_price
    if context.reference_price is not None:
        return context.reference_price
    bid, ask = context.best_bid, context.best_ask
    if bid is not None and ask is not None:
        return (bid + ask) / 2
    return None


def stale_market_rule(context: PreTradeContext, request: OrderRequest) -> str | None:
    """Why there is no reference when the symbol's market data stopped (its subscription
    failed: the last prices are frozen, no reference), else ``None``."""
    why = context.stale_market
    if why is None:
        return None
    return (
        f"the market data of {request_symbol(request)} stopped: {why}; its last prices are"
        " no reference (resubscribe to its quotes, or wait for the next quote)"
    )


def request_symbol(request: OrderRequest) -> str | None:
    return getattr(request, "symbol", None)
