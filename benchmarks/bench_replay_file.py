"""``ec replay`` on a tick file, end to end: what a user runs, against the in-memory (3+).

``bench_replay.py`` times the replay on quotes already in memory. A user replays a file:
``ec replay strategy.py:strategy --ticks ticks.csv``, so the file's reader, the row
checks and the CLI's report writing are part of every run. This benchmark writes the
same seeded walk as ``bench_replay.py``'s (3+) (1 M quotes, ``--quick`` 100k) to a CSV
and a Parquet file in a temporary directory and times, per file type:

* read: :func:`~ec_core.data.read_ticks` alone (every tick parsed, no row rules);
* read+checks: the same with the row rules ``ec replay`` applies
  (:class:`~ec_core.data.tick_checks.TickChecks`, strict);
* ec replay: the ``replay`` command run in-process (the CLI's own code path, through
  click) on a strategy file doing (3+)'s work (``DipStrategy`` and ``PingStrategy`` of
  ``bench_replay.py``: an order action every 100 quotes, the replay venue seeing every
  quote), report files written;

and, for comparison, (3+) from memory (``bench_replay.orders_run``) and, with
``--peer``, nautilus_trader on the same quotes (``bench_replay.peer_run``; skipped with a
message when it is not installed: ``uv sync --group peers``). Every rate is quotes per
second in the process's CPU time (best of ``--repeat``; wall clock too in the JSON), with
the ratios ``ec replay`` file / (3+) in memory and ``ec replay`` file / peer. The Parquet
rows are skipped with a message when pyarrow is not installed (``ec-core[parquet]``).

``--breakdown`` splits ``ec replay`` in the same process: the replay of the file
alone (``replay_plan`` on the path, the command's garbage-collector freeze, no report
written), the same replay from memory (the quotes in a list, no reader and no checks),
and each file the report writes (``report.txt``, ``report.json``, ``chart.svg``,
``report.html``) rendered from that run's report; what is left of the command's time is
its own glue (click, settings, loading the strategy file, opening the venue).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import anyio
from bench_output import write_report
from bench_replay import (
    ACCOUNT,
    INSTRUMENT,
    MOCK_SYMBOL,
    MOCK_T0,
    DipStrategy,
    PingStrategy,
    orders_run,
    peer_run,
    stream_quotes,
)
from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.data import read_ticks, write_ticks
from ec_core.data.tick_checks import TickChecks
from ec_core.model import Instrument, Quote
from ec_core.plugins import PluginHost
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_plan
from ec_core.strategy.report import ReplayReport

#: The mock venue's crude oil, the grid the file's prices are written on.
MOCK_INSTRUMENT = Instrument(
    symbol=MOCK_SYMBOL, tick_size=INSTRUMENT.tick_size, multiplier=INSTRUMENT.multiplier
)

STRATEGY_FILE = '''"""(3+)'s work for ec replay: bench_replay's two strategies on the mock's CLE."""
from bench_replay import MOCK_SYMBOL, DipStrategy, PingStrategy
from ec_core.strategy.loader import StrategyPlan


def strategy():
    return StrategyPlan(
        [DipStrategy(symbol=MOCK_SYMBOL), PingStrategy()], timeframes=("1s", "1m", "5m")
    )
