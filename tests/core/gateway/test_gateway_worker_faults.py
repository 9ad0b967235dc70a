"""Faults on the workers' side, each with a real process or a real Redis stopped: the
gateway keeps the session and its orders; the venue is asked what happened."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from ec_core.errors import GatewayUnavailableError
from ec_core.gateway.client import open_link
from ec_core.gateway.redis_io import read_streams
from ec_core.gateway.service import Gateway
from ec_core.gateway.wire import MarketMsg, decode
from ec_core.testing.redis_server import RedisServer
from gateway_support import (
    far_bid,
    gateway_config,
    new_namespace,
    resting_buy,
    running_gateway,
    venue_orders,
)
from processes import Proc

import ec_core
from ec_core import NewOrder, OrderState, OrderType, Side

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WORKER = """
import sys
from decimal import Decimal

import anyio

from ec_core.execution import Payload
from ec_core.gateway.client import open_link
from ec_core.gateway.redis_io import read_streams
from ec_core.gateway.wire import MarketMsg, decode
from ec_core.model import NewOrder, OrderType, Side


async def main() -> None:
    url, price = sys.argv[1], Decimal(sys.argv[2])
    # The test starts this process once its gateway serves (running_gateway awaits
    # Gateway.serve's start: the intents group exists, every entry from then on is read
    # and answered), so the hello's answer is late at worst, never lost: wait for it as
    # long as the test's own deadline allows, not open_link's 10 s default, which a loaded
    # machine (this interpreter starting, the gateway's venue stepping) exceeded once.
    async with open_link(
        url, account_id="MOCK-1", worker="w1", heartbeat_interval=0.2, hello_timeout=120.0
    ) as link:
        known = sorted((o.cl_order_id, o.state.value) for o in link.own_open_orders())
        print("worker: knows", known or "-", flush=True)
        if len(sys.argv) > 3:
            order = await link.execute(Payload(request=NewOrder(
                account_id="MOCK-1", symbol="EP", side=Side.BUY, qty=1,
                order_type=OrderType.LMT, limit_price=price)))
            print("worker: placed", order.cl_order_id, order.state.value, flush=True)
        await anyio.sleep_forever()


