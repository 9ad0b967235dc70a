"""``ec data check FILE`` and ``ec data convert IN OUT``: recorded tick files.

``check`` reads a tick file once and says what it holds and what is wrong with it.
``convert`` rewrites a file in another format, chosen by the suffix (``.csv``,
``.parquet``, ``.arrow``; Parquet and Arrow need ``ec-core[parquet]``), every row through
the same parser.

The symbols are resolved on the venue ``ec replay`` uses (the mock vendor: its
instruments give each symbol's tick grid and trading hours). Exit code 0 when the file
is clean, 1 when a row goes back in time or breaks a tick rule (the counts and the first
examples are printed), so a script can gate a replay on it.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import click

from ec_core.cli.signals import interrupt_at_once
from ec_core.clock import utc_iso
from ec_core.errors import ConfigError, EcError
from ec_core.plugins import PluginHost

__all__ = ["data_command"]


@click.group("data")
def data_command() -> None:
    """Recorded tick files: check them before a replay."""


@data_command.command("check")
@click.argument("ticks", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--bar-length",
    help="The length of a bar file's bars (1m, 5m, 1h, 1d...); default: the shortest time"
    " between two bars of a symbol.",
)
@click.pass_obj
def check_command(host: PluginHost, ticks: Path, as_json: bool, bar_length: str | None) -> None:
    """Summarize TICKS (CSV, Parquet, Arrow; ticks or OHLCV bars): symbols, counts, time
    span, gaps, rows outside the trading sessions, rows out of time order, one-sided or
    crossed quotes, bad sizes; for bars high >= max(open, close), low <= min(open, close),
    volume >= 0, bars missing inside the trading sessions, session coverage, bars closer
    than the bar length."""
    import msgspec

    from ec_core.data.bar_gaps import infer_bar_length
    from ec_core.data.ohlcv_file import bar_length_ns, read_bar_rows
    from ec_core.data.tick_summary import TickFileSummary, summarize_ticks
    from ec_core.data.ticks_csv import is_bar_file, read_symbols, read_tick_rows

    async def summarize() -> TickFileSummary:
        settings = {"market": False, "clock": "simulated"}
        async with host.open_session("mock", settings) as session:
            table = {s: await session.resolve(s) for s in read_symbols(ticks)}
        if not is_bar_file(ticks):
            return summarize_ticks(read_tick_rows(ticks, table))
        length = (
            bar_length_ns(bar_length)
            if bar_length is not None
            else infer_bar_length(read_bar_rows(ticks, table))
        )
        return summarize_ticks(read_bar_rows(ticks, table), bar_length_ns=length)

    try:
        if bar_length is not None and not is_bar_file(ticks):  # it was dropped silently
            raise click.UsageError(
                "--bar-length has no effect here: it is the length of an OHLCV bar file's"
                f" bars, and {ticks} holds ticks"
            )
        with interrupt_at_once():
            summary = anyio.run(summarize)
    except EcError as exc:
        raise click.ClickException(str(exc)) from exc
    if summary.rows == 0:  # "clean" would pass a script's gate on an empty file
        raise click.ClickException(f"{ticks}: no rows: the file holds only its header")
    if as_json:
        click.echo(msgspec.json.format(msgspec.json.encode(summary), indent=2))
    else:
        click.echo(_text(ticks, summary, inferred=bar_length is None))
    if not summary.clean:
        raise SystemExit(1)


@data_command.command("convert")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def convert_command(host: PluginHost, source: Path, target: Path) -> None:
    """Rewrite SOURCE as TARGET (CSV, Parquet or Arrow IPC, by suffix)."""
    from ec_core.data.ticks_csv import read_symbols, read_ticks, write_ticks

    # Written beside the target under a name with the target's suffix (its format), then
    # renamed: a conversion that fails on a row leaves no half-written file.
    partial = target.with_name(f".{target.stem}.partial{target.suffix}")

    async def convert() -> int:
        settings = {"market": False, "clock": "simulated"}
        async with host.open_session("mock", settings) as session:
            table = {s: await session.resolve(s) for s in read_symbols(source)}
        return write_ticks(partial, read_ticks(source, table), table.values())

    try:
        _check_target(source, target, partial)
    except EcError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with interrupt_at_once():
            count = anyio.run(convert)
        partial.replace(target)
    except EcError as exc:
        raise click.ClickException(str(_as_target(exc, partial, target))) from exc
    except OSError as exc:  # the system refused SOURCE (to read) or TARGET's folder (to write)
        raise click.ClickException(_refused(exc, source, target)) from exc
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"{count} rows written to {target}")


def _as_target(exc: EcError, partial: Path, target: Path) -> EcError:
    """``exc``, naming TARGET where it named the file written under the name ``partial``
    (the user asked for TARGET and never sees the other name)."""
    if isinstance(exc, ConfigError) and exc.file == str(partial):
        return ConfigError(exc.message, path=exc.path, file=str(target))
    return exc


def _refused(exc: OSError, source: Path, target: Path) -> str:
    """``file: cannot read/write it: reason``, naming the file the system refused."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None and str(exc.filename) == str(source):
        return f"{source}: cannot read it: {reason}"
    return f"{target}: cannot write it: {reason}"


