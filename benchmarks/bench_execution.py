"""Per-order cost of the executor: validation + journal + send + acknowledgement.

Runs on the in-process ``mock`` vendor (the real ec-mock engine behind a real
session and trade stream), one account, one instrument (CLE), GTC limit orders
far from any liquidity so each is acknowledged and rests; every 20 orders they
are cancelled (untimed), so about 10 orders are open when a rule scans them.

Measured in the same run:

* ``floor``: the bare gateway round trip: ``gateway.send`` then read the trade
  stream until the order's ACCEPTED arrives. No checks, no tracker, no journal.
* ``executor``: ``Executor.execute`` with the real :class:`~ec_core.safety.PreTradeChecks`
  and every built-in rule on, tracker on, no journal.
* ``executor+journal``: the same with the SQLite journal (WAL, ``FsyncPolicy.CHECKPOINT``:
  ``synchronous=NORMAL``; the intent of each order is committed before it is sent,
  reports are batched into the next commit).
* ``executor+journal/concurrent``: each batch of 20 payloads in flight at once (a
  strategy sending a basket); throughput in orders/s.
* ``executor+journal/execute_many``: each batch of 20 payloads as one basket
  (:meth:`Executor.execute_many`): the 20 intents share one commit before the first
  is sent; µs per order is the basket's time divided by its size.
* ``executor+journal(fsync)``: ``FsyncPolicy.EVERY_COMMIT`` (``synchronous=FULL``), fewer
  orders: what durability against power loss costs on this disk, one order at a
  time and in baskets.

Prints µs p50/p99 per order, orders/s, the ratio to the floor, and writes JSON. Also the
process's CPU time per order over the same span (``time.process_time``; the floor's
includes its cancel-alls, the others' do not, so it is not a ratio to the floor): on a
machine shared with other work the wall-clock figures swing with its load, the CPU time
much less, so compare two commits by it when the load is high.
Run: ``uv run python benchmarks/bench_execution.py [--quick] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from ec_core.clock import ManualClock
from ec_core.execution import Executor, Payload
from ec_core.journal import FsyncPolicy, Journal
from ec_core.model import (
    CancelAll,
    Duration,
    ExecutionReport,
    NewOrder,
    OrderType,
    ReportKind,
    Side,
)
from ec_core.safety import Limits, PreTradeChecks, StaticLimits
from ec_core.safety.rules import builtin_validators
from ec_core.tracking import OrderTracker
from ec_core.validation import ValidatorRegistry
from ec_mock.engine import Exchange
from ec_mock.instruments import builtin_instruments
from ec_mock.vendor import MockSession, MockVendorFactory, MockVenue
from ec_mock.vendor.venue import SIM_START_NS

ACCOUNT = "BENCH"
SYMBOL = "CLE"
BATCH = 20  # orders between untimed cancel-alls: about 10 open orders on average
LIMITS = """
[defaults]
max_order_qty = 100
max_position = 100000
max_order_notional = 1_000_000_000
max_open_orders = 100000
price_band_ticks = 5000

[instruments.CLE]

