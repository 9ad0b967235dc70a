"""Real loopback WebSockets: a raw client built from the REFERENCE descriptor set drives the
server the way a client written for the real CQG WebAPI would, unchanged.

The client never imports our generated classes: its messages come from CQG's published
descriptor set, found through ``EC_CQG_REFERENCE`` (the module skips when it is unset).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anyio
import pytest
from cqg_reference import reference_class
from cqgserver_support import ACCOUNT, PASSWORD, USER, limit_order, make_venue
from ec_core.model import Side
from ec_core.secrets import Secret
from ec_cqg.server import CqgDialect
from ec_mock.dialects import Dialect, ServeOptions
from google.protobuf.message import Message
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

pytestmark = pytest.mark.cqg_reference


def ref(name: str) -> Any:
    return reference_class(name)


class RawClient:
    """Reference ClientMsg out, reference ServerMsg in; remembers everything received."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[Any] = []

    async def send(self, msg: Message) -> None:
        await self.ws.send(msg.SerializeToString())

    async def until(self, found: Callable[[Any], bool], *, limit: int = 200) -> Any:
        with anyio.fail_after(10):
            for _ in range(limit):
                frame = await self.ws.recv()
                assert isinstance(frame, bytes), "CQG frames are binary"
                msg = ref("WebAPI_2.ServerMsg").FromString(frame)
                assert msg.IsInitialized(), msg.FindInitializationErrors()
                self.received.append(msg)
                if found(msg):
                    return msg
        raise AssertionError("expected message never came")


@asynccontextmanager
async def served(dialect: Dialect | None = None) -> AsyncIterator[tuple[str, Any]]:
    venue = make_venue()
    options = ServeOptions(user=USER, password=Secret(PASSWORD))
    async with (dialect or CqgDialect()).serve(venue, options) as endpoint:
        yield endpoint.url, venue
    venue.check()


def _logon(user: str = USER, password: str = PASSWORD) -> Any:
    msg = ref("WebAPI_2.ClientMsg")()
    msg.logon.user_name = user
    msg.logon.password = password
    msg.logon.client_app_id = "WebApiTest"
    msg.logon.client_version = "python-client-test-2-230"
    msg.logon.protocol_version_minor = 230
    msg.logon.protocol_version_major = 2
    return msg


@pytest.mark.anyio
async def test_a_reference_client_logs_on_resolves_streams_subscribes_and_trades() -> None:
    ClientMsg = ref("WebAPI_2.ClientMsg")
    async with served() as (url, _venue):
        assert url.startswith("ws://127.0.0.1:")
        async with connect(url, ping_interval=None) as ws:
            client = RawClient(ws)
            await client.send(_logon())
            result = (await client.until(lambda m: m.HasField("logon_result"))).logon_result
            assert result.result_code == 0
            assert result.base_time

            resolve = ClientMsg()
            resolve.information_requests.add(id=1).symbol_resolution_request.symbol = "EP"
            accounts = ClientMsg()
            accounts.information_requests.add(id=2).accounts_request.SetInParent()
            await client.send(resolve)
            await client.send(accounts)
            report = (await client.until(lambda m: m.information_reports)).information_reports[0]
            metadata = report.symbol_resolution_report.contract_metadata
            assert (report.id, metadata.contract_symbol, metadata.tick_size) == (1, "EP", 0.25)
            contract_id = metadata.contract_id
            report = (await client.until(lambda m: m.information_reports)).information_reports[0]
            account = report.accounts_report.brokerages[0].sales_series[0].accounts[0]
            assert account.brokerage_account_number == ACCOUNT

            market = ClientMsg()
            market.market_data_subscriptions.add(contract_id=contract_id, request_id=2, level=3)
            await client.send(market)
            status = await client.until(lambda m: m.market_data_subscription_statuses)
            assert status.market_data_subscription_statuses[0].status_code == 0
            snapshot = await client.until(lambda m: m.real_time_market_data)
            assert snapshot.real_time_market_data[0].is_snapshot

            trades = ClientMsg()
            sub = trades.trade_subscriptions.add(id=2, subscribe=True)
            sub.subscription_scopes.append(1)
            await client.send(trades)
            await client.until(lambda m: m.trade_snapshot_completions)

            # the order exactly as CQG's orders.py sample builds it (deprecated fields)
            order_msg = ClientMsg()
            request = order_msg.order_requests.add(request_id=1)
            order = request.new_order.order
            order.account_id = account.account_id
            order.contract_id = contract_id
            order.cl_order_id = "1"
            order.order_type = 1
            order.duration = 1
            order.side = 1
            order.qty.significand = 1
            order.qty.exponent = 0
            order.is_manual = False
            order.when_utc_time = 0
            await client.send(order_msg)
            filled = await client.until(
                lambda m: any(s.status == 8 for s in m.order_statuses), limit=50
            )
            seen = [
                (s.status, [t.status for t in s.transaction_statuses])
                for m in client.received
                for s in m.order_statuses
            ]
            assert seen == [(1, [1]), (3, [3]), (8, [11])]
            assert filled.order_statuses[0].transaction_statuses[0].trades[0].contract_id == (
                contract_id
            )

            def printed(m: Any) -> bool:
                return any(
                    not d.is_snapshot and any(q.type == 0 for q in d.quotes)
                    for d in m.real_time_market_data
                )

            if not any(printed(m) for m in client.received):
                await client.until(printed, limit=50)  # our fill printed a trade

            ping = ClientMsg()
            ping.ping.token = "p1"
            ping.ping.ping_utc_time = 5
            await client.send(ping)
            pong = await client.until(lambda m: m.HasField("pong"))
            assert (pong.pong.token, pong.pong.ping_utc_time) == ("p1", 5)

            logoff = ClientMsg()
            logoff.logoff.text_message = "logoff test"
            await client.send(logoff)
            done = await client.until(lambda m: m.HasField("logged_off"))
            assert done.logged_off.logoff_reason == 1
            with anyio.fail_after(5), pytest.raises(ConnectionClosed):
                await ws.recv()


