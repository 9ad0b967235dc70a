"""Replay benchmark of the strategy engine.

Three measurements on the same seeded quotes, one process, one core:

1. floor: a minimal hand-written loop that cuts 1-minute bars and calls a callback per quote;
2. engine: FeedSet (1s/1m/5m bars, tick ring, rolling stats) + one strategy with a
   6-node action tree, no orders, the quotes handed to ``StrategyEngine.ingest`` as
   ``replay`` does (the user's conditions are the callbacks per quote);
3. the same with an order action every 100 quotes on the mock engine: the strategy
   engine, the core Executor (validators from the plugin host) and OrderTracker, and
   the in-process ``mock`` vendor opened through ``PluginHost.load()`` (a second
   strategy places a resting limit order, then cancels it 100 quotes later). Measured
   twice: (3) the order path alone (quotes go to the strategies, not to the venue) and
   (3+) as ``ec replay`` runs, every quote also shown to the replay venue
   (``RecordedVenue``: the recorded touch is the market). ``--book`` adds (3b), the same
   on the full-book simulator fed every quote as house orders (``venue = "book"``).
   (P) "same work as the peer" is (3+) cut to what ``peer_nautilus.py`` gives
   nautilus: one strategy (the order actions alone), 1-minute bars only, the replay
   venue seeing every quote. (3+) stays the harder figure (a second strategy with a
   6-node tree over 1s/1m/5m bars and rolling statistics on top).

``--peer`` runs nautilus_trader's ``BacktestEngine`` on the same quotes (its venue sees
every quote, 1-minute bars, the same order action every 100 quotes; see
``peer_nautilus.py``) and prints both figures and the ratio to (3+) and to (P); it is
skipped with a message when nautilus_trader is not installed (``uv sync --group peers``).
``--profile`` prints a cProfile summary of (2) in CPU time (``--profile 3+`` or
``--profile P``: of that run instead). ``--split`` takes (3+) and (P) apart into what a
quote costs without order actions and what one order action costs (the same replay
with and without its actions, CPU time) and the calls (Python and C) an action makes,
by function (cProfile call counts of the two runs; ``action_split.py``): where an action's
time goes, reproducibly, under the JSON's ``split`` key. ``--memory N`` replays N quotes
generated lazily (never held in a list) as (3+) and prints the peak resident memory, to
show a long replay runs in bounded memory.

Prints quotes/s and the ratio to the floor; writes JSON (``--out``). Each rate is also
given in the process's CPU time (``time.process_time``, best of the repeats, ``cpu_*``
keys): on a machine shared with other work the wall-clock rates swing with its load, the
CPU-time rates much less, so compare two commits, or ec with the peer, by those. For
(3), (3+) and (P) the CPU seconds spent in the cyclic GC during that run are given too
(``cpu_*_gc_s``). Targets: (2) >= 1,500,000 quotes/s, (3+) >= 10x the peer, (2) within 5x of (1).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import logging
import pstats
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

import anyio
from action_split import print_split, split_actions
from bench_output import write_report
from ec_core.data import FeedSet, RollingMoments, TickBuffer
from ec_core.model import CancelOrder, Instrument, NewOrder, OrderType, Quote, Side
from ec_core.plugins import PluginHost
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    OpSignal,
    OpStrategy,
    StrategyContext,
    StrategyEngine,
)
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_plan
from ec_core.strategy.report import ReplayReport

SYMBOL = "CLEF6"
INSTRUMENT = Instrument(symbol=SYMBOL, tick_size=Decimal("0.01"), multiplier=Decimal(1000))
T0 = 1_700_000_000_000_000_000
MINUTE = 60_000_000_000


MOCK_SYMBOL = "CLE"  # the mock venue's crude oil: same tick grid as INSTRUMENT
MOCK_T0 = 1_704_898_800_000_000_000  # a Wednesday 09:00 in Chicago: the contract trades
ACCOUNT = "BENCH-1"
ORDER_EVERY = 100


def walk(n: int, seed: int = 42, *, t0: int = T0) -> Iterator[tuple[int, int, int]]:
    """A random walk of ``(ts_ns, bid, ask)`` in ticks, about 1,000 quotes a second."""
    rng = random.Random(seed)
    ts, mid = t0, 7_000
    steps = (-1, 0, 0, 0, 1)
    for _ in range(n):
        ts += rng.randint(1, 2_000_000)
        mid += rng.choice(steps)
        yield ts, mid, mid + 1


def stream_quotes(n: int, seed: int = 42, *, symbol: str = SYMBOL, t0: int = T0) -> Iterator[Quote]:
    """The walk as quotes, made one at a time (a streaming read)."""
    for ts, bid, ask in walk(n, seed, t0=t0):
        yield Quote(symbol=symbol, ts_ns=ts, bid=bid, ask=ask, bid_size=5, ask_size=5)


def make_quotes(n: int, seed: int = 42, *, symbol: str = SYMBOL, t0: int = T0) -> list[Quote]:
    return list(stream_quotes(n, seed, symbol=symbol, t0=t0))


def floor_loop(quotes: list[Quote], callback: Callable[[Quote], None]) -> int:
    """The floor: 1-minute bars from quote mids, a callback per quote."""
    bars: list[tuple[int, int, int, int, int]] = []
    start = end = -1
    o = h = lo = c = 0
    for q in quotes:
        price = (q.bid + q.ask) >> 1  # type: ignore[operator]
        ts = q.ts_ns
        if ts >= end:
            if end >= 0:
                bars.append((start, o, h, lo, c))
            start = ts - ts % MINUTE
            end = start + MINUTE
            o = h = lo = c = price
        else:
            if price > h:
                h = price
            elif price < lo:
                lo = price
            c = price
        callback(q)
    return len(bars)


def six_node_tree(tb: TickBuffer, closes: RollingMoments) -> ActionTree:
    """Entry on a dip below the 1-minute mean; take profit, stop, or re-price then exit.

    Conditions read the tick buffer's close in ticks and the rolling mean of 1-minute
    closes directly: what a user writes for a condition evaluated on every quote.
    """
    entry_price = [0]

    def dip(ctx: StrategyContext) -> bool:
        m = closes.mean
        if m is None or tb._c >= m - 2:
            return False
        entry_price[0] = tb._c
        return True

    def fired(ctx: StrategyContext) -> bool:
        entry_price[0] = tb._c
        return True

    def up(ctx: StrategyContext) -> bool:
        return tb._c >= entry_price[0] + 5

    def down(ctx: StrategyContext) -> bool:
        return tb._c <= entry_price[0] - 5

    def drift(ctx: StrategyContext) -> bool:
        return tb._c == entry_price[0] + 2

    take_profit = ActionNode("TakeProfit", [], up)
    stop = ActionNode("StopLoss", [], down)
    exit_after_reprice = ActionNode("RepricedExit", [], up)
    reprice = ActionNode("Reprice", [], fired, {"RepricedExit": (up, exit_after_reprice)})
    entry = ActionNode(
        "Entry",
        [],
        dip,
        {"TakeProfit": (up, take_profit), "StopLoss": (down, stop), "Reprice": (drift, reprice)},
    )
    overtime = ActionNode("Overtime", [])
    # out after 5 minutes: a timeout the engine compares per tick, no call
    return ActionTree(entry, overtime_node=overtime, timeout_ns=5 * MINUTE)


class DipStrategy(OpStrategy):
    def __init__(self, feeds: FeedSet | None = None, symbol: str = SYMBOL) -> None:
        super().__init__(symbols=[symbol], cooldown_ns=1_000_000_000, max_signals=1)
        self._tb: TickBuffer | None = None
        self._closes: RollingMoments | None = None
        if feeds is not None:
            self._bind(feeds[symbol].tick_buffer)

    def _bind(self, tb: TickBuffer) -> None:
        self._tb = tb  # conditions read ticks, no Decimal
        self._closes = tb.stats("1m").closes

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self._tb is None:
            self._bind(ctx.feeds[symbol].tick_buffer)
        assert self._tb is not None
        assert self._closes is not None
        return OpSignal(six_node_tree(self._tb, self._closes), symbol=symbol)


class PingStrategy(OpStrategy):
    """An order action every ``ORDER_EVERY`` quotes: alternately a resting bid well under
    the market and the cancel of it. Each action is a one-node signal that ends when the
    venue has answered, so between actions the strategy costs a quote counter."""

    def __init__(self, every: int = ORDER_EVERY) -> None:
        super().__init__(symbols=[MOCK_SYMBOL], max_signals=1)
        self.every = every
        self.quotes = 0
        self.actions = 0
        self._placed: OpSignal | None = None

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        self.quotes += 1
        if self.quotes % self.every:
            return None
        self.actions += 1
        request: NewOrder | CancelOrder
        placed = self._placed
        if placed is not None:  # cancel the bid the previous action placed
            self._placed = None
            request = CancelOrder(
                account_id=ACCOUNT, symbol=symbol, orig_cl_order_id=placed.order_ids()[0]
            )
            return OpSignal(ActionTree(ActionNode("Ping", [request])), symbol=symbol)
        tb = ctx.feeds[symbol].tick_buffer
        request = NewOrder(
            account_id=ACCOUNT, symbol=symbol, side=Side.BUY, qty=1,
            order_type=OrderType.LMT, limit_price=tb.to_price(tb.close_ticks - 50),
        )  # fmt: skip
        self._placed = OpSignal(ActionTree(ActionNode("Ping", [request])), symbol=symbol)
        return self._placed


def orders_run(
    quotes: Iterable[Quote],
    host: PluginHost,
    *,
    show_market: bool,
    venue: str = "recorded",
    peer_work: bool = False,
    every: int | None = None,
) -> ReplayReport:
    """One replay on a fresh mock session (opened, traded, closed inside the timing).

    ``peer_work``: (P), the peer's workload: the order actions alone, 1-minute bars.
    ``every``: an order action every that many quotes (``ORDER_EVERY`` if not given)."""
    ping = PingStrategy(ORDER_EVERY if every is None else every)
    plan = (
        StrategyPlan([ping], timeframes=("1m",))
        if peer_work
        else StrategyPlan([DipStrategy(symbol=MOCK_SYMBOL), ping], timeframes=("1s", "1m", "5m"))
    )
    settings = {"replay": {"venue": venue}}
    return anyio.run(
        lambda: replay_plan(
            host,
            plan,
            quotes,
            account_id=ACCOUNT,
            show_market=show_market,
            vendor_settings=settings,
        )
    )


def peer_run(n: int, repeat: int) -> dict[str, float | int] | None:
    """nautilus_trader on the same walk (best of ``repeat``), or ``None`` if not installed."""
    try:
        from peer_nautilus import T0 as PEER_T0
        from peer_nautilus import run_nautilus
    except ImportError as exc:
        print(f"peer skipped: nautilus_trader is not installed ({exc}); uv sync --group peers")
        return None
    quotes = list(walk(n, t0=PEER_T0))
    best: dict[str, float | int] | None = None
    cpu = float("inf")
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        result = run_nautilus(quotes, ORDER_EVERY)
        cpu = min(cpu, time.process_time() - started)
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    if best is not None:
        best["cpu_seconds"] = cpu
    return best


def memory_run(n: int, host: PluginHost) -> dict[str, float | int]:
    """(3+) over ``n`` quotes made lazily: peak resident memory before and after."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    quotes = stream_quotes(n, symbol=MOCK_SYMBOL, t0=MOCK_T0 + 1_000_000_000)
    made = orders_run(quotes, host, show_market=True)
    spent = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "quotes": made.ticks,
        "seconds": round(spent, 1),
        "peak_rss_mb_before": round(before / 1024, 1),
        "peak_rss_mb_after": round(after / 1024, 1),
    }


