"""``RealTimeMarketData`` → core :class:`~ec_core.model.Quote` / :class:`~ec_core.model.Trade`
(and :class:`~ec_core.model.BookDepth` at the DOM level).

Sans-I/O: one :class:`ContractQuotes` per subscribed contract keeps the best bid/ask, the
DOM levels when tracked, and the price scale. A snapshot clears the cached state first
(FLOWS.md §4.4) and may carry its own ``correct_price_scale``, kept for later updates.

Each message gives one ``Trade`` per trade quote (its aggressor side from
``sales_condition``: hit or sell-side aggressor SELL, take or buy-side aggressor BUY, else
``None``), at most one ``Quote`` (after the best bid/ask changed) and, when the DOM is
tracked, at most one ``BookDepth`` (after a DOM level changed, and always after a
snapshot). DOM quotes (``TYPE_BID``/``TYPE_ASK``) set a price's volume; volume 0 removes
the level; a DOM quote without a volume is a protocol error. Best bid/ask quotes never
touch the DOM. Prices become integer ticks exactly through
:class:`~ec_cqg.protocol.prices.PriceScale`; an off-grid price raises
:class:`~ec_core.errors.PriceError`, which the session counts and drops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

from ec_core.errors import ProtocolError
from ec_core.model import BookDepth, BookLevel, MarketEvent, Quote, Trade

from ec_cqg.protocol.mapping.codes import AGGRESSOR_FROM_SALES_CONDITION
from ec_cqg.protocol.pb import market_data_2
from ec_cqg.protocol.prices import PriceScale, qty_from_cqg
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["ContractQuotes"]

_Q = market_data_2.Quote
_TRADE: Final = _Q.TYPE_TRADE
_BID: Final = _Q.TYPE_BESTBID
_ASK: Final = _Q.TYPE_BESTASK
_DOM_BID: Final = _Q.TYPE_BID
_DOM_ASK: Final = _Q.TYPE_ASK


def book_depth(symbol: str, ts_ns: int, bids: dict[int, int], asks: dict[int, int]) -> BookDepth:
    """The DOM levels as the core's depth event: bids falling, asks rising."""
    return BookDepth(
        symbol=symbol,
        ts_ns=ts_ns,
        bids=tuple(BookLevel(price=p, size=bids[p]) for p in sorted(bids, reverse=True)),
        asks=tuple(BookLevel(price=p, size=asks[p]) for p in sorted(asks)),
    )


