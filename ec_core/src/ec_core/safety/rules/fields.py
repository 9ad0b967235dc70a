"""Rules on the shape of a request: required fields, enum values, quantity."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import final

from ec_core.errors import Violation
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
)
from ec_core.safety.codes import Code
from ec_core.safety.rules._common import PASS, target_of
from ec_core.validation import PreTradeContext

__all__ = ["EnumValues", "Quantity", "RequiredFields"]

_REQUIRED: dict[type, tuple[str, ...]] = {
    NewOrder: ("account_id", "symbol"),
    ModifyOrder: ("account_id", "symbol", "orig_cl_order_id"),
    CancelOrder: ("account_id", "symbol", "orig_cl_order_id"),
    CancelAll: ("account_id",),
    LiquidateAll: ("account_id",),
    GoFlat: ("account_id",),
}
#: The types whose only rule here is their required fields (the common path returns early).
_ONLY_REQUIRED = frozenset({NewOrder, CancelOrder, GoFlat})

#: The fields a modify may change, in the order a violation names the first given.
_MODIFIABLE = ("qty", "limit_price", "stop_price", "duration", "good_thru_date")
#: States whose values are the venue's: a pending modify may still change them.
_SETTLED = frozenset({OrderState.WORKING, OrderState.PARTIALLY_FILLED})


def _missing(value: object) -> bool:
    return type(value) is not str or not value


@final
class RequiredFields:
    """Fields every request type needs; a modify must change something of a known order."""

    name = "required_fields"
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        names = _REQUIRED.get(type(request), ())
        for field in names:
            value = getattr(request, field)
            if type(value) is not str or not value:
                break
        else:  # every required field given: no allocation when nothing else is asked
            if type(request) in _ONLY_REQUIRED:
                return PASS
        found = [
            Violation(
                code=Code.FIELD_MISSING,
                field=f,
                rule="required: a non-empty string",
                value=getattr(request, f),
            )
            for f in names
            if _missing(getattr(request, f))
        ]
        if isinstance(request, CancelAll | LiquidateAll) and request.symbol is not None:
            if _missing(request.symbol):
                found.append(
                    Violation(
                        code=Code.FIELD_MISSING,
                        field="symbol",
                        rule="must be None (every instrument) or a non-empty string",
                        value=request.symbol,
                    )
                )
        elif isinstance(request, ModifyOrder):
            self._modify(request, context, found)
        return tuple(found) if found else PASS

    def _modify(
        self, request: ModifyOrder, context: PreTradeContext, found: list[Violation]
    ) -> None:
        if (
            request.qty is None
            and request.limit_price is None
            and request.stop_price is None
            and request.duration is None
            and request.good_thru_date is None
        ):
            found.append(
                Violation(
                    code=Code.NOTHING_TO_MODIFY,
                    field="qty",
                    rule="a modify must change qty, a price, the duration or the date",
                )
            )
        target = target_of(request, context)
        if target is None:
            if not _missing(request.orig_cl_order_id):
                found.append(
                    Violation(
                        code=Code.ORDER_NOT_FOUND,
                        field="orig_cl_order_id",
                        rule="not among our open orders",
                        value=request.orig_cl_order_id,
                    )
                )
            return
        if request.account_id != target.account_id:
            found.append(_mismatch("account_id", request.account_id, target.account_id, target))
        if request.symbol != target.symbol:
            found.append(_mismatch("symbol", request.symbol, target.symbol, target))
        if target.state in _SETTLED:
            given = [f for f in _MODIFIABLE if getattr(request, f) is not None]
            if given and all(_same(getattr(request, f), getattr(target, f)) for f in given):
                # it was sent: a venue round trip, and a modify of the rate, for no change
                found.append(
                    Violation(
                        code=Code.NOTHING_TO_MODIFY,
                        field=given[0],
                        rule="a modify must change something: every field given equals the"
                        f" working order's ({target.cl_order_id})",
                        value=getattr(request, given[0]),
                    )
                )


def _same(mine: object, theirs: object) -> bool:
    # same type only (a float or a bool is another rule's fault, not "no change"), and a
    # Decimal only when finite: == on a signalling NaN raises instead of answering
    if type(mine) is not type(theirs):
        return False
    if isinstance(mine, Decimal) and isinstance(theirs, Decimal):
        return mine.is_finite() and theirs.is_finite() and mine == theirs
    return mine == theirs


def _mismatch(field: str, mine: object, theirs: object, target: object) -> Violation:
    return Violation(
        code=Code.ORDER_MISMATCH,
        field=field,
        rule=f"must match the order being modified ({getattr(target, 'cl_order_id', '?')})",
        value=mine,
        limit=theirs,
    )


def _enum(field: str, value: object, kind: type[StrEnum]) -> Violation:
    allowed = "|".join(m.value for m in kind)
    return Violation(
        code=Code.ENUM_INVALID,
        field=field,
        rule=f"must be a {kind.__name__} ({allowed})",
        value=value,
    )


@final
class EnumValues:
    """Side, order type, duration and exec instructions are members of ec's enums."""

    name = "enum_values"
    judges = (NewOrder, ModifyOrder)  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        if isinstance(request, NewOrder):
            instructions = request.exec_instructions
            if (
                type(request.side) is Side
                and type(request.order_type) is OrderType
                and type(request.duration) is Duration
                # no instruction (the common case) passes without a generator
                and ((type(instructions) is frozenset and not instructions)
                     or _all_instructions(instructions))
            ):  # fmt: skip
                return PASS
            found = []
            if type(request.side) is not Side:
                found.append(_enum("side", request.side, Side))
            if type(request.order_type) is not OrderType:
                found.append(_enum("order_type", request.order_type, OrderType))
            if type(request.duration) is not Duration:
                found.append(_enum("duration", request.duration, Duration))
            if not _all_instructions(instructions):
                found.append(_enum("exec_instructions", instructions, ExecInstruction))
            return tuple(found)
        if (
            isinstance(request, ModifyOrder)
            and request.duration is not None
            and type(request.duration) is not Duration
        ):
            return (_enum("duration", request.duration, Duration),)
        return PASS


def _all_instructions(value: object) -> bool:
    return isinstance(value, frozenset) and all(type(e) is ExecInstruction for e in value)


@final
class Quantity:
    """Quantity is a positive int, within the instrument's and the limits' maximum."""

    name = "quantity"
    judges = (NewOrder, ModifyOrder)  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        if isinstance(request, NewOrder):
            qty: object = request.qty
        elif isinstance(request, ModifyOrder):
            qty = request.qty
            if qty is None:
                return PASS
        else:
            return PASS
        if type(qty) is not int:
            return (
                Violation(
                    code=Code.QTY_NOT_INTEGRAL,
                    field="qty",
                    rule="must be a whole number (int)",
                    value=qty,
                ),
            )
        if qty <= 0:
            return (
                Violation(
                    code=Code.QTY_NOT_POSITIVE, field="qty", rule="must be > 0", value=qty, limit=0
                ),
            )
        instrument, limits = context.instrument, context.limits
        over_instrument = instrument is not None and qty > instrument.max_order_qty
        over_limits = (
            limits is not None and limits.max_order_qty is not None and qty > limits.max_order_qty
        )
        below_filled = False
        if isinstance(request, ModifyOrder):
            target = target_of(request, context)
            below_filled = target is not None and qty <= target.filled_qty
        if not (over_instrument or over_limits or below_filled):
            return PASS
        found = []
        if over_instrument:
            assert instrument is not None
            found.append(
                Violation(
                    code=Code.QTY_ABOVE_MAX,
                    field="qty",
                    rule=f"above the instrument's max_order_qty ({instrument.symbol})",
                    value=qty,
                    limit=instrument.max_order_qty,
                )
            )
        if over_limits:
            assert limits is not None
            found.append(
                Violation(
                    code=Code.QTY_ABOVE_MAX,
                    field="qty",
                    rule="above max_order_qty of the limits file",
                    value=qty,
                    limit=limits.max_order_qty,
                )
            )
        if below_filled:
            assert isinstance(request, ModifyOrder)
            target = target_of(request, context)
            assert target is not None
            found.append(
                Violation(
                    code=Code.QTY_NOT_ABOVE_FILLED,
                    field="qty",
                    rule=f"must exceed the quantity already filled of {target.cl_order_id}",
                    value=qty,
                    limit=target.filled_qty,
                )
            )
        return tuple(found)
