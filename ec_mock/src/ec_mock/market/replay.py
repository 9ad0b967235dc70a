"""Replay of recorded ticks: read them from CSV, feed them into an exchange.

The CSV format (``ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor``,
decimal prices) is ec-core's, read and written by :mod:`ec_core.data.ticks_csv`;
:func:`replay_csv` and :func:`write_csv` apply it with the built-in instruments by
default.

:class:`ReplayFeeder` shows the recorded bid/ask as house liquidity in the book
(one house order per side, resized in place so it keeps its queue position), and
turns recorded prints into :meth:`Exchange.apply_external_trade`, where the
exchange's :class:`~ec_mock.engine.FillModel` decides which resting orders fill.
It is the core's :class:`~ec_core.vendor.ReplayFeed`: the mock vendor's sessions
hand it out as ``session.replay``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import final

from ec_core.clock import Clock, ManualClock
from ec_core.data.ticks_csv import read_ticks, write_ticks
from ec_core.model import (
    Duration,
    Instrument,
    MarketEvent,
    OrderType,
    Quote,
    Side,
    Trade,
    TradeEvent,
)

from ec_mock.engine import Exchange
from ec_mock.instruments import builtin_instruments
from ec_mock.market.simulator import HOUSE_ACCOUNT

__all__ = ["ReplayFeeder", "replay_csv", "write_csv"]


def replay_csv(
    path: str | Path, *, instruments: Iterable[Instrument] | None = None
) -> Iterator[Quote | Trade]:
    """Ticks of a recorded CSV file, in file order (prices become ticks).

    Errors are :class:`~ec_core.errors.ConfigError` naming the row and column.
    """
    chosen = instruments if instruments is not None else builtin_instruments()
    return read_ticks(path, {i.symbol: i for i in chosen})


def write_csv(
    path: str | Path, ticks: Iterable[Quote | Trade], instruments: Iterable[Instrument]
) -> None:
    """Record ticks in the format :func:`replay_csv` reads (e.g. from a simulator run)."""
    write_ticks(path, ticks, instruments)


@final
class ReplayFeeder:
    """Feeds recorded ticks into ``exchange`` as house liquidity and external prints.

    A quote first withdraws (or resizes in place) both of the house's stale sides,
    then shows the new prices: placing the new bid while the old ask still rested
    would let a jump through the old touch trade the house with itself.
    """

    def __init__(self, exchange: Exchange, *, house_account: str = HOUSE_ACCOUNT) -> None:
        self.exchange = exchange
        self.house = house_account
        if not exchange.has_account(house_account):
            exchange.open_account(
                house_account, unlimited=True, name="recorded market", retire_final_orders=True
            )
        self._resting: dict[tuple[str, int], tuple[int, str]] = {}  # (symbol, side) -> (price, cl)
        self._next_cl = 1
        self.fed = 0
        self.activity = 0  # trade events the exchange produced: the replay's cue to sync
        self._source: Iterator[MarketEvent] | None = None  # what ``stream`` reads
        self._heard = -1  # activity when the stream's ``spoke`` last answered False
        exchange.add_listener(self)

    def on_trade_event(self, event: TradeEvent) -> None:
        """The exchange's listener: count what it produced (see ``activity``)."""
        self.activity += 1

    hears_market_events = True  # the exchange calls on_market_event

    def on_market_event(self, event: Quote | Trade) -> None:
        """Quotes and prints are not account events."""

    @property
    def clock(self) -> Clock:
        """The exchange's clock; :meth:`feed` moves a simulated one to each tick's time."""
        return self.exchange.clock

    def instrument(self, symbol: str) -> Instrument | None:
        """The exchange's instrument for ``symbol`` (what a session resolves), or ``None``."""
        return self.exchange.instrument(symbol)

    def feed(self, tick: Quote | Trade) -> None:
        """Move a simulated clock to the tick, then show it to the book (see the class doc)."""
        exchange = self.exchange
        clock = exchange.clock
        if isinstance(clock, ManualClock) and tick.ts_ns > clock.now_ns():
            exchange.advance_to(tick.ts_ns)
        if isinstance(tick, Quote):
            symbol = tick.symbol
            keep_bid = self._withdraw(symbol, 1, tick.bid, tick.bid_size)
            keep_ask = self._withdraw(symbol, -1, tick.ask, tick.ask_size)
            if not keep_bid:
                self._place(symbol, 1, tick.bid, tick.bid_size)
            if not keep_ask:
                self._place(symbol, -1, tick.ask, tick.ask_size)
        elif tick.size > 0:
            exchange.apply_external_trade(
                tick.symbol,
                tick.price,
                tick.size,
                counterparty=self.house,
                aggressor=tick.aggressor,
            )
        self.fed += 1

    def stream(
        self, ticks: Iterable[MarketEvent], *, spoke: Callable[[MarketEvent], bool] | None = None
    ) -> Iterator[MarketEvent]:
        """Yield each tick after :meth:`feed` has shown it to the book; ``spoke`` as in
        :class:`~ec_core.vendor.ReplayFeed` (asked after a tick that moved
        :attr:`activity` since it last answered False for this source)."""
        source = iter(ticks)
        if source is not self._source:
            self._source = source
            self._heard = -1
        feed = self.feed
        heard = self._heard
        for tick in source:
            feed(tick)
            if self.activity != heard and spoke is not None:
                if spoke(tick):
                    return
                heard = self._heard = self.activity
            yield tick

    def feed_all(self, ticks: Iterable[Quote | Trade]) -> int:
        """Feed every tick in order; return how many."""
        count = 0
        for tick in ticks:
            self.feed(tick)
            count += 1
        return count

    def _withdraw(self, symbol: str, side: int, price: int | None, size: int) -> bool:
        """Resize the side's house order in place if its price holds (True), else cancel it."""
        exchange = self.exchange
        key = (symbol, side)
        current = self._resting.get(key)
        if current is None:
            return False
        old_price, cl = current
        live = exchange.remaining_qty(self.house, cl)
        if live and old_price == price and size > 0:
            if live != size:
                status = exchange.order_status(self.house, cl)
                done = status.filled_qty if status is not None else 0
                exchange.set_resting_qty(self.house, cl, done + size)
            return True
        if live:
            exchange.cancel(self.house, cl)
        del self._resting[key]
        return False

    def _place(self, symbol: str, side: int, price: int | None, size: int) -> None:
        if price is None or size <= 0:
            return
        exchange = self.exchange
        cl = f"R{self._next_cl}"
        self._next_cl += 1
        exchange.place(
            self.house,
            symbol,
            Side.BUY if side > 0 else Side.SELL,
            size,
            OrderType.LMT,
            price=price,
            duration=Duration.GTC,
            cl_order_id=cl,
        )
        if exchange.remaining_qty(self.house, cl):
            self._resting[(symbol, side)] = (price, cl)
