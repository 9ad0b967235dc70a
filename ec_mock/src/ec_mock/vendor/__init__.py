"""The in-process ``mock`` vendor: sessions of the core's vendor protocols over a venue.

::

    venue (MockVenue) ── one Exchange, its clock, the market simulator, the driver
      └── sessions (MockSession) ── orders / market_data / trades, each with its own
                                    bounded channels and, optionally, a fault gate

Type-only import cycles (annotations under ``TYPE_CHECKING``; none runs at load time,
``tests/packaging/test_import_cycles.py`` checks): the ``session`` builds its
``market_feed``, ``history`` and ``faultgate`` parts, each typed with the session it
serves.
"""

from ec_mock.vendor.channels import (
    MarketDataChannel,
    TradeBufferOverflowError,
    TradeEventChannel,
)
from ec_mock.vendor.config import MockSettings, parse_settings
from ec_mock.vendor.factory import MOCK_INFO, MockVendorFactory
from ec_mock.vendor.session import (
    MockMarketDataFeed,
    MockOrderGateway,
    MockSession,
    MockTradeMonitor,
)
from ec_mock.vendor.venue import MockVenue, VenueError

__all__ = [
    "MOCK_INFO",
    "MarketDataChannel",
    "MockMarketDataFeed",
    "MockOrderGateway",
    "MockSession",
    "MockSettings",
    "MockTradeMonitor",
    "MockVendorFactory",
    "MockVenue",
    "TradeBufferOverflowError",
    "TradeEventChannel",
    "VenueError",
    "parse_settings",
]


def __getattr__(name: str) -> object:
    """Deprecated names, resolved (with their warning) by the module that defines them."""
    if name == "UnknownSymbolError":
        from ec_mock.vendor import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
