"""A bare client of the ``json`` dialect for its tests: the real ``websockets`` client on
127.0.0.1, a JSON object per text frame, and a deadline on every wait (never a sleep)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from websockets.asyncio.client import ClientConnection, connect

Message = dict[str, Any]
WAIT = 5.0  # seconds: a safety net, never waited out when the server answers


class Client:
    """Sends requests numbered 1, 2, ... and keeps every message it read."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.seen: list[Message] = []
        self._next = 0
        self._req = 0

    async def send_raw(self, frame: str | bytes) -> None:
        await self.websocket.send(frame)

    async def ask(self, op: str, **fields: Any) -> Message:
        """Send ``op`` with a fresh ``req`` and return the answer carrying it."""
        self._req += 1
        req = self._req
        await self.websocket.send(json.dumps({"op": op, "req": req, **fields}))
        return await self.wait(lambda m: m.get("req") == req, f"the answer to {op} #{req}")

    async def wait(self, matches: Callable[[Message], bool], what: str) -> Message:
        """The next message (after those already taken) that ``matches``."""
        with anyio.fail_after(WAIT):
            while True:
                while self._next < len(self.seen):
                    message = self.seen[self._next]
                    self._next += 1
                    if matches(message):
                        return message
                frame = await self.websocket.recv()
                self.seen.append(json.loads(frame))
        raise AssertionError(what)  # pragma: no cover - fail_after raises first

    async def order(self, order_id: str, exec_: str) -> Message:
        return await self.wait(
            lambda m: m.get("ev") == "order" and m["id"] == order_id and m["exec"] == exec_,
            f"order {order_id} {exec_}",
        )


@asynccontextmanager
async def client(url: str, *, user: str = "u", password: str = "pw") -> AsyncIterator[Client]:
    """A logged-on client (``password=""``: connected, not logged on)."""
    async with connect(url) as websocket:
        opened = Client(websocket)
        if password:
            answer = await opened.ask("logon", user=user, password=password)
            assert answer["ev"] == "logon", answer
        yield opened
