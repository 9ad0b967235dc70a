"""``TickBuffer``: the last ticks of one instrument and its bars on several timeframes.

The per-tick path is the hot path of a replay, so it is written for CPython:
one small method per tick, state in ``__slots__``, integer tick prices, no
allocation unless a bar closes. Time bars cascade: only the smallest time frame
is updated per tick; a larger one (which must be a multiple of it) is folded
from the smaller bars as they close, and its *current* bar is merged on demand
by :meth:`TickBuffer.ohlc`. Tick-count and volume bars are cut per tick.

Memory is bounded: the tick ring keeps ``tick_capacity`` events and every
timeframe keeps ``bar_capacity`` closed bars. Intervals without ticks produce
no bar. A tick stamped earlier than the current bar is counted in it.

``"1d"`` is one *trading day* of the instrument's
:class:`~ec_core.calendar.TradingCalendar` when it has one (CME: 17:00 to 16:00
America/Chicago, whatever the UTC offset), cut as the history's daily bars are
(:func:`~ec_core.data.bars.bar_window`): a tick outside every session counts in the
next trading day. Folded from base bars, the day ends on a base-bar boundary: a base
of minutes up to 15 is exact for CME's whole-hour closes and its 12:15 half days.
Without a calendar a day is the UTC date.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import final

from ec_core.data.accumulators import NEVER, CountAcc, TimeAcc, trading_day_window
from ec_core.data.errors import NoDataError
from ec_core.data.ohlc import OHLC, BarSource
from ec_core.data.stats import RollingStats
from ec_core.data.timeframe import BarKind, Timeframe
from ec_core.errors import ConfigError
from ec_core.model import Bar, Instrument, MarketEvent, Quote, Trade

__all__ = ["OHLC", "BarSource", "TickBuffer"]

BarListener = Callable[[Bar], None]


@final
class TickBuffer:
    """Ticks and multi-timeframe bars of one instrument.

    ``buffers[name]`` holds the closed bars of a timeframe (oldest first, newest
    at ``[-1]``); :meth:`ohlc` gives the bar in progress; :meth:`stats` the
    rolling statistics over closed bars.
    """

    __slots__ = (
        "_base",
        "_c",
        "_counted",
        "_end",
        "_h",
        "_higher",
        "_l",
        "_listeners",
        "_n",
        "_o",
        "_pv",
        "_size0",
        "_start",
        "_stats",
        "_symbol",
        "_timeframes",
        "_v",
        "_window0",
        "buffers",
        "instrument",
        "last_trade",
        "on_quote",
        "quote",
        "source",
        "tick_size",
        "ticks",
    )

    def __init__(
        self,
        instrument: Instrument,
        *,
        timeframes: Sequence[str | Timeframe] = ("1s", "1m", "5m"),
        bar_capacity: int = 1_000,
        tick_capacity: int = 10_000,
        stats_window: int = 20,
        source: BarSource = BarSource.MID,
    ) -> None:
        if not timeframes:
            raise ConfigError("at least one timeframe is needed", path="timeframes")
        if bar_capacity < 1 or tick_capacity < 0:
            raise ConfigError(
                f"bar_capacity must be >= 1 and tick_capacity >= 0,"
                f" got {bar_capacity} and {tick_capacity}",
                path="capacity",
            )
        parsed = [Timeframe.parse(tf) for tf in timeframes]
        names = [tf.name for tf in parsed]
        if len(set(names)) != len(names):
            raise ConfigError(f"duplicate timeframe in {names}", path="timeframes")
        self.instrument = instrument
        self.tick_size = instrument.tick_size
        self._symbol = instrument.symbol
        self.source = source
        self._timeframes = tuple(parsed)
        self.ticks: deque[MarketEvent] = deque(maxlen=tick_capacity)
        self.quote: Quote | None = None
        self.last_trade: Trade | None = None
        self.buffers: dict[str, deque[Bar]] = {tf.name: deque(maxlen=bar_capacity) for tf in parsed}
        self._stats: dict[str, RollingStats] = {
            tf.name: RollingStats(stats_window) for tf in parsed
        }
        self._listeners: list[BarListener] = []

        timed = sorted((tf for tf in parsed if tf.kind is BarKind.TIME), key=lambda tf: tf.size)
        self._base: Timeframe | None = timed[0] if timed else None
        self._size0 = timed[0].size if timed else 1 << 62
        calendar = instrument.trading_calendar
        self._window0 = trading_day_window(timed[0], calendar) if timed else None
        for tf in timed[1:]:
            if tf.size % self._size0:
                raise ConfigError(
                    f"time frame {tf.name} is not a multiple of the smallest one"
                    f" ({timed[0].name}); bars are built by folding smaller bars",
                    path="timeframes",
                )
        self._higher = tuple(
            TimeAcc(
                tf, self.buffers[tf.name], self._stats[tf.name], trading_day_window(tf, calendar)
            )
            for tf in timed[1:]
        )
        self._counted = tuple(
            CountAcc(tf, self.buffers[tf.name], self._stats[tf.name])
            for tf in parsed
            if tf.kind is not BarKind.TIME
        )
        self._start = self._end = NEVER
        self._o = self._h = self._l = self._c = self._v = self._n = self._pv = 0
        handlers = {
            BarSource.MID: self._quote_mid_counted if self._counted else self._quote_mid,
            BarSource.BID: self._quote_bid,
            BarSource.ASK: self._quote_ask,
            BarSource.TRADE: self._quote_only,
        }
        self.on_quote: Callable[[Quote], None] = handlers[source]

    # -- configuration ---------------------------------------------------------------------

    @property
    def timeframes(self) -> tuple[Timeframe, ...]:
        return self._timeframes

    @property
    def symbol(self) -> str:
        return self._symbol

    def add_bar_listener(self, listener: BarListener) -> None:
        """Call ``listener(bar)`` for every closed bar of every timeframe (not per tick)."""
        self._listeners.append(listener)

    # -- ingestion (hot path) --------------------------------------------------------------

    def on_event(self, event: MarketEvent) -> None:
        if type(event) is Quote:
            self.on_quote(event)
        else:
            self.on_trade(event)  # type: ignore[arg-type]

    def _quote_mid(self, q: Quote) -> None:
        self.ticks.append(q)
        self.quote = q
        bid = q.bid
        ask = q.ask
        if bid is None or ask is None:
            return
        price = (bid + ask) >> 1
        if q.ts_ns < self._end:
            if price > self._h:
                self._h = price
            elif price < self._l:
                self._l = price
            self._c = price
            self._n += 1
        else:
            self._roll(q.ts_ns, price, 0, 0)

    def _quote_mid_counted(self, q: Quote) -> None:
        """``_quote_mid``, and the tick-count or volume bars fed the same mid."""
        self._quote_mid(q)
        if q.bid is not None and q.ask is not None:
            self._count(q.ts_ns, (q.bid + q.ask) >> 1, 0, 0)

    def _quote_bid(self, q: Quote) -> None:
        self.ticks.append(q)
        self.quote = q
        if q.bid is not None:
            self._add(q.ts_ns, q.bid, 0, 0)

    def _quote_ask(self, q: Quote) -> None:
        self.ticks.append(q)
        self.quote = q
        if q.ask is not None:
            self._add(q.ts_ns, q.ask, 0, 0)

    def _quote_only(self, q: Quote) -> None:
        self.ticks.append(q)
        self.quote = q

    def on_trade(self, t: Trade) -> None:
        self.ticks.append(t)
        self.last_trade = t
        if self.source is BarSource.TRADE:
            self._add(t.ts_ns, t.price, t.size, t.price * t.size)
        elif self._n:
            # Quote-drawn bars: the print adds volume at the current bar's close.
            self._add(t.ts_ns, self._c, t.size, t.price * t.size)

    def _add(self, ts: int, price: int, size: int, pv: int) -> None:
        if ts < self._end:
            if price > self._h:
                self._h = price
            elif price < self._l:
                self._l = price
            self._c = price
            self._n += 1
            self._v += size
            self._pv += pv
        else:
            self._roll(ts, price, size, pv)
        if self._counted:
            self._count(ts, price, size, pv)

    # -- bar closing (once per bar) --------------------------------------------------------

    def _roll(self, ts: int, price: int, size: int, pv: int) -> None:
        """Close the base bar (folding it into larger frames) and open one at ``ts``."""
        if self._n:
            o, h, lo, c, v, n, p = self._o, self._h, self._l, self._c, self._v, self._n, self._pv
            base = self._base
            if base is not None:
                self._emit(base.name, self._start, self._end, o, h, lo, c, v, n, p)
            for acc in self._higher:
                if acc.n:
                    if h > acc.h:
                        acc.h = h
                    if lo < acc.l:
                        acc.l = lo
                    acc.c = c
                    acc.v += v
                    acc.n += n
                    acc.pv += p
                else:
                    acc.o, acc.h, acc.l, acc.c, acc.v, acc.n, acc.pv = o, h, lo, c, v, n, p
        window0 = self._window0
        if window0 is None:
            size0 = self._size0
            self._start = ts - ts % size0
            self._end = self._start + size0
        else:
            self._start, self._end = window0(ts)
        for acc in self._higher:
            if ts >= acc.end:
                if acc.n:
                    self._emit(
                        acc.tf.name,
                        acc.start,
                        acc.end,
                        acc.o,
                        acc.h,
                        acc.l,
                        acc.c,
                        acc.v,
                        acc.n,
                        acc.pv,
                    )
                    acc.n = acc.v = acc.pv = 0
                if acc.window is None:
                    acc.start = ts - ts % acc.size
                    acc.end = acc.start + acc.size
                else:
                    acc.start, acc.end = acc.window(ts)
        self._o = self._h = self._l = self._c = price
        self._v = size
        self._pv = pv
        self._n = 1

    def _count(self, ts: int, price: int, size: int, pv: int) -> None:
        for acc in self._counted:
            if acc.n:
                if price > acc.h:
                    acc.h = price
                elif price < acc.l:
                    acc.l = price
                acc.n += 1
                acc.v += size
                acc.pv += pv
            else:
                acc.o = acc.h = acc.l = price
                acc.start = ts
                acc.n = 1
                acc.v = size
                acc.pv = pv
            acc.c = price
            acc.end = ts
            if (acc.v if acc.by_volume else acc.n) >= acc.size:
                self._emit(
                    acc.tf.name, acc.start, ts, acc.o, acc.h, acc.l, price, acc.v, acc.n, acc.pv
                )
                acc.n = acc.v = acc.pv = 0

    def _emit(
        self,
        name: str,
        start: int,
        end: int,
        o: int,
        h: int,
        lo: int,
        c: int,
        v: int,
        n: int,
        pv: int,
    ) -> None:
        bar = Bar(
            symbol=self._symbol,
            timeframe=name,
            start_ns=start,
            end_ns=end,
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            count=n,
        )
        self.buffers[name].append(bar)
        self._stats[name].push(c, h, lo, v, pv)
        for listener in self._listeners:
            listener(bar)

    # -- reading ---------------------------------------------------------------------------

    def _name(self, timeframe: str | Timeframe | None) -> str:
        if timeframe is None:
            return self._timeframes[0].name
        name = Timeframe.parse(timeframe).name
        if name not in self.buffers:
            raise NoDataError(
                f"{self._symbol}: timeframe {name} is not configured"
                f" (configured: {', '.join(self.buffers)})",
                symbol=self._symbol,
                timeframe=name,
            )
        return name

    def ohlc(self, timeframe: str | Timeframe | None = None) -> OHLC:
        """The bar in progress of ``timeframe`` (default: the first one configured).

        For tick and volume bars that have just closed, this is the last closed bar.
        Raises :class:`NoDataError` before the first tick.
        """
        name = self._name(timeframe)
        parts = self.ohlc_ticks(name)
        start, o, h, lo, c, v, n = parts
        return OHLC(
            timeframe=name,
            start_ns=start,
            open_ticks=o,
            high_ticks=h,
            low_ticks=lo,
            close_ticks=c,
            volume=v,
            count=n,
            tick_size=self.tick_size,
        )

    def ohlc_ticks(
        self, timeframe: str | Timeframe | None = None
    ) -> tuple[int, int, int, int, int, int, int]:
        """``(start_ns, open, high, low, close, volume, count)`` of the current bar, in ticks."""
        name = self._name(timeframe)
        base = self._base
        if base is not None and name == base.name and self._n:
            return (self._start, self._o, self._h, self._l, self._c, self._v, self._n)
        for acc in self._higher:
            if acc.tf.name == name and self._n:
                if not acc.n:
                    return (acc.start, self._o, self._h, self._l, self._c, self._v, self._n)
                return (
                    acc.start,
                    acc.o,
                    max(acc.h, self._h),
                    min(acc.l, self._l),
                    self._c,
                    acc.v + self._v,
                    acc.n + self._n,
                )
        for cacc in self._counted:
            if cacc.tf.name == name:
                if cacc.n:
                    return (cacc.start, cacc.o, cacc.h, cacc.l, cacc.c, cacc.v, cacc.n)
                bars = self.buffers[name]
                if bars:
                    b = bars[-1]
                    return (b.start_ns, b.open, b.high, b.low, b.close, b.volume, b.count)
        raise NoDataError(
            f"{self._symbol}: no data yet for timeframe {name}", symbol=self._symbol, timeframe=name
        )

    def bars(self, timeframe: str | Timeframe | None = None) -> deque[Bar]:
        """Closed bars of ``timeframe``, oldest first (bounded by ``bar_capacity``)."""
        return self.buffers[self._name(timeframe)]

    def stats(self, timeframe: str | Timeframe | None = None) -> RollingStats:
        """Rolling statistics over the closed bars of ``timeframe``."""
        return self._stats[self._name(timeframe)]

    @property
    def has_data(self) -> bool:
        return self._n > 0 or any(acc.n for acc in self._counted)

    @property
    def close_ticks(self) -> int:
        """Close of the bar in progress of the smallest time frame, in ticks (fast path)."""
        if not self._n:
            raise NoDataError(f"{self._symbol}: no data yet", symbol=self._symbol)
        return self._c

    @property
    def close(self) -> Decimal:
        return self.tick_size * self.close_ticks

    @property
    def bid(self) -> Decimal | None:
        q = self.quote
        return None if q is None or q.bid is None else self.tick_size * q.bid

    @property
    def ask(self) -> Decimal | None:
        q = self.quote
        return None if q is None or q.ask is None else self.tick_size * q.ask

    @property
    def last(self) -> Decimal | None:
        """Price of the last trade print."""
        t = self.last_trade
        return None if t is None else self.tick_size * t.price

    def to_price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks
