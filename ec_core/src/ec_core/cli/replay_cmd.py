"""``ec replay STRATEGY --ticks FILE``: a deterministic replay on the mock venue, with a report.

The venue comes from the plugin host (vendor ``mock``, simulated clock, no
simulated market): the recorded ticks are the market. ``--bars FILE`` replays OHLCV
bars instead, each as the fixed intra-bar path of :mod:`ec_core.data.ohlcv`. The
report goes to stdout as text (or JSON with ``--json``) and to ``--out DIR`` as ``report.txt``,
``report.json`` and ``chart.svg``.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click
import msgspec

from ec_core.cli.account_option import check_accounts
from ec_core.cli.failure import EXIT_STRATEGY_FAILED, fail
from ec_core.cli.signals import interrupt_at_once
from ec_core.cli.sweep import RANKS
from ec_core.errors import ConfigError, EcError
from ec_core.plugins import PluginHost
from ec_core.settings import load_settings

if TYPE_CHECKING:
    from ec_core.strategy.report import ReplayReport

__all__ = ["replay_command"]


@click.command("replay", short_help="Replay recorded ticks through a strategy on the mock.")
@click.argument("strategy")
@click.option(
    "--ticks",
    "ticks",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Recorded ticks (CSV: ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor;"
    " ts_ns in nanoseconds since the epoch or ISO 8601 with a zone); .parquet or .arrow with"
    " the same columns need ec-core[parquet].",
)
@click.option(
    "--bars",
    "bars",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Recorded OHLCV bars instead of ticks (ts_ns,symbol,open,high,low,close,volume;"
    " ts_ns the bar's start): each bar is replayed as open, nearer extreme, farther extreme,"
    " close (docs: Running strategies, bar data).",
)
@click.option(
    "--bar-length",
    default="1m",
    show_default=True,
    help="The length of the --bars bars (1s, 5m, 1h, 1d...).",
)
@click.option(
    "--candles",
    default="1m",
    show_default=True,
    help="The time frame of report.html's price candles (1m, 5m, 1h...).",
)
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="Settings file (TOML)."
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the mock engine (default: seed of [vendors.mock] in --config, else 0).",
)
@click.option(
    "--account",
    "account_id",
    default=None,
    callback=check_accounts,
    help="Account to trade in the replay (printable text without leading or trailing spaces).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("ec-replay"),
    show_default=True,
    help="Directory for report.txt, report.json and chart.svg.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report instead of text.")
@click.option(
    "--sort",
    "sort_ticks",
    is_flag=True,
    help="Sort the ticks by time (default: a row earlier than the one before is an error).",
)
@click.option(
    "--lenient",
    is_flag=True,
    help="Skip one-sided or crossed quotes and non-positive sizes, counted in the report"
    " (default: an error naming the row).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=V1,V2",
    help="Sweep: replay every combination of the values (the factory reads info.params),"
    " each in a process, reports in OUT/run-NNN, then a table ranked by --rank.",
)
@click.option(
    "--rank",
    type=click.Choice(RANKS),
    default="net_pnl",
    show_default=True,
    help="The statistic a sweep is ranked by.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes of a sweep (default: the CPU count).",
)
@click.pass_context
def replay_command(
    ctx: click.Context,
    strategy: str,
    ticks: Path | None,
    bars: Path | None,
    bar_length: str,
    candles: str,
    config: Path | None,
    seed: int | None,
    account_id: str | None,
    out_dir: Path,
    as_json: bool,
    sort_ticks: bool,
    lenient: bool,
    params: tuple[str, ...],
    rank: str,
    jobs: int | None,
) -> None:
    """Replay recorded ticks (or bars) through STRATEGY (file.py:factory or module:factory)
    on the mock."""
    # the strategy stack is imported when the command runs, not when `ec` starts
    from ec_core.data.ohlcv_file import bar_length_ns as bar_length_ns_of
    from ec_core.data.tick_checks import TickChecks
    from ec_core.strategy.failures import strategy_failed
    from ec_core.strategy.loader import RunInfo, load_plan
    from ec_core.strategy.replay import replay_plan
    from ec_core.strategy.report import render_text

    host: PluginHost = ctx.obj
    _no_idle_options(ctx, bars=bars is not None, sweep=bool(params))
    try:
        source, bar_length_ns = _source(ticks, bars, bar_length)
        candles_s = bar_length_ns_of(candles, option="--candles") // 1_000_000_000
        _prepare_out(out_dir)
    except EcError as exc:
        raise fail(exc) from exc
    if params:
        _sweep(strategy, source, config, seed, account_id, out_dir, sort_ticks, lenient,
               params, rank, jobs, bar_length_ns)  # fmt: skip
        return
    try:
        vendor_settings, run_seed, account = _run_settings(config, seed, account_id)
        plan = load_plan(strategy, RunInfo(account_id=account, vendor="mock", mode="replay"))
        # Everything loaded so far lives until the end: keep the cyclic GC from rescanning
        # it during the replay (the order path allocates, which triggers collections).
        gc.collect()
        gc.freeze()
        with interrupt_at_once():  # Ctrl-C stops the replay where it is
            report = anyio.run(
                lambda: replay_plan(
                    host,
                    plan,
                    source,
                    account_id=account,
                    seed=run_seed,
                    vendor_settings={k: v for k, v in vendor_settings.items() if k != "venue"},
                    tick_checks=TickChecks(lenient=lenient, sort=sort_ticks),
                    bar_length_ns=bar_length_ns,
                )
            )
    except EcError as exc:
        raise fail(exc) from exc
    if report.ticks == 0:  # a report of nothing, exit 0: most likely the wrong file
        skipped = " (or --lenient skipped every row)" if lenient else ""
        raise fail(
            ConfigError(
                f"no tick to replay: the file holds only its header{skipped}", path=str(source)
            )
        )
    html = write_report(report, out_dir, candles_s=max(candles_s, 1))
    if as_json:
        click.echo(report.to_json().decode())
    else:
        click.echo(render_text(report), nl=False)
        click.echo(f"report: {out_dir / 'report.json'}, chart: {out_dir / 'chart.svg'}")
        click.echo(html)
    if strategy_failed(report.errors, report.disabled):
        raise SystemExit(EXIT_STRATEGY_FAILED)


def _sweep(
    strategy: str,
    ticks: Path,
    config: Path | None,
    seed: int | None,
    account_id: str | None,
    out_dir: Path,
    sort_ticks: bool,
    lenient: bool,
    params: tuple[str, ...],
    rank: str,
    jobs: int | None,
    bar_length_ns: int | None,
) -> None:
    """``--param``: every point of the grid in its own process, then the ranked table."""
    from ec_core.cli.sweep import never_read, parse_params, render_table, run_sweep

    try:
        points = parse_params(params)
        _, run_seed, account = _run_settings(config, seed, account_id)
    except EcError as exc:
        raise fail(exc) from exc
    click.echo(f"sweep: {len(points)} run(s) of {strategy} on {ticks}")
    runs = run_sweep(
        points, strategy=strategy, ticks=ticks, config=config, seed=run_seed, account=account,
        out_dir=out_dir, lenient=lenient, sort=sort_ticks, jobs=jobs or os.cpu_count() or 1,
        rank=rank, echo=click.echo, bar_length_ns=bar_length_ns,
    )  # fmt: skip
    click.echo(render_table(runs, rank))
    (out_dir / "sweep.json").write_bytes(msgspec.json.format(msgspec.json.encode(runs)) + b"\n")
    click.echo(f"reports: {out_dir}/run-NNN, summary: {out_dir / 'sweep.json'}")
    unread = never_read(runs)
    for name in unread:
        click.echo(
            f"Error: --param {name}: no run's strategy read info.params[{name!r}], so the runs"
            f" differ in nothing by it (misspelt? the factory reads the point as info.params;"
            f" one that reads it with msgspec.convert: convert a copy, dict(info.params))",
            err=True,
        )
    if unread or any(run.error for run in runs):
        raise SystemExit(1)


def _run_settings(
    config: Path | None, seed: int | None, account_id: str | None
) -> tuple[dict[str, Any], int, str]:
    """What a replay or a sweep runs with: the ``[vendors.mock]`` table, the seed
    (:func:`_seed`) and the account (``--account``, else the settings', else the default)."""
    from ec_core.strategy.replay import DEFAULT_REPLAY_ACCOUNT

    settings = load_settings(config)
    vendor_settings = settings.vendor_settings("mock")
    account = account_id or settings.account_id or DEFAULT_REPLAY_ACCOUNT
    return vendor_settings, _seed(seed, vendor_settings), account


def _seed(given: int | None, vendor_settings: Mapping[str, object]) -> int:
    """``--seed``, else the settings' ``[vendors.mock] seed`` (it was dropped unread, a
    wrong type included), else 0."""
    if given is not None:
        return given
    table_seed = vendor_settings.get("seed", 0)
    if type(table_seed) is not int:
        raise ConfigError(
            f"must be an int (the mock engine's seed), got {table_seed!r}",
            path="vendors.mock.seed",
        )
    return table_seed


def _source(ticks: Path | None, bars: Path | None, bar_length: str) -> tuple[Path, int | None]:
    """The file to replay and, for bars, their length in ns; exactly one of the two."""
    from ec_core.data.ohlcv_file import bar_length_ns

    if (ticks is None) == (bars is None):
        raise ConfigError("give exactly one of --ticks FILE and --bars FILE", path="--ticks")
    if bars is None:
        assert ticks is not None
        return ticks, None
    return bars, bar_length_ns(bar_length)


def _no_idle_options(ctx: click.Context, *, bars: bool, sweep: bool) -> None:
    """An option given where it does nothing is a usage error: it was dropped silently."""
    idle = [("bar_length", "--bar-length", "it is the length of --bars bars", bars)]
    idle += [(name, f"--{name}", "it is for a sweep (--param)", sweep) for name in ("rank", "jobs")]
    for name, flag, why, used in idle:
        if not used and ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
            raise click.UsageError(f"{flag} has no effect here: {why}", ctx=ctx)


def _prepare_out(out_dir: Path) -> None:
    """Create ``--out`` before the replay, so a folder that cannot be written is said first,
    not after the replay was spent."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(out_dir, os.W_OK):
            raise PermissionError(13, "Permission denied", str(out_dir))
    except OSError as exc:
        raise ConfigError(
            f"{out_dir}: cannot write the reports there ({exc.strerror or exc}): pick another"
            " folder",
            path="--out",
        ) from exc


def write_report(report: ReplayReport, out_dir: Path, *, candles_s: int = 60) -> str:
    """``report.txt``, ``report.json``, ``chart.svg`` and, with plotly installed,
    ``report.html`` (candles of ``candles_s`` seconds) in ``out_dir`` (created if missing);
    returns a line saying where the HTML report is, or what to install for it."""
    from ec_core.strategy.report import render_svg, render_text

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.txt").write_text(render_text(report), encoding="utf-8")
    (out_dir / "report.json").write_bytes(report.to_json() + b"\n")
    (out_dir / "chart.svg").write_text(render_svg(report), encoding="utf-8")
    try:
        from ec_core.strategy.html_report import render_html

        page = render_html(report, timeframe_s=candles_s)
    except ConfigError as exc:
        return f"report.html not written: {exc}"
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return f"interactive report: {out_dir / 'report.html'}"