[accounts."*"]
orders_per_second = 100000000
orders_per_minute = 1000000000
cancels_per_second = 100000000
cancels_per_minute = 1000000000
"""


@dataclass
class Venue:
    clock: ManualClock
    session: MockSession


@asynccontextmanager
async def venue() -> AsyncIterator[Venue]:
    clock = ManualClock(SIM_START_NS)
    exchange = Exchange(instruments=list(builtin_instruments()), clock=clock, seed=0)
    exchange.open_account(ACCOUNT, unlimited=True)
    mock = MockVenue(exchange, clock, seed=0, market=False)
    settings: dict[str, Any] = {"venue": mock, "account_id": ACCOUNT, "trade_buffer": 1 << 20}
    async with MockVendorFactory().open(settings) as session:
        yield Venue(clock, session)


def order(i: int, cl_order_id: str = "") -> NewOrder:
    # Buys rest well below the market, sells well above: acknowledged, never filled.
    side = Side.BUY if i % 2 else Side.SELL
    price = Decimal("50.00") + Decimal(i % 50) / 100 if side is Side.BUY else Decimal("90.00")
    return NewOrder(
        account_id=ACCOUNT, symbol=SYMBOL, side=side, qty=1 + i % 5, order_type=OrderType.LMT,
        limit_price=price, duration=Duration.GTC, cl_order_id=cl_order_id,
    )  # fmt: skip


def summary(
    name: str, samples_ns: list[int], wall_ns: int, orders: int, cpu_ns: int
) -> dict[str, Any]:
    samples = sorted(samples_ns)
    return {
        "name": name,
        "orders": orders,
        "p50_us": samples[len(samples) // 2] / 1000 if samples else None,
        "p99_us": samples[int(len(samples) * 0.99)] / 1000 if samples else None,
        "mean_us": statistics.fmean(samples) / 1000 if samples else None,
        "orders_per_s": orders / (wall_ns / 1e9),
        "cpu_us_per_order": cpu_ns / orders / 1000,
    }


async def run_floor(n: int) -> dict[str, Any]:
    """Gateway send, then read the stream until this order's ACCEPTED: nothing else."""
    async with venue() as v, v.session.trades.stream(ACCOUNT) as events:
        gateway = v.session.orders
        stream = aiter(events)
        samples: list[int] = []
        start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
        for i in range(n):
            request = order(i, f"f{i}")
            t0 = time.perf_counter_ns()
            await gateway.send(request)
            while True:
                event = await anext(stream)
                if (
                    isinstance(event, ExecutionReport)
                    and event.kind is ReportKind.ACCEPTED
                    and event.cl_order_id == request.cl_order_id
                ):
                    break
            samples.append(time.perf_counter_ns() - t0)
            if i % BATCH == BATCH - 1:
                await gateway.send(CancelAll(account_id=ACCOUNT, cl_order_id=f"fx{i}"))
        wall = time.perf_counter_ns() - start
        cpu = time.process_time_ns() - cpu_start
    return summary("floor", samples, wall, n, cpu)


def make_checks(clock: ManualClock) -> PreTradeChecks:
    registry = ValidatorRegistry()
    for validator in builtin_validators():
        registry.add(validator)
    limits = StaticLimits(Limits.from_toml(LIMITS, source="bench"))
    return PreTradeChecks(registry, limits=limits, clock=clock)


