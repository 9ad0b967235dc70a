"""The WebSocket line to a CQG server: websockets' Sans-I/O protocol on an asyncio transport.

The client is Sans-I/O down to the WebSocket layer: websockets' ``ClientProtocol`` parses
and builds the frames, this module only moves its bytes over an ``asyncio`` transport.
A server frame is handed to the session's ``on_frame`` in the transport's own
``data_received`` callback, with no reader task and no message queue in between, so a
frame costs no task switch before the protocol core sees it (ec runs on anyio's asyncio
backend only). Frames are binary only; a text frame is passed on as UTF-8 bytes, which
then fail to decode and are counted as malformed by the session. TLS is verified by
default (``wss://`` with the system trust store); plain ``ws://`` is only allowed to a
loopback address unless ``allow_insecure`` says otherwise, so a password cannot leave the
machine in clear text by a typo. WebSocket control pings are answered by websockets; CQG
uses its own ping/pong messages, which the session answers.

Backpressure: :meth:`Connection.send` writes at once and then waits while the transport
holds more than its high-water mark, so a sender that outruns the socket slows down
instead of growing memory without bound. Frames leave in the order they were sent.
"""

from __future__ import annotations

import asyncio
import math
import ssl as ssl_module
from collections.abc import Awaitable, Callable
from typing import final

import anyio
from ec_core.errors import ConnectionLostError
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidURI, WebSocketException
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from ec_cqg.client.config import check_url, is_loopback
from ec_cqg.client.recorder import WireRecorder

__all__ = ["Connection", "check_url", "is_loopback", "open_connection"]

OnFrame = Callable[[bytes], Awaitable[None] | None]


