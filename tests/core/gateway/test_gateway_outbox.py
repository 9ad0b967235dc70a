"""The gateway's outbox: bounded, the oldest dropped first and counted, answers after events."""

from __future__ import annotations

import pytest
from ec_core.gateway.outbox import Outbox
from ec_core.gateway.redis_io import open_redis, read_streams
from ec_core.testing.redis_server import RedisServer


@pytest.mark.anyio
async def test_a_full_outbox_drops_the_oldest_and_counts_them(redis_server: RedisServer) -> None:
    async with open_redis(redis_server.url, {}) as client:
        outbox = Outbox(client, redis_server.url, limit=3)
        for n in range(5):
            outbox.put_market("ob:md:EP", f"q{n}".encode(), maxlen=100)
        assert len(outbox) == 3  # memory stays bounded, whoever reads or not
        assert outbox.dropped == {"ob:md:EP": 2}
        outbox.put_event("ob:account:A", b"e1")

        def answer(pipe: object) -> None:
            pipe.xadd("ob:replies:w", {b"m": b"answer"})  # type: ignore[attr-defined]

        await outbox.write_with(answer)  # the queued event first, then the answer
        assert outbox.last_id["ob:account:A"]
        read = await read_streams(
            client, {"ob:account:A": "0-0", "ob:replies:w": "0-0"}, count=10, block_ms=None
        )
        found = dict(read)
        assert [data for _, data in found["ob:account:A"]] == [b"e1"]
        assert [data for _, data in found["ob:replies:w"]] == [b"answer"]
        event_id, answer_id = found["ob:account:A"][0][0], found["ob:replies:w"][0][0]
        assert _key(event_id) <= _key(answer_id)  # one transaction, the event first
        assert len(outbox) == 3  # market data is the writer's, not an answer's


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)
