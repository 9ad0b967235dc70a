"""Kit tests of market data: a snapshot first, then updates, every price a whole tick."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ec_core.model import BookDepth, Instrument, MarketEvent, Quote, Side, Trade
from ec_core.testing.conformance.base import ConformanceBase
from ec_core.testing.conformance.control import MarketControl
from ec_core.testing.conformance.events import EventReader
from ec_core.testing.conformance.requirements import MARKET_CONTROL, requires
from ec_core.vendor import Capability, Session

__all__ = ["MarketDataConformance", "check_book_depth", "check_market_event"]


TICKS_RULE = "quote prices must be integer ticks (Instrument.to_ticks of the price, not the price)"


def _is_tick(value: object) -> bool:
    return type(value) is int  # not bool, not float, not Decimal: ticks are ints


def check_market_event(event: MarketEvent, instrument: Instrument) -> None:
    """Fail unless ``event`` is a well-formed quote or trade of ``instrument``."""
    assert isinstance(event, Quote | Trade), f"not a Quote or Trade: {event!r}"
    assert event.symbol == instrument.symbol, f"event of {event.symbol}, subscribed {instrument}"
    assert _is_tick(event.ts_ns), f"ts_ns {event.ts_ns!r} is not an int"
    assert event.ts_ns >= 0, f"ts_ns is not negative: {event!r}"
    if isinstance(event, Quote):
        sides = (("bid", event.bid, event.bid_size), ("ask", event.ask, event.ask_size))
        for side, price, size in sides:
            if price is not None:
                assert _is_tick(price), (
                    f"{TICKS_RULE}: quote {side} {price!r} is a {type(price).__name__}"
                )
                assert _is_tick(size), f"quote sizes are ints: {side} size {size!r}"
                assert size >= 0, f"{side} size {size!r}"
        if event.bid is not None and event.ask is not None:
            assert event.bid < event.ask, f"crossed or locked quote {event!r}"
    else:
        assert _is_tick(event.price), (
            f"{TICKS_RULE}: trade price {event.price!r} is a {type(event.price).__name__}"
        )
        assert _is_tick(event.size), f"trade size {event.size!r} is not an int"
        assert event.size > 0, f"trade size {event.size!r}"


def check_book_depth(event: BookDepth, instrument: Instrument) -> None:
    """Fail unless ``event`` is depth of ``instrument`` as Capability.DEPTH promises: one
    level per price in integer ticks, sizes > 0, best first on each side, not crossed."""
    assert isinstance(event, BookDepth), f"not a BookDepth: {event!r}"
    assert event.symbol == instrument.symbol, f"depth of {event.symbol}, subscribed {instrument}"
    assert _is_tick(event.ts_ns), f"ts_ns {event.ts_ns!r} is not an int"
    for side, levels, better in (("bid", event.bids, 1), ("ask", event.asks, -1)):
        for level in levels:
            assert _is_tick(level.price), f"depth rule: {side} price {level.price!r} is not ticks"
            assert _is_tick(level.size), f"depth rule: {side} size {level.size!r} is not an int"
            assert level.size > 0, f"depth rule: {side} level {level} has no size"
        prices = [level.price for level in levels]
        assert len(set(prices)) == len(prices), (
            f"depth rule: one level per price (aggregated), {side}s repeat a price: {prices}"
        )
        assert prices == sorted(prices, key=lambda p: -better * p), (
            f"depth rule: {side}s best first ({'falling' if better > 0 else 'rising'}): {prices}"
        )
    if event.bids and event.asks:
        assert event.bids[0].price < event.asks[0].price, (
            f"depth rule: not crossed or locked, best bid {event.bids[0]} best ask {event.asks[0]}"
        )


def _two_sided(event: MarketEvent) -> bool:
    return isinstance(event, Quote) and event.bid is not None and event.ask is not None


class MarketDataConformance(ConformanceBase, kit=True):
    """A subscription yields the current state first, then what changes, in ticks."""

    @requires(Capability.MARKET_DATA)
    @pytest.mark.anyio
    async def test_market_data_starts_with_a_snapshot(
        self,
        vendor_session: Session,
        instrument: Instrument,
        market_control: MarketControl | None,
        reference_price: Decimal,
    ) -> None:
        bid = self.price(instrument, reference_price)
        ask = instrument.to_price(instrument.to_ticks(reference_price) + self.passive_offset_ticks)
        if market_control is not None:  # a known book, so the snapshot's prices are known
            await market_control.place(instrument, Side.BUY, bid, 1)
            await market_control.place(instrument, Side.SELL, ask, 1)
        async with vendor_session.market_data.stream([instrument]) as events:
            reader = EventReader(events, timeout=self.timeout, name="market data")
            first = await reader.next(f"a snapshot of {instrument.symbol}")
            check_market_event(first, instrument)
            if market_control is not None:
                quote = (
                    first
                    if _two_sided(first)
                    else await reader.next_matching(_two_sided, "a two-sided quote in the snapshot")
                )
                assert isinstance(quote, Quote), (
                    f"the snapshot's two-sided quote is a Quote, not {quote!r}"
                )
                check_market_event(quote, instrument)
                assert quote.bid is not None, f"a two-sided quote has a bid: {quote!r}"
                assert quote.ask is not None, f"a two-sided quote has an ask: {quote!r}"
                bid_ticks, ask_ticks = instrument.to_ticks(bid), instrument.to_ticks(ask)
                book = (
                    f"{TICKS_RULE}: the book holds a bid at {bid} ({bid_ticks} ticks) and an ask"
                    f" at {ask} ({ask_ticks} ticks), the snapshot quotes {quote!r}"
                )
                assert quote.bid >= bid_ticks, book
                assert quote.ask <= ask_ticks, book

    @requires(Capability.MARKET_DATA, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_market_data_updates_follow_the_book(
        self,
        vendor_session: Session,
        instrument: Instrument,
        market_control: MarketControl,
        reference_price: Decimal,
    ) -> None:
        bid = self.price(instrument, reference_price)
        better = self.price(instrument, reference_price, ticks_below=-1)
        async with vendor_session.market_data.stream([instrument]) as events:
            reader = EventReader(events, timeout=self.timeout, name="market data")
            await market_control.place(instrument, Side.BUY, bid, 2)
            quote = await reader.next_matching(
                lambda e: isinstance(e, Quote) and e.bid == instrument.to_ticks(bid),
                f"a quote with bid {bid} ({instrument.to_ticks(bid)} ticks)",
            )
            assert isinstance(quote, Quote), f"a market update of the bid is a Quote, not {quote!r}"
            assert quote.bid_size >= 2, (
                f"the quote shows the size resting at the bid (2 placed): {quote}"
            )
            await market_control.place(instrument, Side.BUY, better, 1)
            improved = await reader.next_matching(
                lambda e: isinstance(e, Quote) and e.bid == instrument.to_ticks(better),
                f"a quote with the improved bid {better}",
            )
            assert isinstance(improved, Quote), (
                f"a market update of the bid is a Quote, not {improved!r}"
            )
            assert improved.ts_ns >= quote.ts_ns, "quotes went back in time"
            for event in reader.seen:
                check_market_event(event, instrument)

    @requires(Capability.MARKET_DATA, Capability.DEPTH, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_market_data_depth_is_aggregated_best_first(
        self,
        vendor_session: Session,
        instrument: Instrument,
        market_control: MarketControl,
        reference_price: Decimal,
    ) -> None:
        """Two orders at one price are one level with their sizes summed; a deeper price
        is a second level behind it; depth follows a change below the touch."""
        top = self.price(instrument, reference_price)
        deep = self.price(instrument, reference_price, ticks_below=2)
        ask = instrument.to_price(instrument.to_ticks(reference_price) + self.passive_offset_ticks)
        await market_control.place(instrument, Side.BUY, top, 1)
        await market_control.place(instrument, Side.BUY, top, 2)
        await market_control.place(instrument, Side.SELL, ask, 1)
        async with vendor_session.market_data.stream([instrument], depth=True) as events:
            reader = EventReader(events, timeout=self.timeout, name="market data with depth")
            first = await reader.next_matching(
                lambda e: isinstance(e, BookDepth), "a BookDepth in the snapshot"
            )
            assert isinstance(first, BookDepth), f"depth arrives as BookDepth, not {first!r}"
            check_book_depth(first, instrument)
            level = {lv.price: lv.size for lv in first.bids}.get(instrument.to_ticks(top), 0)
            assert level >= 3, (
                f"depth rule: orders at one price are one level, sizes summed: {first.bids}"
            )
            await market_control.place(instrument, Side.BUY, deep, 4)
            deeper = await reader.next_matching(
                lambda e: (
                    isinstance(e, BookDepth)
                    and instrument.to_ticks(deep) in {lv.price for lv in e.bids}
                ),
                f"a BookDepth with the level {deep} below the touch",
            )
            assert isinstance(deeper, BookDepth), f"depth arrives as BookDepth, not {deeper!r}"
            check_book_depth(deeper, instrument)
            for event in reader.seen:
                if isinstance(event, BookDepth):
                    check_book_depth(event, instrument)
                else:
                    check_market_event(event, instrument)
