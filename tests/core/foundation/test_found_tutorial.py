"""The plugin of the "write a vendor plugin" tutorial works, through the real plugin host."""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.errors import AuthError, ConfigError
from ec_core.model import (
    AccountReport,
    CancelOrder,
    ExecutionReport,
    NewOrder,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    SessionState,
    Side,
    SnapshotComplete,
)
from ec_core.plugins import ENTRY_POINT_GROUP, PluginHost, PluginStatus
from ec_core.settings import parse_settings
from ec_core.vendor import Capability, Session

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "example_plugin"
SETTINGS = {"vendors": {"echo": {"password_env": "EC_ECHO_PASSWORD", "price": "101.25"}}}


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginHost]:
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    plugin = importlib.import_module("ec_echo.plugin")  # the tutorial's code, not installed
    host = PluginHost.load(entry_points_enabled=False)
    assert host.register(plugin, name="echo", distribution="ec-echo", version="0.1.0")
    host.check_pending()
    yield host
    host.unregister("echo")
    for name in [m for m in sys.modules if m == "ec_echo" or m.startswith("ec_echo.")]:
        del sys.modules[name]


def echo_settings(password: str = "pw") -> dict[str, object]:
    return parse_settings(SETTINGS).vendor_settings("echo", env={"EC_ECHO_PASSWORD": password})


def test_entry_point_names_the_plugin_module() -> None:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"][ENTRY_POINT_GROUP] == {"echo": "ec_echo.plugin"}
    assert (EXAMPLE / "src" / "ec_echo" / "plugin.py").is_file()
    assert project["dependencies"] == ["ec-core>=0.1.0"]


def test_plugin_registers_the_echo_vendor(host: PluginHost) -> None:
    record = {r.name: r for r in host.records}["echo"]
    assert record.status is PluginStatus.LOADED
    assert record.hooks == ("ec_register_vendors",)
    (info,) = [i for i in host.vendors().infos() if i.name == "echo"]
    assert info.distribution == "ec-echo"
    assert info.capabilities == {Capability.ORDERS, Capability.MARKET_DATA}


@pytest.mark.anyio
async def test_a_session_quotes_accepts_and_cancels(host: PluginHost) -> None:
    with anyio.fail_after(5):
        async with host.open_session("echo", echo_settings()) as session:
            assert isinstance(session, Session)
            assert session.state is SessionState.LOGGED_ON
            (account,) = await session.accounts()
            es = await session.resolve("ESZ5")

            async with host.market_data(session).stream([es]) as quotes:
                received = [q async for q in quotes]
            assert received == [Quote(symbol="ESZ5", ts_ns=0, bid=404, ask=405)]
            assert es.to_price(405) == Decimal("101.25")

            gateway = host.order_gateway(session)
            async with host.trade_monitor(session).stream(account.account_id) as events:
                assert isinstance(await anext(events), AccountReport)
                assert isinstance(await anext(events), SnapshotComplete)
                await gateway.send(
                    NewOrder(
                        account_id=account.account_id,
                        symbol="ESZ5",
                        side=Side.BUY,
                        qty=1,
                        order_type=OrderType.LMT,
                        limit_price=Decimal("101"),
                        cl_order_id="c1",
                    )
                )
                accepted = await anext(events)
                assert isinstance(accepted, ExecutionReport)
                assert (accepted.kind, accepted.state) == (ReportKind.ACCEPTED, OrderState.WORKING)
                assert [r.cl_order_id for r in await gateway.open_orders(account.account_id)] == [
                    "c1"
                ]
                await gateway.send(
                    CancelOrder(
                        account_id=account.account_id,
                        symbol="ESZ5",
                        orig_cl_order_id="c1",
                        cl_order_id="c2",
                    )
                )
                cancelled = await anext(events)
                assert isinstance(cancelled, ExecutionReport)
                assert cancelled.state is OrderState.CANCELLED
                assert (cancelled.cl_order_id, cancelled.orig_cl_order_id) == ("c2", "c1")
                assert await gateway.order_status(account.account_id, "c1") is None
        final_state: SessionState = session.state  # mypy narrowed it to LOGGED_ON above
        assert final_state is SessionState.CLOSED


def test_a_missing_password_is_a_config_error_naming_the_key(host: PluginHost) -> None:
    with pytest.raises(ConfigError) as info:
        host.open_session("echo", {"price": "1"})
    assert info.value.path == "vendors.echo.password"


@pytest.mark.anyio
async def test_an_empty_password_is_refused_at_logon(host: PluginHost) -> None:
    with pytest.raises(AuthError, match="EMPTY"):
        async with host.open_session("echo", echo_settings(password="")):
            pass
