"""All kit classes in one: what a vendor plugin's test module subclasses."""

from __future__ import annotations

from ec_core.testing.conformance.account import AccountConformance
from ec_core.testing.conformance.executor import ExecutorConformance
from ec_core.testing.conformance.history import HistoryConformance
from ec_core.testing.conformance.live_rejects import LiveRejectConformance
from ec_core.testing.conformance.market_data import MarketDataConformance
from ec_core.testing.conformance.orders import OrderConformance
from ec_core.testing.conformance.reconnect import ReconnectConformance
from ec_core.testing.conformance.session import SessionConformance

__all__ = ["VendorConformance"]


class VendorConformance(
    SessionConformance,
    MarketDataConformance,
    OrderConformance,
    LiveRejectConformance,
    AccountConformance,
    HistoryConformance,
    ReconnectConformance,
    ExecutorConformance,
    kit=True,
):
    """Every kit test. Subclass it as ``Test<Vendor>Conformance`` and provide the fixtures."""
