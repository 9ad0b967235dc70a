"""The plugin of the "write a vendor plugin" tutorial works, through the real plugin host."""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from anyio.abc import TaskStatus
from ec_core.errors import AuthError, ConfigError, SymbolNotFoundError
from ec_core.model import (
    AccountReport,
    CancelOrder,
    ExecutionReport,
    NewOrder,
    OrderState,
    OrderType,
    PositionReport,
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
SETTINGS = {"vendors": {"echo": {"password_env": "EC_ECHO_PASSWORD", "account_id": "ECHO-1"}}}


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
    assert project["optional-dependencies"]["test"] == ["pytest>=8"]  # to run the kit


def test_the_tutorial_includes_the_kit_test_file_verbatim() -> None:
    page = (EXAMPLE.parent / "write-a-vendor-plugin.md").read_text(encoding="utf-8")
    assert (EXAMPLE / "tests" / "test_conformance.py").is_file()
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


@pytest.mark.anyio
async def test_a_session_quotes_accepts_and_cancels(host: PluginHost) -> None:
    with anyio.fail_after(5):
        async with host.open_session("echo", echo_settings()) as session:
            assert isinstance(session, Session)
            assert session.state is SessionState.LOGGED_ON
            (account,) = await session.accounts()
            assert account.account_id == "ECHO-1"
            es = await session.resolve("ESZ5")

            gateway = host.order_gateway(session)
            quotes_cm = host.market_data(session).stream([es])
            events_cm = host.trade_monitor(session).stream(account.account_id)
            async with quotes_cm as quotes, events_cm as events:
                assert await anext(quotes) == Quote(symbol="ESZ5", ts_ns=0)  # an empty book
                assert isinstance(await anext(events), AccountReport)
                assert isinstance(await anext(events), SnapshotComplete)
                await gateway.send(
                    NewOrder(
                        account_id=account.account_id,
                        symbol="ESZ5",
                        side=Side.BUY,
                        qty=2,
                        order_type=OrderType.LMT,
                        limit_price=Decimal("101"),
                        cl_order_id="c1",
                    )
                )
                accepted = await anext(events)
                assert isinstance(accepted, ExecutionReport)
                assert (accepted.kind, accepted.state) == (ReportKind.ACCEPTED, OrderState.WORKING)
                quote = await anext(quotes)
                assert isinstance(quote, Quote)
                assert (quote.bid, quote.bid_size, quote.ask) == (404, 2, None)
                assert es.to_price(404) == Decimal("101")
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
                assert await gateway.open_orders(account.account_id) == []
                emptied = await anext(quotes)
                assert isinstance(emptied, Quote)
                assert emptied.bid is None
        final_state: SessionState = session.state  # mypy narrowed it to LOGGED_ON above
        assert final_state is SessionState.CLOSED


@pytest.mark.anyio
async def test_two_accounts_on_one_venue_trade_when_their_orders_cross(host: PluginHost) -> None:
    def order(account_id: str, side: Side, qty: int, price: str) -> NewOrder:
        return NewOrder(
            account_id=account_id,
            symbol="ZNZ5",
            side=side,
            qty=qty,
            order_type=OrderType.LMT,
            limit_price=Decimal(price),
            cl_order_id=f"{account_id}-{side}",
        )

    with anyio.fail_after(5):
        async with (
            host.open_session("echo", echo_settings()) as buyer,
            host.open_session("echo", {**echo_settings(), "account_id": "ECHO-2"}) as seller,
            buyer.trades.stream("ECHO-1") as events,
        ):
            assert isinstance(await anext(events), AccountReport)
            assert isinstance(await anext(events), SnapshotComplete)
            await buyer.orders.send(order("ECHO-1", Side.BUY, 3, "110.015625"))
            await seller.orders.send(order("ECHO-2", Side.SELL, 2, "110"))  # crosses the bid
            reports = [await anext(events) for _ in range(3)]
            (position,) = await buyer.trades.positions("ECHO-1")
    accepted, fill, position_report = reports
    assert isinstance(accepted, ExecutionReport)
    assert accepted.kind is ReportKind.ACCEPTED
    assert isinstance(fill, ExecutionReport)
    assert fill.fill is not None
    assert (fill.kind, fill.state, fill.filled_qty) == (
        ReportKind.FILL,
        OrderState.PARTIALLY_FILLED,
        2,
    )
    assert (fill.fill.qty, fill.fill.price) == (2, Decimal("110.015625"))  # the resting price
    assert position_report == PositionReport(position=position, ts_ns=fill.ts_ns)
    assert (position.qty, position.avg_price) == (2, Decimal("110.015625"))


@pytest.mark.anyio
async def test_a_market_order_takes_the_best_price_first_and_the_rest_is_cancelled(
    host: PluginHost,
) -> None:
    def order(account_id: str, side: Side, qty: int, price: str | None, cl: str) -> NewOrder:
        return NewOrder(
            account_id=account_id,
            symbol="ZNZ5",
            side=side,
            qty=qty,
            order_type=OrderType.MKT if price is None else OrderType.LMT,
            limit_price=None if price is None else Decimal(price),
            cl_order_id=cl,
        )

    with anyio.fail_after(5):
        async with (
            host.open_session("echo", echo_settings()) as buyer,
            host.open_session("echo", {**echo_settings(), "account_id": "ECHO-2"}) as seller,
            buyer.trades.stream("ECHO-1") as events,
        ):
            await seller.orders.send(order("ECHO-2", Side.SELL, 1, "110.03125", "s1"))
            await seller.orders.send(order("ECHO-2", Side.SELL, 1, "110.015625", "s2"))  # better
            await buyer.orders.send(order("ECHO-1", Side.BUY, 3, None, "b1"))
            reports = []
            async for event in events:
                if isinstance(event, ExecutionReport):
                    reports.append(event)
                    if event.state.is_final:
                        break
            assert await seller.orders.open_orders("ECHO-2") == []
    assert [(r.kind, r.filled_qty) for r in reports] == [
        (ReportKind.ACCEPTED, 0),
        (ReportKind.FILL, 1),
        (ReportKind.FILL, 2),
        (ReportKind.CANCELLED, 2),  # nothing left to take: a market order does not rest
    ]
    prices = [r.fill.price for r in reports if r.fill is not None]
    assert prices == [Decimal("110.015625"), Decimal("110.03125")]
    assert reports[-1].avg_fill_price == Decimal("110.0234375")


@pytest.mark.anyio
async def test_an_unknown_symbol_is_a_typed_error_naming_it(host: PluginHost) -> None:
    async with host.open_session("echo", echo_settings()) as session:
        with pytest.raises(SymbolNotFoundError, match="'NOPE'") as info:
            await session.resolve("NOPE")
        assert info.value.code == "UNKNOWN_SYMBOL"
        assert isinstance(info.value, LookupError)
        assert session.state is SessionState.LOGGED_ON


@pytest.mark.anyio
async def test_closing_the_session_ends_its_streams(host: PluginHost) -> None:
    seen: list[object] = []

    async def drain(
        stream: AbstractAsyncContextManager[AsyncIterator[object]],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        async with stream as events:
            task_status.started()
            seen.extend([event async for event in events])  # ends only when the stream does

    with anyio.fail_after(5):
        async with (
            anyio.create_task_group() as tasks,
            host.open_session("echo", echo_settings()) as session,
        ):
            es = await session.resolve("ESZ5")
            await tasks.start(drain, session.market_data.stream([es]))
            await tasks.start(drain, session.trades.stream("ECHO-1"))
    assert [type(e) for e in seen] == [Quote, AccountReport, SnapshotComplete]


def test_a_missing_password_is_a_config_error_naming_the_key(host: PluginHost) -> None:
    with pytest.raises(ConfigError) as info:
        host.open_session("echo", {"account_id": "ECHO-1"})
    assert info.value.path == "vendors.echo.password"


def test_an_empty_account_id_is_a_config_error_naming_the_key(host: PluginHost) -> None:
    with pytest.raises(ConfigError) as info:
        host.open_session("echo", {**echo_settings(), "account_id": ""})
    assert info.value.path == "vendors.echo.account_id"


@pytest.mark.anyio
async def test_an_empty_password_is_refused_at_logon(host: PluginHost) -> None:
    with pytest.raises(AuthError, match="EMPTY"):
        async with host.open_session("echo", echo_settings(password="")):
            pass
