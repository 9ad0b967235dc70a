"""The thin I/O shell: a websockets asyncio server around the Sans-I/O ``CqgServerCore``.

With ``tls`` (certificate chain and key, PEM) it serves ``wss://`` (TLS 1.2 or later).

One task per connection reads binary messages into its :class:`ConnectionCore`; a writer
sends what the core queued whenever it signals output. The server never uses WebSocket
control pings (``ping_interval=None``): like CQG's servers it pings with the protocol's
own ``ping``/``pong`` messages. A fault plan's disconnect aborts the transport without a
close frame, as a broken line would.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, final

import anyio

from ec_cqg.server.config import ServerConfig
from ec_cqg.server.core import ConnectionCore, CqgServerCore, Credentials

if TYPE_CHECKING:
    from ec_mock.dialects import Endpoint
    from ec_mock.faults import FaultPlan
    from ec_mock.vendor.venue import MockVenue
    from websockets.asyncio.server import ServerConnection

__all__ = ["CqgServer"]


@final
class CqgServer:
    """Serves ``venue`` in CQG WebAPI over WebSocket on ``host``:``port`` (0: any free port)."""

    def __init__(
        self,
        venue: MockVenue,
        accepts: Credentials,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
        config: ServerConfig | None = None,
        faults: FaultPlan | None = None,
        fault_seed: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.core = CqgServerCore(
            venue, accepts, config=config, faults=faults, fault_seed=fault_seed
        )
        self.accepted = 0

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[Endpoint]:
        """Bind, serve until the block exits, then close every connection. Cancel-safe."""
        from ec_mock.dialects import Endpoint
        from websockets.asyncio.server import serve

        config = self.core.config
        context = None
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(certfile=self.tls[0], keyfile=self.tls[1])
        scheme = "ws" if context is None else "wss"
        try:
            async with serve(
                self._handle,
                self.host,
                self.port,
                ssl=context,
                ping_interval=None,
                max_size=config.max_frame_bytes,
                compression=None,
            ) as server:
                port = int(next(iter(server.sockets)).getsockname()[1])
                yield Endpoint(url=f"{scheme}://{self.host}:{port}", host=self.host, port=port)
                self.core.close()
                server.close()
                with anyio.move_on_after(5):
                    await server.wait_closed()
        finally:
            self.core.close()

    async def _handle(self, websocket: ServerConnection) -> None:
        from websockets.exceptions import ConnectionClosed

        self.accepted += 1
        connection = self.core.connect()
        wake = asyncio.Event()
        connection.on_output = wake.set
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._write, websocket, connection, wake)
                try:
                    async for message in websocket:
                        if isinstance(message, str):
                            connection.receive_text(message)
                        else:
                            connection.receive(message)
                except ConnectionClosed:
                    pass
                tasks.cancel_scope.cancel()
        finally:
            connection.connection_lost()

    @staticmethod
    async def _write(
        websocket: ServerConnection, connection: ConnectionCore, wake: asyncio.Event
    ) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                await wake.wait()
                wake.clear()
                for frame in connection.data_to_send():
                    await websocket.send(frame)
                if connection.drop_requested:
                    websocket.transport.abort()
                    return
                if connection.close_requested:
                    await websocket.close()
                    return
        except ConnectionClosed:
            return
