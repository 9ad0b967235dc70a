"""Order qualifiers: display (iceberg) quantity, minimum quantity, self-match prevention.

The fields are optional on :class:`~ec_core.model.NewOrder`; when set they must make
sense on their own, whatever the venue, so this is a shape guard. The rules follow
CME Globex, the venue the qualifiers are modelled on:

* an iceberg shows ``display_qty`` at a time, ``0 < display_qty <= qty``; it is a
  limit or stop-limit order that may rest (an IOC or FOK order never rests, so it has
  nothing to hide). ``ICEBERG`` in ``exec_instructions`` needs a ``display_qty``.
* a minimum quantity (iLink ``MinQty``) is a qualifier of fill-and-kill (IOC) orders
  only, ``0 < min_qty <= qty``: the order trades at least that much at once or nothing.
* an SMP instruction needs the SMP id it applies to; an id is a non-empty string
  without surrounding blanks, at most 64 characters.
"""

from __future__ import annotations

from typing import Final, final

from ec_core.errors import Violation
from ec_core.model import Duration, ExecInstruction, NewOrder, OrderRequest, OrderType
from ec_core.model.enums import SmpInstruction
from ec_core.safety.clean_id import CLEAN_ID_RULE, is_clean_id
from ec_core.safety.codes import Code
from ec_core.safety.rules._common import PASS
from ec_core.validation import PreTradeContext

__all__ = ["MAX_SMP_ID_CHARS", "OrderQualifiers"]

MAX_SMP_ID_CHARS: Final = 64
_RESTING_TYPES: Final = (OrderType.LMT, OrderType.STL)
_NEVER_REST: Final = (Duration.IOC, Duration.FOK)


def _count(value: object) -> bool:
    return type(value) is int


def _iceberg(request: NewOrder) -> bool:
    """``ICEBERG`` is asked for; instructions that are not a frozenset are
    ``enum_values``'s to name, and must not raise here."""
    instructions: object = request.exec_instructions
    return isinstance(instructions, frozenset) and ExecInstruction.ICEBERG in instructions


@final
class OrderQualifiers:
    """``display_qty``, ``min_qty`` and the SMP fields of a new order (see the module)."""

    name = "order_qualifiers"
    judges = (NewOrder,)  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        if type(request) is not NewOrder:
            return PASS
        display, minimum = request.display_qty, request.min_qty
        if (
            display is None
            and minimum is None
            and request.smp_id is None
            and request.smp_instruction is None
            and not _iceberg(request)
        ):
            return PASS
        found: list[Violation] = []
        self._display(request, found)
        if minimum is not None:
            self._minimum(request, minimum, found)
        self._smp(request, found)
        return tuple(found) if found else PASS

    @staticmethod
    def _display(request: NewOrder, found: list[Violation]) -> None:
        display: object = request.display_qty
        qty: object = request.qty
        if display is None:
            if _iceberg(request):
                found.append(
                    Violation(
                        code=Code.DISPLAY_QTY_INVALID,
                        field="display_qty",
                        rule="an ICEBERG order needs display_qty (what it shows at a time)",
                    )
                )
            return
        if not _count(display) or not (0 < display <= (qty if _count(qty) else display)):  # type: ignore[operator]
            found.append(
                Violation(
                    code=Code.DISPLAY_QTY_INVALID,
                    field="display_qty",
                    rule="must be a whole number with 0 < display_qty <= qty",
                    value=display,
                    limit=qty,
                )
            )
        if request.order_type not in _RESTING_TYPES:
            found.append(
                Violation(
                    code=Code.DISPLAY_QTY_NOT_ALLOWED,
                    field="display_qty",
                    rule="an iceberg is a limit or stop-limit order (CME Globex)",
                    value=str(request.order_type),
                )
            )
        if request.duration in _NEVER_REST:
            found.append(
                Violation(
                    code=Code.DISPLAY_QTY_NOT_ALLOWED,
                    field="display_qty",
                    rule="an IOC or FOK order never rests, so it shows nothing to hide",
                    value=str(request.duration),
                )
            )

    @staticmethod
    def _minimum(request: NewOrder, minimum: object, found: list[Violation]) -> None:
        qty: object = request.qty
        if not _count(minimum) or not (0 < minimum <= (qty if _count(qty) else minimum)):  # type: ignore[operator]
            found.append(
                Violation(
                    code=Code.MIN_QTY_INVALID,
                    field="min_qty",
                    rule="must be a whole number with 0 < min_qty <= qty",
                    value=minimum,
                    limit=qty,
                )
            )
        if request.duration is not Duration.IOC:
            found.append(
                Violation(
                    code=Code.MIN_QTY_NOT_ALLOWED,
                    field="min_qty",
                    rule="a minimum quantity is for IOC (fill-and-kill) orders only (CME Globex)",
                    value=str(request.duration),
                )
            )

    @staticmethod
    def _smp(request: NewOrder, found: list[Violation]) -> None:
        smp_id: object = request.smp_id
        instruction: object = request.smp_instruction
        if smp_id is not None and (
            type(smp_id) is not str
            or not smp_id
            or not is_clean_id(smp_id)
            or len(smp_id) > MAX_SMP_ID_CHARS
        ):
            found.append(
                Violation(
                    code=Code.SMP_INVALID,
                    field="smp_id",
                    rule=f"must be non-empty, {CLEAN_ID_RULE}, at most"
                    f" {MAX_SMP_ID_CHARS} characters",
                    value=smp_id,
                )
            )
        if instruction is None:
            return
        if type(instruction) is not SmpInstruction:
            allowed = "|".join(m.value for m in SmpInstruction)
            found.append(
                Violation(
                    code=Code.ENUM_INVALID,
                    field="smp_instruction",
                    rule=f"must be a SmpInstruction ({allowed})",
                    value=instruction,
                )
            )
        if smp_id is None:
            found.append(
                Violation(
                    code=Code.SMP_INVALID,
                    field="smp_instruction",
                    rule="needs smp_id: the instruction applies to orders of one SMP id",
                    value=str(instruction),
                )
            )