last_run: list[tuple[StrategyEngine, DipStrategy]] = []


def engine_run(quotes: list[Quote]) -> tuple[StrategyEngine, DipStrategy]:
    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s", "1m", "5m"), stats_window=20)
    strategy = DipStrategy(feeds)
    engine = StrategyEngine(feeds, [strategy])
    engine.ingest(quotes)  # as a replay drives it: the engine's own loop over the quotes
    last_run[:] = [(engine, strategy)]
    return engine, strategy


class CollectorTime:
    """CPU seconds the cyclic GC spends in collections while installed (``gc.callbacks``):
    a replay keeps every order and finished signal for its report, and each full
    collection walks them again."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, float, float, object]:
    """Best and median seconds of ``repeat`` runs, the best CPU seconds, the collector's
    CPU seconds in that run, and the last run's result."""
    spent: list[float] = []
    cpu = float("inf")
    collector_cpu = 0.0
    result = None
    for _ in range(repeat):
        gc.collect()
        gc.freeze()  # as ec replay does: what exists before the run is not rescanned
        collector = CollectorTime()
        gc.callbacks.append(collector)
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        spent.append(time.perf_counter() - start)
        run_cpu = time.process_time() - start_cpu
        gc.callbacks.remove(collector)
        if run_cpu < cpu:
            cpu, collector_cpu = run_cpu, collector.seconds
        gc.unfreeze()
    return min(spent), statistics.median(spent), cpu, collector_cpu, result


