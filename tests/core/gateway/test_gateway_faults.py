"""Fault tests with real processes: each asserts on the venue that no order was lost,
none was sent twice, and every intent was answered once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import pytest
from ec_core.gateway.layout import StreamLayout
from ec_core.gateway.redis_io import Redis, open_redis, read_streams
from ec_core.gateway.wire import FIELD, Answer, IntentMsg, Outcome, decode, encode
from ec_core.model import NewOrder, OrderType, Side
from ec_core.testing.redis_server import RedisServer
from processes import EC, Proc
from venue_support import PASSWORD, PASSWORD_ENV, ServedVenue, served_venue

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _bid(venue: ServedVenue, intent_id: str) -> IntentMsg:
    request = NewOrder(
        account_id=venue.account_id,
        symbol="EP",
        side=Side.BUY,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=venue.far_bid,
        cl_order_id=intent_id,
    )
    return IntentMsg(worker="w1", request=request)


async def _answers(
    client: Redis, layout: StreamLayout, wanted: int, after: str = "0-0"
) -> tuple[list[Answer], str]:
    """Read w1's replies until ``wanted`` answers came (or the deadline fails the test)."""
    found: list[Answer] = []
    with anyio.fail_after(60):
        while len(found) < wanted:
            read = await read_streams(
                client, {layout.replies("w1"): after}, count=500, block_ms=1000
            )
            for _, entries in read:
                for entry_id, data in entries:
                    after = entry_id
                    message = decode(data)
                    if isinstance(message, Answer):
                        found.append(message)
    return found, after


async def _wait(proc: Proc, prefix: str) -> str:
    return await anyio.to_thread.run_sync(proc.wait_for, prefix)


async def test_a_gateway_killed_with_intents_in_flight_answers_each_once_after_restart(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    layout = StreamLayout("kill9")
    env = {PASSWORD_ENV: PASSWORD}
    async with served_venue() as venue, open_redis(redis_server.url, {}) as client:
        config = venue.gateway_toml(redis_server.url, "kill9", tmp_path)
        (tmp_path / "gw.toml").write_text(config, encoding="utf-8")
        gateway = [*EC, "gateway", "--config", "gw.toml"]
        ids = [f"w1.k.{n}" for n in range(60)]
        with Proc(gateway, cwd=tmp_path, env=env) as first:
            await _wait(first, "ec gateway: serving")
            async with client.pipeline(transaction=False) as pipe:
                for intent_id in ids:
                    pipe.xadd(layout.intents, {FIELD: encode(_bid(venue, intent_id))})
                await pipe.execute()
            before, after = await _answers(client, layout, 5)
            first.kill()  # SIGKILL with the rest in flight or not read yet
        with Proc(gateway, cwd=tmp_path, env=env) as second:
            await _wait(second, "ec gateway: serving")
            rest, _ = await _answers(client, layout, len(ids) - len(before), after)
            assert await anyio.to_thread.run_sync(second.finish) == 0, second.output
        answers = before + rest
        per_intent = Counter(a.intent_id for a in answers)
        assert sorted(per_intent) == sorted(ids)
        assert set(per_intent.values()) == {1}  # every intent answered exactly once
        at_venue = Counter(r.cl_order_id for r in venue.orders())
        assert set(at_venue.values()) == {1}  # none sent twice
        accepted = {a.intent_id for a in answers if a.outcome is Outcome.ACCEPTED}
        assert accepted <= set(at_venue)  # none the gateway accepted is missing
        unknown = {a.intent_id for a in answers if a.outcome is Outcome.UNKNOWN}
        assert accepted | unknown == set(ids), Counter(a.outcome for a in answers)
        pending = await client.xpending(layout.intents, "gateway")
        assert pending["pending"] == 0
