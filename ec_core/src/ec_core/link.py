"""A vendor's line to its venue: one reader task, requests answered within a deadline.

Every vendor that talks to its venue over a socket writes the same plumbing around it:
connect, read every frame in one task and hand it to the venue mapping, send requests
and wait for their answers with a deadline, and when the line drops, fail whatever
waits and tell the session once. :class:`Link` is that plumbing, transport-neutral:
it takes a ``connect`` coroutine returning a :class:`Transport` (anything that can be
iterated for frames, ``send`` a frame and ``close``; a ``websockets`` client connection
is one as it is), so core imports no socket library. A plugin gives it two callbacks:

* ``handle(frame)``: the venue mapping; it runs in the reader task, in frame order, and
  answers requests by calling :meth:`Link.answer` (or :meth:`Link.fail`). An exception it
  raises is a malformed frame: logged, counted in :attr:`Link.malformed`, and the line
  goes on (a bad message never takes a session down);
* ``on_lost(reason)``: the line dropped (the peer closed it, the transport failed). Called
  once, from the reader task, after every pending request failed with
  :class:`~ec_core.errors.ConnectionLostError`; never called for :meth:`Link.aclose`.

Requests are keyed by whatever the venue echoes back (a request id); the bookkeeping is
:class:`~ec_core.correlation.PendingTable` (an answer after its deadline is *late*) and
answers nobody waits for go to :attr:`Link.dead_letters`. A request without an answer
within ``timeout`` seconds raises :class:`~ec_core.errors.RequestTimeoutError`: its fate
is unknown, never assumed. The transport's own exceptions become ``ConnectionLostError``
here, in one place.

Use it from one task: :meth:`Link.open` in the session's ``__aenter__`` (it starts the
reader in a task group the link owns) and :meth:`Link.aclose` in its ``__aexit__``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Generic, Protocol, TypeVar, final

import anyio

from ec_core.correlation import DeadLetterBox, PendingTable
from ec_core.errors import ConnectionLostError, RequestTimeoutError

__all__ = ["Frame", "Link", "Transport"]

log = logging.getLogger(__name__)

Frame = str | bytes
K = TypeVar("K")
R = TypeVar("R")


class Transport(Protocol):
    """What a link reads and writes: e.g. ``websockets``' ``ClientConnection``."""

    def __aiter__(self) -> AsyncIterator[Frame]: ...

    async def send(self, message: Frame, /) -> None: ...

    async def close(self) -> None: ...


@final
class _Waiter(Generic[R]):
    __slots__ = ("done", "error", "reply")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.reply: R | None = None
        self.error: Exception | None = None


