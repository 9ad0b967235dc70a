"""CQG field rules as a pre-trade validator (registered by the ``cqg`` plugin).

What CQG's order entry refuses, checked here so a request is *denied* with every
violation named instead of *rejected* by the server: quantity range, price presence per
order type, the GTD date, exec instructions that need a given order type or duration,
the ``cl_order_id`` length, numeric account ids, and a modify that changes nothing.
It judges only requests bound for CQG (``PreTradeContext.vendor == "cqg"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, final

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
    OrderType,
)
from ec_core.validation import PreTradeContext

__all__ = ["CQG_RULE_CODES", "CqgFieldRules"]

_UINT32_MAX: Final = 2**32 - 1
_SINT32: Final = (-(2**31), 2**31 - 1)
_MAX_CL_BYTES: Final = 64

#: Every code this validator can give, with what it means.
CQG_RULE_CODES: Final = {
    "CQG_QTY": "quantity must be a whole number in 1..4294967295",
    "CQG_PRICE_MISSING": "the order type needs this price",
    "CQG_PRICE_NOT_ALLOWED": "the order type does not take this price",
    "CQG_GTD_DATE": "GTD needs a good_thru_date not in the past; other durations take none",
    "CQG_EXEC_INSTRUCTION": "the exec instruction does not fit the order type or duration",
    "CQG_CL_ORDER_ID": "cl_order_id must be at most 64 UTF-8 bytes",
    "CQG_ACCOUNT_ID": "CQG account ids are signed 32-bit integers",
    "CQG_ORIG_CL_ORDER_ID": "modify and cancel name the order by orig_cl_order_id",
    "CQG_MODIFY_EMPTY": "a modify must change at least one field",
}


def _v(code: str, field: str, rule: str, value: object = None, limit: object = None) -> Violation:
    return Violation(code=code, field=field, rule=rule, value=value, limit=limit)


@final
class CqgFieldRules:
    """The ``cqg_field_rules`` validator; see the module docstring."""

    name: Final = "cqg_field_rules"
    vendor: Final = "cqg"

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        if context.vendor != self.vendor:
            return []
        found: list[Violation] = []
        self._account(request.account_id, found)
        if request.cl_order_id and len(request.cl_order_id.encode()) > _MAX_CL_BYTES:
            found.append(
                _v(
                    "CQG_CL_ORDER_ID",
                    "cl_order_id",
                    "must be at most 64 UTF-8 bytes",
                    request.cl_order_id,
                    _MAX_CL_BYTES,
                )
            )
        if isinstance(request, NewOrder):
            self._new(request, context, found)
        elif isinstance(request, ModifyOrder):
            self._modify(request, context, found)
        elif isinstance(request, CancelOrder):
            if not request.orig_cl_order_id:
                found.append(_v("CQG_ORIG_CL_ORDER_ID", "orig_cl_order_id", "is required"))
        else:
            assert isinstance(request, CancelAll | LiquidateAll | GoFlat)
        return found

    @staticmethod
    def _account(account_id: str, found: list[Violation]) -> None:
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
    def _qty(qty: int, found: list[Violation]) -> None:
        if not 0 < qty <= _UINT32_MAX:
            found.append(_v("CQG_QTY", "qty", "must be in 1..4294967295", qty, _UINT32_MAX))

    @staticmethod
    def _gtd(
        duration: Duration | None,
        good_thru: object,
        context: PreTradeContext,
        found: list[Violation],
    ) -> None:
        if duration is Duration.GTD:
            if good_thru is None:
                found.append(_v("CQG_GTD_DATE", "good_thru_date", "is required for GTD"))
                return
            today = datetime.fromtimestamp(context.now_ns / 1e9, UTC).date()
            if good_thru < today:  # type: ignore[operator]
                found.append(
                    _v("CQG_GTD_DATE", "good_thru_date", "is in the past", good_thru, today)
                )
        elif good_thru is not None and duration is not None:
            found.append(
                _v("CQG_GTD_DATE", "good_thru_date", f"is not allowed with {duration}", good_thru)
            )

    def _new(self, req: NewOrder, context: PreTradeContext, found: list[Violation]) -> None:
        self._qty(req.qty, found)
        kind = req.order_type
        if kind.needs_limit_price and req.limit_price is None:
            found.append(_v("CQG_PRICE_MISSING", "limit_price", f"is required for {kind}"))
        if not kind.needs_limit_price and req.limit_price is not None:
            found.append(
                _v(
                    "CQG_PRICE_NOT_ALLOWED",
                    "limit_price",
                    f"not allowed for {kind}",
                    req.limit_price,
                )
            )
        if kind.needs_stop_price and req.stop_price is None:
            found.append(_v("CQG_PRICE_MISSING", "stop_price", f"is required for {kind}"))
        if not kind.needs_stop_price and req.stop_price is not None:
            found.append(
                _v("CQG_PRICE_NOT_ALLOWED", "stop_price", f"not allowed for {kind}", req.stop_price)
            )
        self._gtd(req.duration, req.good_thru_date, context, found)
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

    def _modify(self, req: ModifyOrder, context: PreTradeContext, found: list[Violation]) -> None:
        if not req.orig_cl_order_id:
            found.append(_v("CQG_ORIG_CL_ORDER_ID", "orig_cl_order_id", "is required"))
        if req.qty is not None:
            self._qty(req.qty, found)
        changes = (req.qty, req.limit_price, req.stop_price, req.duration, req.good_thru_date)
        if all(c is None for c in changes):
            found.append(_v("CQG_MODIFY_EMPTY", "request", "changes nothing"))
        target = context.target_order
        if target is not None:
            if req.limit_price is not None and not target.order_type.needs_limit_price:
                found.append(
                    _v(
                        "CQG_PRICE_NOT_ALLOWED",
                        "limit_price",
                        f"not allowed for {target.order_type}",
                        req.limit_price,
                    )
                )
            if req.stop_price is not None and not target.order_type.needs_stop_price:
                found.append(
                    _v(
                        "CQG_PRICE_NOT_ALLOWED",
                        "stop_price",
                        f"not allowed for {target.order_type}",
                        req.stop_price,
                    )
                )
        self._gtd(req.duration, req.good_thru_date, context, found)
