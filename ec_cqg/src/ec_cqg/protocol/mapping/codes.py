"""CQG numeric codes ⇄ ec_core enums, as declared tables.

CQG sends enum-valued fields as plain ``uint32`` (its enums are name spaces only), so
new codes can arrive at any time. Tables going *to* CQG are total over the core enums.
Tables coming *from* CQG cover every code of protocol 2.230; a code outside them raises
:class:`~ec_core.errors.ProtocolError` naming the field and the value, except order
status, which maps unknown codes to ``UNKNOWN`` so an order is reconciled, never dropped.
Where CQG is richer than the core the mapping is lossy and says so in a comment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from ec_core.errors import ProtocolError
from ec_core.model import Duration, ExecInstruction, OrderState, OrderType, ReportKind, Side
from ec_core.model.enums import RequestType

from ec_cqg.protocol.pb import market_data_2, order_2, shared_1

__all__ = [
    "AGGRESSOR_FROM_SALES_CONDITION",
    "AGGRESSOR_TO_SALES_CONDITION",
    "DURATION_FROM_CQG",
    "DURATION_TO_CQG",
    "EXEC_INSTRUCTION_FROM_CQG",
    "EXEC_INSTRUCTION_TO_CQG",
    "MTL_INSTRUCTION",
    "ORDER_STATUS_TO_STATE",
    "ORDER_TYPE_FROM_CQG",
    "ORDER_TYPE_TO_CQG",
    "SIDE_FROM_CQG",
    "SIDE_TO_CQG",
    "TRANSACTION_TO_REPORT",
    "duration_from_cqg",
    "exec_instruction_codes",
    "exec_instructions_from_cqg",
    "order_state_from_cqg",
    "order_type_from_cqg",
    "side_from_cqg",
    "transaction_report_kind",
]

_O = order_2.Order
_OS = shared_1.OrderStatus
_TS = shared_1.TransactionStatus

SIDE_TO_CQG: Final[Mapping[Side, int]] = MappingProxyType(
    {Side.BUY: _O.SIDE_BUY, Side.SELL: _O.SIDE_SELL}
)
SIDE_FROM_CQG: Final[Mapping[int, Side]] = MappingProxyType({v: k for k, v in SIDE_TO_CQG.items()})

_SC = market_data_2.Quote
# A print's aggressor side as a trade quote's sales_condition. Coming back, "hit" (sold
# into the bid) is a selling aggressor and "take" (bought the offer) a buying one; any
# other condition (a spread leg) says nothing of the side.
AGGRESSOR_TO_SALES_CONDITION: Final[Mapping[Side, int]] = MappingProxyType(
    {
        Side.BUY: _SC.SALES_CONDITION_BUY_SIDE_AGGRESSOR,
        Side.SELL: _SC.SALES_CONDITION_SELL_SIDE_AGGRESSOR,
    }
)
AGGRESSOR_FROM_SALES_CONDITION: Final[Mapping[int, Side]] = MappingProxyType(
    {
        _SC.SALES_CONDITION_HIT: Side.SELL,
        _SC.SALES_CONDITION_TAKE: Side.BUY,
        _SC.SALES_CONDITION_BUY_SIDE_AGGRESSOR: Side.BUY,
        _SC.SALES_CONDITION_SELL_SIDE_AGGRESSOR: Side.SELL,
    }
)

ORDER_TYPE_TO_CQG: Final[Mapping[OrderType, int]] = MappingProxyType(
    {
        OrderType.MKT: _O.ORDER_TYPE_MKT,
        OrderType.LMT: _O.ORDER_TYPE_LMT,
        OrderType.STP: _O.ORDER_TYPE_STP,
        OrderType.STL: _O.ORDER_TYPE_STL,
        # CQG has market-to-limit as an instruction of a market order: MKT with
        # EXEC_INSTRUCTION_MTL (see exec_instruction_codes / order_type_from_cqg).
        OrderType.MTL: _O.ORDER_TYPE_MKT,
    }
)
# ORDER_TYPE_CROSS (5) has no core equivalent and raises.
ORDER_TYPE_FROM_CQG: Final[Mapping[int, OrderType]] = MappingProxyType(
    {v: k for k, v in ORDER_TYPE_TO_CQG.items() if k is not OrderType.MTL}
)
#: The instruction that makes a CQG market order a core market-to-limit order.
MTL_INSTRUCTION: Final = _O.EXEC_INSTRUCTION_MTL

DURATION_TO_CQG: Final[Mapping[Duration, int]] = MappingProxyType(
    {
        Duration.DAY: _O.DURATION_DAY,
        Duration.GTC: _O.DURATION_GTC,
        Duration.GTD: _O.DURATION_GTD,
        Duration.IOC: _O.DURATION_FAK,  # fill and kill = immediate or cancel
        Duration.FOK: _O.DURATION_FOK,
    }
)
DURATION_FROM_CQG: Final[Mapping[int, Duration]] = MappingProxyType(
    {
        **{v: k for k, v in DURATION_TO_CQG.items()},
        # Lossy, for reports only (ec never sends these):
        _O.DURATION_GTT: Duration.GTD,  # good till a time: a dated order
        _O.DURATION_ATO: Duration.DAY,  # at the open: lives within the day
        _O.DURATION_ATC: Duration.DAY,  # at the close
        _O.DURATION_GFA: Duration.DAY,  # good for auction
    }
)

EXEC_INSTRUCTION_TO_CQG: Final[Mapping[ExecInstruction, int]] = MappingProxyType(
    {
        ExecInstruction.AON: _O.EXEC_INSTRUCTION_AON,
        ExecInstruction.ICEBERG: _O.EXEC_INSTRUCTION_ICEBERG,
        ExecInstruction.POST_ONLY: _O.EXEC_INSTRUCTION_POSTONLY,
    }
)
# Other CQG instructions (QT, TRAIL, MIT, …) have no core equivalent and are left out of
# reports rather than failing them.
EXEC_INSTRUCTION_FROM_CQG: Final[Mapping[int, ExecInstruction]] = MappingProxyType(
    {v: k for k, v in EXEC_INSTRUCTION_TO_CQG.items()}
)

_S = OrderState
#: OrderStatus.status → core state. WORKING becomes PARTIALLY_FILLED when something filled.
ORDER_STATUS_TO_STATE: Final[Mapping[int, OrderState]] = MappingProxyType(
    {
        _OS.IN_TRANSIT: _S.PENDING_NEW,
        _OS.REJECTED: _S.REJECTED,
        _OS.WORKING: _S.WORKING,
        _OS.EXPIRED: _S.EXPIRED,
        _OS.IN_CANCEL: _S.PENDING_CANCEL,
        _OS.IN_MODIFY: _S.PENDING_MODIFY,
        _OS.CANCELLED: _S.CANCELLED,
        _OS.FILLED: _S.FILLED,
        _OS.SUSPENDED: _S.WORKING,  # parked at CQG: accepted, may still be activated
        _OS.DISCONNECTED: _S.UNKNOWN,  # CQG lost the exchange: reconcile
        _OS.ACTIVEAT: _S.WORKING,  # waiting for its activation time
        _OS.APPROVE_REQUIRED: _S.PENDING_NEW,
        _OS.APPROVED_BY_EXCHANGE: _S.WORKING,
        _OS.APPROVE_REJECTED: _S.REJECTED,
        _OS.MATCHED: _S.FILLED,
        _OS.PARTIALLY_MATCHED: _S.PARTIALLY_FILLED,
        _OS.TRADE_BROKEN: _S.UNKNOWN,
    }
)

_K = ReportKind
_R = RequestType
#: TransactionStatus.status → (report kind, the request type it answers or None).
TRANSACTION_TO_REPORT: Final[Mapping[int, tuple[ReportKind, RequestType | None]]] = (
    MappingProxyType(
        {
            _TS.IN_TRANSIT: (_K.STATUS, _R.NEW),
            _TS.REJECTED: (_K.REJECTED, _R.NEW),
            _TS.ACK_PLACE: (_K.ACCEPTED, _R.NEW),
            _TS.EXPIRED: (_K.EXPIRED, None),
            _TS.IN_CANCEL: (_K.STATUS, _R.CANCEL),
            _TS.ACK_CANCEL: (_K.CANCELLED, _R.CANCEL),
            _TS.REJECT_CANCEL: (_K.REJECTED, _R.CANCEL),
            _TS.IN_MODIFY: (_K.STATUS, _R.MODIFY),
            _TS.ACK_MODIFY: (_K.MODIFIED, _R.MODIFY),
            _TS.REJECT_MODIFY: (_K.REJECTED, _R.MODIFY),
            _TS.FILL: (_K.FILL, None),
            _TS.SUSPEND: (_K.STATUS, None),
            # Corrections change fill totals; the report carries the corrected whole state.
            _TS.FILL_CORRECT: (_K.STATUS, None),
            _TS.FILL_CANCEL: (_K.STATUS, None),
            _TS.FILL_BUST: (_K.STATUS, None),
            _TS.ACTIVEAT: (_K.STATUS, None),
            _TS.DISCONNECT: (_K.STATUS, None),
            _TS.SYNTHETIC_ACTIVATED: (_K.STATUS, None),
            _TS.UPDATE: (_K.STATUS, None),
            _TS.SYNTHETIC_FAILED: (_K.STATUS, None),
            _TS.SYNTHETIC_OVERFILL: (_K.STATUS, None),
            _TS.SYNTHETIC_HANG: (_K.STATUS, None),
            _TS.APPROVING: (_K.STATUS, None),
            _TS.APPROVE_REQUESTED: (_K.STATUS, None),
            _TS.APPROVED_BY_EXCHANGE: (_K.STATUS, None),
            _TS.REJECTED_BY_USER: (_K.REJECTED, _R.NEW),
            _TS.MATCHED: (_K.STATUS, None),
            _TS.TRADE_BROKEN: (_K.STATUS, None),
            _TS.TRADE_AMENDED: (_K.STATUS, None),
        }
    )
)


def _lookup(table: Mapping[int, object], code: int, field: str) -> object:
    try:
        return table[code]
    except KeyError:
        raise ProtocolError(f"unsupported {field} code {code}") from None


def side_from_cqg(code: int) -> Side:
    result = _lookup(SIDE_FROM_CQG, code, "side")
    assert isinstance(result, Side)
    return result


def order_type_from_cqg(code: int, instructions: Iterable[int] = ()) -> OrderType:
    """Core order type of a CQG ``order_type``; a market order with the MTL instruction is
    a market-to-limit order."""
    result = _lookup(ORDER_TYPE_FROM_CQG, code, "order_type")
    assert isinstance(result, OrderType)
    if result is OrderType.MKT and MTL_INSTRUCTION in instructions:
        return OrderType.MTL
    return result


def exec_instruction_codes(
    order_type: OrderType, instructions: Iterable[ExecInstruction], *, iceberg: bool = False
) -> list[int]:
    """CQG ``exec_instructions`` of a core order, sorted: its instructions, MTL for a
    market-to-limit order, ICEBERG for an order with a display quantity."""
    codes = {EXEC_INSTRUCTION_TO_CQG[i] for i in instructions}
    if order_type is OrderType.MTL:
        codes.add(MTL_INSTRUCTION)
    if iceberg:
        codes.add(_O.EXEC_INSTRUCTION_ICEBERG)
    return sorted(codes)


def duration_from_cqg(code: int) -> Duration:
    result = _lookup(DURATION_FROM_CQG, code, "duration")
    assert isinstance(result, Duration)
    return result


def exec_instructions_from_cqg(codes: Iterable[int]) -> frozenset[ExecInstruction]:
    """The instructions the core knows; the others are dropped (see the table)."""
    return frozenset(EXEC_INSTRUCTION_FROM_CQG[c] for c in codes if c in EXEC_INSTRUCTION_FROM_CQG)


def order_state_from_cqg(status: int, *, filled_qty: int = 0) -> OrderState:
    """Core state of an ``OrderStatus.status``; unknown codes give ``UNKNOWN``."""
    state = ORDER_STATUS_TO_STATE.get(status, OrderState.UNKNOWN)
    if state is OrderState.WORKING and filled_qty > 0:
        return OrderState.PARTIALLY_FILLED
    return state


def transaction_report_kind(status: int) -> tuple[ReportKind, RequestType | None]:
    """Report kind of a ``TransactionStatus.status``; unknown codes are a plain STATUS."""
    return TRANSACTION_TO_REPORT.get(status, (ReportKind.STATUS, None))
