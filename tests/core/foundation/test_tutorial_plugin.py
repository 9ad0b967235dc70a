"""The plugin of the "write a vendor plugin" tutorial works, through the real plugin host,
against the venue it is written for: ec-mock's ``json`` dialect on 127.0.0.1."""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.errors import AuthError, ConfigError, ConnectionLostError, SymbolNotFoundError
from ec_core.model import (
    AccountReport,
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    SessionEvent,
    SessionEventKind,
    SessionState,
    Side,
    SnapshotComplete,
)
from ec_core.plugins import ENTRY_POINT_GROUP, PluginHost, PluginStatus, hookimpl
from ec_core.secrets import Secret
from ec_core.settings import parse_settings
from ec_core.vendor import Capability, Session
from ec_mock.dialects import ServeOptions
from ec_mock.jsonwire import JsonDialect
from ec_mock.vendor import MockVenue

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "example_plugin"
pytestmark = pytest.mark.anyio


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


@pytest.fixture
def venue() -> Iterator[MockVenue]:
    venue = MockVenue.create(accounts=["ECHO-1", "ECHO-2"], market=False)
    yield venue
    venue.check()


@pytest.fixture
async def url(venue: MockVenue) -> AsyncIterator[str]:
    options = ServeOptions(user="me", password=Secret("pw"))
    async with JsonDialect().serve(venue, options) as endpoint:
        yield endpoint.url


def echo_settings(url: str, password: str = "pw", account: str = "ECHO-1") -> dict[str, object]:
    table = {"url": url, "user": "me", "password_env": "EC_ECHO_PASSWORD", "account_id": account}
    settings = parse_settings({"vendors": {"echo": table}})
    return settings.vendor_settings("echo", env={"EC_ECHO_PASSWORD": password})


def order(account: str, side: Side, qty: int, price: str | None, cl: str) -> NewOrder:
    return NewOrder(
        account_id=account,
        symbol="EP",
        side=side,
        qty=qty,
        order_type=OrderType.MKT if price is None else OrderType.LMT,
        limit_price=None if price is None else Decimal(price),
        cl_order_id=cl,
    )


def test_entry_point_names_the_plugin_module() -> None:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"][ENTRY_POINT_GROUP] == {"echo": "ec_echo.plugin"}
    assert (EXAMPLE / "src" / "ec_echo" / "plugin.py").is_file()
    assert project["dependencies"] == ["ec-core>=0.1.0", "websockets>=13.0"]
    assert project["optional-dependencies"]["test"] == ["pytest>=8", "ec-mock>=0.1.0"]


def test_the_plugin_is_the_venue_mapping_and_little_else() -> None:
    """Issue 14: the tutorial's plugin shrank by at least half (677 lines with its
    in-memory venue); what is left maps the venue's messages onto core's pieces."""
    sources = sorted((EXAMPLE / "src" / "ec_echo").glob("*.py"))
    assert [p.name for p in sources] == [
        "__init__.py",
        "factory.py",
        "plugin.py",
        "session.py",
        "wire.py",
    ]
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in sources)
    assert lines <= 338, lines


def test_the_tutorial_includes_the_kit_test_file_verbatim() -> None:
    page = (EXAMPLE.parent / "write-a-vendor-plugin.md").read_text(encoding="utf-8")
    kit = (EXAMPLE / "tests" / "test_conformance.py").read_text(encoding="utf-8")
    head = "<!-- inline: example_plugin/tests/test_conformance.py -->\n<!-- fmt: off -->\n"
    assert f"{head}```python\n{kit}```" in page  # the page shows the file tests/ runs


def test_plugin_registers_the_echo_vendor(host: PluginHost) -> None:
    record = {r.name: r for r in host.records}["echo"]
    assert record.status is PluginStatus.LOADED
    assert record.hooks == ("ec_register_vendors",)
    (info,) = [i for i in host.vendors().infos() if i.name == "echo"]
    assert info.distribution == "ec-echo"
    assert {Capability.ORDERS, Capability.MARKET_DATA} <= info.capabilities


class StateObserver:
    """A throwaway plugin hearing every ``ec_on_session_state``: echo has no code for it."""

    def __init__(self) -> None:
        self.moves: list[tuple[SessionState, SessionState]] = []

    @hookimpl
    def ec_on_session_state(self, vendor: str, old: SessionState, new: SessionState) -> None:
        self.moves.append((old, new))


