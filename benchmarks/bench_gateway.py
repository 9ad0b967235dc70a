"""The Redis Streams gateway: intent -> accepted round trip, throughput, market-data fan-out.

Everything runs in one process and one event loop against a real ``redis-server`` on
loopback (the one the tests use), so the ratios compare paths, not machines:

* **floor**: a bare round trip through Redis: XADD a message to a stream, a responder
  task reads it with XREADGROUP, XADDs a reply and XACKs, the caller XREADs the reply;
* **in process**: ``ec_core.connect("mock")``, ``trader.execute`` of a resting limit order;
* **gateway**: the same order through ``ec_core.connect("redis://...")`` and an in-process
  gateway on the mock (intent, journal-free executor, answer after the order's events).

Then intents per second with 1, 4 and 16 workers sending at once (each worker awaits each
answer), and market-data fan-out: 16 workers read the gateway's EP stream while the mock
market runs flat out; quotes/s published, delivered per worker, and the gaps (entries
trimmed before a worker read them, counted and resynced) are reported.

Usage: ``uv run python benchmarks/bench_gateway.py [--quick] [--out PATH]``. Writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from ec_core.execution import Payload
from ec_core.gateway.client import open_link
from ec_core.gateway.config import GatewayConfig, parse_gateway_config
from ec_core.gateway.link import WorkerLink
from ec_core.gateway.process import open_gateway
from ec_core.gateway.redis_io import ensure_group, open_redis, read_group, read_streams
from ec_core.model import NewOrder, OrderType, Side
from ec_core.plugins import PluginHost
from ec_core.testing.redis_server import RedisServer

import ec_core

ACCOUNT = "MOCK-1"
_BALANCE = "10000000000"  # thousands of resting bids need their margin


def _stats(samples_ns: list[int], cpu_ns: int) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "p50_us": round(statistics.median(ordered) / 1000, 1),
        "p99_us": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000, 1),
        "cpu_us": round(cpu_ns / len(ordered) / 1000, 1),
        "n": len(ordered),
    }


async def _timed(count: int, once: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    """Wall time of each call (p50/p99) and this process' CPU time per call: the client
    and the gateway both run here, so ``cpu_us`` is their work per intent (the loaded
    shared machine disturbs it much less than the wall clock; Redis' own is not in it)."""
    samples = []
    cpu_start = time.process_time_ns()
    for n in range(count):
        start = time.perf_counter_ns()
        await once(n)
        samples.append(time.perf_counter_ns() - start)
    return _stats(samples, time.process_time_ns() - cpu_start)


async def floor(url: str, count: int) -> dict[str, float]:
    """XADD -> XREADGROUP -> XADD + XACK -> XREAD: what any Redis round trip costs."""
    async with open_redis(url, {}) as client, anyio.create_task_group() as tg:
        await ensure_group(client, "floor:in", "g")

        async def responder() -> None:
            while True:
                for entry_id, data in await read_group(
                    client, "floor:in", "g", "r", count=100, block_ms=1000
                ):
                    async with client.pipeline(transaction=True) as pipe:
                        pipe.xadd("floor:out", {b"m": data})
                        pipe.xack("floor:in", "g", entry_id)
                        await pipe.execute()

        tg.start_soon(responder)
        last = "0-0"

        async def once(n: int) -> None:
            nonlocal last
            await client.xadd("floor:in", {b"m": str(n).encode()})
            while True:
                for _, entries in await read_streams(
                    client, {"floor:out": last}, count=10, block_ms=1000
                ):
                    last = entries[-1][0]
                    return

        result = await _timed(count, once)
        tg.cancel_scope.cancel()
    return result


async def in_process(count: int) -> dict[str, float]:
    async with ec_core.connect(
        "mock", vendor_settings={"market": False, "balance": _BALANCE}
    ) as trader:
        bid = _resting_bid()

        async def once(n: int) -> None:
            await trader.execute(bid)

        return await _timed(count, once)


def _resting_bid() -> NewOrder:
    """A bid far under the mock's market: it rests, nothing moves."""
    return NewOrder(
        account_id=ACCOUNT,
        symbol="EP",
        side=Side.BUY,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=Decimal("1000.00"),
    )


def _config(url: str, namespace: str, workers: int, **gateway: Any) -> GatewayConfig:
    return parse_gateway_config(
        {
            "vendor": "mock",
            "vendors": {"mock": {"market": gateway.pop("market", False), "balance": _BALANCE}},
            "gateway": {
                "url": url,
                "namespace": namespace,
                "accounts": [ACCOUNT],
                "workers": {f"w{n}": {"accounts": [ACCOUNT]} for n in range(workers)},
                **gateway,
            },
        }
    )


async def through_gateway(url: str, count: int) -> dict[str, float]:
    config = _config(url, "bench-rt", 1)
    async with (
        open_gateway(config, PluginHost.load(), consumer="bench") as gateway,
        anyio.create_task_group() as tg,
    ):
        await tg.start(gateway.serve)
        async with ec_core.connect(
            f"{url}?namespace=bench-rt", account_id=ACCOUNT, worker="w0"
        ) as trader:
            bid = _resting_bid()

            async def once(n: int) -> None:
                await trader.execute(bid)

            result = await _timed(count, once)
        tg.cancel_scope.cancel()
    return result


async def throughput(url: str, workers: int, per_worker: int) -> dict[str, float]:
    namespace = f"bench-tp{workers}"
    config = _config(url, namespace, workers)
    async with (
        open_gateway(config, PluginHost.load(), consumer="bench") as gateway,
        anyio.create_task_group() as tg,
    ):
        await tg.start(gateway.serve)
        async with AsyncExitStack() as stack:
            links = await _links(stack, url, namespace, workers)
            bid = _resting_bid()
            start = time.perf_counter()
            cpu_start = time.process_time()
            async with anyio.create_task_group() as senders:
                for link in links:

                    async def send(link: WorkerLink = link) -> None:
                        for _ in range(per_worker):
                            await link.execute(Payload(request=bid))

                    senders.start_soon(send)
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
        tg.cancel_scope.cancel()
    total = workers * per_worker
    return {
        "workers": workers,
        "intents": total,
        "intents_per_s": round(total / elapsed),
        "cpu_us_per_intent": round(cpu / total * 1e6, 1),
        "intents_per_cpu_s": round(total / cpu),
    }


async def _links(stack: AsyncExitStack, url: str, namespace: str, workers: int) -> list[WorkerLink]:
    """``workers`` links (w0, w1...) to the gateway of ``namespace``, open until ``stack``
    closes. They do not follow the account stream: in one process, N workers reading every
    event of it would measure N mirrors, not the gateway (in production each worker is its
    own process)."""
    return [
        await stack.enter_async_context(
            open_link(
                f"{url}?namespace={namespace}",
                account_id=ACCOUNT,
                worker=f"w{n}",
                follow_account=False,
            )
        )
        for n in range(workers)
    ]


async def fan_out(url: str, workers: int, seconds: float) -> dict[str, Any]:
    namespace = "bench-fan"
    config = _config(url, namespace, workers, market=True, symbols=["EP"], market_maxlen=1000)
    async with (
        open_gateway(config, PluginHost.load(), consumer="bench") as gateway,
        anyio.create_task_group() as tg,
    ):
        await tg.start(gateway.serve)
        async with AsyncExitStack() as stack:
            links = await _links(stack, url, namespace, workers)
            delivered = [0] * workers
            stream = gateway.layout.market("EP")
            first_seq = gateway.seq(stream)
            start = time.perf_counter()
            with anyio.move_on_after(seconds):
                async with anyio.create_task_group() as readers:
                    for n, link in enumerate(links):

                        async def read(n: int = n, link: WorkerLink = link) -> None:
                            async with link.quotes(("EP",)) as quotes:
                                async for _event in quotes:
                                    delivered[n] += 1

                        readers.start_soon(read)
            elapsed = time.perf_counter() - start
            published = gateway.seq(stream) - first_seq
            gaps = sum(link.market_gaps for link in links)
            dropped = sum(gateway.outbox.dropped.values())
        tg.cancel_scope.cancel()
    return {
        "workers": workers,
        "published_per_s": round(published / elapsed),
        "delivered_per_s_per_worker": round(statistics.mean(delivered) / elapsed),
        "delivered_total_per_s": round(sum(delivered) / elapsed),
        "gaps_seen_by_workers": gaps,
        "dropped_by_gateway": dropped,
    }


async def run(quick: bool) -> dict[str, Any]:
    count = 200 if quick else 2000
    per_worker = 50 if quick else 500
    seconds = 1.0 if quick else 5.0
    with (
        tempfile.TemporaryDirectory() as folder,
        RedisServer(Path(folder), durable=False) as server,
    ):
        floor_row = await floor(server.url, count)
        local = await in_process(count)
        remote = await through_gateway(server.url, count)
        rows = [await throughput(server.url, n, per_worker) for n in (1, 4, 16)]
        fan = await fan_out(server.url, 16, seconds)
    return {
        "benchmark": "gateway",
        "quick": quick,
        "round_trip": {
            "floor_xadd_xreadgroup": floor_row,
            "in_process": local,
            "gateway": remote,
            "gateway_to_floor_p50": round(remote["p50_us"] / floor_row["p50_us"], 1),
            "gateway_to_in_process_p50": round(remote["p50_us"] / local["p50_us"], 1),
            "gateway_to_in_process_cpu": round(remote["cpu_us"] / local["cpu_us"], 1),
        },
        "throughput": rows,
        "fan_out": fan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (CI smoke run)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args()
    result = anyio.run(run, args.quick)
    trip = result["round_trip"]
    for name in ("floor_xadd_xreadgroup", "in_process", "gateway"):
        row = trip[name]
        print(
            f"{name:>22}: p50 {row['p50_us']:>8.1f} µs  p99 {row['p99_us']:>8.1f} µs"
            f"  cpu {row['cpu_us']:>7.1f} µs"
        )
    print(
        f"gateway / floor p50 {trip['gateway_to_floor_p50']}x,"
        f" gateway / in process p50 {trip['gateway_to_in_process_p50']}x"
        f" (cpu {trip['gateway_to_in_process_cpu']}x)"
    )
    for row in result["throughput"]:
        print(
            f"{row['workers']:>3} workers: {row['intents_per_s']:>7} intents/s"
            f" ({row['cpu_us_per_intent']} cpu µs per intent, client and gateway)"
        )
    fan = result["fan_out"]
    print(
        f"fan-out to {fan['workers']}: {fan['published_per_s']} quotes/s published,"
        f" {fan['delivered_per_s_per_worker']} delivered/s per worker,"
        f" {fan['gaps_seen_by_workers']} gaps seen, {fan['dropped_by_gateway']} dropped"
    )
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
