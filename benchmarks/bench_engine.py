"""Throughput and latency of the ec-mock matching engine on a mixed order workload.

Workload (seeded, generated up front): 45% passive limit adds, 25% cancels, 15%
marketable IOC orders that sweep the touch, 15% modifies (price or quantity), spread
over 1 or 100 instruments, from two margin-checked accounts.

Measured in the same run:

* ``floor``: a minimal dict-of-deques price-time book doing the same operations with
  no accounts, no events, no validation: the cost of Python itself;
* ``engine_ticks``: :class:`ec_mock.engine.Exchange` through its tick-level methods
  (``place``/``amend``/``cancel``), no listener, no event log;
* ``engine_submit``: the same through ``submit`` with core request objects (Decimal
  prices converted at the edge), no listener, no event log;
* ``engine_events``: ``submit`` with a listener, so every execution report, position
  and account report and quote is built and delivered;
* ``engine_depth``: ``engine_events`` with a listener that reads
  :meth:`Exchange.book_depth` of the event's symbol on every execution report, quote
  and trade, as the mock vendor and the CQG-dialect server do for a depth subscriber
  (a fill is 3-4 such events; the book is converted once per request that changed it).

Each variant runs ``--repeat`` times, interleaved with the others, on a fresh engine:
the machine is shared and noisy, so the best and the median of the runs are
reported (and ops per second of CPU time beside wall time), with p50/p99 per-op
latency (median over up to three latency passes) and the ratio to the floor of the
same run. Writes JSON.

With ``--memory`` it also reports what the engine holds after the run (traced
Python allocations of the ticks variant, per accepted op): the engine keeps every
order it accepted, for status and history queries.

Run: ``uv run python benchmarks/bench_engine.py [--quick] [--repeat N] [--out PATH]
[--profile {ticks,submit,events}] [--memory]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import random
import statistics
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ec_core.clock import ManualClock
from ec_core.model import (
    CancelOrder,
    Duration,
    ExecutionReport,
    Instrument,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
    Quote,
    Side,
    Trade,
    TradeEvent,
)
from ec_mock.engine import Exchange

MID = 40_000  # ticks (10000.00 at 0.25)
TICK = Decimal("0.25")
# (kind, account, symbol, side, qty, price, cl, target)
Op = tuple[str, str, str, int, int, int, str, str]


def make_ops(n: int, n_symbols: int, seed: int) -> list[Op]:
    rng = random.Random(seed)
    symbols = [f"S{i}" for i in range(n_symbols)]
    live: list[tuple[str, str, int, str]] = []  # (account, symbol, side, cl) of adds
    ops: list[Op] = []
    for i in range(n):
        r = rng.random()
        account = "A" if rng.random() < 0.5 else "B"
        symbol = symbols[rng.randrange(n_symbols)]
        side = 1 if rng.random() < 0.5 else -1
        cl = f"c{i}"
        if r < 0.45 or not live:
            price = MID - side * rng.randint(1, 10)  # passive: buys below, sells above the mid
            ops.append(("add", account, symbol, side, rng.randint(1, 10), price, cl, ""))
            live.append((account, symbol, side, cl))
        elif r < 0.70:
            account, symbol, side, target = live.pop(rng.randrange(len(live)))
            ops.append(("cancel", account, symbol, side, 0, 0, cl, target))
        elif r < 0.85:
            price = MID + side * 3  # crosses the touch, IOC: takes and goes
            ops.append(("market", account, symbol, side, rng.randint(1, 8), price, cl, ""))
        else:
            index = rng.randrange(len(live))
            account, symbol, side, target = live[index]
            live[index] = (account, symbol, side, cl)
            if rng.random() < 0.5:
                ops.append(("modify_qty", account, symbol, side, rng.randint(1, 10), 0, cl, target))
            else:
                price = MID - side * rng.randint(1, 10)
                ops.append(("modify_px", account, symbol, side, 0, price, cl, target))
    return ops


# --------------------------------------------------------------------------- the floor
class FloorBook:
    """The least a price-time book can do: dict of price -> deque of [qty, id], lazy cancels."""

    def __init__(self) -> None:
        self.books: dict[str, tuple[dict[int, deque[list[Any]]], dict[int, deque[list[Any]]]]] = {}
        self.orders: dict[
            str, tuple[str, int, int, list[Any]]
        ] = {}  # id -> symbol, side, px, entry

    def _book(self, symbol: str) -> tuple[dict[int, deque[list[Any]]], dict[int, deque[list[Any]]]]:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = ({}, {})
        return book

    def add(self, symbol: str, side: int, qty: int, price: int, cl: str, ioc: bool) -> None:
        bids, asks = self._book(symbol)
        opposite = asks if side > 0 else bids
        while qty and opposite:
            best = min(opposite) if side > 0 else max(opposite)
            if (best > price) if side > 0 else (best < price):
                break
            queue = opposite[best]
            while queue and qty:
                entry = queue[0]
                take = min(qty, entry[0])
                entry[0] -= take
                qty -= take
                if entry[0] == 0:
                    queue.popleft()
                    self.orders.pop(entry[1], None)
            if not queue:
                del opposite[best]
        if qty and not ioc:
            own = bids if side > 0 else asks
            entry = [qty, cl]
            own.setdefault(price, deque()).append(entry)
            self.orders[cl] = (symbol, side, price, entry)

    def cancel(self, target: str) -> tuple[str, int, int, int] | None:
        found = self.orders.pop(target, None)
        if found is None:
            return None
        symbol, side, price, entry = found
        qty = entry[0]
        entry[0] = 0
        bids, asks = self._book(symbol)
        own = bids if side > 0 else asks
        queue = own[price]
        queue.remove(entry)
        if not queue:
            del own[price]
        return symbol, side, price, qty

    def modify(self, target: str, cl: str, qty: int, new_price: int) -> None:
        found = self.cancel(target)
        if found is None:
            return
        symbol, side, price, old_qty = found
        self.add(symbol, side, qty or old_qty, new_price or price, cl, False)


def run_floor(ops: list[Op]) -> Callable[[Op], None]:
    book = FloorBook()

    def do(op: Op) -> None:
        kind, _, symbol, side, qty, price, cl, target = op
        if kind == "add":
            book.add(symbol, side, qty, price, cl, False)
        elif kind == "market":
            book.add(symbol, side, qty, price, cl, True)
        elif kind == "cancel":
            book.cancel(target)
        elif kind == "modify_qty":
            book.modify(target, cl, qty, 0)
        else:
            book.modify(target, cl, 0, price)

    return do


# --------------------------------------------------------------------------- the engine
class _Sink:
    def __init__(self) -> None:
        self.count = 0

    def on_trade_event(self, event: TradeEvent) -> None:
        self.count += 1

    hears_market_events = True  # the exchange calls on_market_event

    def on_market_event(self, event: Quote | Trade) -> None:
        self.count += 1


class _DepthSink:
    """Reads the book's depth on every event that may move it, as a depth subscriber does."""

    def __init__(self, exchange: Exchange) -> None:
        self.count = 0
        self._depth = exchange.book_depth

    def on_trade_event(self, event: TradeEvent) -> None:
        if isinstance(event, ExecutionReport):
            self._depth(event.symbol)
        self.count += 1

    hears_market_events = True  # the exchange calls on_market_event

    def on_market_event(self, event: Quote | Trade) -> None:
        self._depth(event.symbol)
        self.count += 1