async def run_executor(
    name: str, n: int, *, journal: Journal | None, tasks: int = 1, basket: bool = False
) -> dict[str, Any]:
    async with venue() as v, v.session.trades.stream(ACCOUNT) as events:
        instruments = {i.symbol: i for i in builtin_instruments()}
        tracker = OrderTracker(clock=v.clock, multiplier=lambda s: instruments[s].multiplier)
        executor = Executor(
            gateway=v.session.orders, checks=make_checks(v.clock), tracker=tracker,
            journal=journal, clock=v.clock, vendor="mock", instruments=instruments,
            prices=lambda symbol: (Decimal("70.00"), Decimal("69.99"), Decimal("70.01")),
            flush_interval=3600,
        )  # fmt: skip
        samples: list[int] = []
        async with executor.consume(events):

            async def one(i: int) -> None:
                payload = Payload(request=order(i))
                t0 = time.perf_counter_ns()
                await executor.execute(payload)
                samples.append(time.perf_counter_ns() - t0)

            async def cancel_all(i: int) -> None:
                await executor.execute(Payload(request=CancelAll(account_id=ACCOUNT)))

            start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
            untimed = untimed_cpu = 0
            if basket:  # execute_many: one commit for the basket's intents
                for base in range(0, n, BATCH):
                    stop = min(base + BATCH, n)
                    payloads = [Payload(request=order(i)) for i in range(base, stop)]
                    t0 = time.perf_counter_ns()
                    results = await executor.execute_many(payloads)
                    per_order = (time.perf_counter_ns() - t0) // len(payloads)
                    samples.extend([per_order] * len(payloads))
                    assert all(r is not None and not isinstance(r, Exception) for r in results)
                    t, c = time.perf_counter_ns(), time.process_time_ns()
                    await cancel_all(base)
                    untimed += time.perf_counter_ns() - t
                    untimed_cpu += time.process_time_ns() - c
            elif tasks == 1:
                for i in range(n):
                    await one(i)
                    if i % BATCH == BATCH - 1:
                        t, c = time.perf_counter_ns(), time.process_time_ns()
                        await cancel_all(i)
                        untimed += time.perf_counter_ns() - t
                        untimed_cpu += time.process_time_ns() - c
            else:
                for base in range(0, n, BATCH):
                    async with anyio.create_task_group() as tg:
                        for i in range(base, min(base + BATCH, n)):
                            tg.start_soon(one, i)
                    t, c = time.perf_counter_ns(), time.process_time_ns()
                    await cancel_all(base)
                    untimed += time.perf_counter_ns() - t
                    untimed_cpu += time.process_time_ns() - c
            wall = time.perf_counter_ns() - start - untimed
            cpu = time.process_time_ns() - cpu_start - untimed_cpu
        assert tracker.stats().illegal_transitions == 0
    return summary(name, samples, wall, n, cpu)


async def with_journal(
    policy: FsyncPolicy, body: Callable[[Journal], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "j.sqlite", fsync=policy) as j:
        result = await body(j)
        result["journal_commits"] = j.commits
        return result


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    n = 2_000 if args.quick else 20_000
    n_fsync = 200 if args.quick else 1_000
    await run_executor("warmup", 500, journal=None)
    results = [await run_floor(n)]
    results.append(await run_executor("executor", n, journal=None))
    results.append(
        await with_journal(
            FsyncPolicy.CHECKPOINT,
            lambda j: run_executor("executor+journal", n, journal=j),
        )
    )
    results.append(
        await with_journal(
            FsyncPolicy.CHECKPOINT,
            lambda j: run_executor(
                f"executor+journal/concurrent({BATCH})", n, journal=j, tasks=BATCH
            ),
        )
    )
    results.append(
        await with_journal(
            FsyncPolicy.CHECKPOINT,
            lambda j: run_executor(
                f"executor+journal/execute_many({BATCH})", n, journal=j, basket=True
            ),
        )
    )
    results.append(
        await with_journal(
            FsyncPolicy.EVERY_COMMIT,
            lambda j: run_executor(
                f"executor+journal(fsync)/execute_many({BATCH})", n_fsync, journal=j, basket=True
            ),
        )
    )
    results.append(
        await with_journal(
            FsyncPolicy.EVERY_COMMIT,
            lambda j: run_executor("executor+journal(fsync)", n_fsync, journal=j),
        )
    )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer orders (a few seconds)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parent / "results" / "bench_execution.json",
        help="where to write the JSON results",
    )
    args = parser.parse_args()
    gc.collect()
    results = anyio.run(main_async, args)
    floor = results[0]
    print(
        f"{'run':38} {'orders':>7} {'p50 µs':>8} {'p99 µs':>8} {'orders/s':>10} {'p50/floor':>9}"
        f" {'cpu µs':>7}"
    )
    for r in results:
        r["p50_vs_floor"] = r["p50_us"] / floor["p50_us"]
        print(
            f"{r['name']:38} {r['orders']:7d} {r['p50_us']:8.1f} {r['p99_us']:8.1f}"
            f" {r['orders_per_s']:10.0f} {r['p50_vs_floor']:9.2f}"
            f" {r['cpu_us_per_order']:7.1f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"benchmark": "execution", "python": sys.version, "results": results}, indent=2)
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
