"""The mock's share of a replay's order action: the in-process session, replay venue, exchange.

``bench_replay.py`` (3)/(3+) time an order action end to end; ``bench_order_action.py``
keeps the core's share alone (executor, checks, tracker) and ``bench_signal_action.py``
the strategy's. This script keeps the rest: the ``mock`` vendor's session
(:class:`~ec_mock.vendor.MockSession`, opened through the plugin host as ``ec replay``
opens it: simulated clock, no simulated market) with its replay venue
(``session.replay``, a :class:`~ec_mock.market.RecordedVenue`) over the exchange, and a
trade subscriber whose sink takes every event synchronously, as the core's executor does.
Each pair is what (3+) does 50 quotes apart: a resting bid far under the market sent
through ``session.orders.send``, a recorded quote (which re-reads your orders), its
cancel, a quote. The same quotes without the orders are timed too and taken off, so the
figure is the order actions and the re-reads they cause, nothing else.

Measured, per action (a new order or a cancel, with the quote after it): CPU microseconds
(``time.process_time``, best of ``--repeat``, the cyclic GC off) and the Python calls made
(``sys.setprofile``; C calls counted apart), which are the same on every run and machine.
``--instructions`` also counts instructions under callgrind (valgrind): a run of the
pairs less a run of their quotes alone (the same set-up), per action.
Run: ``uv run python benchmarks/bench_mock_action.py [--quick] [--calls] [--instructions]``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import FrameType

import anyio
from bench_order_action import ACCOUNT, CLE, T0, actions
from bench_output import write_report
from ec_core.clock import ManualClock
from ec_core.model import (
    CancelOrder,
    ExecutionReport,
    NewOrder,
    Quote,
    ReportKind,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.plugins import PluginHost
from ec_core.streams import TradeChannel
from ec_core.vendor import SupportsReplay
from ec_mock.market import RecordedVenue
from ec_mock.vendor import MockVenue

BID, ASK = 6999, 7000  # 69.99 / 70.00 in CLE's ticks of 0.01


def pairs_of(n: int) -> list[tuple[NewOrder, CancelOrder]]:
    """``n`` resting bids ~50 ticks under the market, each with its cancel: the requests
    bench_order_action.py times through the core."""
    requests = actions(n)
    made = []
    for new, cancel in zip(requests[::2], requests[1::2], strict=True):
        assert isinstance(new, NewOrder)
        assert isinstance(cancel, CancelOrder)
        made.append((new, cancel))
    return made


def quote(i: int) -> Quote:
    return Quote(
        symbol="CLE", ts_ns=T0 + 1_000_000 * (i + 1), bid=BID, bid_size=5, ask=ASK, ask_size=7
    )


async def run(
    pairs: list[tuple[NewOrder, CancelOrder]], host: PluginHost, *, orders: bool, count: bool
) -> tuple[float, Counter[str], list[TradeEvent]]:
    """CPU seconds of the pairs (or their quotes alone) on a fresh session, calls, events."""
    venue = MockVenue.create(
        clock=ManualClock(T0), instruments=[CLE], accounts=[ACCOUNT], market=False
    )
    settings = {"venue": venue, "account_id": ACCOUNT, "market": False, "clock": "simulated"}
    taken: list[TradeEvent] = []
    calls: Counter[str] = Counter()

    def sink(event: TradeEvent) -> bool:
        taken.append(event)
        return True

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            calls[f"{frame.f_code.co_filename.rsplit('/src/', 1)[-1]}:{frame.f_code.co_name}"] += 1
        elif event == "c_call":
            calls["C:" + getattr(arg, "__qualname__", "?")] += 1

    async with host.open_session("mock", settings) as session:
        assert isinstance(session, SupportsReplay)
        feed = session.replay
        assert isinstance(feed, RecordedVenue)
        quotes = [quote(i) for i in range(2 * len(pairs) + 1)]
        feed.feed(quote(-1))  # the touch, before the pairs
        async with session.trades.stream(ACCOUNT) as channel:
            assert isinstance(channel, TradeChannel)  # the mock's: a sink takes events directly
            async for event in channel:  # the snapshot is queued ahead of the sink
                if isinstance(event, SnapshotComplete):
                    break
            channel.set_sink(sink)
            send, show = session.orders.send, feed.feed
            started = time.process_time()
            if count:
                sys.setprofile(profile)
            try:
                if orders:
                    for i, (new, cancel) in enumerate(pairs):
                        await send(new)
                        show(quotes[2 * i])
                        await send(cancel)
                        show(quotes[2 * i + 1])
                else:
                    for i in range(len(pairs)):
                        show(quotes[2 * i])
                        show(quotes[2 * i + 1])
            finally:
                sys.setprofile(None)
            spent = time.process_time() - started
    return spent, calls, taken


def check(pairs: list[tuple[NewOrder, CancelOrder]], taken: list[TradeEvent]) -> None:
    """Each bid was accepted and cancelled, nothing else (the figures time the right path)."""
    reports = [e for e in taken if isinstance(e, ExecutionReport)]
    kinds = Counter(r.kind for r in reports)
    assert kinds[ReportKind.ACCEPTED] == len(pairs), kinds
    assert kinds[ReportKind.CANCELLED] == len(pairs), kinds
    assert not any(r.kind is ReportKind.REJECTED for r in reports), kinds


def instructions(pairs: int) -> float | None:
    """Instructions per action under callgrind: a run of ``pairs`` pairs less a run of the
    same quotes alone (same set-up: it cancels out), or None without valgrind."""
    if shutil.which("valgrind") is None:
        print("instructions skipped: valgrind is not installed")
        return None
    totals = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("pairs", "quotes"):
            out = Path(tmp) / f"cg.{mode}"
            subprocess.run(
                [
                    *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"),
                    *(sys.executable, __file__, "--pairs", str(pairs), "--once", mode),
                ],
                check=True,
                capture_output=True,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
            found = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
            assert found is not None, "callgrind wrote no total"
            totals.append(int(found.group(1)))
    return (totals[0] - totals[1]) / (2 * pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 pairs, 3 repeats")
    parser.add_argument("--pairs", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--calls", action="store_true", help="list the calls of an action")
    parser.add_argument("--instructions", action="store_true", help="count them (callgrind)")
    parser.add_argument("--once", choices=("pairs", "quotes"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default="benchmarks/results/bench_mock_action.json")
    args = parser.parse_args(argv)
    logging.getLogger("ec_core").setLevel(logging.CRITICAL)
    logging.getLogger("ec_mock").setLevel(logging.CRITICAL)
    host = PluginHost.load()
    if args.once:  # one run of the pairs (or their quotes alone), timed by callgrind
        pairs = pairs_of(args.pairs)
        anyio.run(lambda: run(pairs, host, orders=args.once == "pairs", count=False))
        return 0
    n, repeat = (1_000, 3) if args.quick else (args.pairs, args.repeat)
    pairs = pairs_of(n)
    sample = pairs[:100]
    _, counted, _ = anyio.run(lambda: run(sample, host, orders=True, count=True))
    _, quiet, _ = anyio.run(lambda: run(sample, host, orders=False, count=True))
    counted.subtract(quiet)
    actions = 2 * len(sample)
    python = sum(v for k, v in counted.items() if not k.startswith("C:")) / actions
    c_calls = sum(v for k, v in counted.items() if k.startswith("C:")) / actions
    gc.collect()
    gc.disable()
    try:
        best = bare = float("inf")
        for _ in range(repeat):  # alternated, so a loaded machine weighs on both alike
            spent, _, taken = anyio.run(lambda: run(pairs, host, orders=True, count=False))
            check(pairs, taken)
            best = min(best, spent)
            bare = min(bare, anyio.run(lambda: run(pairs, host, orders=False, count=False))[0])
    finally:
        gc.enable()
    report: dict[str, object] = {
        "pairs": len(pairs),
        "repeat": repeat,
        "cpu_us_per_action": round((best - bare) / (2 * len(pairs)) * 1e6, 2),
        "cpu_us_per_quote_alone": round(bare / (2 * len(pairs)) * 1e6, 2),
        "python_calls_per_action": python,
        "c_calls_per_action": c_calls,
    }
    print(
        f"order action, mock only: {report['cpu_us_per_action']} CPU us per action"
        f" (a new or a cancel with the quote after it, less the quote alone:"
        f" {report['cpu_us_per_quote_alone']} us; best of {repeat}, {len(pairs)} pairs, GC off);"
        f" {python:.1f} Python calls and {c_calls:.1f} C calls per action"
    )
    if args.instructions:
        counted_ins = instructions(1_000 if args.quick else 2_000)
        if counted_ins is not None:
            report["instructions_per_action"] = round(counted_ins)
            print(f"  callgrind: {counted_ins:,.0f} instructions per action")
    if args.calls:
        for name, times in counted.most_common():
            if times:
                print(f"{times / actions:7.2f}  {name}")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
