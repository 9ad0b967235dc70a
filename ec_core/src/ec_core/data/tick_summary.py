"""What a tick file holds, and what is wrong with it: the summary ``ec data check`` prints.

One pass, streaming (a file of any length): per symbol the quotes and trades, the time
span, the largest gap between two ticks and the ticks outside the instrument's trading
sessions (when it has trading hours); for the file, the rows that go back in time and
the rows that break a tick rule of :mod:`ec_core.data.tick_checks` (one-sided or crossed
quotes, non-positive sizes), counted by code with the first examples. A file is *clean*
when nothing was counted.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

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
    largest_gap_ns: int = 0
    largest_gap_at_ns: int = 0  # the tick after the gap
    outside_sessions: int = 0  # ticks while the instrument's calendar says closed


class TickFileSummary(msgspec.Struct, kw_only=True):
    rows: int
    symbols: tuple[SymbolSummary, ...]
    out_of_order: int  # rows earlier than a row before them
    problems: dict[str, int]  # rule code -> rows
    examples: tuple[str, ...]  # the first problems, ``file:line.field: message``

    @property
    def clean(self) -> bool:
        return not (self.out_of_order or self.problems)


def summarize_ticks(
    rows: Iterable[tuple[str, Quote | Trade | RecordedBar, Instrument]], *, keep_examples: int = 10
) -> TickFileSummary:
    """Read every row once; never raises for a broken row (it is counted). The rows may
    be bars (:func:`~ec_core.data.ohlcv_file.read_bar_rows`): their rules are checked."""
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
        if summary is None:
            summary = symbols[tick.symbol] = SymbolSummary(symbol=tick.symbol, first_ns=ts)
        elif ts - summary.last_ns > summary.largest_gap_ns:
            summary.largest_gap_ns = ts - summary.last_ns
            summary.largest_gap_at_ns = ts
        summary.last_ns = max(summary.last_ns, ts)
        if isinstance(tick, Quote):
            summary.quotes += 1
        elif isinstance(tick, Trade):
            summary.trades += 1
        else:
            summary.bars += 1
        calendar = instrument.trading_calendar
        if calendar is not None and not calendar.is_open(ts):
            summary.outside_sessions += 1
    return TickFileSummary(
        rows=count,
        symbols=tuple(symbols.values()),
        out_of_order=out_of_order,
        problems=problems,
        examples=tuple(examples),
    )


def _note(examples: list[str], keep: int, text: str) -> None:
    if len(examples) < keep:
        examples.append(text)