async def test_a_session_quotes_accepts_modifies_and_cancels(host: PluginHost, url: str) -> None:
    observer = StateObserver()
    host.register(observer, name="observer")
    with anyio.fail_after(5):
        async with host.open_session("echo", echo_settings(url)) as session:
            assert isinstance(session, Session)
            assert session.state is SessionState.LOGGED_ON
            (account,) = await session.accounts()
            assert account.account_id == "ECHO-1"
            ep = await session.resolve("EP")
            assert ep.tick_size == Decimal("0.25")
            gateway = host.order_gateway(session)
            async with (
                host.market_data(session).stream([ep]) as quotes,
                host.trade_monitor(session).stream("ECHO-1") as events,
            ):
                empty = await anext(quotes)
                assert isinstance(empty, Quote)
                assert (empty.bid, empty.ask) == (None, None)  # the book is empty
                assert isinstance(await anext(events), AccountReport)
                assert isinstance(await anext(events), SnapshotComplete)
                await gateway.send(order("ECHO-1", Side.BUY, 2, "4500.25", "c1"))
                accepted = await anext(events)
                assert isinstance(accepted, ExecutionReport)
                assert (accepted.kind, accepted.state) == (ReportKind.ACCEPTED, OrderState.WORKING)
                quote = await anext(quotes)
                assert isinstance(quote, Quote)
                assert (quote.bid, quote.bid_size, quote.ask) == (18001, 2, None)
                assert ep.to_price(18001) == Decimal("4500.25")
                await gateway.send(
                    ModifyOrder(
                        account_id="ECHO-1",
                        symbol="EP",
                        orig_cl_order_id="c1",
                        cl_order_id="c2",
                        qty=3,
                    )
                )
                modified = await anext(events)
                assert isinstance(modified, ExecutionReport)
                assert (modified.kind, modified.qty) == (ReportKind.MODIFIED, 3)
                assert [r.cl_order_id for r in await gateway.open_orders("ECHO-1")] == ["c2"]
                await gateway.send(
                    CancelOrder(
                        account_id="ECHO-1", symbol="EP", orig_cl_order_id="c2", cl_order_id="c3"
                    )
                )
                cancelled = await anext(events)
                assert isinstance(cancelled, ExecutionReport)
                assert cancelled.state is OrderState.CANCELLED
                assert await gateway.open_orders("ECHO-1") == []
                status = await gateway.order_status("ECHO-1", "c3")
                assert status is not None
                assert status.state is OrderState.CANCELLED
        final_state: SessionState = session.state  # mypy narrowed it to LOGGED_ON above
        assert final_state is SessionState.CLOSED
    assert observer.moves == [
        (SessionState.CREATED, SessionState.CONNECTING),
        (SessionState.CONNECTING, SessionState.LOGGED_ON),
        (SessionState.LOGGED_ON, SessionState.CLOSING),
        (SessionState.CLOSING, SessionState.CLOSED),
    ]


async def test_two_accounts_trade_and_a_market_order_takes_the_best_price_first(
    host: PluginHost, url: str
) -> None:
    with anyio.fail_after(5):
        async with (
            host.open_session("echo", echo_settings(url)) as buyer,
            host.open_session("echo", echo_settings(url, account="ECHO-2")) as seller,
            buyer.trades.stream("ECHO-1") as events,
        ):
            assert isinstance(await anext(events), AccountReport)
            assert isinstance(await anext(events), SnapshotComplete)
            await seller.orders.send(order("ECHO-2", Side.SELL, 1, "4500.50", "s1"))
            await seller.orders.send(order("ECHO-2", Side.SELL, 1, "4500.25", "s2"))  # better
            await buyer.orders.send(order("ECHO-1", Side.BUY, 2, None, "b1"))
            reports = []
            async for event in events:
                if isinstance(event, ExecutionReport):
                    reports.append(event)
                    if event.state.is_final:
                        break
            (position,) = await buyer.trades.positions("ECHO-1")
            assert await seller.orders.open_orders("ECHO-2") == []
    assert [(r.kind, r.filled_qty) for r in reports] == [
        (ReportKind.ACCEPTED, 0),
        (ReportKind.FILL, 1),
        (ReportKind.FILL, 2),
    ]
    prices = [r.fill.price for r in reports if r.fill is not None]
    assert prices == [Decimal("4500.25"), Decimal("4500.50")]
    assert reports[-1].avg_fill_price == Decimal("4500.375")
    assert (position.qty, position.avg_price) == (2, Decimal("4500.375"))


