"""Warm a :class:`FeedSet` up from history before live ticks: no gap, no double count.

History ticks go through the same :meth:`FeedSet.on_event` path live ticks take, so the
warmed bars are exactly the bars live ticks would have built (whatever the bar source,
tick and volume bars included). The span asked for is the largest ``count × size`` of the
configured ``lookback`` (bars per time frame; default :data:`DEFAULT_LOOKBACK` of each),
started on a boundary of the largest time frame so every first bar is whole.

The seam: open the live stream **first**, then warm up; each symbol's history is complete
up to its ``up_to_ns``, and :func:`seamed` drops the live events stamped before it (the
history had them) but not before the history's start (it did not). A start before the
venue's horizon is moved to the horizon; a venue that does not say where history begins
gets the last day.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Final, final

import msgspec

from ec_core.data.feed import FeedSet
from ec_core.data.timeframe import BarKind, Timeframe
from ec_core.errors import ConfigError, HistoryTooFarBackError
from ec_core.history import HistoryFeed
from ec_core.model import MarketEvent

__all__ = ["DEFAULT_LOOKBACK", "WarmUp", "parse_lookback", "seamed", "warm_up"]

DEFAULT_LOOKBACK: Final = 100
_DAY_NS: Final = 86_400 * 1_000_000_000


@final
class WarmUp(msgspec.Struct, frozen=True, kw_only=True):
    """What a warm-up did, per symbol: ticks fed, where history began and where it joins live."""

    ticks: dict[str, int]
    since_ns: dict[str, int]
    seams: dict[str, int]

    def describe(self) -> str:
        parts = [f"{s}: {n} ticks" for s, n in self.ticks.items()]
        return ", ".join(parts) or "nothing to warm"


def parse_lookback(text: str) -> dict[str, int]:
    """``"1m=120,5m=50"`` → ``{"1m": 120, "5m": 50}``; :class:`ConfigError` on bad text."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.partition("=")
        try:
            frame = Timeframe.parse(name.strip())
            bars = int(count)
        except (ConfigError, ValueError):
            raise ConfigError(
                f"bad warm-up {part!r}: write timeframe=bars, e.g. '1m=120,5m=50'",
                path="warmup",
            ) from None
        if bars < 0:
            raise ConfigError(f"bad warm-up {part!r}: bars must be >= 0", path="warmup")
        out[frame.name] = bars
    return out


def _span(timeframes: tuple[Timeframe, ...], lookback: Mapping[str, int]) -> tuple[int, int]:
    """``(span_ns, align_ns)``: how far back, and the largest time frame to start on."""
    timed = [tf for tf in timeframes if tf.kind is BarKind.TIME]
    span = max((lookback.get(tf.name, DEFAULT_LOOKBACK) * tf.size for tf in timed), default=0)
    align = max((tf.size for tf in timed), default=1)
    return span, align


async def warm_up(
    feeds: FeedSet,
    history: HistoryFeed,
    *,
    now_ns: int,
    lookback: Mapping[str, int] | None = None,
) -> WarmUp:
    """Feed every feed's history of the lookback span; return the seams for :func:`seamed`."""
    chosen = dict(lookback or {})
    ticks: dict[str, int] = {}
    since: dict[str, int] = {}
    seams: dict[str, int] = {}
    for symbol, feed in feeds.items():
        span, align = _span(feed.tick_buffer.timeframes, chosen)
        if span <= 0:
            continue
        start = (now_ns - span) // align * align
        try:
            events = await history.ticks(feed.instrument, start)
        except HistoryTooFarBackError as exc:
            horizon = exc.horizon_ns if exc.horizon_ns is not None else now_ns - _DAY_NS
            start = -(-max(horizon, start) // align) * align
            events = await history.ticks(feed.instrument, start)
        on_event = feeds.on_event
        for event in events:
            on_event(event)
        ticks[symbol] = len(events)
        since[symbol] = start
        seams[symbol] = events.up_to_ns
    return WarmUp(ticks=ticks, since_ns=since, seams=seams)


async def seamed(
    events: AsyncIterable[MarketEvent],
    seams: Mapping[str, int],
    since_ns: Mapping[str, int] | None = None,
) -> AsyncIterator[MarketEvent]:
    """``events`` without those a warm-up's history already had: stamped before the seam
    and, given ``since_ns`` (:attr:`WarmUp.since_ns`), not before the history's start.

    A live event stamped before the history's start was not in it: the venue's clock is
    behind the one the warm-up asked by (a served venue started at another date, ``ec mock
    serve --start``). It passes; dropping it, as a seam alone would, dropped every tick."""
    since = since_ns or {}
    waiting = {symbol: (since.get(symbol, -1), seam) for symbol, seam in seams.items()}
    iterator = aiter(events)
    async for event in iterator:
        window = waiting.get(event.symbol)
        if window is not None:
            ts = event.ts_ns
            if window[0] <= ts < window[1]:
                continue  # the history had it
            if ts >= window[1]:
                del waiting[event.symbol]
        yield event
        if not waiting:
            break
    async for event in iterator:
        yield event