def split_of(quotes: list[Quote], host: PluginHost, repeat: int) -> dict[str, object]:
    """``--split``: (3+) and (P) each taken apart into quotes and order actions."""
    splits: dict[str, object] = {}
    for label, tag, peer_work in (
        ("orders_with_book", "(3+) split", False),
        ("same_as_peer", "(P)  split", True),
    ):

        def run(every: int, peer_work: bool = peer_work) -> ReplayReport:
            return orders_run(quotes, host, show_market=True, peer_work=peer_work, every=every)

        split = split_actions(run, len(quotes), ORDER_EVERY, repeat)
        print_split(tag, split)
        splits[label] = split
    return splits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 quotes, one repeat")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--profile",
        nargs="?",
        const="2",
        choices=("2", "3+", "P"),
        help="print a cProfile summary (in CPU time) of (2), or of (3+) or (P)",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="(3+) and (P): us per quote without actions, us and calls (Python and C) per action",
    )
    parser.add_argument("--peer", action="store_true", help="nautilus_trader on the same quotes")
    parser.add_argument("--book", action="store_true", help="(3b): the full-book replay too")
    parser.add_argument("--memory", type=int, default=0, help="(3+) on N lazily made quotes")
    parser.add_argument("--out", default="benchmarks/results/bench_replay.json")
    args = parser.parse_args(argv)
    # isolated errors are counted in the reports (and fail the run), not logged per event
    logging.getLogger("ec_core").setLevel(logging.CRITICAL)
    n = 100_000 if args.quick else args.n
    repeat = 1 if args.quick else args.repeat
    quotes = make_quotes(n)

    calls = [0]

    def callback(q: Quote) -> None:
        calls[0] += 1

    floor_s, floor_med, floor_cpu, _, _ = timed(lambda: floor_loop(quotes, callback), repeat)
    engine_s, engine_med, engine_cpu, _, _ = timed(lambda: engine_run(quotes), repeat)
    engine, strategy = last_run[0]
    floor_rate, engine_rate = n / floor_s, n / engine_s
    mock_quotes = make_quotes(n, symbol=MOCK_SYMBOL, t0=MOCK_T0 + 1_000_000_000)
    orders: dict[str, float | int] = {}
    host = PluginHost.load()  # plugin discovery is start-up cost, not replay cost
    runs = [
        ("orders", False, "recorded", False),
        ("orders_with_book", True, "recorded", False),
        ("same_as_peer", True, "recorded", True),
    ]
    if args.book:
        runs.append(("orders_full_book", True, "book", False))
    for label, show, venue, peer_work in runs:

        def one_run(
            show: bool = show, venue: str = venue, peer_work: bool = peer_work
        ) -> ReplayReport:
            return orders_run(mock_quotes, host, show_market=show, venue=venue, peer_work=peer_work)

        spent, median, cpu, collector, made = timed(one_run, repeat)
        assert isinstance(made, ReplayReport)
        if made.errors:
            raise SystemExit(f"({label}) the run reported errors: {made.errors[:3]}")
        orders[f"{label}_quotes_per_s"] = round(n / spent)
        orders[f"{label}_vs_floor"] = round(floor_rate / (n / spent), 2)
        orders[f"{label}_median_quotes_per_s"] = round(n / median)
        orders[f"{label}_order_actions"] = made.orders_sent
        orders[f"cpu_{label}_quotes_per_s"] = round(n / cpu)
        orders[f"cpu_{label}_gc_s"] = round(collector, 3)
    report = {
        "n": n,
        "python": sys.version.split()[0],
        "floor_quotes_per_s": round(floor_rate),
        "engine_quotes_per_s": round(engine_rate),
        "engine_vs_floor": round(floor_rate / engine_rate, 2),
        "repeat": repeat,
        "floor_median_quotes_per_s": round(n / floor_med),
        "engine_median_quotes_per_s": round(n / engine_med),
        "engine_vs_floor_median": round(engine_med / floor_med, 2),
        "cpu_floor_quotes_per_s": round(n / floor_cpu),
        "cpu_engine_quotes_per_s": round(n / engine_cpu),
        "signals_produced": strategy.produced,
        "transitions": sum([len(s.tree.history) for s in engine.finished]),
        **orders,
        "targets": {
            "engine": 1_500_000,
            "orders_with_book_vs_peer": 10.0,
            "same_as_peer_vs_peer": 10.0,
            "engine_vs_floor_max": 5.0,
        },
    }
    print(f"{'(1) floor':<27} {floor_rate:>9,.0f} quotes/s")
    ratio = report["engine_vs_floor"]
    print(f"{'(2) engine, no orders':<27} {engine_rate:>9,.0f} quotes/s  ({ratio}x floor)")
    print(
        f"    median of {repeat}: floor {n / floor_med:,.0f}, engine {n / engine_med:,.0f}"
        f" quotes/s ({report['engine_vs_floor_median']}x floor)"
    )
    print(f"    CPU time: floor {n / floor_cpu:,.0f}, engine {n / engine_cpu:,.0f} quotes/s")
    print(f"    signals {strategy.produced}, transitions {report['transitions']}")
    tags = [
        ("orders", "(3)  with orders"),
        ("orders_with_book", "(3+) with orders"),
        ("same_as_peer", "(P)  same work as the peer"),
        ("orders_full_book", "(3b) with orders"),
    ]
    for label, tag in tags:
        if f"{label}_quotes_per_s" not in orders:
            continue
        rate = orders[f"{label}_quotes_per_s"]
        print(
            f"{tag:<27} {rate:>9,.0f} quotes/s  ({orders[f'{label}_vs_floor']}x floor,"
            f" {orders[f'{label}_order_actions']} order actions;"
            f" median {orders[f'{label}_median_quotes_per_s']:,};"
            f" CPU time {orders[f'cpu_{label}_quotes_per_s']:,},"
            f" {orders[f'cpu_{label}_gc_s']} s of it in the GC)"
        )
    if args.peer:
        peer = peer_run(n, repeat)
        if peer is not None:
            peer_rate = n / float(peer["seconds"])
            peer_cpu = n / float(peer["cpu_seconds"])
            ours = float(orders["orders_with_book_quotes_per_s"])
            ours_cpu = float(orders["cpu_orders_with_book_quotes_per_s"])
            same = float(orders["same_as_peer_quotes_per_s"])
            same_cpu = float(orders["cpu_same_as_peer_quotes_per_s"])
            report["peer"] = {
                "name": "nautilus_trader BacktestEngine",
                "quotes_per_s": round(peer_rate),
                "cpu_quotes_per_s": round(peer_cpu),
                "order_actions": peer["order_actions"],
                "bars": peer["bars"],
                "ec_3plus_vs_peer": round(ours / peer_rate, 2),
                "cpu_ec_3plus_vs_peer": round(ours_cpu / peer_cpu, 2),
                "ec_P_vs_peer": round(same / peer_rate, 2),
                "cpu_ec_P_vs_peer": round(same_cpu / peer_cpu, 2),
            }
            print(
                f"{'peer nautilus_trader':<27} {peer_rate:>9,.0f} quotes/s"
                f" ({peer['order_actions']} order actions; CPU time {peer_cpu:,.0f});"
                f" ec (3+) is {ours / peer_rate:.2f}x the peer ({ours_cpu / peer_cpu:.2f}x"
                " in CPU time)"
            )
            print(
                f"    (P), the same work as the peer, is {same / peer_rate:.2f}x the peer"
                f" ({same_cpu / peer_cpu:.2f}x in CPU time)"
            )
    if args.split:
        report["split"] = split_of(mock_quotes, host, repeat)
    if args.memory:
        report["memory"] = memory_run(args.memory, host)
        print(f"memory: {report['memory']}")
    if args.profile:
        profiled: dict[str, Callable[[], object]] = {
            "2": lambda: engine_run(quotes),
            "3+": lambda: orders_run(mock_quotes, host, show_market=True),
            "P": lambda: orders_run(mock_quotes, host, show_market=True, peer_work=True),
        }
        # CPU time, not the wall clock: on a shared machine a descheduled process would
        # charge the wait to whatever function was running
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        profiled[args.profile]()
        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(20)
        print(buffer.getvalue())
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
