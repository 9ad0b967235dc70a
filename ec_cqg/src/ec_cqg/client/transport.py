"""The WebSocket line to a CQG server: one reader, one writer, a bounded outbound queue.

``websockets``' asyncio client runs on anyio's asyncio backend. Frames are binary only;
a text frame is a protocol error, counted and dropped by the session. TLS is verified
by default (``wss://`` with the system trust store); plain ``ws://`` is only allowed to a
loopback address unless ``allow_insecure`` says otherwise, so a password cannot leave
the machine in clear text by a typo. WebSocket control pings are off: CQG uses its own
ping/pong messages, which the session answers.

Backpressure: :meth:`Connection.send` waits while the outbound queue is full, so a
sender that outruns the socket slows down instead of growing memory without bound.

Latency: when nothing is queued or being written, :meth:`Connection.send` writes the
frame itself instead of handing it to the writer task. websockets puts an unfragmented
frame on the transport synchronously, before its first ``await``, so frames still leave
in the order they were sent, and an order saves the task switch to the writer.
"""

from __future__ import annotations

import math
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from typing import Any, final

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from ec_core.errors import ConnectionLostError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from ec_cqg.client.config import check_url, is_loopback
from ec_cqg.client.recorder import WireRecorder

__all__ = ["Connection", "check_url", "is_loopback", "open_connection"]


@final
class Connection:
    """One open WebSocket. :meth:`run` pumps both directions until the line drops."""

    def __init__(
        self,
        ws: ClientConnection,
        *,
        queue_size: int,
        recorder: WireRecorder | None = None,
    ) -> None:
        self._ws = ws
        self._send: MemoryObjectSendStream[bytes]
        self._recv: MemoryObjectReceiveStream[bytes]
        self._send, self._recv = anyio.create_memory_object_stream[bytes](queue_size)
        self._recorder = recorder
        self._closed = anyio.Event()
        self._backlog = 0  # frames queued for the writer and not yet written
        self._inline = 0  # senders writing directly, still in websockets' drain
        self.close_reason = ""
        self.frames_in = 0
        self.frames_out = 0

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def send(self, frame: bytes) -> None:
        """Queue ``frame``; waits while the queue is full. Raises ConnectionLostError."""
        if self._closed.is_set():
            raise ConnectionLostError(f"connection closed: {self.close_reason}")
        if self._backlog == 0 and self._inline == 0:
            await self._write_inline(frame)
            return
        self._backlog += 1
        try:
            await self._send.send(frame)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._backlog -= 1
            raise ConnectionLostError(f"connection closed: {self.close_reason}") from None
        except BaseException:
            self._backlog -= 1
            raise

    async def _write_inline(self, frame: bytes) -> None:
        self._inline += 1
        try:
            await self._ws.send(frame)
        except ConnectionClosed as exc:
            self.close_reason = f"write failed ({exc})"
            self._mark_closed(self.close_reason)
            raise ConnectionLostError(f"connection closed: {self.close_reason}") from None
        finally:
            self._inline -= 1
        self.frames_out += 1
        if self._recorder is not None:
            self._recorder.record("out", frame)

    def send_nowait(self, frame: bytes) -> bool:
        """Queue ``frame`` if there is room (for pongs, which must not wait); False if not."""
        if self._closed.is_set():
            return False
        try:
            self._send.send_nowait(frame)
        except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        self._backlog += 1
        return True

    async def run(self, on_frame: Callable[[bytes], Awaitable[None] | None]) -> None:
        """Read and write until the line drops or :meth:`close`; then return.

        ``on_frame`` gets each binary frame in order; it must not raise (the session
        catches everything per frame). Text frames are passed as UTF-8 bytes, which
        then fail to decode and are counted as malformed.
        """
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._writer)
                await self._reader(on_frame)
                tg.cancel_scope.cancel()
        finally:
            self._mark_closed(self.close_reason or "closed")
            with anyio.CancelScope(shield=True):
                await self._ws.close()

    async def _reader(self, on_frame: Callable[[bytes], Awaitable[None] | None]) -> None:
        recv = self._ws.recv  # awaited directly: no async-generator step per frame
        try:
            while True:
                message = await recv()
                data = message if type(message) is bytes else _as_bytes(message)
                self.frames_in += 1
                if self._recorder is not None:
                    self._recorder.record("in", data)
                result = on_frame(data)
                if result is not None:
                    await result
        except ConnectionClosed as exc:
            self.close_reason = f"closed by peer ({exc})"
        self._mark_closed(self.close_reason)

    async def _writer(self) -> None:
        async with self._recv:
            async for frame in self._recv:
                try:
                    await self._ws.send(frame)
                except ConnectionClosed as exc:
                    self.close_reason = f"write failed ({exc})"
                    self._mark_closed(self.close_reason)
                    await self._ws.close()
                    return
                finally:
                    self._backlog -= 1
                self.frames_out += 1
                if self._recorder is not None:
                    self._recorder.record("out", frame)

    def _mark_closed(self, reason: str) -> None:
        if not self._closed.is_set():
            self.close_reason = reason
            self._closed.set()
            self._send.close()

    async def close(self, reason: str = "closed by client") -> None:
        """Close the line; :meth:`run` returns soon after. Cancel-safe."""
        self._mark_closed(reason)
        with anyio.CancelScope(shield=True):
            await self._ws.close()

    async def wait_closed(self) -> None:
        await self._closed.wait()


def _as_bytes(message: str | bytes | bytearray | memoryview) -> bytes:
    return message.encode() if isinstance(message, str) else bytes(message)


async def open_connection(
    url: str,
    *,
    allow_insecure: bool = False,
    ssl: ssl_module.SSLContext | None = None,
    open_timeout_s: float = 10.0,
    queue_size: int = 1024,
    recorder: WireRecorder | None = None,
    max_frame_bytes: int = 16 * 1024 * 1024,
) -> Connection:
    """Connect (TLS verified for ``wss://``). Raises :class:`ConnectionLostError` on failure."""
    check_url(url, allow_insecure=allow_insecure)
    options: dict[str, Any] = {
        "compression": None,
        "ping_interval": None,  # CQG's own ping/pong messages, not control frames
        "max_size": max_frame_bytes,
        "open_timeout": None,
        "close_timeout": 2,
        "max_queue": 64,
    }
    if url.startswith("wss://"):
        options["ssl"] = ssl if ssl is not None else ssl_module.create_default_context()
    try:
        with anyio.fail_after(open_timeout_s if math.isfinite(open_timeout_s) else None):
            ws = await connect(url, **options)
    except TimeoutError as exc:
        raise ConnectionLostError(
            f"cannot connect to {url}: timed out after {open_timeout_s}s"
        ) from exc
    except (OSError, InvalidURI, WebSocketException) as exc:
        raise ConnectionLostError(f"cannot connect to {url}: {exc}") from exc
    return Connection(ws, queue_size=queue_size, recorder=recorder)
