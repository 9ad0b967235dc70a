"""``ec_core.link.Link`` over a real WebSocket on 127.0.0.1: requests and their answers,
deadlines, late and unknown answers, malformed frames, a lost line and a closed one.

The venue is a small ``websockets`` server whose handler the test chooses: it answers
``"N:text"`` with ``"N:TEXT"``, keeps quiet on ``"N:quiet"`` and closes on ``"N:bye"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from ec_core.errors import ConnectionLostError, RequestTimeoutError
from ec_core.link import Frame, Link, Transport
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

pytestmark = pytest.mark.anyio


async def venue(websocket: ServerConnection) -> None:
    async for frame in websocket:
        assert isinstance(frame, str)
        key, _, text = frame.partition(":")
        if text == "bye":
            return  # the handler returns: the server closes the line
        if text == "garbage":
            await websocket.send("no colon here")
        if text != "quiet":
            await websocket.send(f"{key}:{text.upper()}")


@asynccontextmanager
async def served() -> AsyncIterator[str]:
    async with serve(venue, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


class Client:
    """A link and the mapping a plugin would write: ``N:TEXT`` answers request ``N``."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.losses: list[str] = []
        self.link: Link[int, str] = Link(timeout=timeout, on_lost=self.losses.append)
        self.lost = anyio.Event()

    def handle(self, frame: Frame) -> None:
        assert isinstance(frame, str)
        key, sep, text = frame.partition(":")
        if not sep:
            raise ValueError(f"not a reply: {frame!r}")
        self.link.answer(int(key), text)

    def on_lost(self, reason: str) -> None:
        self.losses.append(reason)
        self.lost.set()

    async def open(self, url: str) -> None:
        self.link = Link(timeout=self.link.timeout, on_lost=self.on_lost)
        opener: Callable[[], Awaitable[Transport]] = lambda: connect(url)  # noqa: E731
        await self.link.open(opener, self.handle)


async def test_a_request_gets_its_answer_and_the_link_closes_quietly() -> None:
    async with served() as url:
        client = Client()
        await client.open(url)
        assert await client.link.request(1, "1:hello") == "HELLO"
        assert await client.link.request(2, "2:again") == "AGAIN"
        await client.link.aclose()
        await client.link.aclose()  # idempotent
        assert client.losses == []  # closing is not losing
        with pytest.raises(ConnectionLostError):
            await client.link.send("3:after")


async def test_no_answer_in_time_is_a_timeout_and_the_late_answer_a_dead_letter() -> None:
    async with served() as url:
        client = Client(timeout=0.05)
        await client.open(url)
        with pytest.raises(RequestTimeoutError):
            await client.link.request(1, "1:quiet")
        assert client.link.answer(1, "LATE") is False
        assert client.link.answer(99, "WHO") is False
        assert client.link.dead_letters.counts == {"late": 1, "unknown": 1, "total": 2}
        await client.link.aclose()


async def test_a_frame_the_mapping_cannot_read_is_counted_and_the_line_goes_on() -> None:
    async with served() as url:
        client = Client()
        await client.open(url)
        assert await client.link.request(1, "1:garbage") == "GARBAGE"
        assert client.link.malformed == 1
        await client.link.aclose()


async def test_a_dropped_line_fails_what_waits_and_is_told_once() -> None:
    async with served() as url:
        client = Client()
        await client.open(url)
        with pytest.raises(ConnectionLostError):
            await client.link.request(1, "1:bye")
        await client.lost.wait()
        assert len(client.losses) == 1
        assert client.link.lost is not None
        assert not client.link.is_open
        with pytest.raises(ConnectionLostError, match="the line is down"):
            await client.link.request(2, "2:anyone")
        await client.link.aclose()
        assert len(client.losses) == 1


async def test_a_request_the_mapping_fails_raises_its_error() -> None:
    async with served() as url:
        client = Client()
        await client.open(url)

        def refuse(frame: Frame) -> None:
            client.link.fail(1, PermissionError("refused"))

        client.handle = refuse  # type: ignore[method-assign]
        await client.link.aclose()
        client.link = Link(timeout=5.0, on_lost=client.on_lost)
        await client.link.open(lambda: connect(url), refuse)
        with pytest.raises(PermissionError, match="refused"):
            await client.link.request(1, "1:x")
        assert client.link.fail(1, PermissionError("again")) is False  # nobody waits now
        await client.link.aclose()


async def test_a_venue_that_cannot_be_reached_is_a_connection_lost_error() -> None:
    async with served() as url:
        pass  # the port is free again
    link: Link[int, str] = Link(timeout=1.0, on_lost=lambda reason: None)
    with pytest.raises(ConnectionLostError, match="cannot connect"):
        await link.open(lambda: connect(url), lambda frame: None)


def test_a_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Link[int, str](timeout=0, on_lost=lambda reason: None)