def _exchange(n_symbols: int, *, listener: bool, depth: bool = False) -> Exchange:
    instruments = [
        Instrument(symbol=f"S{i}", tick_size=TICK, multiplier=Decimal(50), max_order_qty=1000)
        for i in range(n_symbols)
    ]
    exchange = Exchange(
        instruments=instruments,
        clock=ManualClock(),
        enforce_sessions=False,
        record=False,
        margins={i.symbol: Decimal(500) for i in instruments},
    )
    for account in ("A", "B"):
        exchange.open_account(account, balance=Decimal(10) ** 12)
    if depth:
        exchange.add_listener(_DepthSink(exchange))
    elif listener:
        exchange.add_listener(_Sink())
    return exchange


def run_engine_ticks(n_symbols: int) -> Callable[[Op], None]:
    ex = _exchange(n_symbols, listener=False)
    place, cancel, amend = ex.place, ex.cancel, ex.amend
    buy, sell = Side.BUY, Side.SELL
    lmt, ioc = OrderType.LMT, Duration.IOC

    def do(op: Op) -> None:
        kind, account, symbol, side, qty, price, cl, target = op
        if kind == "add":
            place(account, symbol, buy if side > 0 else sell, qty, lmt, price=price, cl_order_id=cl)
        elif kind == "market":
            place(
                account,
                symbol,
                buy if side > 0 else sell,
                qty,
                lmt,
                price=price,
                duration=ioc,
                cl_order_id=cl,
            )
        elif kind == "cancel":
            cancel(account, target, cancel_cl_order_id=cl)
        elif kind == "modify_qty":
            amend(account, target, new_cl_order_id=cl, qty=qty)
        else:
            amend(account, target, new_cl_order_id=cl, price=price)

    return do


