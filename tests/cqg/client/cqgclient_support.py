"""A small scripted CQG WebAPI server for the client tests (real loopback WebSockets).

It speaks just enough of the protocol for the client's transport, session and feature
tests: logon/restore/logoff, pings, accounts, symbol resolution of one contract, market
data, a trade subscription with snapshot, and order entry with the usual status
sequences. Knobs let a test drop the line, stall order answers, or push raw frames.
The real CQG-dialect server on the mock engine lives in ``ec_cqg.server``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

import anyio
from ec_core.secrets import Secret
from ec_cqg.client.config import CqgSettings
from ec_cqg.protocol.codec import decode_client, encode_server
from ec_cqg.protocol.pb import ServerMsg, order_2, shared_1, trade_routing_2, webapi_2
from ec_cqg.protocol.prices import qty_to_cqg
from ec_cqg.protocol.timestamps import BaseTime, ns_to_timestamp
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

if TYPE_CHECKING:
    from ec_mock.vendor import MockVenue

BASE = "2025-01-02T00:00:00"
BASE_TIME = BaseTime(BASE)
ACCOUNT = 16883045
CONTRACT_SYMBOL = "F.US.EPZ25"
USER, PASSWORD = "trader", "s3cret"
_OS = shared_1.OrderStatus
_TS = shared_1.TransactionStatus


class FakeCqgServer:
    """State shared by every connection; a test tweaks the knobs between steps."""

    def __init__(self) -> None:
        self.port = 0
        self.connections: list[ServerConnection] = []
        self.logons = 0
        self.restores = 0
        self.allow_restore = True
        self.stall_orders = False
        self.answer_pings = True
        self.contract_id = 1
        self.orders: dict[str, order_2.OrderStatus] = {}  # by chain_order_id
        self.received: list[webapi_2.ClientMsg] = []
        self.md_subscriptions: list[tuple[int, int]] = []
        self.trade_sub_ids: list[int] = []
        self.order_requests = 0
        self._ids = itertools.count(1)
        self._trans = itertools.count(1)
        self.logged_on = anyio.Event()
        self.got_message = anyio.Event()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def settings(self, **extra: Any) -> dict[str, Any]:
        table: dict[str, Any] = {
            "url": self.url,
            "user": USER,
            "password": Secret(PASSWORD),
            "backoff_initial": 0.01,
            "backoff_max": 0.05,
            "backoff_seed": 7,
            "request_timeout": 5.0,
        }
        table.update(extra)
        return table

    # -- sending ----------------------------------------------------------------

    async def broadcast(self, msg: ServerMsg) -> None:
        for ws in list(self.connections):
            with suppress(ConnectionClosed):
                await ws.send(encode_server(msg))

    async def send_raw(self, data: bytes) -> None:
        for ws in list(self.connections):
            with suppress(ConnectionClosed):
                await ws.send(data)

    async def fill(self, chain: str, qty: int, *, status: int = _OS.FILLED) -> None:
        """A hostile venue: report a fill of ``qty`` on the order ``chain``, whatever its
        quantity or state (an overfill, a fill after a cancel)."""
        order = order_2.Order()
        order.CopyFrom(self.orders[chain].order)
        out = ServerMsg()
        out.order_statuses.append(self._status(order, status, _TS.FILL, chain=chain, fill=qty))
        await self.broadcast(out)

    async def drop_all(self) -> None:
        for ws in list(self.connections):
            await ws.close()

    async def quote(self, *, bid: int, ask: int, trade: int | None = None, size: int = 1) -> None:
        msg = ServerMsg()
        data = msg.real_time_market_data.add(contract_id=self.contract_id)
        if trade is not None:
            q = data.quotes.add(type=0, scaled_price=trade, quote_utc_time=1000)
            qty_to_cqg(size, q.volume)
        for kind, price in ((1, bid), (2, ask)):
            q = data.quotes.add(type=kind, scaled_price=price)
            qty_to_cqg(size, q.volume)
        await self.broadcast(msg)

    # -- serving ----------------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        try:
            async for frame in ws:
                assert isinstance(frame, bytes)
                msg = decode_client(frame)
                self.received.append(msg)
                self.got_message.set()
                self.got_message = anyio.Event()
                out = self.answer(msg)
                if out is not None:
                    await ws.send(encode_server(out))
                if msg.HasField("logoff"):
                    await ws.close()
        except ConnectionClosed:
            pass
        finally:
            self.connections.remove(ws)

    def answer(self, msg: webapi_2.ClientMsg) -> ServerMsg | None:
        out = ServerMsg()
        if msg.HasField("logon"):
            ok = msg.logon.user_name == USER and msg.logon.password == PASSWORD
            out.logon_result.result_code = 0 if ok else 101
            out.logon_result.base_time = BASE
            out.logon_result.protocol_version_major = 2
            out.logon_result.protocol_version_minor = 230
            out.logon_result.server_time = 0
            if ok:
                self.logons += 1
                self.contract_id = self.logons  # contract ids change with every logon
                out.logon_result.session_token = f"token{self.logons}"
                self.logged_on.set()
            else:
                out.logon_result.text_message = "bad credentials"
        if msg.HasField("restore_or_join_session"):
            ok = self.allow_restore and msg.restore_or_join_session.session_token.startswith(
                "token"
            )
            result = out.restore_or_join_session_result
            result.result_code = 0 if ok else 101
            result.base_time = BASE
            result.server_time = 0
            self.restores += ok
        if msg.HasField("logoff"):
            out.logged_off.logoff_reason = 1
        if msg.HasField("ping") and self.answer_pings:
            out.pong.token = msg.ping.token
            out.pong.ping_utc_time = msg.ping.ping_utc_time
            out.pong.pong_utc_time = msg.ping.ping_utc_time
        for info in msg.information_requests:
            self._information(info, out)
        for md in msg.market_data_subscriptions:
            self.md_subscriptions.append((md.contract_id, md.level))
            out.market_data_subscription_statuses.add(
                contract_id=md.contract_id, status_code=0, level=md.level, request_id=md.request_id
            )
            if md.level:
                data = out.real_time_market_data.add(
                    contract_id=md.contract_id, is_snapshot=True, correct_price_scale=0.25
                )
                q = data.quotes.add(type=1, scaled_price=18000)
                qty_to_cqg(3, q.volume)
                q = data.quotes.add(type=2, scaled_price=18001)
                qty_to_cqg(4, q.volume)
        for sub in msg.trade_subscriptions:
            if not sub.subscribe:
                continue
            self.trade_sub_ids.append(sub.id)
            out.trade_subscription_statuses.add(id=sub.id, status_code=0)
            for status in self.orders.values():
                snap = out.order_statuses.add()
                snap.CopyFrom(status)
                del snap.subscription_ids[:]
                snap.subscription_ids.append(sub.id)
                snap.is_snapshot = True
                del snap.transaction_statuses[:]
            out.trade_snapshot_completions.add(
                subscription_id=sub.id, subscription_scopes=list(sub.subscription_scopes)
            )
        for request in msg.order_requests:
            self.order_requests += 1
            if not self.stall_orders:
                self._order(request, out)
        return out if out.ByteSize() else None

    def _information(self, info: webapi_2.InformationRequest, out: ServerMsg) -> None:
        report = out.information_reports.add(id=info.id, status_code=0)
        if info.HasField("accounts_request"):
            brokerage = report.accounts_report.brokerages.add(id=1, name="Broker")
            series = brokerage.sales_series.add(number="1", name="S")
            series.accounts.add(
                account_id=ACCOUNT,
                brokerage_account_number="B1",
                name="Main",
                last_statement_date=0,
            )
        elif info.HasField("symbol_resolution_request"):
            if info.symbol_resolution_request.symbol != "EP":
                report.status_code = 104
                report.text_message = "unknown symbol"
                return
            self._metadata(report.symbol_resolution_report.contract_metadata)
        elif info.HasField("contract_metadata_request"):
            self._metadata(report.contract_metadata_report.contract_metadata)
        elif info.HasField("order_status_request"):
            found = self.orders.get(info.order_status_request.chain_order_id)
            if found is None:
                report.status_code = 104
            else:
                report.order_status_report.order_status.CopyFrom(found)
        elif info.HasField("historical_orders_request"):
            for status in self.orders.values():
                report.historical_orders_report.order_statuses.add().CopyFrom(status)

    def _metadata(self, md: Any) -> None:
        md.contract_id = self.contract_id
        md.contract_symbol = CONTRACT_SYMBOL
        md.correct_price_scale = 0.25
        md.display_price_scale = 2
        md.description = "E-mini S&P 500"
        md.title = "ES Dec 25"
        md.tick_size = 0.25
        md.currency = "USD"
        md.tick_value = 12.5
        md.cfi_code = "FFICSX"
        md.instrument_group_name = "EP"
        md.session_info_id = 1
        md.short_instrument_group_name = "EP"
        md.instrument_group_description = "ES"
        md.country_code = "US"

    def _status(
        self,
        order: order_2.Order,
        status: int,
        trans: int,
        *,
        chain: str,
        fill: int = 0,
        fill_price: int = 18000,
    ) -> order_2.OrderStatus:
        result = order_2.OrderStatus(
            status=status,
            order_id=f"o{next(self._ids)}",
            chain_order_id=chain,
            fill_cnt=1 if fill else 0,
            scaled_avg_fill_price=fill_price if fill else 0,
            avg_fill_price_correct=fill_price * 0.25 if fill else 0.0,
            entered_by_user=USER,
            first_statement_date=0,
            account_id=order.account_id,
        )
        result.subscription_ids.extend(self.trade_sub_ids[-1:])
        ns_to_timestamp(1_735_776_000_000_000_000, result.status_utc_timestamp)
        ns_to_timestamp(1_735_776_000_000_000_000, result.submission_utc_timestamp)
        result.order.CopyFrom(order)
        qty_to_cqg(fill, result.fill_qty)
        t = result.transaction_statuses.add(
            status=trans, trans_id=next(self._trans), cl_order_id=order.cl_order_id
        )
        ns_to_timestamp(1_735_776_000_000_000_000, t.trans_utc_timestamp)
        if fill:
            qty_to_cqg(fill, t.fill_qty)
            t.scaled_fill_price = fill_price
        self.orders[chain] = result
        return result

    def _order(self, request: order_2.OrderRequest, out: ServerMsg) -> None:
        if request.HasField("new_order"):
            order = order_2.Order()
            order.CopyFrom(request.new_order.order)
            if order.order_type == 1:  # MKT fills at once at 18000 (4500.00)
                qty = order.qty.significand
                status = self._status(
                    order, _OS.FILLED, _TS.FILL, chain=order.cl_order_id, fill=qty
                )
                out.order_statuses.append(status)
                return
            out.order_statuses.append(
                self._status(order, _OS.WORKING, _TS.ACK_PLACE, chain=order.cl_order_id)
            )
        elif request.HasField("modify_order"):
            mod = request.modify_order
            chain = self._chain(mod.order_id)
            if chain is None:
                out.order_request_rejects.add(request_id=request.request_id, reject_code=1)
                return
            order = order_2.Order()
            order.CopyFrom(self.orders[chain].order)
            order.cl_order_id = mod.cl_order_id
            if mod.HasField("scaled_limit_price"):
                order.scaled_limit_price = mod.scaled_limit_price
            if mod.HasField("qty"):
                order.qty.CopyFrom(mod.qty)
            status = self._status(order, _OS.WORKING, _TS.ACK_MODIFY, chain=chain)
            status.transaction_statuses[0].orig_cl_order_id = mod.orig_cl_order_id
            out.order_statuses.append(status)
        elif request.HasField("cancel_order"):
            cancel = request.cancel_order
            chain = self._chain(cancel.order_id)
            if chain is None:
                out.order_request_rejects.add(request_id=request.request_id, reject_code=1)
                return
            order = order_2.Order()
            order.CopyFrom(self.orders[chain].order)
            order.cl_order_id = cancel.cl_order_id
            status = self._status(order, _OS.CANCELLED, _TS.ACK_CANCEL, chain=chain)
            status.transaction_statuses[0].orig_cl_order_id = cancel.orig_cl_order_id
            out.order_statuses.append(status)
        elif request.HasField("cancel_all_orders"):
            ack = out.order_request_acks.add(request_id=request.request_id)
            ns_to_timestamp(1_735_776_000_000_000_000, ack.when)
            for chain, status in list(self.orders.items()):
                if status.status == _OS.WORKING:
                    order = order_2.Order()
                    order.CopyFrom(status.order)
                    out.order_statuses.append(
                        self._status(order, _OS.CANCELLED, _TS.ACK_CANCEL, chain=chain)
                    )

    def _chain(self, order_id: str) -> str | None:
        for chain, status in self.orders.items():
            if status.order_id == order_id:
                return chain
        return None


@asynccontextmanager
async def fake_server() -> AsyncIterator[FakeCqgServer]:
    server = FakeCqgServer()
    async with serve(server.handler, "127.0.0.1", 0, compression=None, ping_interval=None) as ws:
        port = next(iter(ws.sockets)).getsockname()[1]
        server.port = port
        yield server


def settings_for(server: FakeCqgServer, **extra: Any) -> CqgSettings:
    from ec_cqg.client.config import parse_cqg_settings

    return parse_cqg_settings(server.settings(**extra))


__all__ = [
    "ACCOUNT",
    "FakeCqgServer",
    "ServerMsg",
    "fake_server",
    "settings_for",
    "trade_routing_2",
]


@asynccontextmanager
async def cqg_session_on(venue: MockVenue, user: str, password: str) -> AsyncIterator[Any]:
    """ec's cqg client, logged on to the CQG-dialect server serving ``venue`` on loopback."""
    from ec_core.plugins import PluginHost
    from ec_cqg.server import CqgDialect
    from ec_mock.dialects import ServeOptions

    options = ServeOptions(user=user, password=Secret(password))
    async with CqgDialect(announce=lambda _: None).serve(venue, options) as endpoint:
        settings = {"url": endpoint.url, "user": user, "password": Secret(password)}
        async with PluginHost.load().open_session("cqg", settings) as session:
            yield session
