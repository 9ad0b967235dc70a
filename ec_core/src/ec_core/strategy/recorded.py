"""Recorded ticks into a simulated venue, so a replay's orders fill against the recorded market.

``ec replay`` runs on the ``mock`` vendor, opened through the plugin host like any
vendor; ec-core never imports ec-mock. What the vendor protocols do not cover is
*pushing* recorded ticks into the venue, so this module reaches the mock session's
documented venue (``session.venue``: its clock and its exchange) through the
small structural protocols below and shows each recorded tick to it:

* a quote becomes house liquidity at the recorded bid and ask (one house order per
  side, resized in place so it keeps its queue position);
* a trade becomes an external print, which the exchange's fill model turns into
  fills of resting orders;
* the venue's simulated clock moves to the tick's time first.

This follows ec-mock's own ``ReplayFeeder``, except that both stale sides are
withdrawn before new prices are shown (a jump through the old touch would
otherwise cross the house's own quote). When the mock vendor exposes a replay
entry point of its own, :func:`recorded_market` should use it instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, final

from ec_core.errors import ConfigError
from ec_core.model import Duration, MarketEvent, OrderType, Quote, Side, TradeEvent

__all__ = ["HOUSE_ACCOUNT", "RecordedMarket", "recorded_market"]

HOUSE_ACCOUNT = "REPLAY-HOUSE"


class _Status(Protocol):
    @property
    def filled_qty(self) -> int: ...


class _Exchange(Protocol):
    """The part of the mock exchange a recorded market needs (prices in ticks)."""

    def has_account(self, account_id: str) -> bool: ...
    def open_account(self, account_id: str, **options: Any) -> Any: ...
    def advance_to(self, ts_ns: int) -> None: ...
    def place(
        self,
        account_id: str,
        symbol: str,
        side: Side,
        qty: int,
        order_type: OrderType = ...,
        *,
        price: int | None = None,
        duration: Duration = ...,
        cl_order_id: str = ...,
    ) -> Any: ...
    def cancel(self, account_id: str, cl_order_id: str) -> Any: ...
    def remaining_qty(self, account_id: str, cl_order_id: str) -> int: ...
    def order_status(self, account_id: str, cl_order_id: str) -> _Status | None: ...
    def set_resting_qty(self, account_id: str, cl_order_id: str, qty: int) -> Any: ...
    def apply_external_trade(
        self, symbol: str, price: int, size: int, *, counterparty: str, aggressor: Side | None
    ) -> None: ...
    def add_listener(self, listener: Any) -> None: ...
    def remove_listener(self, listener: Any) -> None: ...


class _Clock(Protocol):
    def now_ns(self) -> int: ...


@final
class RecordedMarket:
    """Feeds recorded ticks into an exchange; watches the trade events of ``account_id``.

    It is the replay's :class:`~ec_core.strategy.engine.ReplaySync`: ``dirty`` goes up
    when the venue produced something for our account, which the trade-stream
    consumer must see before the strategy looks at the next tick; ``backlog`` (set by
    the replay to the stream's) says when the consumer has taken it all.
    """

    def __init__(
        self,
        exchange: _Exchange,
        clock: _Clock,
        *,
        account_id: str,
        house_account: str = HOUSE_ACCOUNT,
    ) -> None:
        self.exchange = exchange
        self.clock = clock
        self.account_id = account_id
        self.house = house_account
        self.fed = 0
        self.events_for_account = 0
        self.dirty = False
        self.backlog: Callable[[], int] = lambda: 0
        self._resting: dict[tuple[str, int], tuple[int, str]] = {}  # (symbol, side) -> (px, cl)
        self._next_cl = 1
        if not exchange.has_account(house_account):
            exchange.open_account(house_account, unlimited=True, name="recorded market")
        exchange.add_listener(self)

    def close(self) -> None:
        self.exchange.remove_listener(self)

    # -- exchange listener (sync, cheap) -----------------------------------------------------

    def on_trade_event(self, event: TradeEvent) -> None:
        if getattr(event, "account_id", None) == self.account_id:
            self.events_for_account += 1
            self.dirty = True

    def on_market_event(self, event: MarketEvent) -> None:
        return None

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, tick: MarketEvent) -> None:
        """Move the venue clock to the tick, then show it to the book."""
        if tick.ts_ns > self.clock.now_ns():
            self.exchange.advance_to(tick.ts_ns)
        if type(tick) is Quote:
            # Withdraw both stale sides before showing new prices, so a jump through
            # the old touch never crosses the house's own quote.
            symbol = tick.symbol
            keep_bid = self._withdraw(symbol, 1, tick.bid, tick.bid_size)
            keep_ask = self._withdraw(symbol, -1, tick.ask, tick.ask_size)
            if not keep_bid:
                self._place(symbol, 1, tick.bid, tick.bid_size)
            if not keep_ask:
                self._place(symbol, -1, tick.ask, tick.ask_size)
        elif tick.size > 0:  # type: ignore[union-attr]
            self.exchange.apply_external_trade(
                tick.symbol,
                tick.price,  # type: ignore[union-attr]
                tick.size,  # type: ignore[union-attr]
                counterparty=self.house,
                aggressor=tick.aggressor,  # type: ignore[union-attr]
            )
        self.fed += 1

    def feeding(self, ticks: Iterable[MarketEvent]) -> Iterator[MarketEvent]:
        """Yield each tick after the venue has seen it (the strategy sees it second)."""
        feed = self.feed
        for tick in ticks:
            feed(tick)
            yield tick

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


def recorded_market(session: object, *, account_id: str) -> RecordedMarket:
    """A :class:`RecordedMarket` on ``session``'s simulated venue.

    Raises :class:`ConfigError` (``REPLAY_UNSUPPORTED``) for a session without one:
    replays need the ``mock`` vendor on its simulated clock.
    """
    venue = getattr(session, "venue", None)
    exchange = getattr(venue, "exchange", None)
    clock = getattr(venue, "clock", None)
    simulated = getattr(venue, "is_simulated", False)
    if exchange is None or clock is None or not simulated:
        vendor = getattr(session, "vendor", type(session).__name__)
        raise ConfigError(
            f"REPLAY_UNSUPPORTED: vendor {vendor!r} has no simulated venue to replay ticks into"
            " (use the mock vendor with clock = 'simulated')",
            path="vendor",
        )
    return RecordedMarket(exchange, clock, account_id=account_id)
