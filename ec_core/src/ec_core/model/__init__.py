"""The vendor-neutral domain model: instruments, orders, fills, positions, ticks, events."""

from ec_core.model.account import Account, Position
from ec_core.model.enums import (
    Duration,
    ExecInstruction,
    OrderType,
    RequestType,
    SessionState,
    Side,
)
from ec_core.model.events import (
    AccountReport,
    ExecutionReport,
    PositionReport,
    ReportKind,
    SessionEvent,
    SessionEventKind,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.model.instrument import Instrument, Rounding, TradingHours
from ec_core.model.market import Bar, BookDepth, BookLevel, MarketEvent, Quote, Trade
from ec_core.model.orders import (
    CancelAll,
    CancelOrder,
    Fill,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    Order,
    OrderRequest,
)
from ec_core.model.state import (
    FINAL_STATES,
    TRANSITIONS,
    OrderState,
    can_transition,
    check_transition,
)

__all__ = [
    "FINAL_STATES",
    "TRANSITIONS",
    "Account",
    "AccountReport",
    "Bar",
    "BookDepth",
    "BookLevel",
    "CancelAll",
    "CancelOrder",
    "Duration",
    "ExecInstruction",
    "ExecutionReport",
    "Fill",
    "GoFlat",
    "Instrument",
    "LiquidateAll",
    "MarketEvent",
    "ModifyOrder",
    "NewOrder",
    "Order",
    "OrderRequest",
    "OrderState",
    "OrderType",
    "Position",
    "PositionReport",
    "Quote",
    "ReportKind",
    "RequestType",
    "Rounding",
    "SessionEvent",
    "SessionEventKind",
    "SessionState",
    "Side",
    "SnapshotComplete",
    "Trade",
    "TradeEvent",
    "TradingHours",
    "can_transition",
    "check_transition",
]
