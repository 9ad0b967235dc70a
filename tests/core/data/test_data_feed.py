"""FeedSet routing and the async shell."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from ec_core.data import DataFeed, FeedSet, NoDataError
from ec_core.model import Instrument, MarketEvent, Quote, Trade

A = Instrument(symbol="A", tick_size=Decimal("0.01"))
B = Instrument(symbol="B", tick_size=Decimal("0.5"))


def test_events_reach_their_instrument_only() -> None:
    feeds = FeedSet.of([A, B], timeframes=("1s",))
    feeds.on_event(Quote(symbol="A", ts_ns=1, bid=100, ask=102))
    feeds.on_event(Trade(symbol="B", ts_ns=2, price=7, size=2))
    assert feeds.on_event(Quote(symbol="Z", ts_ns=3, bid=1, ask=2)) is None
    assert feeds["A"].tick_buffer.ohlc()["Close"] == Decimal("1.01")
    assert feeds["A"].bid == Decimal("1.00")
    assert feeds["A"].ask == Decimal("1.02")
    assert feeds["B"].last == Decimal("3.5")
    assert feeds.unknown_events == 1
    assert sorted(feeds) == ["A", "B"]
    assert len(feeds) == 2
    with pytest.raises(NoDataError):
        feeds["Z"]
    with pytest.raises(ValueError, match="already"):
        feeds.add(DataFeed(A))


def test_a_missing_symbol_answers_the_mapping_questions_without_raising() -> None:
    """``in`` and ``get`` are a Mapping's: they raised NoDataError (not a KeyError) for a
    symbol without a feed, so ``"Z" in feeds`` crashed a strategy that asked."""
    feeds = FeedSet([DataFeed(A)])
    assert "A" in feeds
    assert "Z" not in feeds
    assert feeds.get("Z") is None
    assert feeds.get("A") is feeds["A"]


def test_prices_are_a_symbols_reference_now_and_none_without_a_feed() -> None:
    """The executor's price source (price band, notional limit): what the feed holds at
    the time asked, a feed added later included; nothing made up for a missing symbol."""
    feeds = FeedSet([DataFeed(A)])
    assert feeds.prices("A") == (None, None, None)  # a feed, nothing seen yet
    feeds.on_event(Quote(symbol="A", ts_ns=1, bid=100, ask=102))
    assert feeds.prices("A") == (None, Decimal("1.00"), Decimal("1.02"))
    feeds.on_event(Trade(symbol="A", ts_ns=2, price=101, size=1))
    assert feeds.prices("A") == (Decimal("1.01"), Decimal("1.00"), Decimal("1.02"))
    assert feeds.prices("B") == (None, None, None)
    feeds.add(DataFeed(B))
    feeds.on_event(Trade(symbol="B", ts_ns=3, price=7, size=2))
    assert feeds.prices("B") == (Decimal("3.5"), None, None)


@pytest.mark.anyio
async def test_consume_an_async_stream() -> None:
    async def stream() -> AsyncIterator[MarketEvent]:
        for i in range(10):
            yield Quote(symbol="A", ts_ns=i * 1_000_000_000, bid=100 + i, ask=101 + i)

    feeds = FeedSet([DataFeed(A)])
    assert await feeds.consume(stream()) == 10
    assert feeds["A"].close == Decimal("1.09")
    assert len(feeds["A"].tick_buffer.bars("1s")) == 9
