"""A tiny JSON-lines dialect, registered from the tests to drive ``ec mock serve``.

One request per line, one answer per line:
``{"op": "logon", "user": .., "password": ..}`` -> ``{"ok": bool}``;
``{"op": "quote", "symbol": ..}`` -> the best quote in ticks;
``{"op": "order", "order": <NewOrder>}`` -> the order's status report after submit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
from anyio.abc import SocketAttribute, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream
from ec_core.model import NewOrder
from ec_core.plugins import hookimpl
from ec_mock.dialects import DialectRegistry, Endpoint, ServeOptions
from ec_mock.vendor import MockVenue


class JsonLinesDialect:
    name = "jsonl"
    description = "JSON lines over TCP (tests only)"

    @asynccontextmanager
    async def serve(self, venue: MockVenue, options: ServeOptions) -> AsyncIterator[Endpoint]:
        listener = await anyio.create_tcp_listener(local_host=options.host, local_port=options.port)
        port = listener.extra(SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as tasks:

            async def handle(stream: SocketStream) -> None:
                await _session(stream, venue, options)

            tasks.start_soon(listener.serve, handle)
            try:
                yield Endpoint(url=f"tcp://{options.host}:{port}", host=options.host, port=port)
            finally:
                tasks.cancel_scope.cancel()


async def _session(stream: SocketStream, venue: MockVenue, options: ServeOptions) -> None:
    reader = BufferedByteReceiveStream(stream)
    logged_on = False
    async with stream:
        while True:
            try:
                line = await reader.receive_until(b"\n", 65_536)
            except (anyio.EndOfStream, anyio.IncompleteRead):
                return
            request: dict[str, Any] = msgspec.json.decode(line)
            answer: object
            if request["op"] == "logon":
                logged_on = options.accepts(request["user"], request["password"])
                answer = {"ok": logged_on}
            elif not logged_on:
                answer = {"error": "not logged on"}
            elif request["op"] == "quote":
                answer = venue.exchange.best_quote(request["symbol"])
            elif request["op"] == "order":
                order = msgspec.convert(request["order"], NewOrder)
                venue.exchange.submit(order)
                answer = venue.exchange.order_status(order.account_id, order.cl_order_id)
            else:
                answer = {"error": f"unknown op {request['op']!r}"}
            await stream.send(msgspec.json.encode(answer) + b"\n")


@hookimpl
def ec_mock_add_dialects(dialects: DialectRegistry) -> None:
    dialects.add(JsonLinesDialect())
