"""``RealTimeMarketData`` → core :class:`~ec_core.model.Quote` / :class:`~ec_core.model.Trade`.

Sans-I/O: one :class:`ContractQuotes` per subscribed contract keeps the best bid/ask and
the price scale. A snapshot clears the cached state first (FLOWS.md §4.4) and may carry its
own ``correct_price_scale``, kept for later updates. Each message gives one ``Trade`` per
trade quote and at most one ``Quote`` (after the best bid/ask changed). Prices become
integer ticks exactly through :class:`~ec_cqg.protocol.prices.PriceScale`; an off-grid
price raises :class:`~ec_core.errors.PriceError`, which the session counts and drops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

from ec_core.model import MarketEvent, Quote, Trade

from ec_cqg.protocol.pb import market_data_2
from ec_cqg.protocol.prices import PriceScale, qty_from_cqg
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["ContractQuotes"]

_Q = market_data_2.Quote
_TRADE: Final = _Q.TYPE_TRADE
_BID: Final = _Q.TYPE_BESTBID
_ASK: Final = _Q.TYPE_BESTASK


@final
class ContractQuotes:
    """Best bid/ask state of one contract and the conversion of its updates."""

    __slots__ = ("_ask", "_ask_size", "_bid", "_bid_size", "_last_ts", "prices", "symbol")

    def __init__(self, symbol: str, prices: PriceScale) -> None:
        self.symbol = symbol
        self.prices = prices
        self._bid: int | None = None
        self._ask: int | None = None
        self._bid_size = 0
        self._ask_size = 0
        self._last_ts = 0

    def apply(
        self, data: market_data_2.RealTimeMarketData, base_time: BaseTime, now_ns: int
    ) -> list[MarketEvent]:
        """Core events of one message, in wire order (the quote after the trades)."""
        return self.apply_many((data,), base_time, now_ns)

    def apply_many(
        self,
        items: Sequence[market_data_2.RealTimeMarketData],
        base_time: BaseTime,
        now_ns: int,
    ) -> list[MarketEvent]:
        """Core events of consecutive messages of this contract, in wire order.

        Runs for every burst of market data: state lives in locals for the whole burst
        and is written back once, at the end, so a message that raises (an off-grid
        price) leaves the state as it was and the caller can take the messages one by
        one to drop only the bad one.
        """
        events: list[MarketEvent] = []
        append = events.append
        bid, bid_size, ask, ask_size = self._bid, self._bid_size, self._ask, self._ask_size
        last_ts = self._last_ts
        prices = self.prices
        num, den = prices.ticks_ratio  # integer arithmetic inline; to_ticks only to raise
        symbol = self.symbol
        trade, best_bid, best_ask = _TRADE, _BID, _ASK
        ts = now_ns
        for data in items:
            book_changed = data.is_snapshot
            if book_changed:  # a snapshot starts the book afresh
                bid = ask = None
                bid_size = ask_size = 0
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
                    continue
                # an absent volume reads as {0, 0}: "unknown", size 0, as before
                volume = quote.volume
                size = volume.significand if volume.exponent == 0 else qty_from_cqg(volume)
                scaled = quote.scaled_price
                if den == 1:
                    ticks = scaled * num
                else:
                    ticks, rest = divmod(scaled * num, den)
                    if rest:
                        ticks = prices.scaled_to_ticks(scaled)  # raises PriceError with values
                if kind == trade:
                    append(Trade(symbol=symbol, ts_ns=ts, price=ticks, size=size))
                elif kind == best_bid:
                    bid, bid_size = ticks, size
                    book_changed = True
                else:
                    ask, ask_size = ticks, size
                    book_changed = True
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
        self.prices = prices
        self._last_ts = last_ts
        self._bid, self._bid_size, self._ask, self._ask_size = bid, bid_size, ask, ask_size
        return events
