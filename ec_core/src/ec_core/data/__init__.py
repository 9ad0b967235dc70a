"""Market data for strategies: tick buffers, multi-timeframe bars, rolling statistics, feeds.

Prices stay integer ticks inside and :class:`~decimal.Decimal` at the edges
(``ohlc()['Close']``); statistics are floats in tick units because they are
analytics, never prices sent to a venue. Recorded ticks are read and written as
CSV by :mod:`ec_core.data.ticks_csv`.
"""

from ec_core.data.errors import NoDataError
from ec_core.data.feed import DataFeed, FeedSet
from ec_core.data.stats import RollingExtreme, RollingMoments, RollingStats
from ec_core.data.tick_buffer import OHLC, BarSource, TickBuffer
from ec_core.data.ticks_csv import TICK_FIELDS, read_symbols, read_ticks, write_ticks
from ec_core.data.timeframe import BarKind, Timeframe

__all__ = [
    "OHLC",
    "TICK_FIELDS",
    "BarKind",
    "BarSource",
    "DataFeed",
    "FeedSet",
    "NoDataError",
    "RollingExtreme",
    "RollingMoments",
    "RollingStats",
    "TickBuffer",
    "Timeframe",
    "read_symbols",
    "read_ticks",
    "write_ticks",
]
