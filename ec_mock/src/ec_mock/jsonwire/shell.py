"""The I/O shell of the ``json`` dialect: a websockets server around :class:`JsonServerCore`.

One task per connection feeds each frame to its :class:`JsonConnection`; a writer task
sends what the core queued whenever it signals output. While the connection is
:attr:`~JsonConnection.backed_up` the reader reads nothing more, so a client that does
not read cannot make the server queue for it without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, final

import anyio

from ec_mock.dialects import Endpoint
from ec_mock.jsonwire.core import Credentials, JsonServerCore
from ec_mock.wire_shell import server_tls_context, shut_down, write_queued

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from ec_mock.vendor.venue import MockVenue

__all__ = ["JsonServer"]

MAX_FRAME_BYTES = 64 * 1024  # a request is a few hundred bytes


@final
class JsonServer:
    """Serves ``venue`` in the ``json`` dialect on ``host``:``port`` (0: any free port)."""

    def __init__(
        self,
        venue: MockVenue,
        accepts: Credentials,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.venue = venue
        self.accepts = accepts
        self.core: JsonServerCore | None = None

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[Endpoint]:
        """Bind, serve until the block exits, then close every connection. Cancel-safe."""
        from websockets.asyncio.server import serve

        context = server_tls_context(self.tls)
        scheme = "ws" if context is None else "wss"
        core = self.core = JsonServerCore(self.venue, self.accepts)
        try:
            async with serve(
                self._handle,
                self.host,
                self.port,
                ssl=context,
                max_size=MAX_FRAME_BYTES,
                compression=None,
            ) as server:
                port = int(next(iter(server.sockets)).getsockname()[1])
                yield Endpoint(url=f"{scheme}://{self.host}:{port}", host=self.host, port=port)
                core.close()
                await shut_down(server)
        finally:
            core.close()

    async def _handle(self, websocket: ServerConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        core = self.core
        if core is None:  # pragma: no cover - serve() starts after the core exists
            return
        connection = core.connect()
        wake = asyncio.Event()
        drained = asyncio.Event()

        def on_output() -> None:
            wake.set()
            if connection.drop_requested:
                websocket.transport.abort()

        connection.on_output = on_output
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(write_queued, websocket, connection, wake, drained)
                try:
                    async for frame in websocket:
                        connection.receive(frame)
                        while connection.backed_up and not connection.closed:
                            drained.clear()
                            await drained.wait()
                        if connection.closed or connection.close_requested:
                            break
                except ConnectionClosed:
                    pass
                if not connection.close_requested:
                    tasks.cancel_scope.cancel()
        finally:
            connection.connection_lost()
