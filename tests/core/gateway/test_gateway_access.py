"""Who may ask the gateway for what: a hello (an account's orders, positions and P&L) and
a subscription are refused, like an intent, for a worker the config does not list or an
account outside its list; the worker's client raises a typed error naming the rule."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from ec_core.gateway import GatewayRefusedError
from ec_core.gateway.layout import StreamLayout
from ec_core.gateway.redis_io import Redis, open_redis, read_streams
from ec_core.gateway.wire import (
    FIELD,
    Answer,
    Heartbeat,
    Hello,
    Message,
    Outcome,
    Snapshot,
    Subscribe,
    decode,
    encode,
)
from ec_core.testing.redis_server import RedisServer
from gateway_support import gateway_config, new_namespace, running_gateway, served_client
from processes import EC, Proc

import ec_core
from ec_core import NewOrder, OrderType, Side

pytestmark = pytest.mark.anyio


async def _replies(client: Redis, layout: StreamLayout, worker: str) -> list[Message]:
    """The first batch of ``worker``'s replies (waits for one)."""
    read = await read_streams(client, {layout.replies(worker): "0-0"}, count=100, block_ms=5000)
    return [decode(data) for _, entries in read for _, data in entries]


async def test_an_unlisted_worker_cannot_connect_and_is_told_why(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace)
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with running_gateway(config):
            with pytest.raises(GatewayRefusedError, match="WORKER_NOT_ALLOWED") as caught:
                async with ec_core.connect(url, account_id="MOCK-1", worker="intruder"):
                    pass
    assert caught.value.violations[0].value == "intruder"
    assert "[gateway.workers]" in str(caught.value)


async def test_another_account_s_orders_positions_and_pnl_are_not_shown(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace)
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with (
            running_gateway(config) as gateway,
            ec_core.connect(url, account_id="MOCK-2", worker="w2") as owner,
            open_redis(redis_server.url, {}) as client,
        ):
            buy = NewOrder(
                account_id="MOCK-2", symbol="EP", side=Side.BUY, qty=1, order_type=OrderType.MKT
            )
            order = await owner.execute(buy)
            assert order is not None
            with pytest.raises(GatewayRefusedError, match="ACCOUNT_NOT_ALLOWED") as caught:
                async with ec_core.connect(url, account_id="MOCK-2", worker="w1"):
                    pass
            assert caught.value.violations[0].value == "MOCK-2"
            # What went over the wire: a refusal, never the account.
            layout = gateway.layout
            hello = Hello(worker="w1", account_id="MOCK-2", hello_id="peek")
            await client.delete(layout.replies("w1"))
            await client.xadd(layout.intents, {FIELD: encode(hello)})
            [reply] = await _replies(client, layout, "w1")
            assert isinstance(reply, Answer)
            assert (reply.intent_id, reply.outcome) == ("peek", Outcome.DENIED)
            assert reply.order is None
            assert [v.code for v in reply.violations] == ["ACCOUNT_NOT_ALLOWED"]
            pending = await client.xpending(layout.intents, "gateway")
            assert pending["pending"] == 0


async def test_an_unlisted_worker_s_subscription_is_refused(redis_server: RedisServer) -> None:
    with anyio.fail_after(30):
        async with served_client(redis_server) as (gateway, client):
            layout = gateway.layout
            subscribe = Subscribe(worker="intruder", symbols=("EP",), hello_id="sub")
            await client.xadd(layout.intents, {FIELD: encode(subscribe)})
            [reply] = await _replies(client, layout, "intruder")
            assert isinstance(reply, Answer)
            assert (reply.intent_id, reply.outcome) == ("sub", Outcome.DENIED)
            assert [v.code for v in reply.violations] == ["WORKER_NOT_ALLOWED"]
            assert "EP" not in gateway.instruments  # nothing was subscribed for it


async def test_an_allowed_account_the_gateway_does_not_trade_is_refused(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    workers = {"w3": {"accounts": ["MOCK-9"]}}
    config = gateway_config(redis_server.url, namespace, workers=workers)
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with running_gateway(config):
            with pytest.raises(GatewayRefusedError, match="ACCOUNT_UNKNOWN"):
                async with ec_core.connect(url, account_id="MOCK-9", worker="w3"):
                    pass


STRATEGY = """
from ec_core.strategy import OpStrategy


class Idle(OpStrategy):
    def __init__(self):
        super().__init__(symbols=["EP"])

    def generate(self, ctx, symbol):
        return None


def idle(info):
    return Idle()
"""


@pytest.mark.slow
async def test_ec_run_through_the_gateway_as_an_unlisted_worker_stops_with_the_rule(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace)
    url = f"{redis_server.url}?namespace={namespace}"
    (tmp_path / "strategy.py").write_text(STRATEGY, encoding="utf-8")
    run = [*EC, "run", "strategy.py:idle", "--gateway", url, "--account", "MOCK-1"]
    with anyio.fail_after(60):
        async with running_gateway(config):
            with Proc([*run, "--worker", "intruder"], cwd=tmp_path) as proc:
                code = await anyio.to_thread.run_sync(proc.finish, None)
    assert code != 0, proc.output
    assert "Error: the gateway refused the hello of worker intruder for MOCK-1" in proc.output
    assert "WORKER_NOT_ALLOWED" in proc.output
    assert "Traceback" not in proc.output


async def test_heartbeats_of_unlisted_workers_are_counted_not_kept(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with anyio.fail_after(30):
        async with served_client(redis_server) as (gateway, client):
            layout = gateway.layout
            async with client.pipeline(transaction=False) as pipe:
                for n in range(50):
                    beat = Heartbeat(worker=f"stranger{n}", market_gaps=n)
                    pipe.xadd(layout.intents, {FIELD: encode(beat)})
                pipe.xadd(layout.intents, {FIELD: encode(Heartbeat(worker="w1"))})
                hello = Hello(worker="w1", account_id="MOCK-1", hello_id="after")
                pipe.xadd(layout.intents, {FIELD: encode(hello)})
                await pipe.execute()
            [reply] = await _replies(client, layout, "w1")  # read after the heartbeats
            assert isinstance(reply, Snapshot)
            assert list(gateway.liveness.heartbeats) == ["w1"]
            assert list(gateway.liveness.market_gaps) == ["w1"]
            assert gateway.counters["unlisted_heartbeats"] == 50
            pending = await client.xpending(layout.intents, "gateway")
            assert pending["pending"] == 0
    unlisted = [r for r in caplog.records if "not listed" in r.getMessage()]
    assert len(unlisted) == 1  # logged once, counted always