@final
class Connection(asyncio.Protocol):
    """One open WebSocket. :meth:`run` hands frames to ``on_frame`` until the line drops.

    ``queue_size`` (the ``outbound_queue`` setting) bounds what the transport may hold
    before a sender waits, counted as frames of 1 KiB (CQG frames are smaller).
    """

    def __init__(
        self,
        protocol: ClientProtocol,
        *,
        queue_size: int,
        recorder: WireRecorder | None = None,
        close_timeout_s: float = 2.0,
    ) -> None:
        self._ws = protocol
        self._recorder = recorder
        self._close_timeout_s = close_timeout_s
        self._high_water = max(queue_size, 1) * 1024  # bytes the transport may hold
        self._transport: asyncio.Transport | None = None
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._closed = anyio.Event()
        self._lost = anyio.Event()  # the transport is gone
        self._drained: asyncio.Future[None] | None = None  # set while writing is paused
        self._on_frame: OnFrame | None = None
        self._early: list[bytes] = []  # frames that came before run()
        self._fragments: list[bytes] = []
        self.close_reason = ""
        self.frames_in = 0
        self.frames_out = 0

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=self._high_water)
        self._ws.send_request(self._ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        ws = self._ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Frame):
                self._on_ws_frame(event)
            elif isinstance(event, Response) and not self._handshake.done():
                if ws.handshake_exc is not None:
                    self._handshake.set_exception(ws.handshake_exc)
                else:
                    self._handshake.set_result(None)
        self._flush()
        if ws.state is State.CLOSED or ws.close_expected():
            self._mark_closed(self._closed_by_peer())
            if self._transport is not None and ws.state is State.CLOSED:
                self._transport.close()

    def eof_received(self) -> bool:
        self._ws.receive_eof()
        self._flush()
        self._mark_closed(self._closed_by_peer())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"connection lost ({exc})" if exc is not None else self._closed_by_peer()
        if not self._handshake.done():
            self._handshake.set_exception(ConnectionLostError(reason))
        self._mark_closed(reason)
        self._lost.set()
        self._wake_writers()

    def pause_writing(self) -> None:
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_writers()

    # -- frames ------------------------------------------------------------------------

    def _on_ws_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.BINARY or opcode is Opcode.TEXT or opcode is Opcode.CONT:
            data = frame.data
            if type(data) is not bytes:
                data = bytes(data)
            if not frame.fin:
                self._fragments.append(data)
                return
            if self._fragments:
                self._fragments.append(data)
                data = b"".join(self._fragments)
                self._fragments = []
            self.frames_in += 1
            if self._recorder is not None:
                self._recorder.record("in", data)
            on_frame = self._on_frame
            if on_frame is None:
                self._early.append(data)
            else:
                on_frame(data)  # the driver's on_frame is synchronous and never raises

    def _closed_by_peer(self) -> str:
        ws = self._ws
        code = ws.close_code
        return f"closed by peer ({code} {ws.close_reason})" if code is not None else "closed"

    def _flush(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        for data in self._ws.data_to_send():
            if data:
                transport.write(data)
            elif transport.can_write_eof():
                transport.write_eof()

    def _wake_writers(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # -- the session's side ------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def send(self, frame: bytes) -> None:
        """Write ``frame``; waits while the transport is over its high-water mark.
        Raises ConnectionLostError."""
        if not self._write(frame):
            raise ConnectionLostError(f"connection closed: {self.close_reason}")
        drained = self._drained
        if drained is not None:
            await drained
            if self._lost.is_set():
                raise ConnectionLostError(f"connection closed: {self.close_reason}")

    def send_nowait(self, frame: bytes) -> bool:
        """Write ``frame`` unless the line is closed (pongs and pings must not wait)."""
        return self._write(frame)

    def _write(self, frame: bytes) -> bool:
        if self._closed.is_set() or self._ws.state is not State.OPEN:
            return False
        self._ws.send_binary(frame)
        self._flush()
        self.frames_out += 1
        if self._recorder is not None:
            self._recorder.record("out", frame)
        return True

    async def run(self, on_frame: OnFrame) -> None:
        """Hand each binary frame to ``on_frame`` (synchronous) until the line drops or
        :meth:`close`; then return. ``on_frame`` must not raise."""
        early, self._early = self._early, []
        for data in early:
            on_frame(data)
        self._on_frame = on_frame
        try:
            await self._closed.wait()
        finally:
            self._on_frame = None
            with anyio.CancelScope(shield=True):
                await self._shut(self.close_reason or "closed")

    def _mark_closed(self, reason: str) -> None:
        if not self._closed.is_set():
            self.close_reason = reason
            self._closed.set()

    async def close(self, reason: str = "closed by client") -> None:
        """Close the line; :meth:`run` returns soon after. Cancel-safe."""
        self._mark_closed(reason)
        with anyio.CancelScope(shield=True):
            await self._shut(reason)

    async def _shut(self, reason: str) -> None:
        """The closing handshake, bounded by the close timeout; then the transport."""
        transport = self._transport
        if transport is None or self._lost.is_set():
            return
        if self._ws.state is State.OPEN:
            self._ws.send_close(1000, reason[:100])
            self._flush()
        with anyio.move_on_after(self._close_timeout_s):
            await self._lost.wait()
        if not self._lost.is_set():
            transport.abort()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def wait_open(self) -> None:
        """Wait for the opening handshake; raises what made it fail."""
        await self._handshake

    def abort(self) -> None:
        """Drop the transport at once (a failed open)."""
        self._mark_closed("aborted")
        if self._transport is not None:
            self._transport.abort()


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
    try:
        uri = parse_uri(url)
    except InvalidURI as exc:
        raise ConnectionLostError(f"cannot connect to {url}: {exc}") from exc
    context = None
    if uri.secure:
        context = ssl if ssl is not None else ssl_module.create_default_context()
    loop = asyncio.get_running_loop()
    connection: Connection | None = None

    def factory() -> Connection:
        nonlocal connection
        protocol = ClientProtocol(uri, max_size=max_frame_bytes)
        connection = Connection(protocol, queue_size=queue_size, recorder=recorder)
        return connection

    try:
        with anyio.fail_after(open_timeout_s if math.isfinite(open_timeout_s) else None):
            await loop.create_connection(
                factory,
                uri.host,
                uri.port,
                ssl=context,
                server_hostname=uri.host if context is not None else None,
            )
            assert connection is not None
            await connection.wait_open()
    except TimeoutError as exc:
        if connection is not None:
            connection.abort()
        raise ConnectionLostError(
            f"cannot connect to {url}: timed out after {open_timeout_s}s"
        ) from exc
    except (OSError, WebSocketException, ConnectionLostError) as exc:
        if connection is not None:
            connection.abort()
        raise ConnectionLostError(f"cannot connect to {url}: {exc}") from exc
    return connection
