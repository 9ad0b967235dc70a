"""The pump between one line and the Sans-I/O protocol core: bytes and time, both ways.

:class:`CoreDriver` feeds every frame the :class:`~ec_cqg.client.transport.Connection`
reads to :class:`~ec_cqg.client.core.protocol.CqgClientProtocol` with the time, writes
what the core made (pongs, requests it asks by itself) and wakes the coroutines that wait
for a call the core lists as done. It owns the throttle on the way out and the
heartbeat timer (pings, the dead-line check, request deadlines). It holds no protocol
state: a new line is attached after a reconnect, the core stays.

Market-data-only frames are gathered and decoded together once the transport has handed
what arrived (a ``call_soon`` after the last one): one parse, one route and one delivery
per burst instead of per frame. Any other frame first flushes what was gathered, so the
order of everything stays the order on the wire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final, TypeVar, final

import anyio
from ec_core.clock import Clock
from ec_core.errors import ConnectionLostError, RequestTimeoutError

from ec_cqg.client.core.calls import Call
from ec_cqg.client.core.protocol import CqgClientProtocol
from ec_cqg.client.throttle import Throttle
from ec_cqg.client.transport import Connection
from ec_cqg.protocol.codec import is_market_data_only

__all__ = ["CoreDriver"]

log = logging.getLogger("ec_cqg.client")

T = TypeVar("T")
_NS: Final = 1_000_000_000


@final
class CoreDriver:
    """Moves frames between the current line and the core; waits for calls."""

    def __init__(
        self,
        core: CqgClientProtocol,
        clock: Clock,
        *,
        throttle: Throttle | None,
        request_timeout_s: float,
        on_ready: Callable[[], None],
    ) -> None:
        self.core = core
        self.clock = clock
        self.throttle = throttle
        self.conn: Connection | None = None
        self._request_timeout_s = request_timeout_s
        self._on_ready = on_ready
        self._waiters: dict[Call[Any], anyio.Event] = {}
        self._md_batch: list[bytes] = []  # market-data frames gathered, not decoded yet
        self._frames_before = 0  # frames of earlier lines (stats)
        self._told_ready = False  # on_ready was called since the line came up

    @property
    def frames_in(self) -> int:
        conn = self.conn
        return self._frames_before + (conn.frames_in if conn is not None else 0)

    def attach(self, conn: Connection) -> None:
        self.conn = conn

    def detach(self, reason: str) -> None:
        """The line is gone: count its frames; every call in flight fails."""
        if self.conn is not None:
            self._frames_before += self.conn.frames_in
        self.conn = None
        self._told_ready = False
        self.fail_pending(reason)

    def deadline(self, limit_s: float | None = None) -> int:
        timeout = self._request_timeout_s if limit_s is None else limit_s
        return self.clock.now_ns() + int(timeout * _NS)

    # -- out -----------------------------------------------------------------------

    async def write(
        self,
        frame: bytes,
        *,
        control: bool = False,
        orders: int = 0,
        accounts: tuple[int, ...] = (),
    ) -> None:
        conn = self.conn
        if conn is None or conn.closed:
            raise ConnectionLostError("not connected")
        if self.throttle is not None:
            if control:
                self.throttle.take()
            else:
                await self.throttle.acquire(orders=orders, accounts=accounts)
        await conn.send(frame)

    async def call(
        self, started: tuple[Call[T], bytes], *, limit_s: float | None = None, control: bool = False
    ) -> T:
        """Write a call's frame and wait for its result.

        Raises :class:`RequestTimeoutError` after the timeout and
        :class:`ConnectionLostError` when the line drops first. Cancel-safe: a cancelled
        call stops waiting and a late answer becomes a dead letter.
        """
        call, frame = started
        timeout = self._request_timeout_s if limit_s is None else limit_s
        if self.conn is None or self.conn.closed:
            self.core.cancel(call)
            raise ConnectionLostError("not connected")
        done = self._waiters[call] = anyio.Event()
        try:
            await self.write(frame, control=control)
            with anyio.fail_after(timeout):
                if not call.done:
                    await done.wait()
            return call.value()
        except TimeoutError:
            raise RequestTimeoutError(timeout=timeout) from None
        finally:
            self.core.cancel(call)
            del self._waiters[call]

    async def ask(
        self,
        build: Callable[..., tuple[Call[T], bytes]],
        *,
        limit_s: float | None = None,
        control: bool = False,
    ) -> T:
        """:meth:`call` of what ``build(deadline_ns=...)`` starts (a core builder)."""
        started = build(deadline_ns=self.deadline(limit_s))
        return await self.call(started, limit_s=limit_s, control=control)

    def fail_pending(self, reason: str) -> None:
        self.core.fail_pending(reason)
        self._wake_calls()

    def _wake_calls(self) -> None:
        waiters = self._waiters
        for call in self.core.calls_done():
            done = waiters.get(call)
            if done is not None:
                done.set()

    # -- in ------------------------------------------------------------------------

    def on_frame(self, data: bytes) -> None:
        """Take one frame (the connection calls this as it arrives). Never raises."""
        if is_market_data_only(data):
            batch = self._md_batch
            batch.append(data)
            if len(batch) == 1:
                asyncio.get_running_loop().call_soon(self.flush_market_data)
            return
        if self._md_batch:
            self.flush_market_data()
        core = self.core
        core.receive(data, self.clock.now_ns())
        self._after_receive(core)

    def flush_market_data(self) -> None:
        batch, self._md_batch = self._md_batch, []
        if batch:
            core = self.core
            if not core.receive_market_data(batch, self.clock.now_ns()):
                self._after_receive(core)

    def _after_receive(self, core: CqgClientProtocol) -> None:
        """Write what the core made (pongs, metadata requests); wake finished calls."""
        outbox = core.data_to_send()
        if outbox:
            conn = self.conn
            for frame in outbox:
                if conn is not None and conn.send_nowait(frame) and self.throttle is not None:
                    self.throttle.take()
        self._wake_calls()
        if core.ready and not self._told_ready:
            self._told_ready = True
            self._on_ready()

    # -- timers --------------------------------------------------------------------

    async def heartbeat(self, conn: Connection, *, interval_s: float, timeout_s: float) -> None:
        """Ping every ``interval_s``, expire requests, drop a line silent for ``timeout_s``.

        Traffic is seen by the frame count, not a timestamp per frame (the hot path):
        the line is dead when the count has not moved for ``timeout_s``.
        """
        core = self.core
        seen_frames = conn.frames_in
        last_rx = anyio.current_time()
        while not conn.closed:
            await anyio.sleep(interval_s)
            if conn.frames_in != seen_frames:
                seen_frames = conn.frames_in
                last_rx = anyio.current_time()
            now = self.clock.now_ns()
            core.expire(now)
            self._wake_calls()
            if anyio.current_time() - last_rx > timeout_s:
                core.counters["heartbeat_timeouts"] += 1
                log.warning("cqg: no traffic for %.1fs; dropping the line", timeout_s)
                await conn.close("heartbeat timeout")
                return
            ping = core.ping(now, deadline_ns=now + int(timeout_s * _NS))
            if ping is not None:
                conn.send_nowait(ping)
