"""The shape guards: what a request must look like before anything else is asked.

Requests are plain structs that do not validate on construction, so a NaN price,
a ``bool`` quantity or a quantity above what any wire (or the journal's
MessagePack) can carry is representable. Such a request is not a matter of risk
policy but of sanity, so these guards are *mandatory*: they run on every path,
the expert path (``Executor.send_direct``) included, and no plugin can remove
them (replacing the built-in rule of the same name in a registry does not turn
them off). They are:

* required fields (:class:`~ec_core.safety.rules.RequiredFields`);
* enum members for side, order type, duration, exec instructions
  (:class:`~ec_core.safety.rules.EnumValues`);
* the quantity is an ``int``, positive, within the instrument's ``max_order_qty``
  and below :data:`QTY_CEILING` (:class:`~ec_core.safety.rules.Quantity`, without
  the limits file, which stays optional);
* prices are finite ``Decimal`` values, present or absent as the order type
  requires (:class:`~ec_core.safety.rules.PriceFields`);
* ``good_thru_date`` is ``None`` or a ``date``;
* the order qualifiers (display and minimum quantity, self-match prevention) are
  consistent (:class:`~ec_core.safety.rules.OrderQualifiers`).

The optional rules (tick grid, price band, notional, position, the limits file's
``max_order_qty`` …) stay optional.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Final

from ec_core.errors import Violation
from ec_core.model import ModifyOrder, NewOrder, OrderRequest
from ec_core.safety.codes import Code
from ec_core.safety.rules import (
    EnumValues,
    OrderQualifiers,
    PriceFields,
    Quantity,
    RequiredFields,
)
from ec_core.validation import PreTradeContext, Validator

__all__ = ["QTY_CEILING", "SHAPE_RULES", "check_shape", "shape_rules_besides"]

QTY_CEILING: Final = 2**63 - 1
"""The largest quantity any request may carry: a signed 64-bit integer, what SQLite,
MessagePack and every venue's wire format can hold (no venue comes near it)."""

SHAPE_RULES: Final[tuple[Validator, ...]] = (
    RequiredFields(),
    EnumValues(),
    Quantity(),
    PriceFields(),
    OrderQualifiers(),
)
"""The built-in rules that are also shape guards (run without the limits file)."""

_PRICED = (NewOrder, ModifyOrder)


def shape_rules_besides(validators: Iterable[Validator]) -> tuple[Validator, ...]:
    """The shape rules a caller that runs ``validators`` must still run as guards: those
    whose very class is not among them. The rules are stateless, so the same class in
    ``validators`` gives the same answer (and more, with the limits resolved). Pass the
    validators that judge the request's vendor: a rule scoped to another vendor covers
    nothing here. Returns :data:`SHAPE_RULES` itself when none is covered."""
    covered = {type(v) for v in validators}
    rules = tuple(r for r in SHAPE_RULES if type(r) not in covered)
    return SHAPE_RULES if len(rules) == len(SHAPE_RULES) else rules


def check_shape(
    request: OrderRequest,
    context: PreTradeContext,
    rules: tuple[Validator, ...] = SHAPE_RULES,
) -> list[Violation]:
    """Every shape violation of ``request``; empty when it is well formed.

    ``rules`` lets a caller skip a rule it runs anyway (the same class in its
    registry gives the same answer and more). The ceiling and date checks always run.
    """
    found: list[Violation] = []
    for rule in rules:
        violations = rule.validate(request, context)
        if violations:
            found.extend(violations)
    if isinstance(request, _PRICED):
        qty = request.qty
        if type(qty) is int and qty > QTY_CEILING:
            found.append(
                Violation(
                    code=Code.QTY_ABOVE_MAX,
                    field="qty",
                    rule="must fit a signed 64-bit integer (journal and wire formats)",
                    value=qty,
                    limit=QTY_CEILING,
                )
            )
        gtd: object = request.good_thru_date  # typed date | None, but not checked on construction
        if gtd is not None and not isinstance(gtd, date):
            found.append(
                Violation(
                    code=Code.FIELD_INVALID,
                    field="good_thru_date",
                    rule="must be None or a date",
                    value=repr(gtd),
                )
            )
    return found
