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


class TimeAcc:
    """The current bar of a larger time frame, folded from closed base bars."""

    __slots__ = (
        "bars",
        "c",
        "end",
        "h",
        "l",
        "n",
        "o",
        "pv",
        "size",
        "start",
        "stats",
        "tf",
        "v",
        "window",
    )

    def __init__(
        self, tf: Timeframe, bars: deque[Bar], stats: RollingStats, window: Window | None
    ) -> None:
        self.tf = tf
        self.size = tf.size
        self.bars = bars
        self.stats = stats
        self.window = window
        self.start = self.end = NEVER
        self.o = self.h = self.l = self.c = self.v = self.n = self.pv = 0


def trading_day_window(tf: Timeframe, calendar: TradingCalendar | None) -> Window | None:
    """How a ``"1d"`` bar is cut when the instrument has a calendar: its trading day."""
    if tf.size != _DAY_NS or calendar is None:
        return None
    return partial(bar_window, timeframe=tf, calendar=calendar)


class CountAcc:
    """The current tick-count or volume bar."""

    __slots__ = (
        "bars",
        "by_volume",
        "c",
        "end",
        "h",
        "l",
        "n",
        "o",
        "pv",
        "size",
        "start",
        "stats",
        "tf",
        "v",
    )

    def __init__(self, tf: Timeframe, bars: deque[Bar], stats: RollingStats) -> None:
        self.tf = tf
        self.size = tf.size
        self.by_volume = tf.kind is BarKind.VOLUME
        self.bars = bars
        self.stats = stats
        self.start = self.end = 0
        self.o = self.h = self.l = self.c = self.v = self.n = self.pv = 0
