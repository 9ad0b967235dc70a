"""``DataFeed`` (one instrument) and ``FeedSet`` (all of them, by symbol).

A vendor's ``MarketDataFeed.stream`` yields quotes and trades; :meth:`FeedSet.on_event`
routes each to its instrument's :class:`TickBuffer`. It is synchronous and cheap
so an engine can call it for every tick; :meth:`FeedSet.consume` is the async
shell for a plain stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import final

from ec_core.data.errors import NoDataError
from ec_core.data.tick_buffer import OHLC, BarSource, TickBuffer
from ec_core.data.timeframe import Timeframe
from ec_core.model import Instrument, MarketEvent, Quote, Trade

__all__ = ["NOTED_EVENTS", "DataFeed", "FeedSet"]

NOTED_EVENTS = (Quote, Trade)
"""The market events :meth:`FeedSet.on_event` takes (a stream of others filters by it:
``isinstance(event, NOTED_EVENTS)``, a tuple, builds no union per event)."""


@final
class DataFeed:
    """Market data of one instrument: ``feed.tick_buffer.ohlc()['Close']``."""

    __slots__ = ("instrument", "tick_buffer")

    def __init__(self, instrument: Instrument, tick_buffer: TickBuffer | None = None) -> None:
        self.instrument = instrument
        self.tick_buffer = tick_buffer if tick_buffer is not None else TickBuffer(instrument)

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    def on_event(self, event: MarketEvent) -> None:
        self.tick_buffer.on_event(event)

    def ohlc(self, timeframe: str | Timeframe | None = None) -> OHLC:
        return self.tick_buffer.ohlc(timeframe)

    @property
    def bid(self) -> Decimal | None:
        return self.tick_buffer.bid

    @property
    def ask(self) -> Decimal | None:
        return self.tick_buffer.ask

    @property
    def last(self) -> Decimal | None:
        return self.tick_buffer.last

    @property
    def close(self) -> Decimal:
        return self.tick_buffer.close

    def __repr__(self) -> str:
        return f"DataFeed({self.symbol!r})"


@final
class FeedSet(Mapping[str, DataFeed]):
    """The feeds of a run, by symbol. Events for symbols without a feed are counted and dropped."""

    __slots__ = ("_buffers", "_feeds", "_stale", "unknown_events")

    def __init__(self, feeds: Sequence[DataFeed] = ()) -> None:
        self._feeds: dict[str, DataFeed] = {}
        self._buffers: dict[str, TickBuffer] = {}
        # symbol -> (why its market data stopped, the quote and trade its buffer held then)
        self._stale: dict[str, tuple[str, object, object]] = {}
        self.unknown_events = 0
        for feed in feeds:
            self.add(feed)

    @classmethod
    def of(
        cls,
        instruments: Sequence[Instrument],
        *,
        timeframes: Sequence[str | Timeframe] = ("1s", "1m", "5m"),
        bar_capacity: int = 1_000,
        tick_capacity: int = 10_000,
        stats_window: int = 20,
        source: BarSource = BarSource.MID,
    ) -> FeedSet:
        """One feed per instrument, all with the same buffer configuration."""
        return cls(
            [
                DataFeed(
                    inst,
                    TickBuffer(
                        inst,
                        timeframes=timeframes,
                        bar_capacity=bar_capacity,
                        tick_capacity=tick_capacity,
                        stats_window=stats_window,
                        source=source,
                    ),
                )
                for inst in instruments
            ]
        )

    def add(self, feed: DataFeed) -> DataFeed:
        if feed.symbol in self._feeds:
            raise ValueError(f"a feed for {feed.symbol!r} already exists")
        self._feeds[feed.symbol] = feed
        self._buffers[feed.symbol] = feed.tick_buffer
        return feed

    def __getitem__(self, symbol: str) -> DataFeed:
        try:
            return self._feeds[symbol]
        except KeyError:
            raise NoDataError(
                f"no feed for symbol {symbol!r} (feeds: {', '.join(self._feeds) or 'none'})",
                symbol=symbol,
            ) from None

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._feeds

    def get(self, symbol: str, default: DataFeed | None = None) -> DataFeed | None:  # type: ignore[override]
        """The feed of ``symbol``, else ``default`` (``[]`` raises :class:`NoDataError`,
        which is not a ``KeyError``, so Mapping's own ``in`` and ``get`` would raise too)."""
        return self._feeds.get(symbol, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._feeds)

    def __len__(self) -> int:
        return len(self._feeds)

    @property
    def buffers(self) -> Mapping[str, TickBuffer]:
        """Tick buffers by symbol: the engine's per-tick lookup table."""
        return self._buffers

    def prices(self, symbol: str) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """Last trade, bid and ask of ``symbol`` as its feed holds them now (``None`` each
        without a feed, or while it is :meth:`stale`): the reference of the price band and
        notional limit, as the executor's ``PriceSource`` (a strategy run's feeds, a
        ``Trader``'s streamed ones)."""
        buffer = self._buffers.get(symbol)
        if buffer is None or (self._stale and self.stale(symbol) is not None):
            return None, None, None
        return buffer.last, buffer.bid, buffer.ask

    def mark_stale(self, symbol: str, why: str) -> None:
        """The market data of ``symbol`` stopped (its subscription failed): its last prices
        are no reference any more until its next quote or trade. Without a feed: nothing."""
        buffer = self._buffers.get(symbol)
        if buffer is not None:
            self._stale[symbol] = (why, buffer.quote, buffer.last_trade)

    def stale(self, symbol: str) -> str | None:
        """Why the market data of ``symbol`` stopped, or ``None`` while it flows (or never
        failed). The next event clears it: the buffer then holds another quote or trade
        than when it was marked (so the per-tick path pays nothing for it)."""
        mark = self._stale.get(symbol)
        if mark is None:
            return None
        why, quote, trade = mark
        buffer = self._buffers[symbol]
        if buffer.quote is quote and buffer.last_trade is trade:
            return why
        del self._stale[symbol]
        return None

    def on_event(self, event: MarketEvent) -> TickBuffer | None:
        """Route one quote or trade; return its buffer (``None`` if the symbol has no feed)."""
        buffer = self._buffers.get(event.symbol)
        if buffer is None:
            self.unknown_events += 1
            return None
        if type(event) is Quote:
            buffer.on_quote(event)
        else:
            buffer.on_trade(event)  # type: ignore[arg-type]
        return buffer

    async def consume(self, events: AsyncIterable[MarketEvent]) -> int:
        """Feed every event of ``events``; return how many were seen. Cancel-safe."""
        seen = 0
        on_event = self.on_event
        async for event in events:
            on_event(event)
            seen += 1
        return seen