async def test_an_unknown_symbol_is_a_typed_error_naming_it(host: PluginHost, url: str) -> None:
    async with host.open_session("echo", echo_settings(url)) as session:
        with pytest.raises(SymbolNotFoundError, match="'NOPE'") as info:
            await session.resolve("NOPE")
        assert info.value.code == "UNKNOWN_SYMBOL"
        assert session.state is SessionState.LOGGED_ON


async def test_a_request_the_venue_refuses_is_a_report_built_by_core(
    host: PluginHost, url: str
) -> None:
    """A price with more decimals than the wire carries is refused by the venue as a bad
    field: the new order ends REJECTED, a cancel of an order nobody has is unknown_order."""
    async with (
        host.open_session("echo", echo_settings(url)) as session,
        session.trades.stream("ECHO-1") as events,
    ):
        await anext(events)
        await anext(events)
        await session.orders.send(order("ECHO-1", Side.BUY, 1, "4500." + "0" * 13, "x1"))
        rejected = await anext(events)
        assert isinstance(rejected, ExecutionReport)
        assert (rejected.state, rejected.reject_code) == (OrderState.REJECTED, "BAD_FIELD:px")
        cancel = CancelOrder(account_id="ECHO-1", symbol="EP", orig_cl_order_id="ghost")
        await session.orders.send(cancel)
        unknown = await anext(events)
        assert isinstance(unknown, ExecutionReport)
        assert (unknown.kind, unknown.side) == (ReportKind.REJECTED, None)


async def test_a_dropped_line_is_disconnected_then_closed(
    host: PluginHost, url: str, venue: MockVenue
) -> None:
    with anyio.fail_after(5):
        async with host.open_session("echo", echo_settings(url)) as session:
            ep = await session.resolve("EP")
            async with (
                session.trades.stream("ECHO-1") as events,
                session.market_data.stream([ep]) as quotes,
            ):
                await anext(events)
                await anext(events)
                await anext(quotes)
                venue.restart(keep_state=True)  # the json server drops every line
                lost = await anext(events)
                assert isinstance(lost, SessionEvent)
                assert lost.kind is SessionEventKind.DISCONNECTED
                with pytest.raises(StopAsyncIteration):
                    await anext(events)
                with pytest.raises(ConnectionLostError):
                    await anext(quotes)
            assert session.state is SessionState.CLOSED
            with pytest.raises(ConnectionLostError):
                await session.orders.send(order("ECHO-1", Side.BUY, 1, "4500", "late"))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"url": "http://x"}, "vendors.echo.url"),
        ({"account_id": ""}, "vendors.echo.account_id"),
        ({"password": "in clear"}, "vendors.echo.password"),
        ({"colour": "red"}, "vendors.echo.colour"),
    ],
)
def test_a_bad_setting_is_a_config_error_naming_the_key(
    host: PluginHost, change: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as info:
        host.open_session("echo", {**echo_settings("ws://127.0.0.1:1"), **change})
    assert info.value.path == key


def test_a_missing_password_is_a_config_error_naming_the_key(host: PluginHost) -> None:
    settings = echo_settings("ws://127.0.0.1:1")
    del settings["password"]
    with pytest.raises(ConfigError) as info:
        host.open_session("echo", settings)
    assert info.value.path == "vendors.echo.password"


async def test_a_wrong_password_is_refused_at_logon(host: PluginHost, url: str) -> None:
    with pytest.raises(AuthError, match="LOGON_REFUSED"):
        async with host.open_session("echo", echo_settings(url, password="wrong")):
            pass


async def test_a_venue_that_is_not_there_is_a_connection_lost_error(host: PluginHost) -> None:
    with pytest.raises(ConnectionLostError, match="cannot connect"):
        async with host.open_session("echo", echo_settings("ws://127.0.0.1:9")):
            pass
