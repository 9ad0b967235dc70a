"""The websockets parts every dialect server's I/O shell shares: TLS context, writer, shutdown.

A dialect's Sans-I/O connection core queues frames and raises ``close_requested`` /
``drop_requested``; :func:`write_queued` sends what it queued whenever it signals output,
so the ``json`` shell and the CQG-dialect shell (``ec_cqg.server.shell``) write, close and
drop a line the same way.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import anyio

if TYPE_CHECKING:
    from websockets.asyncio.server import Server, ServerConnection

__all__ = ["QueuedConnection", "server_tls_context", "shut_down", "write_queued"]


class QueuedConnection(Protocol):
    """What :func:`write_queued` needs of a dialect's connection core."""

    @property
    def close_requested(self) -> bool: ...

    @property
    def drop_requested(self) -> bool: ...

    def data_to_send(self) -> Sequence[str | bytes]: ...

    def connection_lost(self) -> None: ...


def server_tls_context(tls: tuple[Path, Path] | None) -> ssl.SSLContext | None:
    """A TLS 1.2+ server context from (certificate chain, key) PEM files; None serves plain ws."""
    if tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=tls[0], keyfile=tls[1])
    return context


async def shut_down(server: Server) -> None:
    """Close ``server``, wait up to 5 s, then abort connections stuck on a peer that won't read."""
    server.close()
    with anyio.move_on_after(5):
        await server.wait_closed()
    for websocket in server.connections:
        websocket.transport.abort()


async def write_queued(
    websocket: ServerConnection,
    connection: QueuedConnection,
    wake: asyncio.Event,
    drained: asyncio.Event,
) -> None:
    """Send what ``connection`` queued whenever ``wake`` is set; set ``drained`` per batch."""
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            await wake.wait()
            wake.clear()
            for frame in connection.data_to_send():
                await websocket.send(frame)
            drained.set()
            if connection.drop_requested:
                websocket.transport.abort()
                return
            if connection.close_requested:
                await websocket.close()
                return
    except ConnectionClosed:
        return
    finally:
        connection.connection_lost()  # nothing more goes out: the reader stops waiting
        drained.set()