@pytest.mark.anyio
async def test_bad_credentials_get_101_and_the_server_closes() -> None:
    async with served() as (url, _venue), connect(url, ping_interval=None) as ws:
        client = RawClient(ws)
        await client.send(_logon(password="nope"))
        result = (await client.until(lambda m: m.HasField("logon_result"))).logon_result
        assert result.result_code == 101
        assert result.text_message
        with anyio.fail_after(5), pytest.raises(ConnectionClosed):
            await ws.recv()


@pytest.mark.anyio
async def test_garbage_frames_do_not_kill_the_connection() -> None:
    async with served() as (url, _venue), connect(url, ping_interval=None) as ws:
        client = RawClient(ws)
        await client.send(_logon())
        await client.until(lambda m: m.HasField("logon_result"))
        await ws.send(b"\x0a\xff\xff\xff")
        await ws.send("not protobuf")
        warnings = 0
        while warnings < 2:
            msg = await client.until(lambda m: m.user_messages)
            warnings += len(msg.user_messages)
        resolve = ref("WebAPI_2.ClientMsg")()
        resolve.information_requests.add(id=5).symbol_resolution_request.symbol = "GCE"
        await client.send(resolve)
        report = (await client.until(lambda m: m.information_reports)).information_reports[0]
        assert report.status_code == 0


@pytest.mark.anyio
async def test_fault_plan_disconnect_drops_the_socket_and_restore_works() -> None:
    from ec_mock.faults import FaultPlan

    ClientMsg = ref("WebAPI_2.ClientMsg")
    dialect = CqgDialect(faults=FaultPlan(disconnect_after=2))
    async with served(dialect) as (url, _venue):
        async with connect(url, ping_interval=None) as ws:
            client = RawClient(ws)
            logon = _logon()
            logon.logon.session_settings.append(1)  # allow restore
            await client.send(logon)
            token = (await client.until(lambda m: m.HasField("logon_result"))).logon_result
            resolve = ClientMsg()
            resolve.information_requests.add(id=1).symbol_resolution_request.symbol = "EP"
            await client.send(resolve)
            with anyio.fail_after(5), pytest.raises(ConnectionClosed):
                await client.until(lambda m: False, limit=1_000)
        assert dialect.servers[0].core.disconnects == 1
        async with connect(url, ping_interval=None) as ws:
            client = RawClient(ws)
            restore = ClientMsg()
            restore.restore_or_join_session.session_token = token.session_token
            await client.send(restore)
            answer = await client.until(lambda m: m.HasField("restore_or_join_session_result"))
            assert answer.restore_or_join_session_result.result_code == 0
            await client.send(resolve)
            report = (await client.until(lambda m: m.information_reports)).information_reports[0]
            assert report.symbol_resolution_report.contract_metadata.contract_id == 1


