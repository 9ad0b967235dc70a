"""The vendor conformance kit: tests a vendor plugin runs against its own backend.

Importing this module imports pytest: pytest (and anyio, which ec-core already
needs) must be installed where the kit runs. ``import ec_core`` never imports it.

::

    import pytest
    from ec_core.plugins import PluginHost
    from ec_core.testing.conformance import VendorConformance

    class TestAcmeConformance(VendorConformance):
        vendor_name = "acme"

        @pytest.fixture
        def open_vendor_session(self):
            return lambda: PluginHost.load().open_session("acme", {...})

        @pytest.fixture
        def account_id(self) -> str:
            return "TEST-1"

        @pytest.fixture
        def instrument_symbol(self) -> str:
            return "EP"

Kit tests declare what they need (:func:`requires`); a need the vendor does not
declare skips the test, naming it. Replacing a kit test is allowed only under
``@pytest.mark.xfail(strict=True, reason=...)`` (see :mod:`.guard`). The reference
is ``docs/reference/conformance.md``.
"""

from ec_core.testing.conformance.account import AccountConformance
from ec_core.testing.conformance.base import (
    ConformanceBase,
    KitOrders,
    SessionOpener,
    declared_capabilities,
)
from ec_core.testing.conformance.control import (
    ConnectionControl,
    MarketControl,
    SessionMarketControl,
)
from ec_core.testing.conformance.events import EventReader, TradeReader
from ec_core.testing.conformance.executor import ExecutorConformance
from ec_core.testing.conformance.guard import ConformanceOverrideError
from ec_core.testing.conformance.history import HistoryConformance, check_bar, history_since
from ec_core.testing.conformance.journal import ConformanceViolation, TradeJournal
from ec_core.testing.conformance.live_rejects import LiveRejectConformance
from ec_core.testing.conformance.market_data import (
    MarketDataConformance,
    check_book_depth,
    check_market_event,
)
from ec_core.testing.conformance.orders import OrderConformance, assert_legal_sequence
from ec_core.testing.conformance.reconnect import ReconnectConformance
from ec_core.testing.conformance.requirements import (
    CONNECTION_CONTROL,
    MARKET_CONTROL,
    Requirement,
    requirements_of,
    requires,
    sorted_requirements,
)
from ec_core.testing.conformance.session import SessionConformance
from ec_core.testing.conformance.suite import VendorConformance

__all__ = [
    "CONNECTION_CONTROL",
    "MARKET_CONTROL",
    "AccountConformance",
    "ConformanceBase",
    "ConformanceOverrideError",
    "ConformanceViolation",
    "ConnectionControl",
    "EventReader",
    "ExecutorConformance",
    "HistoryConformance",
    "KitOrders",
    "LiveRejectConformance",
    "MarketControl",
    "MarketDataConformance",
    "OrderConformance",
    "ReconnectConformance",
    "Requirement",
    "SessionConformance",
    "SessionMarketControl",
    "SessionOpener",
    "TradeJournal",
    "TradeReader",
    "VendorConformance",
    "assert_legal_sequence",
    "check_bar",
    "check_book_depth",
    "check_market_event",
    "declared_capabilities",
    "history_since",
    "requirements_of",
    "requires",
    "sorted_requirements",
]
