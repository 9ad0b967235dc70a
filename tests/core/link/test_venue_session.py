"""``VenueSession``: the plumbing of a session over a socket, with a toy venue on 127.0.0.1.

The toy protocol: the client sends ``N:logon:PASSWORD`` and the venue answers ``N:ok`` or
``N:no``; ``N:bye`` makes the venue close the line. The toy session maps nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal

import anyio
import pytest
from ec_core.errors import AuthError, ConnectionLostError, SessionError
from ec_core.link import Frame, Transport
from ec_core.model import (
    ExecutionReport,
    Instrument,
    OrderRequest,
    SessionEvent,
    SessionEventKind,
    SessionState,
    SnapshotComplete,
)
from ec_core.venue_session import VenueSession
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

pytestmark = pytest.mark.anyio
S = SessionState


async def venue(websocket: ServerConnection) -> None:
    async for frame in websocket:
        assert isinstance(frame, str)
        key, _, text = frame.partition(":")
        if text == "bye":
            return
        await websocket.send(f"{key}:{'ok' if text == 'logon:pw' else 'no'}")


@asynccontextmanager
async def served() -> AsyncIterator[str]:
    async with serve(venue, "127.0.0.1", 0) as server:
        yield f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}"


class ToySession(VenueSession[int, str]):
    vendor = "toy"

    def __init__(self, url: str, password: str, moves: list[tuple[S, S]]) -> None:
        super().__init__(
            accounts=["T-1"], timeout=5.0, on_state=lambda old, new: moves.append((old, new))
        )
        self.url, self.password, self.req = url, password, 0

    async def ask(self, text: str) -> str:
        self.req += 1
        return await self.link.request(self.req, f"{self.req}:{text}")

    async def connect(self) -> Transport:
        return await connect(self.url)

    async def logon(self) -> None:
        if await self.ask(f"logon:{self.password}") != "ok":
            raise AuthError("refused", code="NO")

    def on_frame(self, frame: Frame) -> None:
        assert isinstance(frame, str)
        key, _, text = frame.partition(":")
        self.link.answer(int(key), text)

    async def resolve(self, symbol: str) -> Instrument:
        raise NotImplementedError

    async def send(self, request: OrderRequest) -> None:
        raise NotImplementedError

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        return None


async def test_a_refused_logon_closes_the_link_and_ends_closed() -> None:
    moves: list[tuple[S, S]] = []
    async with served() as url:
        session = ToySession(url, "wrong", moves)
        with pytest.raises(AuthError):
            async with session:
                pass
    assert moves == [(S.CREATED, S.CONNECTING), (S.CONNECTING, S.CLOSED)]
    assert not session.link.is_open


async def test_a_lost_line_disconnects_the_streams_and_closes_the_session() -> None:
    moves: list[tuple[S, S]] = []
    async with served() as url:
        with anyio.fail_after(5):
            async with ToySession(url, "pw", moves) as session:
                assert repr(session) == "<ToySession toy LOGGED_ON ('T-1',)>"
                assert [a.account_id for a in await session.accounts()] == ["T-1"]
                assert await session.positions("T-1") == []
                with pytest.raises(SessionError, match="UNKNOWN_ACCOUNT"):
                    await session.open_orders("T-2")
                with pytest.raises(SessionError, match="no market data"):
                    async with session.market_data.stream(
                        [Instrument(symbol="X", tick_size=Decimal(1))]
                    ):
                        pass
                with pytest.raises(SessionError, match="no order history"):
                    await session.historical_orders("T-1", datetime.now(), datetime.now())
                async with session.trades.stream("T-1") as events:
                    assert isinstance(await anext(events), SnapshotComplete)
                    with pytest.raises(ConnectionLostError):
                        await session.ask("bye")
                    lost = await anext(events)
                    assert isinstance(lost, SessionEvent)
                    assert lost.kind is SessionEventKind.DISCONNECTED
                    assert [e async for e in events] == []  # the stream ended
                assert session.state is S.CLOSED
                with pytest.raises(ConnectionLostError, match="CLOSED"):
                    await session.positions("T-1")
    assert moves[-1] == (S.LOGGED_ON, S.CLOSED)


def test_a_session_trades_at_least_one_account() -> None:
    with pytest.raises(ValueError, match="account"):
        VenueSession.__init__(ToySession.__new__(ToySession), accounts=[], timeout=1, on_state=None)
