"""ec-core: the vendor-neutral core of the ec algorithmic trading framework.

The names below are the small public surface most users need; everything else
lives in its subpackage (``ec_core.model``, ``ec_core.plugins``, ``ec_core.vendor`` …).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ec-core")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0.0.0"

from ec_core.clock import Clock, ManualClock, WallClock
from ec_core.errors import (
    ConfigError,
    EcError,
    OrderDeniedError,
    OrderError,
    OrderRejectedError,
    OrderUnknownError,
    PluginError,
    PriceError,
    SessionError,
    VendorNotFoundError,
)
from ec_core.front import Trader, connect
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
    Trade,
    TradeEvent,
)
from ec_core.plugins import PluginHost, hookimpl
from ec_core.secrets import Secret
from ec_core.settings import Settings, load_settings
from ec_core.vendor import Capability, Session, VendorFactory, VendorInfo

__all__ = [
    "Account",
    "Bar",
    "CancelAll",
    "CancelOrder",
    "Capability",
    "Clock",
    "ConfigError",
    "Duration",
    "EcError",
    "ExecInstruction",
    "ExecutionReport",
    "Fill",
    "GoFlat",
    "Instrument",
    "LiquidateAll",
    "ManualClock",
    "ModifyOrder",
    "NewOrder",
    "Order",
    "OrderDeniedError",
    "OrderError",
    "OrderRejectedError",
    "OrderRequest",
    "OrderState",
    "OrderType",
    "OrderUnknownError",
    "PluginError",
    "PluginHost",
    "Position",
    "PriceError",
    "Quote",
    "Rounding",
    "Secret",
    "Session",
    "SessionError",
    "SessionState",
    "Settings",
    "Side",
    "Trade",
    "TradeEvent",
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
