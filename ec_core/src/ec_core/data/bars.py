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
counted in it, as :class:`~ec_core.data.TickBuffer` does. :class:`BarBuilder` is the
fold, one trade at a time; :func:`cut_bars` runs it over a tape.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import final

from ec_core.calendar import TradingCalendar, utc_midnight_ns
from ec_core.data.timeframe import Timeframe
from ec_core.model import Bar, MarketEvent, Trade

__all__ = ["BarBuilder", "bar_window", "cut_bars"]

_DAY_NS = 86_400 * 1_000_000_000


def _utc_day_window(day: date) -> tuple[int, int]:
    start = utc_midnight_ns(day)
    return start, start + _DAY_NS


def bar_window(
    ts_ns: int, timeframe: Timeframe, calendar: TradingCalendar | None
) -> tuple[int, int]:
    """``(start_ns, end_ns)`` of the bar of ``timeframe`` that a trade at ``ts_ns`` is in."""
    size = timeframe.size
    if size != _DAY_NS or calendar is None:  # a day without a calendar: the UTC day
        start = ts_ns - ts_ns % size
        return start, start + size
    day = calendar.trading_day(ts_ns)
    bounds = calendar.day_bounds(day)
    if bounds is None:  # no session in reach at all: the local date
        return _utc_day_window(day)
    return bounds


@final
class BarBuilder:
    """The bar in progress of one symbol and time frame, fed trade by trade: the one fold
    of trades into bars, behind :func:`cut_bars` (history) and live bar subscriptions
    (the CQG-dialect server's bar feed).

    :meth:`add` returns the bar a trade closed (the first trade of a later window closes
    the one before); :meth:`current` is the bar in progress as it stands.
    """

    __slots__ = ("_c", "_calendar", "_h", "_lo", "_n", "_o", "_v", "end_ns", "start_ns",
                 "symbol", "timeframe")  # fmt: skip

    def __init__(
        self, timeframe: Timeframe, *, symbol: str, calendar: TradingCalendar | None = None
    ) -> None:
        self.timeframe = timeframe
        self.symbol = symbol
        self._calendar = calendar
        self.start_ns = self.end_ns = -1
        self._o = self._h = self._lo = self._c = self._v = self._n = 0

    @property
    def count(self) -> int:
        """Trades in the bar in progress (0: no bar yet)."""
        return self._n

    def add(self, trade: Trade) -> Bar | None:
        """Count ``trade`` in its bar; the bar it closed, if any. A trade stamped before
        the bar in progress counts in it."""
        price = trade.price
        if trade.ts_ns >= self.end_ns:
            done = self.current()
            self.start_ns, self.end_ns = bar_window(trade.ts_ns, self.timeframe, self._calendar)
            self._o = self._h = self._lo = self._c = price
            self._v, self._n = trade.size, 1
            return done
        if price > self._h:
            self._h = price
        if price < self._lo:
            self._lo = price
        self._c = price
        self._v += trade.size
        self._n += 1
        return None

    def current(self) -> Bar | None:
        """The bar in progress as it stands (``None`` before the first trade)."""
        if not self._n:
            return None
        return Bar(
            symbol=self.symbol,
            timeframe=self.timeframe.name,
            start_ns=self.start_ns,
            end_ns=self.end_ns,
            open=self._o,
            high=self._h,
            low=self._lo,
            close=self._c,
            volume=self._v,
            count=self._n,
        )


def cut_bars(
    events: Iterable[MarketEvent],
    timeframe: Timeframe,
    *,
    symbol: str,
    calendar: TradingCalendar | None = None,
) -> list[Bar]:
    """Bars of the trades in ``events`` (time order), quotes ignored; the last may be partial."""
    builder = BarBuilder(timeframe, symbol=symbol, calendar=calendar)
    add = builder.add
    bars: list[Bar] = []
    for event in events:
        if type(event) is Trade and (done := add(event)) is not None:
            bars.append(done)
    last = builder.current()
    if last is not None:
        bars.append(last)
    return bars
