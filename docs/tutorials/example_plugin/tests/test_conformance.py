"""ec's vendor conformance kit, run against the echo vendor: ``pytest -rs tests``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from ec_core.plugins import PluginHost
from ec_core.secrets import Secret
from ec_core.testing.conformance import SessionMarketControl, SessionOpener, VendorConformance


class TestEchoConformance(VendorConformance):
    vendor_name = "echo"  # the name the factory registers
    timeout = 2.0  # seconds per awaited event: a safety net, the kit never sleeps

    @pytest.fixture
    def host(self) -> PluginHost:
        return PluginHost.load()  # finds ec-echo through its entry point

    @pytest.fixture
    def open_vendor_session(self, host: PluginHost) -> SessionOpener:
        settings = {"password": Secret("kit"), "account_id": "KIT-1"}
        return lambda: host.open_session("echo", settings)

    @pytest.fixture
    def account_id(self) -> str:
        return "KIT-1"

    @pytest.fixture(params=["ESZ5", "ZNZ5"])  # two tick grids: 0.25 and 1/64
    def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
        symbol: str = request.param
        return symbol

    @pytest.fixture
    def reference_price(self) -> Decimal:
        return Decimal(100)  # the books start empty: any price on both grids will do

    @pytest.fixture
    async def market_control(self, host: PluginHost) -> AsyncIterator[SessionMarketControl]:
        # A second account on the same venue trades with the kit's orders.
        settings = {"password": Secret("kit"), "account_id": "KIT-HOUSE"}
        async with host.open_session("echo", settings) as house:
            yield SessionMarketControl(house, "KIT-HOUSE", timeout=self.timeout)
