"""Market-data subscriptions of one session: levels, snapshots and updates from the engine.

Levels (``MarketDataSubscription.level``): 1 trades, 2 + best bid/ask without volumes,
3 + volumes, 4 + depth of market (``dom_depth`` levels each side). Level 7 (the detailed
DOM, order by order) is refused as not supported with a text naming it: the engine's book
is published by price. Levels 5 and 6 (settlements, end-of-day values only) are
:mod:`.daily`'s; it adds the settlements to these levels too.

A trade quote carries its aggressor side as ``sales_condition`` (4 buy side, 5 sell
side; none for an auction print). A snapshot holds the last trade, the best bid and ask
and, at level 4, the book; updates send what changed. The book is the engine's
:meth:`~ec_mock.engine.Exchange.book_depth` (one level per price, displayed quantity
summed, best first), served as DOM quotes of types ``TYPE_BID``/``TYPE_ASK``: an update is
the diff against what this subscription last saw, sent whenever the book changed (a
change behind the touch too), and a level whose volume is 0 is removed, as the protocol
says. Best bid/ask quotes never stand for DOM levels; both are sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ec_core.model import BookDepth, Instrument, Quote, Side, Trade

from ec_cqg.protocol.mapping.codes import AGGRESSOR_TO_SALES_CONDITION
from ec_cqg.protocol.pb import market_data_2
from ec_cqg.protocol.prices import PriceScale, qty_to_cqg
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.contracts import price_scale_of

__all__ = ["MarketSubscription", "effective_level", "unsupported_level_text"]

_L = market_data_2.MarketDataSubscription
_Q = market_data_2.Quote
_SUPPORTED: dict[int, int] = {
    _L.LEVEL_TRADES: _L.LEVEL_TRADES,
    _L.LEVEL_TRADES_BBA: _L.LEVEL_TRADES_BBA,
    _L.LEVEL_TRADES_BBA_VOLUMES: _L.LEVEL_TRADES_BBA_VOLUMES,
    _L.LEVEL_TRADES_BBA_DOM: _L.LEVEL_TRADES_BBA_DOM,
}


def effective_level(level: int) -> int | None:
    """The level served for a requested one; ``None`` when unsupported."""
    return _SUPPORTED.get(level)


def unsupported_level_text(level: int) -> str:
    """The text of the NOT_SUPPORTED status answering a level this server does not serve."""
    if level == _L.LEVEL_TRADES_BBA_DETAILED_DOM:
        return (
            "level 7 (LEVEL_TRADES_BBA_DETAILED_DOM, the detailed DOM order by order) is not"
            " supported: the book is published by price; subscribe at level 4"
            " (LEVEL_TRADES_BBA_DOM)"
        )
    return f"level {level} is not supported (1 to 6 are)"


@dataclass(slots=True)
class MarketSubscription:
    """One contract's subscription in one session."""

    contract_id: int
    instrument: Instrument
    level: int
    request_id: int | None = None
    bba: tuple[int | None, int, int | None, int] | None = None  # last bid, size, ask, size
    dom: dict[tuple[int, int], int] = field(default_factory=dict)  # (type, ticks) -> qty
    depth: BookDepth | None = None  # the engine's depth ``dom`` was last diffed against

    @property
    def prices(self) -> PriceScale:
        return price_scale_of(self.instrument)

    def _add_quote(
        self,
        data: market_data_2.RealTimeMarketData,
        kind: int,
        ticks: int,
        volume: int | None,
        base: BaseTime,
        ts_ns: int,
        aggressor: Side | None = None,
    ) -> None:
        quote = data.quotes.add(
            type=kind,
            scaled_price=self.prices.ticks_to_scaled(ticks),
            quote_utc_time=base.to_offset_ms(ts_ns),
        )
        if volume is not None:
            qty_to_cqg(volume, quote.volume)
        if aggressor is not None:
            quote.sales_condition = AGGRESSOR_TO_SALES_CONDITION[aggressor]

    def snapshot(
        self,
        *,
        quote: Quote | None,
        trade: Trade | None,
        depth: BookDepth | None,
        base: BaseTime,
        now_ns: int,
    ) -> market_data_2.RealTimeMarketData:
        """A snapshot: the client throws away what it had for the contract."""
        data = market_data_2.RealTimeMarketData(
            contract_id=self.contract_id,
            is_snapshot=True,
            correct_price_scale=float(self.prices.scale),
        )
        values = data.market_values.add(day_index=0, trade_date=base.to_offset_ms(now_ns))
        if trade is not None:
            self._add_quote(
                data, _Q.TYPE_TRADE, trade.price, trade.size, base, trade.ts_ns, trade.aggressor
            )
            values.scaled_last_trade_price = self.prices.ticks_to_scaled(trade.price)
            qty_to_cqg(trade.size, values.last_trade_volume)
        self.bba = None
        if quote is not None and self.level >= _L.LEVEL_TRADES_BBA:
            self._bba(data, quote, base, force=True)
        self.dom = {}
        self.depth = None
        if depth is not None and self.level >= _L.LEVEL_TRADES_BBA_DOM:
            self._dom(data, depth, base, now_ns)
        return data

    def on_trade(self, trade: Trade, base: BaseTime) -> market_data_2.RealTimeMarketData:
        data = market_data_2.RealTimeMarketData(contract_id=self.contract_id)
        self._add_quote(
            data, _Q.TYPE_TRADE, trade.price, trade.size, base, trade.ts_ns, trade.aggressor
        )
        return data

    def on_quote(self, quote: Quote, base: BaseTime) -> market_data_2.RealTimeMarketData | None:
        """The best bid/ask changes ``quote`` brings at this level, or ``None``."""
        if self.level < _L.LEVEL_TRADES_BBA:
            return None
        data = market_data_2.RealTimeMarketData(contract_id=self.contract_id)
        self._bba(data, quote, base, force=False)
        return data if data.quotes else None

    def on_depth(self, depth: BookDepth, base: BaseTime) -> market_data_2.RealTimeMarketData | None:
        """The DOM levels that changed since this subscription last saw the book, or
        ``None`` (below level 4, the same depth object again, or no level changed)."""
        if self.level < _L.LEVEL_TRADES_BBA_DOM or depth is self.depth:
            return None
        data = market_data_2.RealTimeMarketData(contract_id=self.contract_id)
        self._dom(data, depth, base, depth.ts_ns)
        return data if data.quotes else None

    def _bba(
        self, data: market_data_2.RealTimeMarketData, quote: Quote, base: BaseTime, *, force: bool
    ) -> None:
        volumes = self.level >= _L.LEVEL_TRADES_BBA_VOLUMES
        now = (quote.bid, quote.bid_size, quote.ask, quote.ask_size)
        before = self.bba
        self.bba = now
        for kind, price, size, index in (
            (_Q.TYPE_BESTBID, quote.bid, quote.bid_size, 0),
            (_Q.TYPE_BESTASK, quote.ask, quote.ask_size, 2),
        ):
            if price is None:
                continue
            if not force and before is not None and before[index : index + 2] == (price, size):
                continue
            if not volumes and not force and before is not None and before[index] == price:
                continue
            self._add_quote(data, kind, price, size if volumes else None, base, quote.ts_ns)

    def _dom(
        self,
        data: market_data_2.RealTimeMarketData,
        depth: BookDepth,
        base: BaseTime,
        ts_ns: int,
    ) -> None:
        now: dict[tuple[int, int], int] = {(_Q.TYPE_BID, lv.price): lv.size for lv in depth.bids}
        now.update({(_Q.TYPE_ASK, lv.price): lv.size for lv in depth.asks})
        before = self.dom
        for key in sorted(before.keys() - now.keys()):
            self._add_quote(data, key[0], key[1], 0, base, ts_ns)
        for key, qty in sorted(now.items()):
            if before.get(key) != qty:
                self._add_quote(data, key[0], key[1], qty, base, ts_ns)
        self.dom = now
        self.depth = depth