@final
class ContractQuotes:
    """Best bid/ask (and DOM) state of one contract and the conversion of its updates."""

    __slots__ = (
        "_ask",
        "_ask_size",
        "_bid",
        "_bid_size",
        "_dom",
        "_last_ts",
        "prices",
        "symbol",
    )

    def __init__(self, symbol: str, prices: PriceScale) -> None:
        self.symbol = symbol
        self.prices = prices
        self._bid: int | None = None
        self._ask: int | None = None
        self._bid_size = 0
        self._ask_size = 0
        self._last_ts = 0
        # DOM levels (ticks -> volume) of each side, once tracked (a DOM subscription)
        self._dom: tuple[dict[int, int], dict[int, int]] | None = None

    def track_dom(self) -> None:
        """Map DOM quotes to :class:`BookDepth` from now on (the level went up to DOM)."""
        if self._dom is None:
            self._dom = ({}, {})

    @property
    def tracks_dom(self) -> bool:
        return self._dom is not None

    def current(self, ts_ns: int) -> list[MarketEvent | BookDepth]:
        """The state as events (a subscriber joining a live subscription): the best
        bid/ask if any side is known, then the depth if tracked."""
        out: list[MarketEvent | BookDepth] = []
        if self._bid is not None or self._ask is not None:
            out.append(
                Quote(
                    symbol=self.symbol,
                    ts_ns=self._last_ts or ts_ns,
                    bid=self._bid,
                    bid_size=self._bid_size,
                    ask=self._ask,
                    ask_size=self._ask_size,
                )
            )
        if self._dom is not None:
            out.append(book_depth(self.symbol, self._last_ts or ts_ns, *self._dom))
        return out

    def apply(
        self, data: market_data_2.RealTimeMarketData, base_time: BaseTime, now_ns: int
    ) -> list[MarketEvent | BookDepth]:
        """Core events of one message, in wire order (the quote after the trades)."""
        return self.apply_many((data,), base_time, now_ns)

    def apply_many(
        self,
        items: Sequence[market_data_2.RealTimeMarketData],
        base_time: BaseTime,
        now_ns: int,
    ) -> list[MarketEvent | BookDepth]:
        """Core events of consecutive messages of this contract, in wire order.

        Runs for every burst of market data: state lives in locals for the whole burst
        and is written back once, at the end, so a message that raises (an off-grid
        price) leaves the state as it was and the caller can take the messages one by
        one to drop only the bad one.
        """
        events: list[MarketEvent | BookDepth] = []
        append = events.append
        bid, bid_size, ask, ask_size = self._bid, self._bid_size, self._ask, self._ask_size
        dom = self._dom
        # the DOM of this burst: copied on its first change, written back at the end
        dom_bids: dict[int, int] | None = None
        dom_asks: dict[int, int] | None = None
        last_ts = self._last_ts
        prices = self.prices
        num, den = prices.ticks_ratio  # integer arithmetic inline; to_ticks only to raise
        symbol = self.symbol
        trade, best_bid, best_ask = _TRADE, _BID, _ASK
        aggressor_of = AGGRESSOR_FROM_SALES_CONDITION.get
        ts = now_ns
        for data in items:
            book_changed = depth_changed = data.is_snapshot
            if book_changed:  # a snapshot starts the book afresh
                bid = ask = None
                bid_size = ask_size = 0
                if dom is not None:
                    dom_bids, dom_asks = {}, {}
                if data.HasField("correct_price_scale"):
                    prices = prices.with_scale(data.correct_price_scale)
                    num, den = prices.ticks_ratio
            ts = now_ns
            for quote in data.quotes[:]:  # slicing a upb container beats iterating it
                if quote.HasField("quote_utc_time"):
                    ts = base_time.to_ns(quote.quote_utc_time)
                elif last_ts:
                    ts = last_ts
                last_ts = ts
                kind = quote.type
                if kind != trade and kind != best_bid and kind != best_ask:
                    if dom is None or (kind != _DOM_BID and kind != _DOM_ASK):
                        continue
                    if not quote.HasField("volume"):
                        raise ProtocolError(
                            f"DOM quote of {symbol} at scaled price {quote.scaled_price}"
                            " has no volume"
                        )
                # an absent volume reads as {0, 0}: "unknown", size 0, as before
                volume = quote.volume
                size = volume.significand
                if volume.exponent or size < 0:
                    size = qty_from_cqg(volume)  # raises for a fraction or a negative size
                scaled = quote.scaled_price
                if den == 1:
                    ticks = scaled * num
                else:
                    ticks, rest = divmod(scaled * num, den)
                    if rest:
                        ticks = prices.scaled_to_ticks(scaled)  # raises PriceError with values
                if kind == trade:
                    condition = quote.sales_condition  # 0: absent
                    append(
                        Trade(
                            symbol=symbol,
                            ts_ns=ts,
                            price=ticks,
                            size=size,
                            aggressor=aggressor_of(condition) if condition else None,
                        )
                    )
                elif kind == best_bid:
                    bid, bid_size = ticks, size
                    book_changed = True
                elif kind == best_ask:
                    ask, ask_size = ticks, size
                    book_changed = True
                else:
                    if dom_bids is None or dom_asks is None:
                        assert dom is not None
                        dom_bids, dom_asks = dict(dom[0]), dict(dom[1])
                    levels = dom_bids if kind == _DOM_BID else dom_asks
                    if size > 0:
                        levels[ticks] = size
                    elif size == 0:
                        levels.pop(ticks, None)
                    else:
                        raise ProtocolError(f"DOM quote of {symbol} has volume {size} < 0")
                    depth_changed = True
            if book_changed and (bid is not None or ask is not None):
                append(
                    Quote(
                        symbol=symbol,
                        ts_ns=ts,
                        bid=bid,
                        bid_size=bid_size,
                        ask=ask,
                        ask_size=ask_size,
                    )
                )
            if depth_changed and dom is not None:
                if dom_bids is None or dom_asks is None:
                    dom_bids, dom_asks = dict(dom[0]), dict(dom[1])
                append(book_depth(symbol, ts, dom_bids, dom_asks))
        self.prices = prices
        self._last_ts = last_ts
        self._bid, self._bid_size, self._ask, self._ask_size = bid, bid_size, ask, ask_size
        if dom_bids is not None and dom_asks is not None:
            self._dom = (dom_bids, dom_asks)
        return events
