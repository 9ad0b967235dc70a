"""Risk rules: order notional, projected position, open order count, self-trade prevention."""

from __future__ import annotations

from decimal import Decimal
from typing import final

from ec_core.errors import Violation
from ec_core.model import FINAL_STATES, ModifyOrder, NewOrder, Order, OrderRequest, OrderType, Side
from ec_core.safety.codes import Code
from ec_core.safety.exposure import projected_position, working_qty
from ec_core.safety.rules._common import (
    PASS,
    is_price,
    is_qty,
    reference_price,
    stale_market_rule,
    target_of,
)
from ec_core.validation import PreTradeContext

__all__ = ["MaxOpenOrders", "Notional", "PositionLimit", "SelfTrade"]


def _position_qty(context: PreTradeContext, symbol: str) -> int:
    position = context.position
    return position.qty if position is not None and position.symbol == symbol else 0


@final
class Notional:
    """qty × price × multiplier stays within ``max_order_notional``.

    The price is the limit price, else the stop price, else (market orders) the
    reference price; with none of them the order cannot be valued and is denied.
    """

    name = "notional"
    judges = (NewOrder, ModifyOrder)  # passes every other request type
    needs_limits = True  # passes every request when no limits are resolved
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        limits, instrument = context.limits, context.instrument
        if limits is None or limits.max_order_notional is None or instrument is None:
            return PASS
        if isinstance(request, NewOrder):
            qty: object = request.qty
            price: object = (
                request.limit_price if request.limit_price is not None else request.stop_price
            )
        elif isinstance(request, ModifyOrder):
            if request.qty is None and request.limit_price is None and request.stop_price is None:
                return PASS
            target = target_of(request, context)
            if target is None:
                return PASS
            qty = target.qty if request.qty is None else request.qty
            price = request.limit_price if request.limit_price is not None else target.limit_price
            if price is None:
                price = request.stop_price if request.stop_price is not None else target.stop_price
        else:
            return PASS
        if not is_qty(qty):
            return PASS  # the quantity rule reports it
        if price is None:
            price = reference_price(context)
            if price is None:
                return (
                    Violation(
                        code=Code.NO_REFERENCE_PRICE,
                        field="qty",
                        rule=(
                            "cannot value the order for max_order_notional: "
                            + (
                                stale_market_rule(context, request)
                                or "no price (subscribe to the symbol's quotes and wait for"
                                " the first)"
                            )
                        ),
                        value=qty,
                    ),
                )
        if not is_price(price):
            return PASS  # the price rules report it
        assert isinstance(price, Decimal)
        assert isinstance(qty, int)
        try:
            notional: Decimal | str = abs(price) * qty * instrument.multiplier
        except ArithmeticError:  # beyond what a Decimal holds: above any limit
            notional = "overflow"
        if isinstance(notional, Decimal) and notional <= limits.max_order_notional:
            return PASS
        return (
            Violation(
                code=Code.NOTIONAL_ABOVE_MAX,
                field="qty",
                rule=(
                    f"notional {qty} x {price} x {instrument.multiplier} above max_order_notional"
                ),
                value=notional,
                limit=limits.max_order_notional,
            ),
        )


@final
class PositionLimit:
    """The position if this order and every working order on its side filled stays within
    ``max_position`` (absolute contracts). A modify is only judged when it raises the quantity.
    """

    name = "position"
    judges = (NewOrder, ModifyOrder)  # passes every other request type
    needs_limits = True  # passes every request when no limits are resolved
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        limits = context.limits
        if limits is None or limits.max_position is None:
            return PASS
        exclude: Order | None = None
        if isinstance(request, NewOrder):
            side, qty, symbol = request.side, request.qty, request.symbol
            if type(side) is not Side or not is_qty(qty):
                return PASS
        elif isinstance(request, ModifyOrder):
            target = target_of(request, context)
            if target is None or request.qty is None or not is_qty(request.qty):
                return PASS
            if request.qty <= target.qty:
                return PASS
            side, symbol, exclude = target.side, target.symbol, target
            qty = max(request.qty - target.filled_qty, 0)
        else:
            return PASS
        current = _position_qty(context, symbol)
        projected = projected_position(current, context.open_orders, symbol, side, qty, exclude)
        if side.sign * projected <= limits.max_position:
            return PASS
        return (
            Violation(
                code=Code.POSITION_ABOVE_MAX,
                field="qty",
                rule=(
                    f"projected {side.value} position in {symbol} (position {current},"
                    f" working {working_qty(context.open_orders, symbol, side, exclude)},"
                    f" this order {qty}) above max_position"
                ),
                value=projected,
                limit=limits.max_position,
            ),
        )