@final
class Link(Generic[K, R]):
    """One connection to a venue (see the module docstring).

    ``timeout``: seconds a request waits for its answer. ``clock``: monotonic ns, for the
    deadlines kept in the pending table.
    """

    def __init__(
        self,
        *,
        timeout: float,
        on_lost: Callable[[str], None],
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not 0 < timeout < math.inf:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        self.timeout = timeout
        self._on_lost = on_lost
        self._clock = clock
        self._pending: PendingTable[K, _Waiter[R]] = PendingTable()
        self.dead_letters: DeadLetterBox[tuple[K, R]] = DeadLetterBox()
        self.malformed = 0  # frames ``handle`` raised on
        self.lost: str | None = None  # why the line dropped, once it did
        self._transport: Transport | None = None
        self._stack: AsyncExitStack | None = None
        self._reader = anyio.CancelScope()
        self._closing = False

    @property
    def is_open(self) -> bool:
        return self._transport is not None and self.lost is None and not self._closing

    async def open(
        self, connect: Callable[[], Awaitable[Transport]], handle: Callable[[Frame], None]
    ) -> None:
        """Connect and start reading; ``ConnectionLostError`` if the venue cannot be reached."""
        if self._stack is not None:
            raise RuntimeError("a link opens once")
        try:
            transport = await connect()
        except Exception as exc:
            raise ConnectionLostError(f"cannot connect: {type(exc).__name__}: {exc}") from exc
        self._transport = transport
        self._stack = AsyncExitStack()
        tasks = await self._stack.enter_async_context(anyio.create_task_group())
        tasks.start_soon(self._read, transport, handle)

    async def send(self, frame: Frame) -> None:
        """Send one frame; ``ConnectionLostError`` if the line is down or drops meanwhile."""
        transport = self._transport
        if transport is None or not self.is_open:
            raise ConnectionLostError(f"the line is down: {self.lost or 'not open'}")
        try:
            await transport.send(frame)
        except Exception as exc:
            raise ConnectionLostError(f"send failed: {type(exc).__name__}: {exc}") from exc

    async def request(self, key: K, frame: Frame) -> R:
        """Send ``frame`` and wait for :meth:`answer` of ``key``, at most ``timeout`` seconds.

        Raises what :meth:`fail` gave, ``ConnectionLostError`` if the line drops first, or
        ``RequestTimeoutError``. Cancel-safe: a cancelled request is forgotten (its answer
        arrives late).
        """
        waiter: _Waiter[R] = _Waiter()
        deadline = self._clock() + int(self.timeout * 1e9)
        self._pending.add(key, waiter, deadline_ns=deadline)
        try:
            await self.send(frame)
            with anyio.move_on_after(self.timeout):
                await waiter.done.wait()
        finally:
            self._pending.finish(key)
        if waiter.error is not None:
            raise waiter.error
        if not waiter.done.is_set():
            raise RequestTimeoutError(timeout=self.timeout)
        return waiter.reply  # type: ignore[return-value]  # set with done

    def answer(self, key: K, reply: R) -> bool:
        """Hand ``reply`` to the request ``key``; ``False`` (a dead letter) if none waits."""
        waiter = self._pending.get(key)
        if waiter is None or waiter.done.is_set():
            late = self._pending.was_finished(key)
            self.dead_letters.add("late" if late else "unknown", (key, reply))
            return False
        waiter.reply = reply
        waiter.done.set()
        return True

    def fail(self, key: K, error: Exception) -> bool:
        """Make the request ``key`` raise ``error``; ``False`` if none waits."""
        waiter = self._pending.get(key)
        if waiter is None or waiter.done.is_set():
            return False
        waiter.error = error
        waiter.done.set()
        return True

    async def aclose(self) -> None:
        """Close the transport and stop the reader; pending requests fail. Idempotent."""
        if self._closing:
            return
        self._closing = True
        self._fail_pending("the session closed")
        stack = self._stack
        if stack is None:
            return
        with anyio.CancelScope(shield=True):
            if self._transport is not None:
                with anyio.move_on_after(self.timeout):
                    try:
                        await self._transport.close()
                    except Exception as exc:  # closing a broken line: nothing left to do
                        log.debug("link: close failed: %r", exc)
        self._reader.cancel()  # the reader's own scope: the task group's holds the caller
        await stack.aclose()  # outside the shield: scopes exit in the order they entered

    # -- the reader ------------------------------------------------------------------

    async def _read(self, transport: Transport, handle: Callable[[Frame], None]) -> None:
        reason = "the venue closed the connection"
        with self._reader:
            try:
                async for frame in transport:
                    try:
                        handle(frame)
                    except Exception:
                        self.malformed += 1
                        log.warning("link: a frame could not be handled", exc_info=True)
            except Exception as exc:  # the transport's own failure is a lost line
                reason = f"{type(exc).__name__}: {exc}"
        if self._closing or self._reader.cancel_called:
            return
        self.lost = reason
        self._fail_pending(reason)
        self._on_lost(reason)

    def _fail_pending(self, reason: str) -> None:
        for waiter in self._pending.states():
            if not waiter.done.is_set():
                waiter.error = ConnectionLostError(reason)
                waiter.done.set()