anyio.run(main)
"""


async def _line(proc: Proc, prefix: str) -> str:
    return await anyio.to_thread.run_sync(proc.wait_for, prefix)


async def test_a_killed_worker_s_orders_are_cancelled_after_its_heartbeats_stop(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    namespace = new_namespace()
    config = gateway_config(
        redis_server.url, namespace, on_worker_lost="cancel", heartbeat_timeout=1.0
    )
    (tmp_path / "worker.py").write_text(WORKER, encoding="utf-8")
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(40):
        async with running_gateway(config) as gateway:
            price = str(await far_bid(gateway))
            with Proc([sys.executable, "worker.py", url, price, "place"], cwd=tmp_path) as worker:
                placed = (await _line(worker, "worker: placed")).split()
                assert placed[3] == "WORKING"
                await anyio.to_thread.run_sync(worker.kill)  # SIGKILL: no goodbye
            order_id = placed[2]
            tracker = gateway.paths["MOCK-1"].tracker
            final = await tracker.wait_for(order_id, lambda o: o.state.is_final)
            assert final.state is OrderState.CANCELLED
            at_venue = [
                r
                for r in venue_orders(gateway, "MOCK-1")
                if order_id in (r.chain_id, r.cl_order_id, r.orig_cl_order_id)
            ]
            assert [r.state for r in at_venue] == [OrderState.CANCELLED]
            assert gateway.counters["cancelled_for_lost_worker"] == 1


async def test_a_restarted_worker_gets_its_working_orders_back(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace)  # on_worker_lost = "leave"
    (tmp_path / "worker.py").write_text(WORKER, encoding="utf-8")
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(40):
        async with running_gateway(config) as gateway:
            price = str(await far_bid(gateway))
            with Proc([sys.executable, "worker.py", url, price, "place"], cwd=tmp_path) as first:
                assert (await _line(first, "worker: knows")) == "worker: knows -"
                order_id = (await _line(first, "worker: placed")).split()[2]
                await anyio.to_thread.run_sync(first.kill)
            with Proc([sys.executable, "worker.py", url, price], cwd=tmp_path) as second:
                line = await _line(second, "worker: knows")
                assert line == f"worker: knows [('{order_id}', 'WORKING')]"
                await anyio.to_thread.run_sync(second.kill)
            assert [r.cl_order_id for r in venue_orders(gateway, "MOCK-1")] == [order_id]


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A server of this test's own: it is stopped and started again."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


async def test_redis_stopped_and_restarted_the_gateway_keeps_the_session(
    own_redis: RedisServer,
) -> None:
    config = gateway_config(own_redis.url, "restart")
    url = f"{own_redis.url}?namespace=restart"
    with anyio.fail_after(60):
        async with (
            running_gateway(config) as gateway,
            ec_core.connect(url, account_id="MOCK-1", worker="w1") as trader,
        ):
            price = await far_bid(gateway)
            bid = resting_buy(price)
            before = await trader.execute(bid)
            assert before is not None
            own_redis.stop()
            with pytest.raises(GatewayUnavailableError, match="unavailable"):
                await trader.execute(msgspec_replace(bid, "w1.down.1"))
            own_redis.start()  # the same port; the append-only file kept the streams
            again = msgspec_replace(bid, "w1.up.1")
            after = None
            for _attempt in range(3):  # a pooled connection may still be the old one
                try:
                    after = await trader.execute(again)
                    break
                except GatewayUnavailableError:
                    continue
            assert after is not None
            assert after.state is OrderState.WORKING
            sent = [r.cl_order_id for r in venue_orders(gateway, "MOCK-1")]
            assert sent.count(after.cl_order_id) == 1
            assert before.cl_order_id in sent
            assert gateway.paths["MOCK-1"].tracker.disconnects == 0  # the session stayed up
            # Whether the gateway itself saw the outage (its redis_errors counter) depends on
            # timing: redis-py retries a dropped connection, and a quick restart can fall
            # inside its retries. The worker's typed error above is the outcome that counts.


async def _published_until(gateway: Gateway, stream: str, more: int) -> int:
    """Read the stream (as another reader would) until ``more`` entries came after now."""
    last_id, first_seq, seq = "$", None, 0
    while first_seq is None or seq < first_seq + more:
        for _, entries in await read_streams(
            gateway.client, {stream: last_id}, count=1000, block_ms=5000
        ):
            for entry_id, data in entries:
                last_id = entry_id
                message = decode(data)
                assert isinstance(message, MarketMsg)
                seq = message.seq
                first_seq = seq if first_seq is None else first_seq
    return seq


def msgspec_replace(order: NewOrder, cl_order_id: str) -> NewOrder:
    import msgspec

    return msgspec.structs.replace(order, cl_order_id=cl_order_id)


async def test_a_worker_that_never_reads_costs_the_gateway_nothing_and_sees_its_gap(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace, market_maxlen=10, symbols=["EP"])
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(60):
        async with (
            running_gateway(config) as gateway,
            open_link(url, account_id="MOCK-1", worker="w1") as slow,
            ec_core.connect(url, account_id="MOCK-1", worker="w2") as busy,
        ):
            stream = gateway.layout.market("EP")
            async with slow.quotes(("EP",)) as quotes:
                await anext(quotes)  # then it stops reading
                await _published_until(gateway, stream, 500)  # it publishes on meanwhile
                order = await busy.execute(
                    NewOrder(
                        account_id="MOCK-1",
                        symbol="EP",
                        side=Side.BUY,
                        qty=1,
                        order_type=OrderType.MKT,
                    )
                )
                assert order is not None  # another worker is served as usual
                assert len(gateway.outbox) <= gateway.outbox.limit
                assert await gateway.client.xlen(stream) <= 10 + 200  # MAXLEN ~
                await anext(quotes)  # reads again: the gap is seen and resynced
                assert slow.market_gaps == 1