@pytest.mark.anyio
async def test_a_reference_client_rebuilds_the_engines_book_from_the_dom() -> None:
    """Level 4 over a real socket, read with CQG's own classes: snapshot then updates,
    volume 0 clears a level (FLOWS.md §4.4); after each change of the book (the
    simulator, a new level behind the touch, a sweep) the book a client rebuilds from
    the DOM quotes is the engine's depth. A ping after each change fences the frames."""
    ClientMsg = ref("WebAPI_2.ClientMsg")
    async with served() as (url, venue), connect(url, ping_interval=None) as ws:
        client = RawClient(ws)
        await client.send(_logon())
        await client.until(lambda m: m.HasField("logon_result"))
        resolve = ClientMsg()
        resolve.information_requests.add(id=1).symbol_resolution_request.symbol = "EP"
        await client.send(resolve)
        report = (await client.until(lambda m: m.information_reports)).information_reports[0]
        contract_id = report.symbol_resolution_report.contract_metadata.contract_id
        book: dict[tuple[int, int], int] = {}  # (type, scaled price) -> volume

        def apply(msg: Any) -> None:
            for data in msg.real_time_market_data:
                if data.contract_id != contract_id:
                    continue
                if data.is_snapshot:
                    book.clear()
                for quote in data.quotes:
                    if quote.type not in (3, 4):  # best bid/ask never update the DOM
                        continue
                    assert quote.HasField("volume"), "a DOM level always says its volume"
                    if quote.volume.significand == 0:
                        book.pop((quote.type, quote.scaled_price), None)
                    else:
                        book[(quote.type, quote.scaled_price)] = quote.volume.significand

        async def fenced(token: str) -> None:
            ping = ClientMsg()
            ping.ping.token = token
            ping.ping.ping_utc_time = 1
            await client.send(ping)
            start = len(client.received)
            await client.until(lambda m: m.HasField("pong") and m.pong.token == token)
            for msg in client.received[start:]:
                apply(msg)

        def engine_book() -> dict[tuple[int, int], int]:
            depth = venue.exchange.book_depth("EP")
            levels = {(3, lv.price * 25): lv.size for lv in depth.bids}
            levels.update({(4, lv.price * 25): lv.size for lv in depth.asks})
            return levels

        market = ClientMsg()
        market.market_data_subscriptions.add(contract_id=contract_id, request_id=2, level=4)
        await client.send(market)
        status = await client.until(lambda m: m.market_data_subscription_statuses)
        assert status.market_data_subscription_statuses[0].level == 4
        await fenced("snapshot")
        assert book == engine_book()
        assert book, "the simulated market keeps a book"
        quote = venue.exchange.best_quote("EP")

        def ticks(n: int) -> Decimal:
            return Decimal("0.25") * n

        for n, change in enumerate(["deep", "step", "sweep", "step"]):
            if change == "step":
                venue.step(15)
            elif change == "deep":
                venue.exchange.submit(limit_order("deep", Side.BUY, 3, ticks(quote.bid - 7)))
            else:
                venue.exchange.submit(limit_order("sweep", Side.SELL, 40, ticks(quote.bid - 3)))
                swept = venue.exchange.best_quote("EP")
                assert swept.bid is None or swept.bid < quote.bid - 3, "levels were taken"
            await fenced(f"p{n}")
            assert book == engine_book(), change


@pytest.mark.anyio
async def test_a_reference_client_gets_settlements_and_end_of_day_values() -> None:
    """Levels 5 and 6 over a real socket, read with CQG's own descriptors."""
    ClientMsg = ref("WebAPI_2.ClientMsg")
    async with served() as (url, venue), connect(url, ping_interval=None) as ws:
        client = RawClient(ws)
        await client.send(_logon())
        await client.until(lambda m: m.HasField("logon_result"))
        ids: dict[str, int] = {}
        for request_id, symbol in ((1, "EP"), (2, "CLE")):
            resolve = ClientMsg()
            resolve.information_requests.add(
                id=request_id
            ).symbol_resolution_request.symbol = symbol
            await client.send(resolve)
            report = (await client.until(lambda m: m.information_reports)).information_reports[0]
            ids[symbol] = report.symbol_resolution_report.contract_metadata.contract_id
        market = ClientMsg()
        market.market_data_subscriptions.add(contract_id=ids["EP"], request_id=3, level=5)
        market.market_data_subscriptions.add(contract_id=ids["CLE"], request_id=4, level=6)
        await client.send(market)
        snapshots = 0
        while snapshots < 2:
            msg = await client.until(lambda m: m.real_time_market_data)
            snapshots += sum(d.is_snapshot for d in msg.real_time_market_data)
        levels = {
            s.contract_id: (s.status_code, s.level)
            for m in client.received
            for s in m.market_data_subscription_statuses
        }
        assert levels == {ids["EP"]: (0, 5), ids["CLE"]: (0, 6)}
        venue.advance(7 * 3_600_000_000_000)  # to 16:00 CT: both settle

        def settled(m: Any) -> bool:
            return any(
                not d.is_snapshot and d.market_values and d.market_values[0].scaled_settlement
                for d in m.real_time_market_data
            )

        seen: dict[int, Any] = {}
        while len(seen) < 2:
            msg = await client.until(settled)
            for data in msg.real_time_market_data:
                seen[data.contract_id] = data
        ep, cle = venue.exchange.settlement("EP"), venue.exchange.settlement("CLE")
        assert ep is not None
        assert cle is not None
        assert [(q.type, q.scaled_price) for q in seen[ids["EP"]].quotes] == [(5, ep.ticks * 25)]
        assert not seen[ids["CLE"]].quotes
        assert seen[ids["CLE"]].market_values[0].scaled_settlement == cle.ticks
        assert seen[ids["CLE"]].market_values[0].HasField("scaled_close_price")
