"""The client session end to end over a real loopback WebSocket against a scripted server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
import pytest
from cqgclient_support import ACCOUNT, FakeCqgServer, fake_server, settings_for
from ec_core.errors import AuthError, ConfigError, ConnectionLostError, OrderDeniedError
from ec_core.errors import SymbolNotFoundError as CoreSymbolNotFoundError
from ec_core.model import (
    CancelAll,
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    RequestType,
    SessionState,
    Side,
    SnapshotComplete,
    Trade,
    TradeEvent,
)
from ec_core.vendor import MarketDataFeed, OrderGateway, Session, TradeMonitor
from ec_cqg.client import CqgSession, SymbolNotFoundError
from ec_cqg.plugin import LazyCqgFactory
from ec_cqg.protocol.pb import ServerMsg

pytestmark = pytest.mark.anyio
ACC = str(ACCOUNT)


@pytest.fixture
async def server() -> AsyncIterator[FakeCqgServer]:
    async with fake_server() as srv:
        yield srv


async def next_report(events: Any, *, kind: ReportKind | None = None) -> ExecutionReport:
    with anyio.fail_after(5):
        async for event in events:
            if isinstance(event, ExecutionReport) and (kind is None or event.kind is kind):
                return event
    raise AssertionError("stream ended")


async def test_logon_accounts_resolve_and_contract(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        assert isinstance(session, Session)
        assert isinstance(session.orders, OrderGateway)
        assert isinstance(session.market_data, MarketDataFeed)
        assert isinstance(session.trades, TradeMonitor)
        assert session.state is SessionState.LOGGED_ON
        accounts = await session.accounts()
        assert [a.account_id for a in accounts] == [ACC]
        instrument = await session.resolve("EP")
        assert instrument.tick_size == Decimal("0.25")
        assert instrument.multiplier == Decimal(50)
        assert instrument.vendor_id == str(server.contract_id)
        assert instrument.description == "ES Dec 25"
        sent = len(server.received)
        assert await session.resolve("EP") is instrument  # cached: nothing sent
        assert len(server.received) == sent
        with pytest.raises(SymbolNotFoundError) as info:
            await session.resolve("NOPE")
        assert info.value.code == 104
        assert type(info.value) is CoreSymbolNotFoundError  # one class for every vendor
        logon = server.received[0].logon
        assert (logon.protocol_version_major, logon.protocol_version_minor) == (2, 230)
        assert logon.client_app_id == "ec"
    assert session.lifecycle.state.value == "CLOSED"
    assert server.received[-1].HasField("logoff")


async def test_bad_credentials_raise_auth_error_with_the_code(server: FakeCqgServer) -> None:
    settings = settings_for(server, password=__import__("ec_core.secrets").secrets.Secret("no"))
    session = CqgSession(settings)
    with pytest.raises(AuthError) as info:
        async with session:
            raise AssertionError("must not log on")
    assert info.value.code == 101
    assert "no" not in repr(settings).replace("None", "")  # the password is not shown
    assert session.state is SessionState.CLOSED


async def test_connection_refused_is_connection_lost() -> None:
    with anyio.fail_after(5):
        sock = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = sock.extra(anyio.abc.SocketAttribute.local_port)
        await sock.aclose()
    settings = settings_for(_Stub(port))
    with pytest.raises(ConnectionLostError):
        async with CqgSession(settings):
            raise AssertionError("must not connect")


class _Stub(FakeCqgServer):
    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port


def test_plain_ws_to_another_host_is_refused_before_any_io() -> None:
    factory = LazyCqgFactory()
    with pytest.raises(ConfigError) as info:
        factory.open({"url": "ws://example.com", "user": "u", "password": "p"})
    assert info.value.path == "vendors.cqg.url"


async def test_market_data_snapshot_then_updates_in_ticks(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        instrument = await session.resolve("EP")
        async with session.market_data.stream([instrument]) as events:
            with anyio.fail_after(5):
                first = await events.__anext__()
            assert first == Quote(
                symbol="EP", ts_ns=first.ts_ns, bid=18000, bid_size=3, ask=18001, ask_size=4
            )
            assert instrument.to_price(first.bid or 0) == Decimal("4500.00")
            await server.quote(bid=18002, ask=18003, trade=18002, size=2)
            with anyio.fail_after(5):
                trade = await events.__anext__()
                quote = await events.__anext__()
            assert isinstance(trade, Trade)
            assert (trade.price, trade.size) == (18002, 2)
            assert isinstance(quote, Quote)
            assert (quote.bid, quote.ask) == (18002, 18003)
        assert server.md_subscriptions[-1] == (server.contract_id, 0)  # unsubscribed


async def test_order_lifecycle_new_modify_cancel(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        await session.resolve("EP")
        async with session.trades.stream(ACC) as events:
            with anyio.fail_after(5):
                async for event in events:
                    if isinstance(event, SnapshotComplete):
                        break
            new = NewOrder(
                account_id=ACC,
                symbol="EP",
                side=Side.BUY,
                qty=2,
                order_type=OrderType.LMT,
                limit_price=Decimal("4499.75"),
                cl_order_id="A1",
            )
            await session.orders.send(new)
            accepted = await next_report(events)
            assert accepted.kind is ReportKind.ACCEPTED
            assert (accepted.state, accepted.limit_price) == (
                OrderState.WORKING,
                Decimal("4499.75"),
            )
            assert accepted.chain_id == "A1"
            sent = server.received[-1].order_requests[0].new_order.order
            assert (sent.scaled_limit_price, sent.account_id, sent.qty.significand) == (
                17999,
                ACCOUNT,
                2,
            )
            await session.orders.send(
                ModifyOrder(
                    account_id=ACC,
                    symbol="EP",
                    orig_cl_order_id="A1",
                    cl_order_id="A2",
                    limit_price=Decimal("4499.50"),
                )
            )
            modified = await next_report(events)
            assert (modified.kind, modified.limit_price) == (
                ReportKind.MODIFIED,
                Decimal("4499.50"),
            )
            assert (modified.cl_order_id, modified.orig_cl_order_id) == ("A2", "A1")
            await session.orders.send(
                CancelOrder(account_id=ACC, symbol="EP", orig_cl_order_id="A2", cl_order_id="A3")
            )
            cancelled = await next_report(events)
            assert (cancelled.kind, cancelled.state) == (ReportKind.CANCELLED, OrderState.CANCELLED)
            status = await session.orders.order_status(ACC, "A1")
            assert status is not None
            assert status.state is OrderState.CANCELLED
            assert await session.orders.order_status(ACC, "nope") is None
            assert await session.orders.open_orders(ACC) == []


async def test_market_order_fills_and_history(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        async with session.trades.stream(ACC) as events:
            await session.resolve("EP")
            await session.orders.send(
                NewOrder(
                    account_id=ACC, symbol="EP", side=Side.SELL, qty=3, order_type=OrderType.MKT
                )
            )
            fill = await next_report(events, kind=ReportKind.FILL)
            assert fill.fill is not None
            assert (fill.fill.qty, fill.fill.price, fill.state) == (
                3,
                Decimal("4500.00"),
                OrderState.FILLED,
            )
            assert fill.cl_order_id.startswith("ec")
            await session.orders.send(
                NewOrder(
                    account_id=ACC,
                    symbol="EP",
                    side=Side.BUY,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=Decimal("4400"),
                    cl_order_id="W1",
                )
            )
            await next_report(events, kind=ReportKind.ACCEPTED)
            await session.orders.send(CancelAll(account_id=ACC))
            both = [await next_report(events), await next_report(events)]
            by_type = {r.request_type: r for r in both}
            assert by_type[RequestType.CANCEL_ALL].kind is ReportKind.ACCEPTED
            assert by_type[RequestType.CANCEL].cl_order_id == "W1"
            assert by_type[RequestType.CANCEL].state is OrderState.CANCELLED
        history = await session.orders.historical_orders(
            ACC, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)
        )
        assert sorted(r.state for r in history) == [OrderState.CANCELLED, OrderState.FILLED]
        when = server.received[-1].information_requests[0].historical_orders_request
        assert (when.from_date, when.to_date) == (-86_400_000, 86_400_000)


async def test_request_that_cqg_cannot_express_is_denied_before_sending(
    server: FakeCqgServer,
) -> None:
    async with CqgSession(settings_for(server)) as session:
        before = server.order_requests
        with pytest.raises(OrderDeniedError) as info:
            await session.orders.send(
                NewOrder(
                    account_id=ACC,
                    symbol="EP",
                    side=Side.BUY,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=Decimal("4500.10"),  # off the 0.25 grid
                )
            )
        assert info.value.violations[0].field == "limit_price"
        with pytest.raises(OrderDeniedError):
            await session.orders.send(
                CancelOrder(account_id=ACC, symbol="EP", orig_cl_order_id="never-sent")
            )
        with pytest.raises(OrderDeniedError):
            await session.orders.send(CancelAll(account_id="not-a-number"))
        assert server.order_requests == before


async def test_server_ping_is_answered_and_garbage_is_survived(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        ping = ServerMsg()
        ping.ping.token = "srv"
        ping.ping.ping_utc_time = 42
        await server.send_raw(b"\xff\xff\xff")  # malformed
        await server.send_raw(b"")  # an empty envelope is valid (nothing in it)
        await server.broadcast(ping)
        with anyio.fail_after(5):
            while not any(m.HasField("pong") for m in server.received):
                await server.got_message.wait()
        pong = next(m.pong for m in server.received if m.HasField("pong"))
        assert (pong.token, pong.ping_utc_time) == ("srv", 42)
        assert session.stats()["malformed_frames"] == 1
        assert session.state is SessionState.LOGGED_ON
        assert [a.account_id for a in await session.accounts()] == [ACC]


async def test_events_reach_every_subscriber_of_the_account(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        await session.resolve("EP")
        async with session.trades.stream(ACC) as one, session.trades.stream(ACC) as two:
            await session.orders.send(
                NewOrder(
                    account_id=ACC,
                    symbol="EP",
                    side=Side.BUY,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=Decimal(4000),
                    cl_order_id="S1",
                )
            )
            got: list[TradeEvent] = [await next_report(one), await next_report(two)]
            assert got[0] == got[1]
