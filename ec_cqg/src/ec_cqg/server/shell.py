"""The thin I/O shell: a websockets asyncio server around the Sans-I/O ``CqgServerCore``.

With ``tls`` (certificate chain and key, PEM) it serves ``wss://`` (TLS 1.2 or later).

One task per connection reads binary messages into its :class:`ConnectionCore`; a writer
sends what the core queued whenever it signals output. While the core's outbound queue is
half full (:attr:`ConnectionCore.backed_up`) the reader reads nothing more, so a peer that
does not read cannot make the server work for it; a line the core drops (outbound bound
hit, fault plan) is aborted at once, even mid-send. A connection over the server's caps
(:meth:`CqgServerCore.refusal`) is closed with 1013 (try again later) before any frame.

The server never uses WebSocket control pings (``ping_interval=None``): like CQG's
servers it pings with the protocol's own ``ping``/``pong`` messages. A fault plan's
disconnect aborts the transport without a close frame, as a broken line would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, final

import anyio
from ec_mock.wire_shell import server_tls_context, shut_down, write_queued

from ec_cqg.server.config import ServerConfig
from ec_cqg.server.core import CqgServerCore, Credentials

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
        context = server_tls_context(self.tls)
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
                # Numbered now, in the venue's order, so the ids printed are the ones a
                # logon gets (the directory never renumbers an account).
                accounts = {
                    name: str(self.core.accounts.id_of(name))
                    for name in self.core.visible_accounts()
                }
                yield Endpoint(
                    url=f"{scheme}://{self.host}:{port}",
                    host=self.host,
                    port=port,
                    accounts=accounts,
                )
                self.core.close()
                await shut_down(server)
        finally:
            self.core.close()

    async def _handle(self, websocket: ServerConnection) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.frames import CloseCode

        self.accepted += 1
        peer = websocket.remote_address
        address = str(peer[0]) if peer else ""
        refusal = self.core.refusal(address)
        if refusal is not None:
            await websocket.close(CloseCode.TRY_AGAIN_LATER, refusal)
            return
        connection = self.core.connect(address=address)
        wake = asyncio.Event()
        drained = asyncio.Event()

        def on_output() -> None:
            wake.set()
            if connection.drop_requested:  # now, even while a send waits for the peer
                websocket.transport.abort()

        connection.on_output = on_output
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(write_queued, websocket, connection, wake, drained)
                try:
                    async for message in websocket:
                        if isinstance(message, str):
                            connection.receive_text(message)
                        else:
                            connection.receive(message)
                        while connection.backed_up and not connection.closed:
                            drained.clear()  # read no more until the writer catches up
                            await drained.wait()
                except ConnectionClosed:
                    pass
                tasks.cancel_scope.cancel()
        finally:
            connection.connection_lost()