def to_requests(ops: list[Op]) -> list[OrderRequest]:
    """The workload as core request objects (built before timing, like a client would)."""
    out: list[OrderRequest] = []
    for kind, account, symbol, side, qty, price, cl, target in ops:
        if kind in ("add", "market"):
            out.append(
                NewOrder(
                    account_id=account,
                    symbol=symbol,
                    side=Side.BUY if side > 0 else Side.SELL,
                    qty=qty,
                    order_type=OrderType.LMT,
                    limit_price=TICK * price,
                    duration=Duration.IOC if kind == "market" else Duration.DAY,
                    cl_order_id=cl,
                )
            )
        elif kind == "cancel":
            out.append(
                CancelOrder(
                    account_id=account, symbol=symbol, orig_cl_order_id=target, cl_order_id=cl
                )
            )
        else:
            out.append(
                ModifyOrder(
                    account_id=account,
                    symbol=symbol,
                    orig_cl_order_id=target,
                    cl_order_id=cl,
                    qty=qty if kind == "modify_qty" else None,
                    limit_price=TICK * price if kind == "modify_px" else None,
                )
            )
    return out


# --------------------------------------------------------------------------- measuring
def throughput(do: Callable[[Any], None], items: list[Any]) -> tuple[float, float]:
    """Ops per second of wall time and per second of this process's CPU time.

    On a shared machine the wall figure drops whenever another process takes the
    core; the CPU figure does not, so it is reported beside it (not instead of it).
    """
    gc.collect()
    gc.disable()
    try:
        cpu_start = time.process_time()
        start = time.perf_counter()
        for item in items:
            do(item)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    finally:
        gc.enable()
    return len(items) / elapsed, len(items) / max(cpu, 1e-9)


