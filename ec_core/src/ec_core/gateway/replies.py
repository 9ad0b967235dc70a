"""How an intents entry gets its one answer: written with its acknowledgement.

The answer (or snapshot) goes to the worker's reply stream and the entry is
acknowledged in one Redis transaction, after every event the outbox holds (so an
answer's order events precede it). While Redis is unavailable it is retried; a retry
first asks whether the entry is still pending, since the transaction may have landed
before the connection dropped. A command Redis refuses for good is logged and counted,
never raised into the gateway: the entry stays pending, and the next start answers it.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, final

import anyio
import redis.asyncio as aioredis
import redis.exceptions

from ec_core.errors import GatewayUnavailableError
from ec_core.gateway.layout import GROUP, StreamLayout
from ec_core.gateway.outbox import Outbox
from ec_core.gateway.redis_io import unavailable
from ec_core.gateway.wire import FIELD, Answer, Message, encode

__all__ = ["Replies"]

log = logging.getLogger(__name__)


@final
class Replies:
    """Answers and acknowledgements of the intents stream of ``layout``."""

    def __init__(
        self,
        client: aioredis.Redis,
        url: str,
        layout: StreamLayout,
        outbox: Outbox,
        counters: Counter[str],
    ) -> None:
        self._client = client
        self._url = url
        self._layout = layout
        self._outbox = outbox
        self._counters = counters

    async def reply(self, worker: str, message: Message, entry_id: str) -> None:
        """Write ``message`` to the worker's replies and acknowledge the entry, atomically,
        after every event queued so far (an answer's order events precede it; a snapshot's
        stream position counts them).

        Retried while Redis is unavailable; a retry first checks that the entry is still
        pending (the transaction may have landed before the connection dropped). A command
        Redis refuses for good is logged and counted, never raised into the gateway."""
        data = encode(message)
        stream = self._layout.replies(worker)
        intents = self._layout.intents

        def commands(pipe: Any) -> None:
            pipe.xadd(stream, {FIELD: data})
            pipe.xack(intents, GROUP, entry_id)

        delay = 0.05
        first = True
        while True:
            try:
                if not first:
                    with unavailable(self._url):
                        if not await self._pending(entry_id):
                            return
                first = False
                await self._outbox.write_with(commands)
                self._counters["answers"] += isinstance(message, Answer)
                return
            except GatewayUnavailableError as exc:
                self._counters["redis_errors"] += 1
                log.warning("answer to %s waits for redis: %s", entry_id, exc)
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)
            except redis.exceptions.RedisError as exc:  # e.g. the replies key is no stream
                self._counters["reply_failures"] += 1
                log.error(
                    "answer to %s (worker %s) not written, the entry stays pending (the next"
                    " start answers it): %s",
                    entry_id,
                    worker,
                    exc,
                )
                return

    async def _pending(self, entry_id: str) -> bool:
        found: Any = await self._client.xpending_range(
            self._layout.intents, GROUP, min=entry_id, max=entry_id, count=1
        )
        return bool(found)

    async def ack(self, entry_id: str) -> None:
        try:
            with unavailable(self._url):
                await self._client.xack(self._layout.intents, GROUP, entry_id)
        except GatewayUnavailableError:
            pass  # pending: read again after a restart, and acknowledged then
        except redis.exceptions.RedisError as exc:
            self._counters["redis_errors"] += 1
            log.error("acknowledging %s: %s", entry_id, exc)