def _check_target(source: Path, target: Path, partial: Path) -> None:
    """TARGET names a format by its suffix and is not SOURCE (which writing would empty),
    nor is the name it is written under before the rename (``partial``)."""
    from ec_core.data.ticks_arrow import ARROW_SUFFIXES

    known = {".csv", *ARROW_SUFFIXES}
    if target.suffix.lower() not in known:
        raise ConfigError(
            f"unknown format suffix {target.suffix!r}: name TARGET .csv, .parquet or .arrow"
            f" ({', '.join(sorted(known))})",
            path=str(target),
        )
    if not target.parent.is_dir():
        raise ConfigError(
            f"cannot write it: No such file or directory ({target.parent}): create the folder"
            " first",
            path=str(target),
        )
    if target.resolve() == source.resolve():
        raise ConfigError(
            "TARGET is the same file as SOURCE (writing it would empty it): name another file",
            path=str(target),
        )
    if partial.resolve() == source.resolve():
        raise ConfigError(
            f"SOURCE is the name TARGET is written under before it is renamed ({partial.name}):"
            " rename SOURCE or name another TARGET",
            path=str(source),
        )


def _text(path: Path, summary: object, *, inferred: bool) -> str:
    from ec_core.data.tick_summary import TickFileSummary

    assert isinstance(summary, TickFileSummary)
    lines = [f"{path.name}: {summary.rows} rows, {len(summary.symbols)} symbol(s)"]
    if summary.bar_length_ns is not None:
        how = " (inferred: --bar-length sets it)" if inferred else ""
        lines.append(f"bar length {_length(summary.bar_length_ns)}{how}")
    for s in summary.symbols:
        if s.bars:
            lines.append(
                f"  {s.symbol}: {s.bars} bars, {utc_iso(s.first_ns)} .. {utc_iso(s.last_ns)}"
            )
            lines.append("    " + _bar_coverage(s))
            continue
        lines.append(
            f"  {s.symbol}: {s.quotes} quotes, {s.trades} trades, {utc_iso(s.first_ns)} .."
            f" {utc_iso(s.last_ns)}; largest gap {s.largest_gap_ns / 1e9:.3f}s"
            + (f" before {utc_iso(s.largest_gap_at_ns)}" if s.largest_gap_ns else "")
            + (f"; {s.outside_sessions} outside the trading sessions" if s.outside_sessions else "")
        )
    if summary.clean:
        if any(s.bars for s in summary.symbols):
            lines.append("clean: in time order, every bar's high and low around its open and close")
        else:
            lines.append(
                "clean: in time order, every quote two-sided and uncrossed, sizes positive"
            )
        return "\n".join(lines)
    if summary.out_of_order:
        lines.append(f"{summary.out_of_order} rows out of time order (ec replay --sort sorts them)")
    for code, n in summary.problems.items():
        lines.append(f"{n} rows {code} (ec replay --lenient skips and counts them)")
    lines += [f"  {example}" for example in summary.examples]
    return "\n".join(lines)


def _length(ns: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if ns % (size * 1_000_000_000) == 0:
            return f"{ns // (size * 1_000_000_000)}{unit}"
    return f"{ns / 1e9:g}s"


def _bar_coverage(s: object) -> str:
    """One symbol's missing bars and session coverage, for the text summary."""
    from ec_core.data.tick_summary import SymbolSummary

    assert isinstance(s, SymbolSummary)
    parts = []
    if s.missing_bars:
        parts.append(
            f"{s.missing_bars} bar(s) missing in the trading sessions in {s.gaps} gap(s),"
            f" the largest {s.largest_gap_bars} before {utc_iso(s.largest_gap_at_ns)}"
        )
    else:
        parts.append("no bar missing in the trading sessions")
    if s.coverage is not None:
        parts.append(f"session coverage {s.coverage:.1%}")
    if s.outside_sessions:
        parts.append(f"{s.outside_sessions} outside the trading sessions")
    return "; ".join(parts)
