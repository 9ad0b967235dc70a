"""Bounded channels from the engine's sync listener callbacks to async consumers.

The engine calls its listeners synchronously, in the middle of matching, so a
listener can never wait for a slow consumer. Each subscription therefore owns
an anyio memory object stream with a bounded buffer and an explicit policy for
the moment that buffer is full:

* **Market data** (:class:`MarketDataChannel`): *drop oldest*. A quote is
  superseded by the next one; a consumer that fell behind wants the newest
  state, not a backlog. Every dropped event is counted in ``dropped`` so a test or
  a dashboard can see that conflation happened.
* **Trade events** (:class:`TradeEventChannel`): *never drop*. An execution
  report lost silently would leave an order's state wrong. When the buffer is
  full the channel stops accepting events and, once the consumer has read what
  was buffered, raises :class:`TradeBufferOverflowError` instead of pretending
  nothing happened. Resubscribing gives a fresh snapshot. The default capacity
  (100,000 events) is far above what one account produces between two awaits.
  A trade channel is also a :class:`~ec_core.execution.DirectFeed`: with a sink
  set (the executor sets one), an event is handed to the sink synchronously, in
  the engine's callback, whenever nothing is queued ahead of it; the memory
  stream (and its task switch) is used only for what the sink declines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, final

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from ec_core.errors import SessionError
from ec_core.model import BookDepth, MarketEvent, TradeEvent

__all__ = [
    "DEFAULT_MARKET_BUFFER",
    "DEFAULT_TRADE_BUFFER",
    "MarketDataChannel",
    "TradeBufferOverflowError",
    "TradeEventChannel",
]

DEFAULT_MARKET_BUFFER = 4_096
DEFAULT_TRADE_BUFFER = 100_000

T = TypeVar("T")
M = TypeVar("M", MarketEvent, MarketEvent | BookDepth)  # what a market channel carries


@final
class TradeBufferOverflowError(SessionError):
    """A trade-event subscriber fell more than ``capacity`` events behind.

    Code ``TRADE_BUFFER_OVERFLOW``. Events up to the overflow were delivered; the
    rest were not, so the subscription ends here instead of silently missing reports.
    """

    code = "TRADE_BUFFER_OVERFLOW"

    def __init__(self, *, capacity: int, account_id: str) -> None:
        super().__init__(
            f"{self.code}: trade events of account {account_id!r} overflowed the buffer of"
            f" {capacity} events; the consumer is too slow. Resubscribe for a fresh snapshot."
        )
        self.capacity = capacity
        self.account_id = account_id


class _Channel(Generic[T]):
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"channel capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        send, receive = anyio.create_memory_object_stream[T](capacity)
        self._send: MemoryObjectSendStream[T] = send
        self._receive: MemoryObjectReceiveStream[T] = receive
        self.delivered = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """No more events: the consumer ends after the buffered ones. Idempotent."""
        self._closed = True
        self._send.close()

    def close_receiver(self) -> None:
        """The consumer is gone: drop what is buffered and refuse more. Idempotent."""
        self._closed = True
        self._send.close()
        self._receive.close()

    def drain(self) -> list[T]:
        """Every event buffered now, without waiting (for tests and polling loops)."""
        out: list[T] = []
        while True:
            try:
                out.append(self._receive.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                return out

    def __aiter__(self) -> _Channel[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            self._end()
            raise StopAsyncIteration from None
        except anyio.ClosedResourceError:
            raise StopAsyncIteration from None

    def _end(self) -> None:
        """Hook run when the buffered events are exhausted after a close."""

    def __len__(self) -> int:
        return self._receive.statistics().current_buffer_used


@final
class MarketDataChannel(_Channel[M]):
    """Quotes and trades (and depth, if ``depth``) for one subscription; drops the oldest
    event when full."""

    def __init__(self, capacity: int = DEFAULT_MARKET_BUFFER, *, depth: bool = False) -> None:
        super().__init__(capacity)
        self.dropped = 0
        self.depth = depth
        self._last_depth: BookDepth | None = None

    def push_depth(self, event: BookDepth) -> None:
        """Push ``event`` unless its levels equal the last pushed (a change elsewhere in
        the book, or only of the time, is no news)."""
        last = self._last_depth
        if last is not None and (
            event is last or (last.bids == event.bids and last.asks == event.asks)
        ):
            return
        self._last_depth = event
        self.push(event)  # type: ignore[arg-type]  # only channels made with depth=True

    def push(self, event: M) -> None:
        """Called from the engine callback. Never blocks, never raises."""
        try:
            self._send.send_nowait(event)
        except anyio.WouldBlock:
            self._receive.receive_nowait()  # full, so never empty
            self.dropped += 1
            self._send.send_nowait(event)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return
        self.delivered += 1


@final
class TradeEventChannel(_Channel[TradeEvent]):
    """Trade events of one account; never drops (see the module docstring)."""

    def __init__(self, account_id: str, capacity: int = DEFAULT_TRADE_BUFFER) -> None:
        super().__init__(capacity)
        self.account_id = account_id
        self.overflowed = False
        self.direct = 0  # events the sink took synchronously
        self._sink: Callable[[TradeEvent], bool] | None = None
        self._sink_error: Exception | None = None
        self._queued = 0  # pushed to the stream, not yet handed out by __anext__/drain

    def set_sink(self, sink: Callable[[TradeEvent], bool] | None) -> None:
        """Hand events to ``sink`` synchronously while nothing is queued ahead of them.

        ``sink(event)`` returns ``False`` to have the event queued instead; an
        exception from it ends the subscription and is raised to the consumer.
        ``None`` queues everything again.
        """
        self._sink = sink

    def push(self, event: TradeEvent) -> None:
        """Called from the engine callback. Never blocks; on overflow ends the subscription."""
        if self.overflowed or self._closed:
            return
        sink = self._sink
        if sink is not None and not self._queued:
            try:
                taken = sink(event)
            except Exception as exc:  # surfaces in the consumer, not in the engine
                self._sink, self._sink_error = None, exc
                self.close()
                return
            if taken:
                self.delivered += 1
                self.direct += 1
                return
        try:
            self._send.send_nowait(event)
        except anyio.WouldBlock:
            self.overflowed = True
            self.close()
            return
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return
        self._queued += 1
        self.delivered += 1

    async def __anext__(self) -> TradeEvent:
        event = await super().__anext__()
        self._queued -= 1
        return event

    def drain(self) -> list[TradeEvent]:
        out = super().drain()
        self._queued -= len(out)
        return out

    def _end(self) -> None:
        if self._sink_error is not None:
            raise self._sink_error
        if self.overflowed:
            raise TradeBufferOverflowError(capacity=self.capacity, account_id=self.account_id)
