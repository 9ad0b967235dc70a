"""What a tick file holds, and what is wrong with it: the summary ``ec data check`` prints.

One pass, streaming (a file of any length): per symbol the quotes and trades, the time
span, the largest gap between two ticks and the ticks outside the instrument's trading
sessions (when it has trading hours); for the file, the rows that go back in time and
the rows that break a tick rule of :mod:`ec_core.data.tick_checks` (one-sided or crossed
quotes, non-positive sizes), counted by code with the first examples. A file is *clean*
when nothing was counted.

A bar file (given its bar length) also gets the checks of :mod:`ec_core.data.bar_gaps`:
bars missing inside the trading sessions, in how many gaps, session coverage, bars
outside the sessions, and bars closer than the bar length (a problem).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ec_core.calendar import TradingCalendar
from ec_core.data.bar_gaps import is_outside_sessions, missing_bars
from ec_core.data.ohlcv import RecordedBar
from ec_core.data.tick_checks import row_problem
from ec_core.model import Instrument, Quote, Trade

__all__ = ["SymbolSummary", "TickFileSummary", "summarize_ticks"]


class SymbolSummary(msgspec.Struct, kw_only=True):
    symbol: str
    quotes: int = 0
    trades: int = 0
    bars: int = 0  # a bar file (:mod:`ec_core.data.ohlcv_file`)
    first_ns: int = 0
    last_ns: int = 0
    largest_gap_ns: int = 0  # ticks: the longest time between two
    outside_sessions: int = 0  # ticks while the instrument's calendar says closed
    # bar files only (:mod:`ec_core.data.bar_gaps`):
    missing_bars: int = 0  # bars of the bar length missing inside the trading sessions
    gaps: int = 0  # runs of missing bars
    largest_gap_bars: int = 0  # the longest run
    largest_gap_at_ns: int = 0  # the tick (or bar) after the largest gap
    coverage: float | None = None  # bars in the sessions / (those + missing); None: ticks


class TickFileSummary(msgspec.Struct, kw_only=True):
    rows: int
    symbols: tuple[SymbolSummary, ...]
    out_of_order: int  # rows earlier than a row before them
    problems: dict[str, int]  # rule code -> rows
    examples: tuple[str, ...]  # the first problems, ``file:line.field: message``
    bar_length_ns: int | None = None  # a bar file: the length its bars were checked at

    @property
    def clean(self) -> bool:
        return not (self.out_of_order or self.problems)


def summarize_ticks(
    rows: Iterable[tuple[str, Quote | Trade | RecordedBar, Instrument]],
    *,
    keep_examples: int = 10,
    bar_length_ns: int | None = None,
) -> TickFileSummary:
    """Read every row once; never raises for a broken row (it is counted). The rows may
    be bars (:func:`~ec_core.data.ohlcv_file.read_bar_rows`): their rules are checked,
    and with ``bar_length_ns`` their gaps and session coverage."""
    symbols: dict[str, SymbolSummary] = {}
    problems: dict[str, int] = {}
    examples: list[str] = []
    count = out_of_order = 0
    high = -1
    for where, tick, instrument in rows:
        count += 1
        ts = tick.ts_ns
        if ts < high:
            out_of_order += 1
            _note(examples, keep_examples, f"{where}.ts_ns: earlier than a row before it")
        high = max(high, ts)
        found = row_problem(tick, instrument)
        if found is not None:
            code, field, message = found
            problems[code] = problems.get(code, 0) + 1
            _note(examples, keep_examples, f"{where}.{field}: {message}")
        summary = symbols.get(tick.symbol)
        calendar = instrument.trading_calendar
        if isinstance(tick, RecordedBar) and bar_length_ns is not None:
            overlap = _bar_gaps(summary, tick, bar_length_ns, calendar)
            if overlap is not None:
                problems["overlapping_bar"] = problems.get("overlapping_bar", 0) + 1
                _note(examples, keep_examples, f"{where}.ts_ns: {overlap}")
        if summary is None:
            summary = symbols[tick.symbol] = SymbolSummary(symbol=tick.symbol, first_ns=ts)
        elif type(tick) is not RecordedBar and ts - summary.last_ns > summary.largest_gap_ns:
            summary.largest_gap_ns = ts - summary.last_ns
            summary.largest_gap_at_ns = ts
        summary.last_ns = max(summary.last_ns, ts)
        if isinstance(tick, Quote):
            summary.quotes += 1
        elif isinstance(tick, Trade):
            summary.trades += 1
        else:
            summary.bars += 1
        if calendar is None:
            continue
        if isinstance(tick, RecordedBar):
            if is_outside_sessions(ts, bar_length_ns or 1, calendar):
                summary.outside_sessions += 1
        elif not calendar.is_open(ts):
            summary.outside_sessions += 1
    if bar_length_ns is not None:
        for summary in symbols.values():
            if summary.bars:
                inside = summary.bars - summary.outside_sessions
                total = inside + summary.missing_bars
                summary.coverage = inside / total if total else None
    return TickFileSummary(
        rows=count,
        symbols=tuple(symbols.values()),
        out_of_order=out_of_order,
        problems=problems,
        examples=tuple(examples),
        bar_length_ns=bar_length_ns,
    )


def _bar_gaps(
    summary: SymbolSummary | None,
    bar: RecordedBar,
    length_ns: int,
    calendar: TradingCalendar | None,
) -> str | None:
    """Count the bars missing before ``bar`` in ``summary``; what is wrong if it starts
    less than the bar length after the bar before it."""
    if summary is None:
        return None
    step = bar.ts_ns - summary.last_ns
    if 0 <= step < length_ns:
        return (
            f"starts {step / 1e9:g}s after the {bar.symbol} bar before it, less than the bar"
            f" length {length_ns / 1e9:g}s: a duplicate, or the file's bars are not that long"
            " (--bar-length)"
        )
    missing = missing_bars(summary.last_ns, bar.ts_ns, length_ns, calendar)
    if missing:
        summary.missing_bars += missing
        summary.gaps += 1
        if missing > summary.largest_gap_bars:
            summary.largest_gap_bars = missing
            summary.largest_gap_at_ns = bar.ts_ns
    return None


def _note(examples: list[str], keep: int, text: str) -> None:
    if len(examples) < keep:
        examples.append(text)
