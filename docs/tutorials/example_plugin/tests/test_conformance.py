"""ec's vendor conformance kit, run against the echo vendor: ``pytest -rs tests``.

The venue is ec-mock's exchange served in its ``json`` dialect on 127.0.0.1, in process:
what ``ec mock serve --dialect json`` runs, one fresh venue per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from ec_core.plugins import PluginHost
from ec_core.secrets import Secret
from ec_core.testing.conformance import SessionMarketControl, SessionOpener, VendorConformance
from ec_mock.dialects import ServeOptions
from ec_mock.jsonwire import JsonDialect
from ec_mock.vendor import MockVenue

PRICES = {"EP": Decimal("4500.00"), "TYA": Decimal("110.015625")}  # two grids: 0.25 and 1/64


class TestEchoConformance(VendorConformance):
    vendor_name = "echo"  # the name the factory registers
    timeout = 5.0  # seconds per awaited event: a safety net, the kit never sleeps

    @pytest.fixture
    def host(self) -> PluginHost:
        return PluginHost.load()  # finds ec-echo through its entry point

    @pytest.fixture
    async def url(self) -> AsyncIterator[str]:
        venue = MockVenue.create(accounts=["KIT-1", "KIT-HOUSE"], market=False)  # quiet books
        options = ServeOptions(user="kit", password=Secret("kit-password"))
        async with JsonDialect().serve(venue, options) as endpoint:
            yield endpoint.url

    def settings(self, url: str, account: str) -> dict[str, object]:
        return {
            "url": url,
            "user": "kit",
            "password": Secret("kit-password"),
            "account_id": account,
        }

    @pytest.fixture
    def open_vendor_session(self, host: PluginHost, url: str) -> SessionOpener:
        return lambda: host.open_session("echo", self.settings(url, "KIT-1"))

    @pytest.fixture
    def account_id(self) -> str:
        return "KIT-1"

    @pytest.fixture(params=sorted(PRICES))
    def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
        symbol: str = request.param
        return symbol

    @pytest.fixture
    def reference_price(self, instrument_symbol: str) -> Decimal:
        return PRICES[instrument_symbol]  # the books start empty: the kit rests orders below

    @pytest.fixture
    async def market_control(
        self, host: PluginHost, url: str
    ) -> AsyncIterator[SessionMarketControl]:
        # A second account on the same venue trades with the kit's orders.
        async with host.open_session("echo", self.settings(url, "KIT-HOUSE")) as house:
            yield SessionMarketControl(house, "KIT-HOUSE", timeout=self.timeout)
