"""Per-subscriber event channels between the session's reader and its consumers.

The reader never waits on a consumer: it pushes and goes on. Market data is bounded and
drops the *oldest* event when a consumer lags (``dropped`` counts them: the latest price
matters more than a stale one); trade events are never dropped (an execution report lost
is an order state lost), so that channel is unbounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from typing import Generic, TypeVar, final

import anyio

__all__ = ["EventChannel"]

T = TypeVar("T")


@final
class EventChannel(Generic[T], AsyncIterator[T]):
    """A queue with one consumer; iteration ends after :meth:`close` once drained."""

    def __init__(self, maxlen: int | None = None) -> None:
        self._items: deque[T] = deque(maxlen=maxlen)
        self._wakeup = anyio.Event()
        self._closed = False
        self.dropped = 0

    def push(self, item: T) -> None:
        if self._closed:
            return
        if self._items.maxlen is not None and len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(item)
        self._wakeup.set()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._items)

    def __aiter__(self) -> EventChannel[T]:
        return self

    async def __anext__(self) -> T:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup = anyio.Event()
            await self._wakeup.wait()
        return self._items.popleft()
