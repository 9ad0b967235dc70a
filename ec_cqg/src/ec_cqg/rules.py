"""CQG field rules as a pre-trade validator (registered by the ``cqg`` plugin for ``cqg``).

What CQG's order entry refuses *beyond core's rules*, checked here so a request is
*denied* with every violation named instead of *rejected* by the server: the quantity
ceiling of the wire (uint32), exec instructions that need a given order type or
duration, the ``cl_order_id`` length, numeric account ids, and order qualifiers the
protocol has no field for (minimum quantity, self-match prevention per order:
``CQG_NO_FIELD``). What core already checks
(required fields, prices per order type, a positive quantity, the GTD date, an empty
modify) is not repeated: one missing price is one ``PRICE_MISSING``, not two codes.

The plugin registers it with ``validators.add(CqgFieldRules(), vendor="cqg")``, so it
judges only requests bound for CQG and does not look at the vendor itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, final

from ec_core.errors import Violation
from ec_core.model import (
    Duration,
    ExecInstruction,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
)
from ec_core.validation import PreTradeContext

__all__ = ["CQG_RULE_CODES", "CqgFieldRules"]

_UINT32_MAX: Final = 2**32 - 1
_SINT32: Final = (-(2**31), 2**31 - 1)
_MAX_CL_BYTES: Final = 64

#: Every code this validator can give, with what it means.
CQG_RULE_CODES: Final = {
    "CQG_QTY": "quantity must fit CQG's uint32 (at most 4294967295)",
    "CQG_EXEC_INSTRUCTION": "the exec instruction does not fit the order type or duration",
    "CQG_CL_ORDER_ID": "cl_order_id must be at most 64 UTF-8 bytes",
    "CQG_ACCOUNT_ID": "CQG account ids are signed 32-bit integers",
    "CQG_NO_FIELD": "CQG WebAPI has no field for this order qualifier (min_qty, SMP)",
}


def _v(code: str, field: str, rule: str, value: object = None, limit: object = None) -> Violation:
    return Violation(code=code, field=field, rule=rule, value=value, limit=limit)


@final
class CqgFieldRules:
    """The ``cqg_field_rules`` validator; see the module docstring."""

    name: Final = "cqg_field_rules"
    vendor: Final = "cqg"

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        found: list[Violation] = []
        self._account(request.account_id, found)
        cl_order_id = request.cl_order_id
        if type(cl_order_id) is str and len(cl_order_id.encode()) > _MAX_CL_BYTES:
            found.append(
                _v(
                    "CQG_CL_ORDER_ID",
                    "cl_order_id",
                    "must be at most 64 UTF-8 bytes",
                    cl_order_id,
                    _MAX_CL_BYTES,
                )
            )
        if isinstance(request, NewOrder | ModifyOrder):
            self._qty(request.qty, found)
        if isinstance(request, NewOrder):
            self._instructions(request, found)
        return found

    @staticmethod
    def _account(account_id: object, found: list[Violation]) -> None:
        if type(account_id) is not str or not account_id:
            return  # core's required_fields names it
        try:
            number = int(account_id)
        except ValueError:
            found.append(
                _v("CQG_ACCOUNT_ID", "account_id", "must be a CQG numeric account id", account_id)
            )
            return
        if not _SINT32[0] <= number <= _SINT32[1]:
            found.append(
                _v("CQG_ACCOUNT_ID", "account_id", "is out of the sint32 range", account_id)
            )

    @staticmethod
    def _qty(qty: object, found: list[Violation]) -> None:
        # core checks that it is a positive int; the wire holds no more than a uint32
        if type(qty) is int and qty > _UINT32_MAX:
            found.append(_v("CQG_QTY", "qty", "must fit a uint32 (CQG's wire)", qty, _UINT32_MAX))

    @staticmethod
    def _instructions(req: NewOrder, found: list[Violation]) -> None:
        kind = req.order_type
        instructions = req.exec_instructions
        if ExecInstruction.POST_ONLY in instructions:
            if kind is not OrderType.LMT:
                found.append(
                    _v("CQG_EXEC_INSTRUCTION", "exec_instructions", "POST_ONLY needs LMT", kind)
                )
            if req.duration in (Duration.IOC, Duration.FOK):
                found.append(
                    _v(
                        "CQG_EXEC_INSTRUCTION",
                        "exec_instructions",
                        "POST_ONLY cannot be IOC or FOK",
                        req.duration,
                    )
                )
        if ExecInstruction.ICEBERG in instructions and not kind.needs_limit_price:
            found.append(
                _v("CQG_EXEC_INSTRUCTION", "exec_instructions", "ICEBERG needs a limit price", kind)
            )
        if ExecInstruction.AON in instructions and req.duration is Duration.FOK:
            found.append(
                _v("CQG_EXEC_INSTRUCTION", "exec_instructions", "AON with FOK is redundant", "FOK")
            )
        if req.min_qty is not None:
            found.append(
                _v("CQG_NO_FIELD", "min_qty", "CQG has no minimum-quantity field", req.min_qty)
            )
        if req.smp_id is not None or req.smp_instruction is not None:
            found.append(
                _v(
                    "CQG_NO_FIELD",
                    "smp_id",
                    "CQG has no self-match prevention field (ask the FCM for SMP per account)",
                    req.smp_id,
                )
            )
