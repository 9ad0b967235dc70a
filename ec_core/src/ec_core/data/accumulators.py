"""The bars in progress of :class:`~ec_core.data.TickBuffer` beyond its smallest time
frame: larger time frames folded from base bars, tick-count and volume bars, and how a
``"1d"`` bar is cut when the instrument has a trading calendar (its trading day)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Final

from ec_core.calendar import TradingCalendar
from ec_core.data.bars import bar_window
from ec_core.data.stats import RollingStats
from ec_core.data.timeframe import BarKind, Timeframe
from ec_core.model import Bar

__all__ = ["NEVER", "CountAcc", "TimeAcc", "Window", "trading_day_window"]

Window = Callable[[int], tuple[int, int]]
NEVER: Final = -(1 << 62)
_DAY_NS: Final = 86_400 * 1_000_000_000


class _BarAcc:
    """The bar in progress of one time frame: its bounds, OHLC in ticks, volume, count
    and price x volume, and where its closed bars go."""

    __slots__ = ("bars", "c", "end", "h", "l", "n", "o", "pv", "size", "start", "stats", "tf", "v")

    def __init__(self, tf: Timeframe, bars: deque[Bar], stats: RollingStats, start: int) -> None:
        self.tf = tf
        self.size = tf.size
        self.bars = bars
        self.stats = stats
        self.start = self.end = start
        self.o = self.h = self.l = self.c = self.v = self.n = self.pv = 0


class TimeAcc(_BarAcc):
    """The current bar of a larger time frame, folded from closed base bars."""

    __slots__ = ("window",)

    def __init__(
        self, tf: Timeframe, bars: deque[Bar], stats: RollingStats, window: Window | None
    ) -> None:
        super().__init__(tf, bars, stats, NEVER)
        self.window = window


def trading_day_window(tf: Timeframe, calendar: TradingCalendar | None) -> Window | None:
    """How a ``"1d"`` bar is cut when the instrument has a calendar: its trading day."""
    if tf.size != _DAY_NS or calendar is None:
        return None
    return partial(bar_window, timeframe=tf, calendar=calendar)


class CountAcc(_BarAcc):
    """The current tick-count or volume bar."""

    __slots__ = ("by_volume",)

    def __init__(self, tf: Timeframe, bars: deque[Bar], stats: RollingStats) -> None:
        super().__init__(tf, bars, stats, 0)
        self.by_volume = tf.kind is BarKind.VOLUME
