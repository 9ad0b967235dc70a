"""The suite's redis-server is real: consumer groups, XAUTOCLAIM and a restart that keeps them."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from ec_core.errors import ConfigError, GatewayUnavailableError
from ec_core.gateway.layout import GROUP, StreamLayout
from ec_core.gateway.redis_io import (
    autoclaim,
    ensure_group,
    open_redis,
    read_group,
    redacted,
    redis_options,
)
from ec_core.gateway.wire import FIELD, IntentMsg, decode, encode
from ec_core.model import CancelAll
from ec_core.testing.redis_server import RedisServer, redis_server_binary


def test_the_server_binary_is_found() -> None:
    assert redis_server_binary().endswith("redis-server")


@pytest.mark.anyio
async def test_an_unacknowledged_intent_is_reclaimed_after_a_restart(
    redis_server: RedisServer,
) -> None:
    layout = StreamLayout("fixture")
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        await ensure_group(client, layout.intents, GROUP)
        await ensure_group(client, layout.intents, GROUP)  # twice: no error
        intent = IntentMsg(worker="w", request=CancelAll(account_id="A", cl_order_id="w.1"))
        await client.xadd(layout.intents, {FIELD: encode(intent)})
        [(entry_id, _)] = await read_group(
            client, layout.intents, GROUP, "gw-1", count=1, block_ms=1000
        )
    finally:
        await client.aclose()
    redis_server.restart()  # the append-only file keeps the stream and the pending entry
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        claimed = await autoclaim(client, layout.intents, GROUP, "gw-2", min_idle_ms=0)
        assert [entry for entry, _ in claimed] == [entry_id]
        assert decode(claimed[0][1]) == intent
    finally:
        await client.aclose()


def test_credentials_come_from_the_environment_and_never_show() -> None:
    env = {"EC_REDIS_USER": "desk", "EC_REDIS_PASSWORD": "s3cret", "EC_REDIS_CA": "/ca.pem"}
    assert redis_options("rediss://h:6380/0", env) == {
        "username": "desk",
        "password": "s3cret",
        "ssl_ca_certs": "/ca.pem",
    }
    assert redis_options("redis://h/0", {}) == {}
    assert redacted("redis://desk:s3cret@h:6379/0") == "redis://desk:***@h:6379/0"
    with pytest.raises(ConfigError, match=r"redis:// or rediss://"):
        redis_options("http://desk:s3cret@h/0", env)


@pytest.mark.anyio
async def test_no_server_is_a_typed_error_naming_the_url() -> None:
    with pytest.raises(GatewayUnavailableError, match=r"redis at redis://127\.0\.0\.1:1/0"):
        async with open_redis("redis://127.0.0.1:1/0", {}):
            pytest.fail("connected to nothing")
