"""Per-subscriber event channels between the session's reader and its consumers.

The reader never waits on a consumer: it pushes and goes on. Market data is bounded and
drops the *oldest* event when a consumer lags (``dropped`` counts them: the latest price
matters more than a stale one); trade events are never dropped (an execution report lost
is an order state lost), so that channel is unbounded.

Cost matters here (every quote passes through): :meth:`EventChannel.push_many` delivers
the events of one frame at once, a consumer is only woken when it is actually waiting,
and taking an event that is already queued never suspends, so a consumer drains a
burst in one task switch instead of one per event. The wake-up is a bare asyncio future
(ec runs on anyio's asyncio backend only): cheaper than an ``anyio.Event`` on every
order report. A cancelled consumer leaves a cancelled future behind, which the next
wait replaces.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Generic, TypeVar, final

__all__ = ["EventChannel"]

T = TypeVar("T")


@final
class EventChannel(Generic[T], AsyncIterator[T]):
    """A queue with one consumer; iteration ends after :meth:`close` once drained."""

    __slots__ = ("_closed", "_items", "_waiter", "dropped")

    def __init__(self, maxlen: int | None = None) -> None:
        self._items: deque[T] = deque(maxlen=maxlen)
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.dropped = 0

    def push(self, item: T) -> None:
        if self._closed:
            return
        items = self._items
        if items.maxlen is not None and len(items) == items.maxlen:
            self.dropped += 1
        items.append(item)
        self._wake()

    def push_many(self, batch: Iterable[T]) -> None:
        """Queue every event of ``batch`` in order and wake the consumer once."""
        if self._closed:
            return
        items = self._items
        maxlen = items.maxlen
        if maxlen is None:
            items.extend(batch)
        else:
            before = len(items)
            batch = list(batch)
            items.extend(batch)
            overflow = before + len(batch) - maxlen
            if overflow > 0:
                self.dropped += overflow
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        self._closed = True
        self._wake()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._items)

    def __aiter__(self) -> EventChannel[T]:
        return self

    async def __anext__(self) -> T:
        items = self._items
        while not items:
            if self._closed:
                raise StopAsyncIteration
            waiter = self._waiter
            if waiter is None or waiter.done():
                waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
        return items.popleft()