def latencies(do: Callable[[Any], None], items: list[Any]) -> dict[str, float]:
    clock = time.perf_counter_ns
    samples = []
    gc.collect()
    for item in items:
        start = clock()
        do(item)
        samples.append(clock() - start)
    samples.sort()
    return {
        "p50_us": samples[len(samples) // 2] / 1000,
        "p99_us": samples[int(len(samples) * 0.99)] / 1000,
        "max_us": samples[-1] / 1000,
    }


def workload_summary(ops: list[Op]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for op in ops:
        counts[op[0]] = counts.get(op[0], 0) + 1
    return dict(sorted(counts.items()))


VARIANTS = ("floor", "engine_ticks", "engine_submit", "engine_events", "engine_depth")


def measure(n_ops: int, n_symbols: int, seed: int, repeat: int) -> dict[str, Any]:
    """Every variant ``repeat`` times, interleaved, so a burst of load on the machine
    hits all of them alike; best and median of the runs."""
    ops = make_ops(n_ops, n_symbols, seed)
    requests = to_requests(ops)
    results: dict[str, Any] = {
        "instruments": n_symbols,
        "ops": n_ops,
        "repeat": repeat,
        "workload": workload_summary(ops),
    }
    variants: dict[str, tuple[Callable[[], Callable[[Any], None]], list[Any]]] = {
        "floor": (lambda: run_floor(ops), ops),
        "engine_ticks": (lambda: run_engine_ticks(n_symbols), ops),
        "engine_submit": (lambda: _exchange(n_symbols, listener=False).submit, requests),
        "engine_events": (lambda: _exchange(n_symbols, listener=True).submit, requests),
        "engine_depth": (
            lambda: _exchange(n_symbols, listener=True, depth=True).submit,
            requests,
        ),
    }
    wall: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    lats: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for run in range(repeat):
        for name, (factory, items) in variants.items():
            rate, cpu_rate = throughput(factory(), items)
            wall[name].append(rate)
            cpu[name].append(cpu_rate)
            if run < 3:  # latency passes are slow; three give a steady median
                lats[name].append(latencies(factory(), items))
    for name in variants:
        lat = {
            key: round(statistics.median(sample[key] for sample in lats[name]), 2)
            for key in ("p50_us", "p99_us", "max_us")
        }
        results[name] = {
            "ops_per_s": round(max(wall[name])),
            "ops_per_s_median": round(statistics.median(wall[name])),
            "ops_per_cpu_s": round(max(cpu[name])),
            "runs_ops_per_s": [round(rate) for rate in wall[name]],
            **lat,
        }
    floor = results["floor"]
    for name in VARIANTS[1:]:
        r = results[name]
        r["floor_ratio"] = round(r["ops_per_s"] / floor["ops_per_s"], 3)
        r["floor_ratio_median"] = round(r["ops_per_s_median"] / floor["ops_per_s_median"], 3)
    return results


def memory(n_ops: int, n_symbols: int, seed: int) -> dict[str, float]:
    """Python memory the engine holds after the ticks workload (tracemalloc)."""
    ops = make_ops(n_ops, n_symbols, seed)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        do = run_engine_ticks(n_symbols)
        for op in ops:
            do(op)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    return {"held_mb": round(held / 1e6, 1), "bytes_per_op": round(held / n_ops)}


def profile(n_ops: int, n_symbols: int, seed: int, variant: str) -> str:
    ops = make_ops(n_ops, n_symbols, seed)
    items: list[Any] = []
    do: Callable[[Any], None]
    if variant == "ticks":
        do = run_engine_ticks(n_symbols)
        items.extend(ops)
    else:
        do = _exchange(n_symbols, listener=variant == "events").submit
        items.extend(to_requests(ops))
    profiler = cProfile.Profile()
    profiler.enable()
    for item in items:
        do(item)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="20k ops, 3 runs")
    parser.add_argument("--ops", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None, help="runs per variant (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_engine.json"))
    parser.add_argument(
        "--profile",
        nargs="?",
        const="submit",
        choices=("ticks", "submit", "events"),
        help="print a cProfile summary of one variant on 1 instrument (default: submit)",
    )
    parser.add_argument(
        "--memory", action="store_true", help="also report the memory the engine holds"
    )
    args = parser.parse_args(argv)
    n_ops = args.ops or (20_000 if args.quick else 200_000)
    repeat = args.repeat or (3 if args.quick else 5)
    report: dict[str, Any] = {
        "benchmark": "ec_mock.engine mixed workload",
        "python": sys.version.split()[0],
        "target_ops_per_s": 200_000,
        "runs": [measure(n_ops, n, args.seed, repeat) for n in (1, 100)],
    }
    if args.memory:
        for run in report["runs"]:
            run["memory_engine_ticks"] = memory(n_ops, run["instruments"], args.seed)
    for run in report["runs"]:
        print(f"\n{run['instruments']} instrument(s), {run['ops']} ops x {run['repeat']} runs")
        print(f"  workload: {run['workload']}")
        print(
            f"  {'':14s} {'best':>9s} {'median':>9s} {'cpu-best':>9s} ops/s"
            f"   {'p50':>7s} {'p99':>7s} us   of floor (best, median)"
        )
        for name in VARIANTS:
            r = run[name]
            ratio = (
                f"   x{r['floor_ratio']:.3f}  x{r['floor_ratio_median']:.3f}"
                if "floor_ratio" in r
                else ""
            )
            print(
                f"  {name:14s} {r['ops_per_s']:>9,} {r['ops_per_s_median']:>9,}"
                f" {r['ops_per_cpu_s']:>9,}         {r['p50_us']:7.2f} {r['p99_us']:7.2f}"
                f"   {ratio}"
            )
        if "memory_engine_ticks" in run:
            mem = run["memory_engine_ticks"]
            print(
                f"  engine holds {mem['held_mb']} MB after the ticks run"
                f" ({mem['bytes_per_op']} B/op)"
            )
    if args.profile:
        text = profile(n_ops, 1, args.seed, args.profile)
        report[f"profile_{args.profile}_1_instrument"] = text
        print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
