"""What the gateway publishes waits here, bounded, until Redis has it.

The gateway never blocks its order path on Redis: trade and market events are put
in the outbox and one writer task sends them in pipelined batches. Each kind has a
bound (``limit`` entries); when Redis is slow or down, the *oldest* entries are
dropped first and counted per stream (``dropped``), so memory stays bounded. Every
published message carries a sequence number, so a reader sees the gap and
resyncs.

An answer to an intent is never dropped, and it must reach the worker after the
events of its order: :meth:`Outbox.write_with` writes the events still queued and
the answer's own commands in one transaction, ordered after any batch the writer
has in flight (one lock orders every write).
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, final

import anyio
import redis.asyncio as aioredis
import redis.exceptions

from ec_core.errors import GatewayUnavailableError
from ec_core.gateway.redis_io import unavailable
from ec_core.gateway.wire import FIELD

__all__ = ["Outbox"]

log = logging.getLogger(__name__)

_BATCH = 512
_Item = tuple[str, bytes, int]  # stream, message, maxlen (0: no trimming)
_Batch = list[tuple[deque[_Item], _Item]]


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
        self._lock = anyio.Lock()  # one write at a time: the streams keep the order put
        self.dropped: Counter[str] = Counter()  # stream -> entries dropped before Redis had them
        self.written = 0
        self.last_id: dict[str, str] = {}  # stream -> id of the last entry written

    def __len__(self) -> int:
        return len(self._events) + len(self._market)

    def put_event(self, stream: str, data: bytes, *, maxlen: int = 0) -> None:
        self._put(self._events, (stream, data, maxlen))

    def put_market(self, stream: str, data: bytes, *, maxlen: int) -> None:
        self._put(self._market, (stream, data, maxlen))

    def _put(self, queue: deque[_Item], item: _Item) -> None:
        if len(queue) >= self.limit:
            self.dropped[queue.popleft()[0]] += 1
        queue.append(item)
        self._ready.set()

    async def run(self) -> None:
        """Write until cancelled; while Redis is unavailable, retry (and drop the oldest)."""
        delay = 0.05
        while True:
            if not self._events and not self._market:
                self._ready = anyio.Event()
                await self._ready.wait()
            try:
                async with self._lock:
                    await self._write(self._take(market=True), None)
            except GatewayUnavailableError as exc:
                log.warning("publishing paused: %s", exc)
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            except redis.exceptions.RedisError as exc:  # counted in dropped: publish on
                log.error("publishing: redis refused a batch: %s", exc)
            delay = 0.05

    async def write_with(self, commands: Callable[[Any], None]) -> None:
        """Write the queued events, then ``commands(pipe)``, in one transaction.

        Raises :class:`GatewayUnavailableError` (the events stay queued, in front)."""
        async with self._lock:
            await self._write(self._take(market=False), commands)

    def _take(self, *, market: bool) -> _Batch:
        batch: _Batch = []
        for queue in (self._events, self._market) if market else (self._events,):
            while queue and len(batch) < _BATCH:
                batch.append((queue, queue.popleft()))
        return batch

    def _requeue(self, batch: _Batch) -> None:
        """Put a batch Redis did not take back in front (older than anything queued)."""
        for queue, item in reversed(batch):
            if len(queue) >= self.limit:
                self.dropped[item[0]] += 1
                continue
            queue.appendleft(item)

    async def _write(self, batch: _Batch, commands: Callable[[Any], None] | None) -> None:
        """Raises :class:`GatewayUnavailableError` (the batch is queued again), or the
        error of one of ``commands``; an entry Redis refused for good (a key of another
        type) is dropped and counted, never written twice."""
        if not batch and commands is None:
            return
        try:
            with unavailable(self._url):
                async with self._client.pipeline(transaction=commands is not None) as pipe:
                    for _, (stream, data, maxlen) in batch:
                        if maxlen:
                            pipe.xadd(stream, {FIELD: data}, maxlen=maxlen, approximate=True)
                        else:
                            pipe.xadd(stream, {FIELD: data})
                    if commands is not None:
                        commands(pipe)
                    results = await pipe.execute(raise_on_error=False)
        except GatewayUnavailableError:
            self._requeue(batch)
            raise
        except redis.exceptions.RedisError:
            for _, (stream, _, _) in batch:  # whether it took some of them is unknown
                self.dropped[stream] += 1
            raise
        for (_, (stream, _, _)), result in zip(batch, results, strict=False):
            if isinstance(result, Exception):
                self.dropped[stream] += 1
                log.error("redis refused an entry of %s: %s", stream, result)
                continue
            self.last_id[stream] = result.decode() if isinstance(result, bytes) else result
            self.written += 1
        for result in results[len(batch) :]:
            if isinstance(result, Exception):
                raise result
