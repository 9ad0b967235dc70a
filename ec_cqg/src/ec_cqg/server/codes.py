"""Core → CQG codes the server sends: order and transaction statuses, reject codes.

The client side's tables (:mod:`ec_cqg.protocol.mapping.codes`) read CQG codes into the
core; these go the other way and are total over what the ec-mock engine produces.
Engine reject codes are strings; CQG's ``TransactionStatus.reject_code`` is a ``uint32``
(venue-specific), so each engine code has a fixed number here, and the text carries the
engine code and its message so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ec_core.model import OrderState, ReportKind, RequestType

from ec_cqg.protocol.pb import shared_1

__all__ = [
    "ORDER_STATUS_OF_STATE",
    "REJECT_CODE_NUMBERS",
    "REQUEST_REJECT",
    "reject_number",
    "transaction_status",
]

_OS = shared_1.OrderStatus
_TS = shared_1.TransactionStatus
_S = OrderState

ORDER_STATUS_OF_STATE: Final[Mapping[OrderState, int]] = MappingProxyType(
    {
        _S.PENDING_NEW: _OS.IN_TRANSIT,
        _S.WORKING: _OS.WORKING,
        _S.PARTIALLY_FILLED: _OS.WORKING,  # CQG: WORKING with fill_qty > 0
        _S.PENDING_MODIFY: _OS.IN_MODIFY,
        _S.PENDING_CANCEL: _OS.IN_CANCEL,
        _S.FILLED: _OS.FILLED,
        _S.CANCELLED: _OS.CANCELLED,
        _S.REJECTED: _OS.REJECTED,
        _S.EXPIRED: _OS.EXPIRED,
        _S.UNKNOWN: _OS.DISCONNECTED,
    }
)

#: Numbers for the engine's reject codes (:class:`ec_mock.engine.RejectCode`), stable.
REJECT_CODE_NUMBERS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "UNKNOWN_ACCOUNT": 1001,
        "UNKNOWN_INSTRUMENT": 1002,
        "DUPLICATE_ORDER_ID": 1003,
        "QTY_INVALID": 1004,
        "QTY_OVER_MAX": 1005,
        "PRICE_MISSING": 1006,
        "PRICE_OFF_TICK": 1007,
        "GTD_MISSING_DATE": 1008,
        "GTD_IN_PAST": 1009,
        "STOP_WRONG_SIDE": 1010,
        "UNSUPPORTED": 1011,
        "POST_ONLY_WOULD_CROSS": 1012,
        "INSUFFICIENT_BUYING_POWER": 1013,
        "MARKET_CLOSED": 1014,
        "UNKNOWN_ORDER": 1015,
        "ORDER_FINAL": 1016,
        "MODIFY_QTY_BELOW_FILLED": 1017,
        "MODIFY_NOT_ALLOWED": 1018,
        "SYMBOL_MISMATCH": 1019,
        "FAULT_INJECTED": 1020,
        "RESERVED_ORDER_ID": 1021,
    }
)
#: Any engine code not in the table (a fault plan's own code, say).
OTHER_REJECT = 1099
#: ``OrderRequestReject.reject_code`` for a request the server could not even read.
REQUEST_REJECT = 101


def reject_number(code: str) -> int:
    return REJECT_CODE_NUMBERS.get(code, OTHER_REJECT)


_REJECT_OF_REQUEST: Final[Mapping[RequestType | None, int]] = MappingProxyType(
    {
        RequestType.NEW: _TS.REJECTED,
        None: _TS.REJECTED,
        RequestType.MODIFY: _TS.REJECT_MODIFY,
        RequestType.CANCEL: _TS.REJECT_CANCEL,
        RequestType.CANCEL_ALL: _TS.REJECT_CANCEL,
        RequestType.LIQUIDATE_ALL: _TS.REJECTED,
        RequestType.GO_FLAT: _TS.REJECTED,
    }
)


def transaction_status(kind: ReportKind, request_type: RequestType | None) -> int:
    """The ``TransactionStatus.status`` of an engine report."""
    if kind is ReportKind.ACCEPTED:
        return _TS.ACK_PLACE
    if kind is ReportKind.MODIFIED:
        # the engine also reports unsolicited changes (a resting qty cut): an UPDATE
        return _TS.ACK_MODIFY if request_type is RequestType.MODIFY else _TS.UPDATE
    if kind is ReportKind.CANCELLED:
        return _TS.ACK_CANCEL
    if kind is ReportKind.FILL:
        return _TS.FILL
    if kind is ReportKind.EXPIRED:
        return _TS.EXPIRED
    if kind is ReportKind.REJECTED:
        return _REJECT_OF_REQUEST[request_type]
    return _TS.UPDATE
