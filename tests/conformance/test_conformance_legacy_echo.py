"""A plugin written against yesterday's API keeps working: the tutorial's echo vendor as
it was before the vendor kit (``tests/conformance/legacy_echo``), loaded through the real
plugin host and run through the whole conformance kit.

It builds every report by hand, fans trade events out through unbounded memory
streams of its own and predates :mod:`ec_core.streams` and :mod:`ec_core.reports`;
nothing in it may need changing for a new core.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.plugins import PluginHost, PluginStatus
from ec_core.secrets import Secret
from ec_core.testing.conformance import SessionMarketControl, SessionOpener, VendorConformance
from ec_core.vendor import Capability

LEGACY = Path(__file__).resolve().parent / "legacy_echo"


@pytest.fixture
def legacy_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginHost]:
    monkeypatch.syspath_prepend(str(LEGACY / "src"))
    for name in [m for m in sys.modules if m == "ec_echo" or m.startswith("ec_echo.")]:
        monkeypatch.delitem(sys.modules, name)
    plugin = importlib.import_module("ec_echo.plugin")
    assert Path(plugin.__file__ or "").is_relative_to(LEGACY)  # the copy, not the tutorial's
    host = PluginHost.load(entry_points_enabled=False)
    assert host.register(plugin, name="echo", distribution="ec-echo", version="0.1.0")
    host.check_pending()
    yield host
    host.unregister("echo")
    for name in [m for m in sys.modules if m == "ec_echo" or m.startswith("ec_echo.")]:
        del sys.modules[name]


# Its factory predates ``open(settings, *, on_state=...)``: opening a session says so.
OLD_OPEN = "ignore:vendor 'echo'.*takes no on_state:DeprecationWarning"


def test_the_legacy_plugin_loads(legacy_host: PluginHost) -> None:
    record = {r.name: r for r in legacy_host.records}["echo"]
    assert record.status is PluginStatus.LOADED
    factory = legacy_host.vendors().get("echo")
    assert factory is not None
    assert Capability.ORDERS in factory.info.capabilities


@pytest.mark.anyio
async def test_the_legacy_plugin_opens_with_a_deprecation_warning(legacy_host: PluginHost) -> None:
    settings = {"password": Secret("kit"), "account_id": "KIT-1"}
    with pytest.warns(DeprecationWarning, match="takes no on_state"):
        opened = legacy_host.open_session("echo", settings)
    async with opened as session:
        assert [a.account_id for a in await session.accounts()] == ["KIT-1"]


@pytest.mark.filterwarnings(OLD_OPEN)
class TestLegacyEchoConformance(VendorConformance):
    vendor_name = "echo"
    timeout = 2.0

    @pytest.fixture
    def host(self, legacy_host: PluginHost) -> PluginHost:
        return legacy_host

    @pytest.fixture
    def vendor_capabilities(self, host: PluginHost) -> frozenset[Capability]:
        factory = host.vendors().get("echo")
        assert factory is not None
        return factory.info.capabilities

    @pytest.fixture
    def open_vendor_session(self, host: PluginHost) -> SessionOpener:
        settings = {"password": Secret("kit"), "account_id": "KIT-1"}
        return lambda: host.open_session("echo", settings)

    @pytest.fixture
    def account_id(self) -> str:
        return "KIT-1"

    @pytest.fixture(params=["ESZ5", "ZNZ5"])
    def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
        symbol: str = request.param
        return symbol

    @pytest.fixture
    def reference_price(self) -> Decimal:
        return Decimal(100)

    @pytest.fixture
    async def market_control(self, host: PluginHost) -> AsyncIterator[SessionMarketControl]:
        settings = {"password": Secret("kit"), "account_id": "KIT-HOUSE"}
        async with host.open_session("echo", settings) as house:
            yield SessionMarketControl(house, "KIT-HOUSE", timeout=self.timeout)
