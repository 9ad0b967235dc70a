"""BookDepth: the depth event of ``MarketDataFeed.stream(..., depth=True)``."""

from __future__ import annotations

import msgspec
import pytest
from ec_core.model import BookDepth, BookLevel, Quote
from ec_core.vendor import MarketDataFeed


def _depth() -> BookDepth:
    return BookDepth(
        symbol="ESZ6",
        ts_ns=5,
        bids=(BookLevel(price=100, size=7), BookLevel(price=99, size=3)),
        asks=(BookLevel(price=101, size=2),),
    )


def test_book_depth_round_trips_in_a_market_event_union() -> None:
    decoder = msgspec.json.Decoder(Quote | BookDepth)
    event = _depth()
    assert decoder.decode(msgspec.json.encode(event)) == event
    assert b'"type":"depth"' in msgspec.json.encode(event)


def test_book_depth_best_levels_and_empty_sides() -> None:
    event = _depth()
    assert event.best_bid == BookLevel(price=100, size=7)
    assert event.best_ask == BookLevel(price=101, size=2)
    empty = BookDepth(symbol="ESZ6", ts_ns=0)
    assert empty.bids == ()
    assert empty.asks == ()
    assert empty.best_bid is None
    assert empty.best_ask is None


def test_book_level_rejects_a_float_price() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"price": 1.5, "size": 1}', type=BookLevel)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"price": 1, "size": 0}', type=BookLevel)


def test_stream_documents_depth() -> None:
    doc = MarketDataFeed.stream.__doc__ or ""
    assert "BookDepth" in doc
    assert "Capability.DEPTH" in doc
