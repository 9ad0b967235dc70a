"""ec-core: the vendor-neutral core of the ec algorithmic trading framework.

The names below are the small public surface most users need; everything else
lives in its subpackage (``ec_core.model``, ``ec_core.plugins``, ``ec_core.vendor`` …).

Type-only import cycles (annotations under ``TYPE_CHECKING``; none runs at load time,
``tests/packaging/test_import_cycles.py`` checks): ``calendar`` ↔ ``model.instrument``
(an instrument carries its trading calendar, built from the instrument's
``TradingHours``); ``plugins.hookspecs`` → ``plugins.host`` → ``tracking``
(``tracking.tracker``, ``tracking.state``, ``tracking.reports``) → ``safety.checks`` →
back: the hook specs name the types their hooks receive (the host, a ``FillAnomaly``),
and the tracker and the checks call the host's observers.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ec-core")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

from ec_core.clock import Clock, ManualClock, WallClock
from ec_core.data import DataFeed, FeedSet, TickBuffer
from ec_core.errors import (
    AuthError,
    ConfigError,
    ConnectionLostError,
    EcError,
    OrderDeniedError,
    OrderError,
    OrderRejectedError,
    OrderUnknownError,
    PluginError,
    PnlUnknownError,
    PriceError,
    SessionError,
    SymbolNotFoundError,
    VendorNotFoundError,
)
from ec_core.execution import Executor, Payload
from ec_core.front import Trader, connect
from ec_core.journal import Journal
from ec_core.model import (
    Account,
    Bar,
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    Fill,
    GoFlat,
    Instrument,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    Order,
    OrderRequest,
    OrderState,
    OrderType,
    Position,
    Quote,
    Rounding,
    SessionState,
    Side,
    SmpInstruction,
    Trade,
    TradeEvent,
)
from ec_core.plugins import PluginHost, hookimpl
from ec_core.safety import LimitsFile, PreTradeChecks
from ec_core.secrets import Secret
from ec_core.settings import Settings, load_settings
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    InvalidTreeError,
    OpSignal,
    OpStrategy,
    StrategyEngine,
    StrategyError,
)
from ec_core.tracking import OrderTracker
from ec_core.vendor import (
    Capability,
    MarketDataFeed,
    OrderGateway,
    Session,
    TradeMonitor,
    VendorFactory,
    VendorInfo,
)

__all__ = [
    "Account",
    "ActionNode",
    "ActionTree",
    "AuthError",
    "Bar",
    "CancelAll",
    "CancelOrder",
    "Capability",
    "Clock",
    "ConfigError",
    "ConnectionLostError",
    "DataFeed",
    "Duration",
    "EcError",
    "ExecInstruction",
    "ExecutionReport",
    "Executor",
    "FeedSet",
    "Fill",
    "GoFlat",
    "Instrument",
    "InvalidTreeError",
    "Journal",
    "LimitsFile",
    "LiquidateAll",
    "ManualClock",
    "MarketDataFeed",
    "ModifyOrder",
    "NewOrder",
    "OpSignal",
    "OpStrategy",
    "Order",
    "OrderDeniedError",
    "OrderError",
    "OrderGateway",
    "OrderRejectedError",
    "OrderRequest",
    "OrderState",
    "OrderTracker",
    "OrderType",
    "OrderUnknownError",
    "Payload",
    "PluginError",
    "PluginHost",
    "PnlUnknownError",
    "Position",
    "PreTradeChecks",
    "PriceError",
    "Quote",
    "Rounding",
    "Secret",
    "Session",
    "SessionError",
    "SessionState",
    "Settings",
    "Side",
    "SmpInstruction",
    "StrategyEngine",
    "StrategyError",
    "SymbolNotFoundError",
    "TickBuffer",
    "Trade",
    "TradeEvent",
    "TradeMonitor",
    "Trader",
    "VendorFactory",
    "VendorInfo",
    "VendorNotFoundError",
    "WallClock",
    "__version__",
    "connect",
    "hookimpl",
    "load_settings",
]