@final
class MaxOpenOrders:
    """A new order may not take our open orders above ``max_open_orders`` (account, instrument)."""

    name = "open_orders"
    judges = (NewOrder,)  # passes every other request type
    needs_limits = True  # passes every request when no limits are resolved
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        limits = context.limits
        if limits is None or not isinstance(request, NewOrder):
            return PASS
        account_max, instrument_max = limits.account.max_open_orders, limits.max_open_orders
        if account_max is None and instrument_max is None:
            return PASS
        orders = context.open_orders
        found = []
        if account_max is not None and len(orders) + 1 > account_max:
            in_account = sum(1 for o in orders if o.account_id == request.account_id)
            if in_account + 1 > account_max:
                found.append(
                    Violation(
                        code=Code.OPEN_ORDERS_ABOVE_MAX,
                        field="open_orders",
                        rule=f"above max_open_orders of account {request.account_id}",
                        value=in_account + 1,
                        limit=account_max,
                    )
                )
        if instrument_max is not None and len(orders) + 1 > instrument_max:
            symbol = request.symbol
            in_symbol = sum(1 for o in orders if o.symbol == symbol)
            if in_symbol + 1 > instrument_max:
                found.append(
                    Violation(
                        code=Code.OPEN_ORDERS_ABOVE_MAX,
                        field="open_orders",
                        rule=f"above max_open_orders of {symbol}",
                        value=in_symbol + 1,
                        limit=instrument_max,
                    )
                )
        return tuple(found) if found else PASS


_LMT = OrderType.LMT


@final
class SelfTrade:
    """An order must not cross one of our own resting limit orders on the other side."""

    name = "self_trade"
    judges = (NewOrder, ModifyOrder)  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        orders = context.open_orders
        if not orders:
            return PASS
        limits = context.limits
        if limits is not None and not limits.self_trade_prevention:
            return PASS
        exclude: Order | None = None
        if isinstance(request, NewOrder):
            side, symbol, order_type = request.side, request.symbol, request.order_type
            if order_type is OrderType.LMT:
                price = request.limit_price
                if not is_price(price):
                    return PASS
            elif order_type is OrderType.MKT or order_type is OrderType.MTL:
                price = None  # takes the best opposite price
            else:
                return PASS  # stops wait off the book
        elif isinstance(request, ModifyOrder):
            if not is_price(request.limit_price):
                return PASS
            target = target_of(request, context)
            if target is None or target.order_type is not OrderType.LMT:
                return PASS
            side, symbol, price, exclude = target.side, target.symbol, request.limit_price, target
        else:
            return PASS
        if type(side) is not Side:
            return PASS
        buying = side is Side.BUY
        other = Side.SELL if buying else Side.BUY
        for order in orders:
            if (
                order.side is not other
                or order.order_type is not _LMT
                or order.symbol != symbol
                or order is exclude
                or order.state in FINAL_STATES
            ):
                continue
            resting = order.limit_price
            if resting is not None and (
                price is None or (price >= resting if buying else price <= resting)
            ):
                return (
                    Violation(
                        code=Code.SELF_TRADE,
                        field="limit_price",
                        rule=(
                            f"would cross our own {other.value} order {order.cl_order_id}"
                            f" at {resting}"
                        ),
                        value=str(order_type) if price is None else price,
                        limit=resting,
                    ),
                )
        return PASS
