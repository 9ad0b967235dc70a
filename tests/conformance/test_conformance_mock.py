"""The conformance kit against the ``mock`` vendor, loaded through the plugin host.

Two logons share one quiet venue (no background market): the kit's session trades
on ``KIT-TRADER``; the market control is a second session on ``KIT-HOUSE``, so the
only orders the kit's orders can meet are the ones the kit asks for. Every kit test
runs here for two instruments with different tick grids, and none may be skipped:
the mock declares every capability the kit tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.plugins import PluginHost
from ec_core.testing.conformance import SessionMarketControl, SessionOpener, VendorConformance
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

TRADER = "KIT-TRADER"
HOUSE = "KIT-HOUSE"
# Near each built-in contract's reference price: 0.25 ticks and 1/64 ticks.
REFERENCE_PRICES = {"EP": Decimal("4500.00"), "TYA": Decimal("110.015625")}


class TestMockConformance(VendorConformance):
    vendor_name = "mock"
    timeout = 2.0  # events are delivered synchronously; this is only a safety net

    @pytest.fixture
    def host(self) -> PluginHost:
        return PluginHost.load()

    @pytest.fixture
    def venue(self) -> Iterator[MockVenue]:
        venue = MockVenue.create(
            clock=ManualClock(SIM_START_NS), accounts=[TRADER, HOUSE], market=False
        )
        yield venue
        venue.check()

    @pytest.fixture
    def open_vendor_session(self, host: PluginHost, venue: MockVenue) -> SessionOpener:
        return lambda: host.open_session("mock", {"venue": venue, "account_id": TRADER})

    @pytest.fixture
    def account_id(self) -> str:
        return TRADER

    @pytest.fixture(params=sorted(REFERENCE_PRICES))
    def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
        symbol: str = request.param
        return symbol

    @pytest.fixture
    def reference_price(self, instrument_symbol: str) -> Decimal:
        return REFERENCE_PRICES[instrument_symbol]

    @pytest.fixture
    async def market_control(
        self, host: PluginHost, venue: MockVenue
    ) -> AsyncIterator[SessionMarketControl]:
        async with host.open_session("mock", {"venue": venue, "account_id": HOUSE}) as house:
            yield SessionMarketControl(house, HOUSE, timeout=self.timeout)
