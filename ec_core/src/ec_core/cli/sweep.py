"""``ec replay --param NAME=V1,V2 ...``: a parameter grid, one replay per point, in processes.

Each point of the grid (the product of the ``--param`` values) is one replay in a worker
process: the factory gets the point as ``info.params`` (strings, as given), the run's
report goes to ``OUT/run-NNN/`` (report.txt, report.json, chart.svg) and a line is
printed as each run ends. Then a table ranks the runs by a statistic of the report
(``--rank``; the largest first, the smallest for ``max_drawdown``). Same file, seed and
grid: the same table, whatever the number of processes. A ``--param`` that no run's
strategy read (a misspelt name) is named after the table, and the sweep exits 1: its runs
differ in nothing.
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import msgspec

from ec_core.errors import ConfigError

__all__ = ["RANKS", "ReadParams", "SweepRun", "never_read", "parse_params", "run_sweep"]

#: statistic -> where it is in the report; drawdown ranks the smallest first
RANKS: Final = ("net_pnl", "sharpe", "profit_factor", "win_rate", "expectancy", "max_drawdown")


class SweepRun(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    params: dict[str, str]
    out_dir: str
    net_pnl: str
    trades: int
    win_rate: float
    profit_factor: float | None
    expectancy: str
    sharpe: float | None
    max_drawdown: str
    error: str = ""  # the run failed: why
    unread: list[str] = msgspec.field(default_factory=list)  # --param names it never read


class ReadParams(dict[str, str]):
    """``info.params`` of a sweep's run: remembers which names the strategy read, so a
    misspelt ``--param`` (read by nobody) is told, not swept in silence."""

    def __init__(self, params: dict[str, str]) -> None:
        super().__init__(params)
        self.read: set[str] = set()

    def unread(self) -> list[str]:
        return [name for name in dict.keys(self) if name not in self.read]

    def __getitem__(self, name: str) -> str:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().get(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        self.read.add(name)
        return super().setdefault(name, default)

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.read.add(name)
        return super().__contains__(name)

    def _all_read(self) -> None:
        self.read.update(super().keys())

    def keys(self) -> Any:
        self._all_read()
        return super().keys()

    def values(self) -> Any:
        self._all_read()
        return super().values()

    def items(self) -> Any:
        self._all_read()
        return super().items()

    def __iter__(self) -> Any:
        self._all_read()
        return super().__iter__()

    def copy(self) -> dict[str, str]:
        self._all_read()
        return dict(super().items())


def never_read(runs: Sequence[SweepRun]) -> list[str]:
    """The ``--param`` names no run that completed read (a misspelt name, most likely)."""
    done = [run for run in runs if not run.error]
    if not done:
        return []
    return [name for name in done[0].unread if all(name in run.unread for run in done)]


def parse_params(specs: Sequence[str]) -> list[dict[str, str]]:
    """``["a=1,2", "b=x"]`` -> every combination, in order; a bad spec is a ConfigError."""
    names: list[str] = []
    values: list[list[str]] = []
    for spec in specs:
        name, sep, listed = spec.partition("=")
        name = name.strip()
        choices = [v.strip() for v in listed.split(",") if v.strip()]
        if not sep or not name or not choices:
            raise ConfigError(
                f"--param {spec!r}: expected NAME=V1,V2,... (at least one value)", path="param"
            )
        if name in names:
            raise ConfigError(f"--param {name!r} given twice", path="param")
        names.append(name)
        values.append(choices)
    return [dict(zip(names, point, strict=True)) for point in itertools.product(*values)]


def _one(job: dict[str, Any]) -> SweepRun:
    """One replay in a worker process (everything it needs comes as plain values)."""
    import anyio

    from ec_core.cli.replay_cmd import write_report
    from ec_core.data.tick_checks import TickChecks
    from ec_core.plugins import PluginHost
    from ec_core.settings import load_settings
    from ec_core.strategy.loader import RunInfo, load_plan
    from ec_core.strategy.replay import replay_plan

    out_dir = Path(job["out_dir"])
    params: dict[str, str] = job["params"]
    given = ReadParams(params)
    try:
        settings = load_settings(job["config"]) if job["config"] else load_settings()
        mock = settings.vendor_settings("mock")
        vendor_settings = {k: v for k, v in mock.items() if k != "venue"}
        info = RunInfo(account_id=job["account"], vendor="mock", mode="replay", params=given)
        plan = load_plan(job["strategy"], info)
        report = anyio.run(
            lambda: replay_plan(
                PluginHost.load(),
                plan,
                Path(job["ticks"]),
                account_id=job["account"],
                seed=job["seed"],
                vendor_settings=vendor_settings,
                tick_checks=TickChecks(lenient=job["lenient"], sort=job["sort"]),
                bar_length_ns=job["bar_length_ns"],
            )
        )
    except Exception as exc:  # a run that fails is a row of the table, not the end of the grid
        return SweepRun(
            index=job["index"], params=params, out_dir=str(out_dir), net_pnl="0", trades=0,
            win_rate=0.0, profit_factor=None, expectancy="0", sharpe=None, max_drawdown="0",
            error=f"{type(exc).__name__}: {exc}",
        )  # fmt: skip
    write_report(report, out_dir)
    stats = report.stats
    return SweepRun(
        index=job["index"],
        params=params,
        out_dir=str(out_dir),
        net_pnl=str(report.net_pnl),
        trades=stats.trades if stats else 0,
        win_rate=stats.win_rate if stats else 0.0,
        profit_factor=stats.profit_factor if stats else None,
        expectancy=stats.expectancy if stats else "0",
        sharpe=stats.sharpe if stats else None,
        max_drawdown=str(report.max_drawdown),
        unread=given.unread(),
    )


def processes(jobs: int, runs: int) -> int:
    """Worker processes of a sweep: ``jobs``, but never more than runs (each is a whole
    interpreter: ``--jobs 1000`` on three points started a thousand)."""
    return max(1, min(jobs, runs))


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _workers(context: Any, count: int) -> Any:
    """The pool, its processes started with SIGINT ignored: a Ctrl-C to the terminal's
    process group while one was still starting (before its initializer ran) printed that
    worker's KeyboardInterrupt traceback. An ignored signal stays ignored across exec and
    Python installs no handler over it; the parent's own handler is back once they run
    (a Ctrl-C in those milliseconds is not seen: press it again)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return context.Pool(processes=count, initializer=_ignore_sigint)
    finally:
        signal.signal(signal.SIGINT, previous)


def _key(run: SweepRun, rank: str) -> tuple[int, float, int]:
    """Sort key: failed runs last, then by the statistic (best first), then grid order."""
    value = getattr(run, rank)
    if run.error or value is None:
        return (1, 0.0, run.index)
    number = float(Decimal(value)) if isinstance(value, str) else float(value)
    return (0, number if rank == "max_drawdown" else -number, run.index)


def run_sweep(
    points: Sequence[dict[str, str]],
    *,
    strategy: str,
    ticks: Path,
    config: Path | None,
    seed: int,
    account: str,
    out_dir: Path,
    lenient: bool,
    sort: bool,
    jobs: int,
    rank: str,
    echo: Any,
    bar_length_ns: int | None = None,
) -> list[SweepRun]:
    """Run every point, ``jobs`` at a time; print a line per finished run; return the runs
    ranked by ``rank``."""
    work = [
        {
            "index": i,
            "params": p,
            "strategy": strategy,
            "ticks": str(ticks),
            "config": str(config) if config else "",
            "seed": seed,
            "account": account,
            "out_dir": str(out_dir / f"run-{i:03d}"),
            "lenient": lenient,
            "sort": sort,
            "bar_length_ns": bar_length_ns,
        }
        for i, p in enumerate(points, 1)
    ]
    runs: list[SweepRun] = []
    context = multiprocessing.get_context("spawn")  # a clean interpreter per worker
    # Ctrl-C is the parent's to act on: the workers ignore SIGINT (no traceback each), and
    # leaving the pool on KeyboardInterrupt terminates them instead of waiting for their runs.
    with _workers(context, processes(jobs, len(work))) as pool:
        for done, run in enumerate(pool.imap_unordered(_one, work), 1):
            runs.append(run)
            what = " ".join(f"{k}={v}" for k, v in run.params.items())
            outcome = f"error: {run.error}" if run.error else f"net {run.net_pnl}"
            echo(f"[{done}/{len(work)}] run-{run.index:03d} {what}: {outcome}")
    return sorted(runs, key=lambda r: _key(r, rank))


def render_table(runs: Sequence[SweepRun], rank: str) -> str:
    """The ranked summary: one line per run."""
    names = list(runs[0].params) if runs else []
    header = ["rank", "run", *names, "net_pnl", "trades", "win_rate", "pf", "sharpe", "max_dd"]
    rows = [header]
    for place, run in enumerate(runs, 1):
        rows.append(
            [
                str(place),
                f"run-{run.index:03d}",
                *(run.params[n] for n in names),
                run.net_pnl if not run.error else "error",
                str(run.trades),
                f"{run.win_rate:.0%}",
                "-" if run.profit_factor is None else f"{run.profit_factor:.2f}",
                "-" if run.sharpe is None else f"{run.sharpe:.2f}",
                run.max_drawdown,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [f"ranked by {rank}:"]
    lines += ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)
