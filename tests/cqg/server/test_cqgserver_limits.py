"""Limits of the CQG-dialect server against hostile or careless clients (issue 11, 3/5/7).

Where the defect was on the socket (pipelined frames, a peer that never reads, connection
floods) the test uses a real server and real sockets on 127.0.0.1; the rest drives the
Sans-I/O core with a manual clock.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from cqgserver_support import (
    PASSWORD,
    USER,
    Client,
    make_server,
    make_venue,
)
from ec_core.secrets import Secret
from ec_cqg.protocol.codec import decode_server, encode_client
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, user_session_2
from ec_cqg.server import CqgDialect, ServerConfig
from ec_cqg.server.core import CqgServerCore
from ec_mock.dialects import ServeOptions
from ec_mock.vendor import MockVenue
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

_LR = user_session_2.LogonResult
_RR = user_session_2.RestoreOrJoinSessionResult
_S = 1_000_000_000


def _logon_msg(user: str = USER, password: str = PASSWORD, **fields: Any) -> ClientMsg:
    msg = ClientMsg()
    msg.logon.user_name = user
    msg.logon.password = password
    msg.logon.client_app_id = "WebApiTest"
    msg.logon.client_version = "limits-test"
    msg.logon.session_settings.append(user_session_2.Logon.SESSION_SETTING_ALLOW_SESSION_RESTORE)
    for name, value in fields.items():
        setattr(msg.logon, name, value)
    return msg


@asynccontextmanager
async def _served(
    venue: MockVenue, config: ServerConfig
) -> AsyncIterator[tuple[str, CqgServerCore]]:
    dialect = CqgDialect(config=config, announce=lambda _: None)
    options = ServeOptions(user=USER, password=Secret(PASSWORD))
    async with dialect.serve(venue, options) as endpoint:
        yield endpoint.url, dialect.servers[0].core
    venue.check()


async def _read_until_closed(ws: ClientConnection) -> list[ServerMsg]:
    received: list[ServerMsg] = []
    with anyio.fail_after(10):
        try:
            while True:
                frame = await ws.recv()
                assert isinstance(frame, bytes)
                received.append(decode_server(frame, strict=True))
        except ConnectionClosed:
            return received


# -- 5: a refused logon closes the connection; failures back off ---------------------


@pytest.mark.anyio
async def test_frames_pipelined_after_a_refused_logon_are_not_evaluated() -> None:
    async with _served(make_venue(market=False), ServerConfig()) as (url, core):
        async with connect(url) as ws:
            await ws.send(encode_client(_logon_msg(password="wrong")))
            await ws.send(encode_client(_logon_msg()))  # sent before the refusal arrives
            received = await _read_until_closed(ws)
        results = [m.logon_result.result_code for m in received if m.HasField("logon_result")]
        assert results == [_LR.RESULT_CODE_FAILURE]
        assert core.counters["logon_refused"] == 1
        assert len(core.sessions) == 0


def _try(server: CqgServerCore, user: str, password: str, address: str) -> ServerMsg:
    return Client(server, address=address).logon(user, password)


def test_failed_logons_back_off_per_user_and_per_address() -> None:
    venue = make_venue(market=False)
    config = ServerConfig(logon_free_failures=3, logon_backoff_ns=_S, logon_backoff_max_ns=4 * _S)
    server = make_server(venue, config=config)
    clock: Any = venue.clock
    for _ in range(4):  # three free failures, the fourth blocks for 1 s
        answer = _try(server, USER, "wrong", "10.0.0.1")
        assert answer.logon_result.text_message == "invalid user name or password"
    clock.advance(_S // 2)
    refused = _try(server, USER, PASSWORD, "10.0.0.9").logon_result  # the right password
    assert refused.result_code == _LR.RESULT_CODE_FAILURE
    assert refused.text_message == "too many failed logons: retry in 0.5 s"
    other_user = _try(server, "bob", "x", "10.0.0.1").logon_result  # same address
    assert other_user.text_message.startswith("too many failed logons")
    assert server.counters["logon_throttled"] == 2
    clock.advance(_S // 2)
    assert _try(server, USER, PASSWORD, "10.0.0.9").logon_result.result_code == 0
    # a success clears the user; the address keeps its own record until it succeeds
    assert server.throttle.retry_at(USER, "", clock.now_ns()) is None
    assert server.counters["logon_refused"] == 6


def test_backoff_doubles_and_is_capped() -> None:
    venue = make_venue(market=False)
    config = ServerConfig(logon_free_failures=1, logon_backoff_ns=_S, logon_backoff_max_ns=3 * _S)
    server = make_server(venue, config=config)
    clock: Any = venue.clock
    waits = []
    for _ in range(4):
        _try(server, USER, "wrong", "")
        retry_at = server.throttle.retry_at(USER, "", clock.now_ns())
        waits.append(0 if retry_at is None else retry_at - clock.now_ns())
        clock.advance(waits[-1])
    assert waits == [0, _S, 2 * _S, 3 * _S]


# -- 7: forced logoff, logon deadline, connection caps ---------------------------------


def test_a_forcibly_logged_off_session_cannot_be_restored() -> None:
    server = make_server(make_venue(market=False))
    first = Client(server)
    first.logon()
    second = Client(server)
    assert second.logon(drop_concurrent_session=True).logon_result.result_code == 0
    (notice,) = first.collect()
    assert notice.logged_off.logoff_reason == user_session_2.LoggedOff.LOGOFF_REASON_FORCED
    restore = ClientMsg()
    restore.restore_or_join_session.session_token = first.token
    (answer,) = Client(server).send(restore)
    assert answer.restore_or_join_session_result.result_code == _RR.RESULT_CODE_UNKNOWN_SESSION


def test_a_connection_without_logon_is_closed_at_the_deadline() -> None:
    venue = make_venue(market=False)
    server = make_server(venue, config=ServerConfig(logon_timeout_ns=10 * _S))
    idle = Client(server)
    logged_on = Client(server)
    logged_on.logon()
    venue.advance(10 * _S - 1)
    closing = [idle.connection.close_requested]
    venue.advance(1)
    closing.append(idle.connection.close_requested)
    assert closing == [False, True]
    (notice,) = idle.collect()
    assert notice.user_messages[0].subject == "logon timeout"
    assert not logged_on.connection.close_requested
    assert server.counters["logon_timeout"] == 1


def test_connections_are_capped_in_total() -> None:
    server = make_server(make_venue(market=False), config=ServerConfig(max_connections=2))
    Client(server, address="10.0.0.1")
    assert server.refusal("10.0.0.2") is None
    Client(server, address="10.0.0.2")
    assert server.refusal("10.0.0.3") == "server full: 2 connections"
    assert server.counters["connection_refused"] == 1


@pytest.mark.anyio
async def test_connections_from_one_address_are_capped_on_a_real_socket() -> None:
    config = ServerConfig(max_connections_per_address=2)
    async with _served(make_venue(market=False), config) as (url, core):
        async with connect(url) as one, connect(url) as two, connect(url) as three:
            with anyio.fail_after(10), pytest.raises(ConnectionClosed) as closed:
                await three.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1013
            assert "2 connections from 127.0.0.1" in closed.value.rcvd.reason
            await one.send(encode_client(_logon_msg()))
            frame = await one.recv()
            assert isinstance(frame, bytes)
            answer = decode_server(frame, strict=True)
            assert answer.logon_result.result_code == 0
            assert two.state.name == "OPEN"
        assert core.counters["connection_refused"] == 1


# -- 3: bounded outbound, bounded ping tokens, no reading for a backed-up peer -------


def test_a_ping_token_over_the_bound_is_not_echoed() -> None:
    server = make_server(make_venue(market=False), config=ServerConfig(max_ping_token_bytes=64))
    client = Client(server)
    ping = ClientMsg()
    ping.ping.token = "x" * 65
    ping.ping.ping_utc_time = 1
    (answer,) = client.send(ping)
    assert not answer.HasField("pong")
    assert answer.user_messages[0].subject == "malformed message ignored"
    ping.ping.token = "x" * 64
    (answer,) = client.send(ping)
    assert answer.pong.token == "x" * 64


class _DeafPeer:
    """A WebSocket client on a plain socket that never reads after the handshake."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sent = 0

    @classmethod
    async def open(cls, url: str) -> _DeafPeer:
        host, port = url.removeprefix("ws://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            await loop.sock_connect(sock, (host, int(port)))
            key = base64.b64encode(b"0123456789abcdef").decode()
            request = (
                f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            )
            await loop.sock_sendall(sock, request.encode())
            head = b""
            with anyio.fail_after(10):
                while b"\r\n\r\n" not in head:
                    head += await loop.sock_recv(sock, 1)  # byte by byte: no frame read
            assert head.startswith(b"HTTP/1.1 101"), head
        except BaseException:
            sock.close()  # a failed handshake leaks no socket into a later test's warnings
            raise
        return cls(sock)

    async def send(self, msg: ClientMsg) -> None:
        frame = Frame(Opcode.BINARY, encode_client(msg)).serialize(mask=True, extensions=[])
        await asyncio.get_running_loop().sock_sendall(self.sock, frame)
        self.sent += 1

    def close(self) -> None:
        self.sock.close()


@pytest.mark.anyio
async def test_a_peer_that_never_reads_is_dropped_at_the_outbound_bound() -> None:
    """Another session trades on the account; the stuck subscriber is cut at the bound."""
    bound = 32 * 1024
    venue = make_venue(market=False)
    async with _served(venue, ServerConfig(max_outbound_bytes=bound)) as (url, core):
        peer = await _DeafPeer.open(url)
        try:
            await peer.send(_logon_msg())
            subscribe = ClientMsg()
            subscribe.trade_subscriptions.add(id=7, subscribe=True, subscription_scopes=[1])
            await peer.send(subscribe)
            with anyio.fail_after(10):
                while not core.sessions.live() or not core.sessions.live()[0].trade_subs:
                    await anyio.lowlevel.checkpoint()
            (connection,) = core.connections
            session = core.sessions.live()[0]
            trader = Client(core)
            trader.logon()  # a second session of the same user, read as it goes
            account_id, contract_id = trader.account_id(), trader.contract_id("EP")
            largest = 0
            for n in range(50_000):
                trader.new_order(
                    account_id=account_id, contract_id=contract_id, cl_order_id=f"o{n}"
                )
                await anyio.lowlevel.checkpoint()
                largest = max(largest, connection.queued_bytes)  # type: ignore[attr-defined]
                if core.counters["outbound_overflow"]:
                    break
            assert core.counters["outbound_overflow"] == 1
            assert largest <= bound
            assert connection not in core.connections
            assert session.connection is None  # detached, restorable by its token
            assert core.sessions.get(session.token) is session
            assert trader.connection in core.connections  # the reading client is untouched
        finally:
            peer.close()


@pytest.mark.anyio
async def test_the_server_stops_reading_from_a_peer_whose_output_is_backed_up() -> None:
    bound = 32 * 1024
    pings = 200_000
    config = ServerConfig(max_outbound_bytes=bound)
    async with _served(make_venue(market=False), config) as (url, core):
        peer = await _DeafPeer.open(url)
        ping = ClientMsg()
        ping.ping.token = "t" * 64
        ping.ping.ping_utc_time = 1

        async def flood() -> None:
            for _ in range(pings):
                await peer.send(ping)

        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(flood)
                with anyio.fail_after(10):
                    while not core.connections:
                        await anyio.lowlevel.checkpoint()
                (connection,) = core.connections
                still, last = 0, -1
                for _ in range(300_000):
                    await anyio.lowlevel.checkpoint()
                    read = connection.frames_in  # type: ignore[attr-defined]
                    still = still + 1 if read == last else 0
                    last = read
                    if still >= 2_000 or peer.sent == pings:
                        break
                assert peer.sent < pings, "the server read every ping of a peer that reads nothing"
                assert connection.queued_bytes <= bound  # type: ignore[attr-defined]
                assert connection.frames_in < pings  # type: ignore[attr-defined]
                tasks.cancel_scope.cancel()
        finally:
            peer.close()
