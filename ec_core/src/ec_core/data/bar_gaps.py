"""Where a bar file has no bar although the market was open: ``ec data check`` on OHLCV bars.

A tick file's gaps are the time between two ticks; a bar file's are the *bars missing*
between two bars of one symbol, counted in the instrument's trading sessions
(:class:`~ec_core.calendar.TradingCalendar`), so the daily break, a weekend or a closed
holiday is no gap:

* bars shorter than a day: the open time in ``[previous start + length, start)``
  divided by the bar length (whole bars);
* day bars (``"1d"``): the trading days strictly between the two bars' trading days;
* an instrument without trading hours is open all the time.

A bar is *outside the sessions* when no session overlaps ``[start, start + length)``;
*session coverage* is the bars inside the sessions over those plus the missing ones,
between the symbol's first and last bar (before the first and after the last nothing
is known). A bar that starts less than the bar length after the one before it is a
problem (``overlapping_bar``): a duplicate, or bars of another length than assumed.
Missing bars are reported, not refused: a minute without a trade has no bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Final

from ec_core.calendar import TradingCalendar
from ec_core.data.ohlcv import RecordedBar
from ec_core.model import Instrument

__all__ = ["DAY_NS", "infer_bar_length", "is_outside_sessions", "missing_bars"]

DAY_NS: Final = 86_400 * 1_000_000_000


def missing_bars(
    previous_ns: int, start_ns: int, length_ns: int, calendar: TradingCalendar | None
) -> int:
    """Bars of ``length_ns`` the market was open for between a bar at ``previous_ns`` and
    the next one at ``start_ns`` (0 when they touch or overlap)."""
    begin = previous_ns + length_ns
    if start_ns <= begin:
        return 0
    if calendar is None:
        return (start_ns - begin) // length_ns
    if length_ns >= DAY_NS:
        first, last = calendar.trading_day(previous_ns), calendar.trading_day(start_ns)
        days: set[date] = {
            span.trading_day
            for span in calendar.spans(previous_ns, start_ns)
            if first < span.trading_day < last
        }
        return len(days)
    open_ns = sum(
        min(span.close_ns, start_ns) - max(span.open_ns, begin)
        for span in calendar.spans(begin, start_ns)
    )
    return open_ns // length_ns


def is_outside_sessions(start_ns: int, length_ns: int, calendar: TradingCalendar | None) -> bool:
    """No session overlaps the bar ``[start_ns, start_ns + length_ns)``."""
    if calendar is None:
        return False
    span = calendar.next_session(start_ns)
    return span is None or span.open_ns >= start_ns + max(length_ns, 1)


def infer_bar_length(rows: Iterable[tuple[str, RecordedBar, Instrument]]) -> int | None:
    """The smallest positive time between two consecutive bars of one symbol (``None``
    with fewer than two distinct starts): the bar length a file most likely has."""
    last: dict[str, int] = {}
    best: int | None = None
    for _, bar, _ in rows:
        before = last.get(bar.symbol)
        if before is not None and bar.ts_ns > before:
            step = bar.ts_ns - before
            if best is None or step < best:
                best = step
        last[bar.symbol] = max(bar.ts_ns, before if before is not None else bar.ts_ns)
    return best
