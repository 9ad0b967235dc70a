"""What the gateway publishes waits here, bounded, until Redis has it.

The gateway never blocks its order path on Redis: trade and market events are put
in the outbox and one writer task sends them in pipelined batches. Each kind has a
bound (``limit`` entries); when Redis is slow or down, the *oldest* entries are
dropped first and counted per stream (``dropped``), so memory stays bounded. Every
published message carries a sequence number, so a reader sees the gap and
resyncs. Answers to intents do not go through here: they are never dropped.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from typing import final

import anyio
import redis.asyncio as aioredis

from ec_core.errors import GatewayUnavailableError
from ec_core.gateway.redis_io import unavailable
from ec_core.gateway.wire import FIELD

__all__ = ["Outbox"]

log = logging.getLogger(__name__)

_BATCH = 512
_Item = tuple[str, bytes, int]  # stream, message, maxlen (0: no trimming)


@final
class Outbox:
    """Bounded queues of entries for Redis (events before market data) and their writer."""

    def __init__(self, client: aioredis.Redis, url: str, *, limit: int) -> None:
        self._client = client
        self._url = url
        self.limit = limit
        self._events: deque[_Item] = deque()
        self._market: deque[_Item] = deque()
        self._ready = anyio.Event()
        self.dropped: Counter[str] = Counter()  # stream -> entries dropped before Redis had them
        self.written = 0
        self.last_id: dict[str, str] = {}  # stream -> id of the last entry written
        self._events_put = 0  # events put so far
        self._events_done = 0  # of those, written or dropped (FIFO: the first ones)
        self._barriers: list[tuple[int, anyio.Event]] = []

    def __len__(self) -> int:
        return len(self._events) + len(self._market)

    def put_event(self, stream: str, data: bytes, *, maxlen: int = 0) -> None:
        self._events_put += 1
        self._put(self._events, (stream, data, maxlen))

    async def flushed(self) -> None:
        """Return once every event put before this call is written (or dropped)."""
        mark = self._events_put
        if self._events_done >= mark:
            return
        done = anyio.Event()
        self._barriers.append((mark, done))
        await done.wait()

    def _events_settled(self, count: int) -> None:
        self._events_done += count
        if self._barriers:
            due = [b for b in self._barriers if b[0] <= self._events_done]
            self._barriers = [b for b in self._barriers if b[0] > self._events_done]
            for _, done in due:
                done.set()

    def put_market(self, stream: str, data: bytes, *, maxlen: int) -> None:
        self._put(self._market, (stream, data, maxlen))

    def _put(self, queue: deque[_Item], item: _Item) -> None:
        if len(queue) >= self.limit:
            self._drop(queue, queue.popleft())
        queue.append(item)
        self._ready.set()

    async def run(self) -> None:
        """Write until cancelled; while Redis is unavailable, retry (and drop the oldest)."""
        delay = 0.05
        while True:
            if not self._events and not self._market:
                self._ready = anyio.Event()
                await self._ready.wait()
            batch = self._take()
            try:
                await self._write(batch)
            except GatewayUnavailableError as exc:
                log.warning("publishing paused: %s", exc)
                self._requeue(batch)
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05

    def _take(self) -> list[tuple[deque[_Item], _Item]]:
        batch: list[tuple[deque[_Item], _Item]] = []
        for queue in (self._events, self._market):
            while queue and len(batch) < _BATCH:
                batch.append((queue, queue.popleft()))
        return batch

    def _drop(self, queue: deque[_Item], item: _Item) -> None:
        self.dropped[item[0]] += 1
        if queue is self._events:
            self._events_settled(1)

    def _requeue(self, batch: list[tuple[deque[_Item], _Item]]) -> None:
        """Put a batch Redis did not take back in front (older than anything queued)."""
        for queue, item in reversed(batch):
            if len(queue) >= self.limit:
                self._drop(queue, item)
                continue
            queue.appendleft(item)

    async def _write(self, batch: list[tuple[deque[_Item], _Item]]) -> None:
        with unavailable(self._url):
            async with self._client.pipeline(transaction=False) as pipe:
                for _, (stream, data, maxlen) in batch:
                    if maxlen:
                        pipe.xadd(stream, {FIELD: data}, maxlen=maxlen, approximate=True)
                    else:
                        pipe.xadd(stream, {FIELD: data})
                ids = await pipe.execute()
        for (_, (stream, _, _)), entry_id in zip(batch, ids, strict=True):
            self.last_id[stream] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        self.written += len(batch)
        self._events_settled(sum(1 for queue, _ in batch if queue is self._events))