'''


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The best wall and CPU seconds of ``repeat`` runs of ``fn``."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu


def read_all(path: Path, *, checks: bool) -> int:
    ticks = read_ticks(
        path, {MOCK_SYMBOL: MOCK_INSTRUMENT}, checks=TickChecks() if checks else None
    )
    count = 0
    for _ in ticks:
        count += 1
    return count


def replay_alone(host: PluginHost, source: Path | list[Quote]) -> ReplayReport:
    """(3+)'s plan replayed from ``source`` (a file: read and checked as ``ec replay`` does;
    a list: from memory) after the command's ``gc.collect(); gc.freeze()``; no report written."""
    plan = StrategyPlan(
        [DipStrategy(symbol=MOCK_SYMBOL), PingStrategy()], timeframes=("1s", "1m", "5m")
    )
    gc.collect()
    gc.freeze()
    try:
        return anyio.run(
            lambda: replay_plan(host, plan, source, account_id=ACCOUNT, tick_checks=TickChecks())
        )
    finally:
        gc.unfreeze()


def report_parts(report: ReplayReport) -> dict[str, Callable[[], object]]:
    """Each file ``ec replay`` writes, rendered from ``report`` (not written)."""
    from ec_core.strategy.html_report import render_html
    from ec_core.strategy.report import render_svg, render_text

    return {
        "report.txt": partial(render_text, report),
        "report.json": report.to_json,
        "chart.svg": partial(render_svg, report),
        "report.html": partial(render_html, report, timeframe_s=60),
    }


def ec_replay(host: PluginHost, strategy: Path, path: Path, out: Path, n: int) -> None:
    """The ``replay`` command in-process, as ``ec replay`` runs it."""
    args = ["replay", f"{strategy}:strategy", "--ticks", str(path), "--account", ACCOUNT,
            "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(build_cli(host), args, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"ec replay {path.name} failed ({result.exit_code}): {result.output}")
    report = json.loads((out / "report.json").read_text())
    if report["ticks"] != n or report["errors"]:
        raise SystemExit(f"ec replay {path.name}: {report['ticks']} ticks, {report['errors']}")


def breakdown(
    report: dict[str, object],
    rates: dict[str, float],
    made: ReplayReport,
    kinds: list[str],
    repeat: int,
) -> None:
    """Where ``ec replay`` on a file spends its time beyond (3+) from memory, µs a quote."""
    n = int(str(report["n"]))
    parts: dict[str, float] = {}
    for name, render in report_parts(made).items():
        _, cpu = best_of(render, repeat)
        parts[name] = cpu
        print(f"  {name:<20} {cpu * 1e3:>8.1f} ms CPU time a run")
    report["cpu_report_ms"] = {name: round(cpu * 1e3, 1) for name, cpu in parts.items()}
    us = {label: 1e6 / rate for label, rate in rates.items()}
    written = sum(parts.values()) * 1e6 / n
    for kind in kinds:
        split = {
            "memory_replay": us["memory_replay"],
            "read_checks": us[f"{kind}_read_checks"],
            "replay_beyond_memory_and_reading": (
                us[f"{kind}_replay"] - us["memory_replay"] - us[f"{kind}_read_checks"]
            ),
            "report_files": written,
            "command_rest": us[f"{kind}_ec_replay"] - us[f"{kind}_replay"] - written,
        }
        report[f"cpu_{kind}_breakdown_us_per_quote"] = {k: round(v, 3) for k, v in split.items()}
        print(f"ec replay {kind}, {us[f'{kind}_ec_replay']:.2f} us/quote: " + ", ".join(
            f"{k} {v:.2f}" for k, v in split.items()
        ))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument(
        "--quick", action="store_true", help="100,000 quotes, one repeat unless --repeat"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="best of N runs (default 2, --quick 1); the first ec replay run of a process"
        " also imports the report's plotly, ~0.35 s",
    )
    parser.add_argument("--peer", action="store_true", help="nautilus_trader on the same quotes")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also the replay of each file alone, from memory, and each report file rendered",
    )
    parser.add_argument("--out", default="benchmarks/results/bench_replay_file.json")
    args = parser.parse_args(argv)
    logging.getLogger("ec_core").setLevel(logging.CRITICAL)
    n = 100_000 if args.quick else args.n
    repeat = args.repeat if args.repeat is not None else 1 if args.quick else 2
    host = PluginHost.load()
    report: dict[str, object] = {"n": n, "repeat": repeat, "python": sys.version.split()[0]}
    rates: dict[str, float] = {}

    def record(label: str, wall: float, cpu: float) -> None:
        rates[label] = n / cpu
        report[f"{label}_quotes_per_s"] = round(n / wall)
        report[f"cpu_{label}_quotes_per_s"] = round(n / cpu)
        print(f"{label:<22} {n / cpu:>11,.0f} quotes/s CPU time ({n / wall:,.0f} wall)")

    quotes = list(stream_quotes(n, symbol=MOCK_SYMBOL, t0=MOCK_T0 + 1_000_000_000))
    with tempfile.TemporaryDirectory(prefix="bench_replay_file") as tmp:
        folder = Path(tmp)
        strategy = folder / "bench_strategy.py"
        strategy.write_text(STRATEGY_FILE)
        files = {"csv": folder / "ticks.csv", "parquet": folder / "ticks.parquet"}
        for kind, path in list(files.items()):
            try:
                write_ticks(path, quotes, [MOCK_INSTRUMENT])
            except Exception as exc:  # pyarrow missing: ConfigError saying what to install
                print(f"{kind} skipped: {exc}")
                del files[kind]
        for kind, path in files.items():
            wall, cpu = best_of(partial(read_all, path, checks=False), repeat)
            record(f"{kind}_read", wall, cpu)
            wall, cpu = best_of(partial(read_all, path, checks=True), repeat)
            record(f"{kind}_read_checks", wall, cpu)
            if args.breakdown:
                wall, cpu = best_of(partial(replay_alone, host, path), repeat)
                record(f"{kind}_replay", wall, cpu)
            out = folder / f"out-{kind}"
            wall, cpu = best_of(partial(ec_replay, host, strategy, path, out, n), repeat)
            record(f"{kind}_ec_replay", wall, cpu)
        wall, cpu = best_of(lambda: orders_run(quotes, host, show_market=True), repeat)
        record("memory_3plus", wall, cpu)
        if args.breakdown:
            wall, cpu = best_of(partial(replay_alone, host, quotes), repeat)
            record("memory_replay", wall, cpu)
            breakdown(report, rates, replay_alone(host, quotes), list(files), repeat)
    for kind in files:
        ratio = rates["memory_3plus"] / rates[f"{kind}_ec_replay"]
        report[f"cpu_{kind}_ec_replay_cost_vs_3plus"] = round(ratio, 2)
        read_us = 1e6 / rates[f"{kind}_read_checks"]
        report[f"cpu_{kind}_read_checks_us_per_quote"] = round(read_us, 3)
        print(
            f"ec replay {kind}: {ratio:.2f}x the time of (3+) from memory;"
            f" reading and checking {read_us:.2f} us/quote"
        )
    if args.peer:
        del quotes
        peer = peer_run(n, repeat)
        if peer is not None:
            peer_cpu = n / float(peer["cpu_seconds"])
            report["peer"] = {
                "name": "nautilus_trader BacktestEngine",
                "quotes_per_s": round(n / float(peer["seconds"])),
                "cpu_quotes_per_s": round(peer_cpu),
            }
            print(f"{'peer nautilus_trader':<22} {peer_cpu:>11,.0f} quotes/s CPU time")
            for label in [f"{kind}_ec_replay" for kind in files] + ["memory_3plus"]:
                report[f"cpu_{label}_vs_peer"] = round(rates[label] / peer_cpu, 2)
                print(f"    {label} is {rates[label] / peer_cpu:.2f}x the peer (CPU time)")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
