"""Position arithmetic shared by the position limit and the kill switch's REDUCING state.

Worst case on one side: if every working order on that side filled, where would
the position be? Working orders on the other side are ignored (they may be
cancelled), so the projection never understates the risk a new order adds.
"""

from __future__ import annotations

from collections.abc import Sequence

from ec_core.model import FINAL_STATES, ModifyOrder, NewOrder, Order, OrderType, Side

__all__ = ["find_order", "modify_is_reducing", "new_is_reducing", "projected_position"]


def find_order(open_orders: Sequence[Order], cl_order_id: str) -> Order | None:
    """The open order whose current client id or chain id is ``cl_order_id``."""
    if not cl_order_id:
        return None
    for order in open_orders:
        if order.cl_order_id == cl_order_id or order.chain_id == cl_order_id:
            return order
    return None


def working_qty(
    open_orders: Sequence[Order], symbol: str, side: Side, exclude: Order | None = None
) -> int:
    """Remaining quantity of our open orders on ``side`` of ``symbol`` (``exclude`` left out)."""
    total = 0
    for order in open_orders:
        if (
            order.side is side
            and order.symbol == symbol
            and order is not exclude
            and order.state not in FINAL_STATES
        ):
            remaining = order.qty - order.filled_qty
            if remaining > 0:
                total += remaining
    return total


def projected_position(
    position: int,
    open_orders: Sequence[Order],
    symbol: str,
    side: Side,
    qty: int,
    exclude: Order | None = None,
) -> int:
    """Position if ``qty`` more on ``side`` and every working order on that side filled."""
    total = working_qty(open_orders, symbol, side, exclude) + qty
    return position + total if side is Side.BUY else position - total


def new_is_reducing(request: NewOrder, position: int, open_orders: Sequence[Order]) -> bool:
    """True if the order can only shrink the position: opposite side and never past flat."""
    if position == 0 or request.side.sign * position > 0:
        return False
    projected = projected_position(position, open_orders, request.symbol, request.side, request.qty)
    return projected * position >= 0


def modify_is_reducing(
    request: ModifyOrder, target: Order, position: int, open_orders: Sequence[Order]
) -> bool:
    """True if the modify adds no risk.

    A pure quantity decrease always qualifies; otherwise the modified order must
    itself be position-reducing (opposite side, never past flat).
    """
    new_qty = target.qty if request.qty is None else request.qty
    price_change = (
        request.limit_price is not None and request.limit_price != target.limit_price
    ) or (request.stop_price is not None and request.stop_price != target.stop_price)
    if new_qty <= target.qty and not price_change:
        return True
    if position == 0 or target.side.sign * position > 0:
        return False
    remaining = max(new_qty - target.filled_qty, 0)
    projected = projected_position(
        position, open_orders, target.symbol, target.side, remaining, exclude=target
    )
    return projected * position >= 0


def rests_in_book(order: Order) -> bool:
    """A limit order rests at its price; stops wait off the book until triggered."""
    return order.order_type is OrderType.LMT and order.limit_price is not None
