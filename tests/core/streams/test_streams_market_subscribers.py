"""MarketSubscribers: the per-symbol market-data fan-out mock and cqg share (issue 14 §1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ec_core.model import BookDepth, BookLevel, MarketEvent, Quote
from ec_core.streams import MarketChannel, MarketSubscribers

Item = MarketEvent | BookDepth


class Sink:
    """A test's subscriber: what it got, and how many deliveries brought it."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.deliveries = 0

    def push(self, item: Item, /) -> None:
        self.items.append(item)
        self.deliveries += 1

    def push_many(self, batch: Iterable[Item], /) -> None:
        self.items.extend(batch)
        self.deliveries += 1


def quote(symbol: str = "ES", bid: int = 100) -> Quote:
    return Quote(symbol=symbol, ts_ns=1, bid=bid, bid_size=1)


def book(symbol: str = "ES", bid: int = 100, ts_ns: int = 1) -> BookDepth:
    return BookDepth(symbol=symbol, ts_ns=ts_ns, bids=(BookLevel(price=bid, size=2),))


def test_quotes_reach_every_subscriber_of_their_symbol_only() -> None:
    hub: MarketSubscribers[Any] = MarketSubscribers()
    es, es_depth, nq = Sink(), Sink(), Sink()
    assert hub.subscribe("ES", es) is True  # the symbol's first subscriber
    assert hub.subscribe("ES", es_depth, depth=True) is True  # its first of depth
    assert hub.subscribe("NQ", nq) is True
    hub.publish("ES", quote())
    assert (len(es.items), len(es_depth.items), nq.items) == (1, 1, [])


def test_books_reach_only_depth_subscribers_and_only_when_they_change() -> None:
    hub: MarketSubscribers[Any] = MarketSubscribers()
    plain, listed = Sink(), Sink()
    channel: MarketChannel[Item] = MarketChannel(8, depth=True)
    hub.subscribe("ES", plain)
    hub.subscribe("ES", listed, depth=True)
    hub.subscribe("ES", channel, depth=True)
    assert hub.wants_depth("ES")
    hub.publish_depth(book())
    hub.publish_depth(book(ts_ns=2))  # the same levels: no news for a channel
    hub.publish_depth(book(bid=101))
    assert plain.items == []
    assert len(listed.items) == 3  # a plain sink has no push_depth: it gets each
    assert [d.bids[0].price for d in channel.drain() if isinstance(d, BookDepth)] == [100, 101]


def test_a_burst_is_one_delivery_and_books_in_it_go_to_depth_subscribers() -> None:
    hub: MarketSubscribers[Any] = MarketSubscribers()
    plain, deep = Sink(), Sink()
    hub.subscribe("ES", plain)
    hub.subscribe("ES", deep, depth=True)
    hub.publish_many("ES", [quote(), book(), quote(bid=101)])
    assert (plain.deliveries, deep.deliveries) == (1, 1)
    assert [type(e).__name__ for e in plain.items] == ["Quote", "Quote"]
    assert [type(e).__name__ for e in deep.items] == ["Quote", "BookDepth", "Quote"]
    hub.publish_many("NQ", [quote("NQ")])  # nobody listens: nothing happens
    hub.publish_many("ES", [])
    assert (plain.deliveries, deep.deliveries) == (1, 1)


def test_unsubscribe_says_when_the_symbols_last_subscriber_left() -> None:
    hub: MarketSubscribers[Any] = MarketSubscribers()
    a, b = Sink(), Sink()
    hub.subscribe("ES", a)
    assert hub.subscribe("ES", b, depth=True) is True
    assert hub.subscribe("ES", Sink()) is False  # not the first any more
    assert hub.depth_subscribers == 1
    assert hub.unsubscribe("ES", b) is False
    assert not hub.wants_depth("ES")
    assert hub.depth_subscribers == 0
    assert hub.unsubscribe("ES", b) is False  # not subscribed: nothing to do
    assert hub.unsubscribe("ES", a) is False
    assert hub.symbols() == ["ES"]


def test_close_ends_each_channel_once_even_across_symbols() -> None:
    hub: MarketSubscribers[Any] = MarketSubscribers()
    channel: MarketChannel[Item] = MarketChannel(8)
    hub.subscribe("ES", channel)
    hub.subscribe("NQ", channel)
    hub.subscribe("NQ", Sink())  # no close: passed over
    assert len(hub.sinks()) == 2
    hub.close()
    assert channel.closed
    assert "ES" in hub
    assert "YM" not in hub
