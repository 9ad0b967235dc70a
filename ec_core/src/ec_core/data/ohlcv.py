"""Recorded OHLCV bars as a market a replay venue understands: each bar becomes a fixed path.

For users who only have bars. A bar says where the market opened, how far it went each
way, where it closed and how much traded; it does not say in which order the extremes
came, how long the market stayed anywhere, what the spread was, or at which prices the
volume traded. The replay needs an answer, so it assumes one, always the same:

* the path is **open → high → low → close** when the high is nearer the open than the
  low (a tie goes to the high first), else **open → low → high → close**;
* the four points are spread over the bar: the open at the bar's start, the first
  extreme a third of the way in, the second two thirds in, the close 1 ns before the
  bar's end (so a strategy's bars of the same length rebuild the recorded ones);
* each point is a locked quote (bid = ask = the point's price) and then a trade at that
  price: a market order fills at the point, a resting limit fills when a point reaches
  its price, a stop fires when a point prints at or through it
  (the replay venue's fill model, docs/mock/replay-venue.md, applies unchanged);
* the volume is split evenly over the four points (the remainder on the close), at
  least 1 contract per point (a trade of size 0 is not a trade).

What this cannot tell: a limit at the bar's low fills in a replay although in the
market the queue ahead of it may have taken every contract traded there; a stop and a
target both inside one bar fill in the path's order, which may not be the market's;
no spread is paid. Treat a bar replay as a first look and confirm on ticks.

The rows themselves are checked by :func:`bar_problem` (high ≥ max(open, close),
low ≤ min(open, close), volume ≥ 0) through the tick checks of
:mod:`ec_core.data.tick_checks`; the file format is :mod:`ec_core.data.ohlcv_file`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

import msgspec

from ec_core.model import Instrument, Quote, Trade

__all__ = ["RecordedBar", "bar_path", "bar_problem", "bar_ticks"]


class RecordedBar(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One recorded bar: prices in ticks, ``ts_ns`` the bar's start."""

    symbol: str
    ts_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int


def bar_problem(bar: RecordedBar, inst: Instrument) -> tuple[str, str, str] | None:
    """``(code, field, message)`` of the first bar rule ``bar`` breaks, or ``None``."""
    top, bottom = max(bar.open, bar.close), min(bar.open, bar.close)
    if bar.high < top:
        return (
            "bad_high",
            "high",
            f"high {inst.to_price(bar.high)} is below max(open, close) {inst.to_price(top)}",
        )
    if bar.low > bottom:
        return (
            "bad_low",
            "low",
            f"low {inst.to_price(bar.low)} is above min(open, close) {inst.to_price(bottom)}",
        )
    if bar.volume < 0:
        return "bad_volume", "volume", f"volume must be >= 0, got {bar.volume}"
    return None


def bar_path(bar: RecordedBar, length_ns: int) -> list[tuple[int, int, int]]:
    """The bar's four ``(ts_ns, price, size)`` points, in the order of the module doc."""
    if bar.high - bar.open <= bar.open - bar.low:
        prices = (bar.open, bar.high, bar.low, bar.close)
    else:
        prices = (bar.open, bar.low, bar.high, bar.close)
    times = (
        bar.ts_ns,
        bar.ts_ns + length_ns // 3,
        bar.ts_ns + 2 * length_ns // 3,
        bar.ts_ns + max(length_ns - 1, 0),
    )
    share, rest = divmod(max(bar.volume, 0), 4)
    sizes = (share, share, share, share + rest)
    return [(t, p, max(s, 1)) for t, p, s in zip(times, prices, sizes, strict=True)]


def bar_ticks(bars: Iterable[RecordedBar], length_ns: int) -> Iterator[Quote | Trade]:
    """The ticks of ``bars`` (in time order of their starts, several symbols interleaved),
    lazily and in time order: a bar's later points wait until no earlier bar can come."""
    pending: list[tuple[int, int, Quote | Trade]] = []
    seq = 0
    for bar in bars:
        while pending and pending[0][0] < bar.ts_ns:
            yield heapq.heappop(pending)[2]
        for ts, price, size in bar_path(bar, length_ns):
            quote = Quote(
                symbol=bar.symbol, ts_ns=ts, bid=price, bid_size=size, ask=price, ask_size=size
            )
            heapq.heappush(pending, (ts, seq, quote))
            heapq.heappush(
                pending, (ts, seq + 1, Trade(symbol=bar.symbol, ts_ns=ts, price=price, size=size))
            )
            seq += 2
    while pending:
        yield heapq.heappop(pending)[2]
