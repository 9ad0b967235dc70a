"""Bounded per-subscriber channels from a vendor's synchronous code to one async consumer.

A vendor's reader (a socket's frames, an in-process engine's callbacks) never waits
on a consumer: it pushes and goes on. Each subscription owns one channel with a
capacity and one explicit policy for the moment it is full:

* **Market data** (:class:`MarketChannel`): *drop the oldest*. A quote is superseded
  by the next one; a consumer that fell behind wants the newest state, not a
  backlog. Every dropped event is counted in ``dropped``.
* **Trade events** (:class:`TradeChannel`): *an overflow is a gap*. Reports are
  never dropped silently and memory never grows without bound: when a consumer is
  ``capacity`` events behind, what it has not read is discarded (counted in
  ``dropped``, ``overflows`` and logged) and replaced by ``SessionEvent(GAP)``, a
  fresh snapshot of the account and ``SnapshotComplete`` -- exactly what a
  reconnect delivers, and what the executor already resyncs from (status queries
  for orders the snapshot does not settle, positions at the next reconcile). The
  session and the subscription go on; if the snapshot itself fails, the subscription
  ends with :class:`~ec_core.errors.SessionError` and the vendor's reader goes on.

Cost matters (every quote passes through): :meth:`EventChannel.push_many` queues a
burst and wakes the consumer once, a consumer is woken only when it is actually
waiting, and taking an event that is already queued never suspends. The wake-up is
a bare asyncio future (ec runs on anyio's asyncio backend only).

A :class:`TradeChannel` is also a :class:`~ec_core.execution.DirectFeed`: with a sink
set (the executor's in-process adapter sets one) an event is handed to the sink
synchronously whenever nothing is queued ahead of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Generic, TypeVar, final

from ec_core.errors import SessionError
from ec_core.model import BookDepth, SessionEvent, SessionEventKind, TradeEvent

__all__ = [
    "DEFAULT_MARKET_CAPACITY",
    "DEFAULT_TRADE_CAPACITY",
    "EventChannel",
    "MarketChannel",
    "TradeChannel",
]

log = logging.getLogger(__name__)

DEFAULT_MARKET_CAPACITY = 4_096
DEFAULT_TRADE_CAPACITY = 100_000

T = TypeVar("T")
M = TypeVar("M")  # what a market channel carries: quotes and trades (and depth), bars


class EventChannel(Generic[T], AsyncIterator[T]):
    """A bounded queue with one consumer; iteration ends after :meth:`close` once
    drained. What happens when it is full is the subclass's policy (:meth:`_full`)."""

    __slots__ = ("_closed", "_error", "_items", "_limit", "_waiter", "capacity", "delivered")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"channel capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._limit = capacity  # the queue length that is "full" (a resync may raise it)
        self._items: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: Exception | None = None
        self.delivered = 0  # events accepted (queued or, for a trade channel, taken)

    def push(self, item: T) -> None:
        """Queue ``item``; never blocks, never raises (a closed channel ignores it)."""
        if self._closed:
            return
        if len(self._items) >= self._limit:
            self._full(item)
        else:
            self._items.append(item)
            self.delivered += 1
        self._wake()

    def push_many(self, batch: Iterable[T]) -> None:
        """Queue every event of ``batch`` in order and wake the consumer once."""
        if self._closed:
            return
        items = self._items
        for item in batch:
            if len(items) >= self._limit:
                self._full(item)
            else:
                items.append(item)
                self.delivered += 1
        self._wake()

    def _full(self, item: T) -> None:
        raise NotImplementedError

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """No more events: the consumer ends after the queued ones. Idempotent."""
        self._closed = True
        self._wake()

    def close_receiver(self) -> None:
        """The consumer is gone: drop what is queued and refuse more. Idempotent."""
        self._items.clear()
        self.close()

    def fail(self, error: Exception) -> None:
        """End the subscription with ``error``: the consumer gets it after the queued events."""
        if self._error is None:
            self._error = error
        self.close()

    def drain(self) -> list[T]:
        """Every event queued now, without waiting (tests and polling loops)."""
        out = list(self._items)
        self._items.clear()
        self._limit = self.capacity
        return out

    def __len__(self) -> int:
        return len(self._items)

    def __aiter__(self) -> EventChannel[T]:
        return self

    async def __anext__(self) -> T:
        items = self._items
        while not items:
            if self._closed:
                error, self._error = self._error, None
                if error is not None:
                    raise error
                raise StopAsyncIteration
            waiter = self._waiter
            if waiter is None or waiter.done():
                waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter
        item = items.popleft()
        if not items:
            self._limit = self.capacity
        return item


@final
class MarketChannel(EventChannel[M]):
    """Quotes and trades (and depth, if ``depth``) of one subscription; drops the oldest."""

    __slots__ = ("_last_depth", "depth", "dropped")

    def __init__(self, capacity: int = DEFAULT_MARKET_CAPACITY, *, depth: bool = False) -> None:
        super().__init__(capacity)
        self.dropped = 0
        self.depth = depth
        self._last_depth: BookDepth | None = None

    def _full(self, item: M) -> None:
        self._items.popleft()
        self._items.append(item)
        self.dropped += 1
        self.delivered += 1

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


@final
class TradeChannel(EventChannel[TradeEvent]):
    """Trade events of one account; an overflow is a gap (see the module docstring).

    ``snapshot()`` gives the account's snapshot, ``SnapshotComplete`` last, for the
    resync after an overflow (a :class:`~ec_core.streams.TradeHub` passes its own).
    """

    __slots__ = ("_sink", "_snapshot", "account_id", "direct", "dropped", "overflows")

    def __init__(
        self,
        account_id: str,
        capacity: int = DEFAULT_TRADE_CAPACITY,
        *,
        snapshot: Callable[[], Iterable[TradeEvent]],
    ) -> None:
        super().__init__(capacity)
        self.account_id = account_id
        self._snapshot = snapshot
        self._sink: Callable[[TradeEvent], bool] | None = None
        self.direct = 0  # events the sink took synchronously
        self.dropped = 0  # events discarded by overflows
        self.overflows = 0

    def set_sink(self, sink: Callable[[TradeEvent], bool] | None) -> None:
        """Hand events to ``sink`` synchronously while nothing is queued ahead of them.

        ``sink(event)`` returns ``False`` to have the event queued instead; an
        exception from it ends the subscription and is raised to the consumer.
        ``None`` queues everything again.
        """
        self._sink = sink

    def push(self, item: TradeEvent) -> None:
        """Called from the vendor's reader. Never blocks, never raises."""
        if self._closed:
            return
        sink = self._sink
        if sink is not None and not self._items:
            try:
                taken = sink(item)
            except Exception as exc:  # surfaces in the consumer, not in the venue
                self._sink = None
                self.fail(exc)
                return
            if taken:
                self.delivered += 1
                self.direct += 1
                return
        super().push(item)

    def push_many(self, batch: Iterable[TradeEvent]) -> None:
        """Each event as :meth:`push` would: a sink takes what it can, in order."""
        if self._sink is None:
            super().push_many(batch)
            return
        for item in batch:
            self.push(item)

    def _full(self, item: TradeEvent) -> None:
        items = self._items
        lost = len(items) + 1  # what was queued, and ``item``
        items.clear()
        self.dropped += lost
        self.overflows += 1
        log.warning(
            "TRADE_BUFFER_OVERFLOW: account %s fell %d events behind; %d dropped, a fresh"
            " snapshot follows (overflow %d)",
            self.account_id,
            self.capacity,
            lost,
            self.overflows,
        )
        detail = (
            f"TRADE_BUFFER_OVERFLOW: the consumer of account {self.account_id!r} fell"
            f" {self.capacity} events behind; {lost} events dropped, a fresh snapshot follows"
        )
        items.append(SessionEvent(kind=SessionEventKind.GAP, detail=detail, ts_ns=item.ts_ns))
        try:
            items.extend(self._snapshot())  # whole, even past capacity: it is the resync
        except Exception as exc:  # the vendor's reader must not see it: end this subscription
            log.exception("TRADE_BUFFER_OVERFLOW: snapshot of account %s failed", self.account_id)
            self.fail(
                SessionError(
                    f"TRADE_BUFFER_OVERFLOW: the trade stream of account {self.account_id!r}"
                    f" fell behind and its snapshot failed ({exc!r}); resubscribe to resync"
                )
            )
            return
        self._limit = len(items) + self.capacity  # room for capacity live events behind it
