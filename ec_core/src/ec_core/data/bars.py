"""Trade bars cut from a tape: the one implementation behind every history bar.

* Time frames of seconds, minutes and hours: windows ``[k*size, (k+1)*size)`` since the
  epoch, the way :class:`~ec_core.data.TickBuffer` cuts its time bars.
* ``"1d"``: one bar per *trading day* of the instrument's
  :class:`~ec_core.calendar.TradingCalendar`, cut at the exchange's trading-day
  boundary (CME: 16:00/17:00 America/Chicago whatever the UTC offset). The bar runs
  from the day's first open to its last close; a trade outside every session counts
  in the next trading day (see :mod:`ec_core.calendar`). Without a calendar a day is
  the UTC date.

Only trades make bars (volume is their size, ``count`` the number of prints); a
window without a trade has no bar. A trade stamped before the bar in progress is
counted in it, as :class:`~ec_core.data.TickBuffer` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from ec_core.calendar import TradingCalendar
from ec_core.data.timeframe import Timeframe
from ec_core.model import Bar, MarketEvent, Trade

__all__ = ["bar_window", "cut_bars"]

_DAY_NS = 86_400 * 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc_day_window(day: date) -> tuple[int, int]:
    start = (datetime.combine(day, time(0), tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
    return start * 1_000, start * 1_000 + _DAY_NS


def bar_window(
    ts_ns: int, timeframe: Timeframe, calendar: TradingCalendar | None
) -> tuple[int, int]:
    """``(start_ns, end_ns)`` of the bar of ``timeframe`` that a trade at ``ts_ns`` is in."""
    size = timeframe.size
    if size != _DAY_NS:
        start = ts_ns - ts_ns % size
        return start, start + size
    if calendar is None:
        return _utc_day_window(datetime.fromtimestamp(ts_ns // 1_000_000_000, UTC).date())
    day = calendar.trading_day(ts_ns)
    bounds = calendar.day_bounds(day)
    if bounds is None:  # no session in reach at all: the local date
        return _utc_day_window(day)
    return bounds


def cut_bars(
    events: Iterable[MarketEvent],
    timeframe: Timeframe,
    *,
    symbol: str,
    calendar: TradingCalendar | None = None,
) -> list[Bar]:
    """Bars of the trades in ``events`` (time order), quotes ignored; the last may be partial."""
    bars: list[Bar] = []
    start = end = -1
    o = h = lo = c = v = n = 0
    for event in events:
        if type(event) is not Trade:
            continue
        ts = event.ts_ns
        if ts >= end:
            if n:
                bars.append(_bar(symbol, timeframe, start, end, o, h, lo, c, v, n))
            start, end = bar_window(ts, timeframe, calendar)
            o = h = lo = c = event.price
            v, n = event.size, 1
        else:
            price = event.price
            if price > h:
                h = price
            if price < lo:
                lo = price
            c = price
            v += event.size
            n += 1
    if n:
        bars.append(_bar(symbol, timeframe, start, end, o, h, lo, c, v, n))
    return bars


def _bar(symbol: str, timeframe: Timeframe, start: int, end: int, *ohlcvn: int) -> Bar:
    o, h, lo, c, v, n = ohlcvn
    return Bar(
        symbol=symbol,
        timeframe=timeframe.name,
        start_ns=start,
        end_ns=end,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=v,
        count=n,
    )
