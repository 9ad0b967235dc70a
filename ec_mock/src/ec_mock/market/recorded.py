"""The replay venue: recorded quotes and trades *are* the market.

:class:`RecordedVenue` is the mock vendor's :class:`~ec_core.vendor.ReplayFeed` for
recorded data (``[vendors.mock.replay] venue = "recorded"``, the default). Unlike
:class:`~ec_mock.market.ReplayFeeder`, which turns every recorded quote into house
orders in the full book, it keeps the recorded top of book per symbol (one store per
quote) and checks only the user's own resting orders against it: their best buy and
sell limits, waiting all-or-none limits and nearest stops, re-read from the exchange
only after the user's orders changed. A quote that crosses nothing costs a comparison or two.

The exchange (:class:`~ec_mock.engine.Exchange`) still does everything else: order
entry and its checks, the order's states and reports, positions, accounts and
commissions. Its book holds only the user's orders; when an order takes liquidity the
venue shows the recorded touch to the exchange as house orders just for that request
and withdraws what is left.

Fill model (:class:`~ec_mock.market.RecordedFillModel`, one test per rule):

* **Market orders** fill at the recorded touch (a buy at the ask, a sell at the bid),
  ``slippage_ticks`` worse. ``market = "touch"``: the whole quantity at that price;
  ``"walk"``: the recorded size at the touch, then the same size one tick worse, and
  so on. No recorded price on that side: the exchange's rule for a market order
  without liquidity applies (it is cancelled).
* **Limit orders** that cross the recorded touch on arrival fill like a market
  order up to their limit (at the touch: price improvement; no slippage); the rest
  rests. A resting buy limit fills completely at its price when a recorded ask
  reaches it (ask <= limit: the bids at that price were taken out) or a recorded
  trade prints below it (traded through). A trade *at* its price fills it only from
  what is left of the print after the queue ahead (``queue = true``): the recorded
  size at that price when the order joined the touch (or when the touch came to it),
  shrinking with later quotes and prints there. ``fill_at_touch = false`` fills only
  on trade-through. Sells mirror this.
* **Stops** fire on recorded trades (``stop_trigger = "trade"``: a buy stop when a
  trade prints at or above it) or on quotes (``"quote"``: when the ask reaches a buy
  stop, the bid a sell stop), and then fill as a market order (``STP``, slippage
  applies) or rest as a limit (``STL``) against the touch.
* **IOC / FOK / AON** are the exchange's own rules against the liquidity shown: IOC
  fills what the touch (walk: within its limit) gives and cancels the rest; FOK and
  AON fill completely at once or not at all: FOK is then cancelled, AON waits off
  the book. A later quote whose opposite side reaches a waiting AON's limit shows it
  the touch as on arrival (after the book's own orders had that quote), and the
  exchange fills it whole or leaves it waiting: never in part. Off the book it has no
  queue place and a print is not an offer, so recorded trades do not fill it.
  ``LiquidateAll`` and ``GoFlat`` flatten at the touch (their
  market orders: slippage applies).
* **Latency** (``latency_ms`` plus a seeded uniform ``latency_jitter_ms``): the venue
  answers at once (a replay's clock does not move during an order action), and the
  request *sees* the market at its arrival: a taking order fills at the touch
  recorded at decision + latency, and records before the arrival fill none of the
  symbol's resting orders.
* **Commission** per contract and per order come from ``[vendors.mock]
  commission_per_contract`` and ``commission_per_order`` (charged by the exchange on each
  fill, the second on an order's first fill only, in the fill and the account's cash).

Each recorded trade is also printed to the exchange (last trade, marks for P&L and
the stop checks); a fill caused by a quote is booked as a print at the quote's price.
Same records, same settings and seed: the same reports.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import final

from ec_core.clock import Clock, ManualClock
from ec_core.model import (
    ExecInstruction,
    ExecutionReport,
    GoFlat,
    Instrument,
    LiquidateAll,
    MarketEvent,
    OrderRequest,
    OrderType,
    Quote,
    Side,
    Trade,
    TradeEvent,
)

from ec_mock.engine import Exchange, FillModel
from ec_mock.market.recorded_model import RecordedFillModel
from ec_mock.market.recorded_orders import UNREAD, UserBook, read_user_book
from ec_mock.market.recorded_touch import HouseTouch, taking_of
from ec_mock.market.simulator import HOUSE_ACCOUNT

__all__ = ["RecordedVenue"]

_BUY = Side.BUY
_SELL = Side.SELL
_MKT = OrderType.MKT
_MTL = OrderType.MTL
_STOPS = (OrderType.STP, OrderType.STL)
_ALL = 1 << 31  # "as much as shown": capped by the instrument's order size limit
_FLATTEN = (LiquidateAll, GoFlat)


@final
class RecordedVenue:
    """Recorded records in, the user's fills out; see the module docstring."""

    hears_market_events = False  # the exchange's own quotes and prints: see on_market_event

    def __init__(
        self,
        exchange: Exchange,
        model: RecordedFillModel | None = None,
        *,
        seed: int = 0,
        house_account: str = HOUSE_ACCOUNT,
    ) -> None:
        self.exchange = exchange
        self._model = model or RecordedFillModel()
        self.house = house_account
        if not exchange.has_account(house_account):
            exchange.open_account(house_account, unlimited=True, name="recorded market")
        # Recorded quotes show the market's size, not the user's: an iceberg's display
        # slice and its queue place could only be guessed, so it is refused, not faked.
        exchange.refuse_instruction(
            ExecInstruction.ICEBERG,
            "the replay venue does not model icebergs (recorded quotes cannot show what"
            ' your order displays): replay with [vendors.mock.replay] venue = "book"',
        )
        # the queue ahead is the venue's estimate, passed in the print's size
        exchange.fill_model = FillModel(queue_position=False, fill_at_touch=True)
        clock = exchange.clock
        if not isinstance(clock, ManualClock):
            raise ValueError("a replay venue needs a simulated clock (ManualClock)")
        self._clock = clock  # read through its ts_ns slot: a simulated clock, no call
        self._due = _next_due(exchange)
        self._touch: dict[str, Quote] = {}
        self._users: dict[str, UserBook] = {}  # symbols where the user has resting orders
        # what a quote of a symbol is checked against: the user's book (its quiet band),
        # or UNREAD while the user's orders changed (re-read before checking); no entry:
        # nothing of the user rests
        self._watch: dict[str, UserBook] = {}
        self._stops_on_quotes = self._model.stop_trigger == "quote"  # fixed: bands use it
        self._latency = (self._model.latency_ns, self._model.jitter_ns)  # fixed: per request
        self._latency_on = any(self._latency)
        self._blind_until: dict[str, int] = {}  # a request is on its way (latency)
        self._house_touch = HouseTouch(exchange, house_account, self._model, self._instrument)
        self._rng = random.Random(seed)
        self._ahead: deque[MarketEvent] = deque()  # records read ahead for latency
        self._source: Iterator[MarketEvent] | None = None
        self._heard = -1  # activity when the stream's ``spoke`` last answered False
        self._instruments: dict[str, Instrument] = {}
        self.fed = 0  # records fed: each stream adds its count as it ends or is dropped
        self.activity = 0  # trade events the exchange produced: the replay's cue to sync
        exchange.add_listener(self)

    @property
    def model(self) -> RecordedFillModel:
        """The fill model, fixed for the venue's life (the quiet bands are derived from it)."""
        return self._model

    # -- ReplayFeed ------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The exchange's clock; :meth:`feed` moves a simulated one to each record's time."""
        return self._clock

    def instrument(self, symbol: str) -> Instrument | None:
        """The exchange's instrument for ``symbol`` (what a session resolves), or ``None``."""
        return self.exchange.instrument(symbol)

    def stream(
        self, records: Iterable[MarketEvent], *, spoke: Callable[[MarketEvent], bool] | None = None
    ) -> Iterator[MarketEvent]:
        """Yield each record after feeding it; with latency the venue may read ahead.

        ``spoke`` (a replay's run, see :class:`~ec_core.vendor.ReplayFeed`): asked after a
        record that moved :attr:`activity` since it last answered False for this source;
        True ends the stream there, that record fed and the caller's to keep.
        """
        source = iter(records)
        if source is not self._source:
            self._source = source
            self._heard = -1  # a new source: its first record asks ``spoke``
        return self._fed(source, self._ahead, spoke)

    def feed(self, record: MarketEvent) -> None:
        """Move the clock to the record, then apply it (see the module docstring).

        The clock moves alone until the exchange has a timed event due (a session
        boundary, an expiry); then :meth:`Exchange.advance_to` processes it first.
        """
        for _ in self._fed(iter((record,)), _NOTHING_AHEAD, None):
            pass

    def _fed(
        self,
        source: Iterator[MarketEvent],
        ahead: deque[MarketEvent],
        spoke: Callable[[MarketEvent], bool] | None,
    ) -> Iterator[MarketEvent]:
        """The one per-record step (:meth:`feed`, :meth:`stream`): yield each record of
        ``source`` once applied, records read ahead into ``ahead`` (latency) first;
        ``spoke`` as in :meth:`stream`.

        A generator, so a stream costs no call per record: a quote that crosses nothing
        is a clock move (a store into :attr:`~ec_core.clock.ManualClock.ts_ns`), a store
        and the band's two comparisons.
        """
        clock = self._clock
        touch = self._touch
        watch = self._watch
        records = _drain(ahead) if ahead else source  # read ahead before this run: first
        heard = self._heard
        fed = 0  # added to :attr:`fed` as the run ends or is dropped (a local is cheaper)
        try:
            while True:
                for record in records:
                    ts = record.ts_ns
                    if ts > clock.ts_ns:  # a later record: timers due first, else a plain move
                        if ts >= self._due:
                            self._advance(ts)
                        else:
                            clock.ts_ns = ts
                    symbol = record.symbol
                    if type(record) is Quote:
                        touch[symbol] = record
                        if symbol in watch:  # not .get: no call for a symbol where nothing rests
                            user = watch[symbol]
                            bid, ask = record.bid, record.ask
                            # inside the band nothing of the user's can cross, queue or fire
                            if (
                                bid is None
                                or ask is None
                                or not user.floor < bid <= ask < user.ceiling
                            ):
                                self._on_quote(symbol, record, self._users.get(symbol))
                    else:
                        self._on_trade(symbol, record)  # type: ignore[arg-type]
                    fed += 1
                    if self.activity != heard and spoke is not None:
                        if spoke(record):
                            return
                        heard = self._heard = self.activity
                    yield record
                    if ahead and records is source:
                        break  # a request read records ahead of ``source``: they come first
                else:
                    if records is source:
                        return
                records = _drain(ahead) if ahead else source
        finally:
            self.fed += fed

    def _advance(self, ts: int) -> None:
        self.exchange.advance_to(ts)
        self._due = _next_due(self.exchange)

    def feed_all(self, records: Iterable[MarketEvent]) -> int:
        """Feed every record in order; return how many."""
        count = 0
        for _ in self.stream(records):
            count += 1
        return count

    # -- the exchange's listener: which symbols' user orders changed ----------------------

    def on_trade_event(self, event: TradeEvent) -> None:
        self.activity += 1
        if type(event) is ExecutionReport and event.account_id != self.house:
            self._watch[event.symbol] = UNREAD

    def on_market_event(self, event: Quote | Trade) -> None:
        """The exchange's own quotes and prints: the recorded ones are the market (not
        called: ``hears_market_events`` is False)."""

    # -- records ---------------------------------------------------------------------------

    def _user_book(self, symbol: str) -> UserBook | None:
        """The user's resting orders of ``symbol``, re-read if they changed."""
        if self._watch.get(symbol) is UNREAD:
            return self._reread(symbol)
        return self._users.get(symbol)

    def _reread(self, symbol: str) -> UserBook | None:
        """Read the user's resting orders of ``symbol`` from the exchange (they changed)."""
        users = self._users
        user = read_user_book(
            self.exchange,
            symbol,
            self._instruments.get(symbol) or self._instrument(symbol),
            house=self.house,
            touch=self._touch.get(symbol),
            old=users.get(symbol),
        )
        if user is None:
            users.pop(symbol, None)
            self._watch.pop(symbol, None)
        else:
            user.set_band(stops_on_quotes=self._stops_on_quotes)
            users[symbol] = user
            self._watch[symbol] = user
        return user

    def _on_quote(self, symbol: str, quote: Quote, user: UserBook | None) -> None:
        if self._watch.get(symbol) is UNREAD:
            user = self._reread(symbol)
            if user is None:
                return
        assert user is not None
        if quote.ts_ns < self._blind_until.get(symbol, 0):
            return
        bid, ask = quote.bid, quote.ask
        buy, sell = user.buy, user.sell
        if buy is not None and ask is not None and ask <= buy:
            self._cross(symbol, _SELL, ask, quote)
        elif sell is not None and bid is not None and bid >= sell:
            self._cross(symbol, _BUY, bid, quote)
        else:
            if buy is not None and bid == buy:  # cancellations ahead of us shrink the queue
                ahead = user.buy_ahead
                user.buy_ahead = quote.bid_size if ahead is None else min(ahead, quote.bid_size)
            if sell is not None and ask == sell:
                ahead = user.sell_ahead
                user.sell_ahead = quote.ask_size if ahead is None else min(ahead, quote.ask_size)
            if self._stops_on_quotes:
                if user.buy_stop is not None and ask is not None and ask >= user.buy_stop:
                    self._fire_stops(symbol, user, ask, 0, None)
                elif user.sell_stop is not None and bid is not None and bid <= user.sell_stop:
                    self._fire_stops(symbol, user, bid, 0, None)
        # all-or-none orders wait off the book: after the book's own orders had the quote,
        # they take what it shows, as on arrival (the exchange fills them whole or not)
        if user.buy_aon is not None and ask is not None and ask <= user.buy_aon:
            self._offer_aon(symbol, _BUY, user.buy_aon_qty, user.buy_aon)
        if user.sell_aon is not None and bid is not None and bid >= user.sell_aon:
            self._offer_aon(symbol, _SELL, user.sell_aon_qty, user.sell_aon)

    def _offer_aon(self, symbol: str, taker: Side, qty: int, limit: int) -> None:
        """Show the recorded touch to the waiting AON orders of ``taker``'s side: the
        exchange fills those it can fill whole (its own AON rule), the rest is withdrawn."""
        shown = self._show(symbol, taker, qty, market=False, limit=limit)
        self._house_touch.withdraw(shown)  # a fill was reported: the user's orders are re-read

    def _cross(self, symbol: str, aggressor: Side, price: int, quote: Quote) -> None:
        """A recorded quote reached the user's resting limits: fill every one it reached,
        at its own price, booked as a print at the quote's price."""
        view = self.exchange.book(symbol)
        levels = view.bids if aggressor is _SELL else view.asks
        at_price = sum(level.qty for level in levels if level.price == price)
        self.exchange.apply_external_trade(
            symbol, price, at_price, counterparty=self.house, aggressor=aggressor
        )

    def _on_trade(self, symbol: str, trade: Trade) -> None:
        if trade.size <= 0:
            return
        user = self._user_book(symbol)
        price, size = trade.price, trade.size
        if user is None:
            self.exchange.apply_external_trade(
                symbol, price, size, counterparty=self.house, aggressor=trade.aggressor
            )
            return
        blind = trade.ts_ns < self._blind_until.get(symbol, 0)
        if not blind and self.model.stop_trigger == "trade":
            fires = (user.buy_stop is not None and price >= user.buy_stop) or (
                user.sell_stop is not None and price <= user.sell_stop
            )
            if fires:
                self._fire_stops(symbol, user, price, size, trade.aggressor)
                return
        reach = size  # of the print, what reaches a user order *at* its price
        if blind:
            reach = 0
        elif price == user.buy or price == user.sell:
            reach = self._past_queue(user, price, size)
        elif (user.buy is not None and price < user.buy) or (
            user.sell is not None and price > user.sell
        ):
            reach = 0 if self.model.queue else size  # deeper levels: queue unknown
        self.exchange.apply_external_trade(
            symbol, price, reach, counterparty=self.house, aggressor=trade.aggressor
        )

    def _past_queue(self, user: UserBook, price: int, size: int) -> int:
        """What of a print at a resting limit's price is left after the queue ahead."""
        if not self.model.fill_at_touch:
            return 0
        if not self.model.queue:
            return size
        if price == user.buy:
            ahead = user.buy_ahead or 0
            user.buy_ahead = max(0, ahead - size)
        else:
            ahead = user.sell_ahead or 0
            user.sell_ahead = max(0, ahead - size)
        return max(0, size - ahead)

    def _fire_stops(
        self, symbol: str, user: UserBook, price: int, size: int, aggressor: Side | None
    ) -> None:
        """Show the touch to the exchange, then print: the stops it fires fill against it."""
        shown = []
        if user.buy_stop_qty:
            shown += self._show(symbol, _BUY, user.buy_stop_qty, market=True)
        if user.sell_stop_qty:
            shown += self._show(symbol, _SELL, user.sell_stop_qty, market=True)
        try:
            self.exchange.apply_external_trade(
                symbol, price, size, counterparty=self.house, aggressor=aggressor
            )
        finally:
            self._house_touch.withdraw(shown)
            # a fired stop-limit that did not fill rests as a limit, and the exchange
            # reports no change for it: re-read the user's orders before the next record
            self._watch[symbol] = UNREAD

    # -- requests ----------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> None:
        """A request from the user's session: it sees the recorded market at its arrival."""
        exchange = self.exchange
        symbol = getattr(request, "symbol", None)
        taking = taking_of(request, exchange)
        arrival = self._arrival() if self._latency_on else 0
        if arrival and isinstance(symbol, str):
            self._blind_until[symbol] = max(self._blind_until.get(symbol, 0), arrival)
        now = self._clock.ts_ns
        if now >= self._due:
            self._advance(now)  # what is due happens before the request
        try:
            if type(request) in _FLATTEN:  # its market orders meet the touch of each symbol
                self._flatten(request, symbol, arrival)
                return
            if taking is None:
                exchange.submit(request)
                return
            side, qty, limit, market = taking
            assert isinstance(symbol, str)
            shown = self._show(symbol, side, qty, market=market, limit=limit, at_ns=arrival)
            if not shown:  # a limit that crosses nothing: it rests
                exchange.submit(request)
                return
            try:
                exchange.submit(request)
            finally:
                self._house_touch.withdraw(shown)
        finally:
            self._due = _next_due(exchange)  # the request may have set a timer

    def _flatten(self, request: OrderRequest, symbol: object, arrival: int) -> None:
        symbols = [symbol] if isinstance(symbol, str) else list(self._touch)
        shown: list[str] = []
        try:
            for each in symbols:
                for taker in (_BUY, _SELL):
                    shown += self._show(each, taker, _ALL, market=True, at_ns=arrival)
            self.exchange.submit(request)
        finally:
            self._house_touch.withdraw(shown)

    def _arrival(self) -> int:
        """Decision + latency: when a request reaches the venue (asked only with latency on)."""
        base, jitter = self._latency
        delay = base + (self._rng.randint(0, jitter) if jitter else 0)
        return self._clock.ts_ns + delay

    def _instrument(self, symbol: str) -> Instrument | None:
        found = self._instruments.get(symbol)
        if found is None:
            found = self.exchange.instrument(symbol)
            if found is not None:
                self._instruments[symbol] = found
        return found

    def _show(
        self,
        symbol: str,
        taker: Side,
        qty: int,
        *,
        market: bool,
        limit: int | None = None,
        at_ns: int = 0,
    ) -> list[str]:
        """Show the touch a taker would meet (at ``at_ns``: read ahead) as house orders."""
        quote = self._touch_at(symbol, at_ns) if at_ns else self._touch.get(symbol)
        return self._house_touch.show(symbol, quote, taker, qty, market=market, limit=limit)

    def _touch_at(self, symbol: str, at_ns: int) -> Quote | None:
        """The recorded quote of ``symbol`` in force at ``at_ns`` (reads records ahead)."""
        found = self._touch.get(symbol)
        for record in self._ahead:
            if record.ts_ns > at_ns:
                return found
            if type(record) is Quote and record.symbol == symbol:
                found = record
        source = self._source
        if source is None:
            return found
        for record in source:
            self._ahead.append(record)
            if record.ts_ns > at_ns:
                break
            if type(record) is Quote and record.symbol == symbol:
                found = record
        return found


_NOTHING_AHEAD: deque[MarketEvent] = deque()  # feed: one record, never read ahead of


def _drain(ahead: deque[MarketEvent]) -> Iterator[MarketEvent]:
    """The records read ahead, oldest first, until none is left (more may come meanwhile)."""
    while ahead:
        yield ahead.popleft()


_NO_TIMER = 1 << 63  # later than any record: an int, so the per-record test is int to int


def _next_due(exchange: Exchange) -> int:
    due = exchange.next_due_ns
    return due if due is not None else _NO_TIMER
