"""The user's resting orders of one symbol, as the replay venue's per-record checks need them.

Re-read from the exchange only after the user's orders changed (the venue hears every
execution report): best buy and sell limits (the exchange's book holds only the user's
orders), the best all-or-none limits waiting off the book with their quantity, nearest
stops with the quantity they may take, and the queue estimate ahead of the best limits.
"""

from __future__ import annotations

from typing import final

from ec_core.model import Instrument, Quote

from ec_mock.engine import Exchange

__all__ = ["UNREAD", "UserBook", "read_user_book"]

_FAR = 1 << 62  # beyond any tick price a band is built from: such a quote is checked in full


@final
class UserBook:
    """The user's resting orders of one symbol, as the per-record checks need them."""

    __slots__ = (
        "buy",
        "buy_ahead",
        "buy_aon",
        "buy_aon_qty",
        "buy_stop",
        "buy_stop_qty",
        "ceiling",
        "floor",
        "sell",
        "sell_ahead",
        "sell_aon",
        "sell_aon_qty",
        "sell_stop",
        "sell_stop_qty",
    )

    def __init__(self) -> None:
        self.buy: int | None = None  # best resting buy limit (ticks)
        self.sell: int | None = None
        self.buy_aon: int | None = None  # highest buy AON limit: the first a fall reaches
        self.sell_aon: int | None = None  # lowest sell AON limit
        self.buy_aon_qty = 0  # what the waiting AON orders of each side want, together
        self.sell_aon_qty = 0
        self.buy_stop: int | None = None  # lowest buy stop: the first a rise fires
        self.sell_stop: int | None = None  # highest sell stop
        self.buy_ahead: int | None = None  # recorded size ahead of us at ``buy`` (None: unknown)
        self.sell_ahead: int | None = None
        self.buy_stop_qty = 0  # what the stops of each side may take when they fire
        self.sell_stop_qty = 0
        # the quiet band: a quote with floor < bid <= ask < ceiling changes nothing here
        self.floor = _FAR
        self.ceiling = -_FAR  # until set_band: no quote is quiet

    def set_band(self, *, stops_on_quotes: bool) -> None:
        """Derive the quiet band from the resting prices.

        A quote inside it crosses no limit (ask above the best buy and the best buy AON,
        bid below the best sell and the best sell AON), touches none (the queue estimate
        moves only at the limit's price) and, when stops fire on quotes, reaches no stop
        (ask below the lowest buy stop, bid above the highest sell stop): the venue skips
        it after two comparisons.
        """
        floor, ceiling = -_FAR, _FAR
        if self.buy is not None:
            floor = self.buy
        if self.sell is not None:
            ceiling = self.sell
        if self.buy_aon is not None and self.buy_aon > floor:
            floor = self.buy_aon
        if self.sell_aon is not None and self.sell_aon < ceiling:
            ceiling = self.sell_aon
        if stops_on_quotes:
            if self.sell_stop is not None and self.sell_stop > floor:
                floor = self.sell_stop
            if self.buy_stop is not None and self.buy_stop < ceiling:
                ceiling = self.buy_stop
        self.floor, self.ceiling = floor, ceiling


UNREAD = UserBook()
"""The book of a symbol whose user orders changed and are not re-read yet: its band is
empty, so the next quote is checked in full (and re-reads them)."""


def read_user_book(
    exchange: Exchange,
    symbol: str,
    instrument: Instrument | None,
    *,
    house: str,
    touch: Quote | None,
    old: UserBook | None,
) -> UserBook | None:
    """The user's resting limits, waiting AON limits and stops of ``symbol`` now
    (``None``: nothing rests);
    the queue ahead is kept from ``old`` while a best level stays, else estimated."""
    buy, sell = exchange.best_prices(symbol)
    stops = exchange.open_stops(symbol) if instrument is not None else ()
    waiting = exchange.waiting_aon_limits(symbol) if instrument is not None else ()
    if buy is None and sell is None and not stops and not waiting:
        return None  # nothing rests (after a cancel): no book to build
    user = UserBook()
    user.buy, user.sell = buy, sell
    for account_id, side, stop, left in stops:
        if account_id == house:
            continue
        if side > 0:
            user.buy_stop_qty += left
            if user.buy_stop is None or stop < user.buy_stop:
                user.buy_stop = stop
        else:
            user.sell_stop_qty += left
            if user.sell_stop is None or stop > user.sell_stop:
                user.sell_stop = stop
    for account_id, side, limit, left in waiting:
        if account_id == house:
            continue
        if side > 0:
            user.buy_aon_qty += left
            if user.buy_aon is None or limit > user.buy_aon:
                user.buy_aon = limit
        else:
            user.sell_aon_qty += left
            if user.sell_aon is None or limit < user.sell_aon:
                user.sell_aon = limit
    if buy is None and sell is None:  # only the house's stops or AON orders: none of the user's
        prices = (user.buy_stop, user.sell_stop, user.buy_aon, user.sell_aon)
        if prices == (None,) * 4:
            return None
    if buy is not None:  # a side where nothing rests has no queue (None)
        user.buy_ahead = _ahead(
            buy, old.buy if old else None, old.buy_ahead if old else None,
            touch.bid if touch else None, touch.bid_size if touch else 0, 1,
        )  # fmt: skip
    if sell is not None:
        user.sell_ahead = _ahead(
            sell, old.sell if old else None, old.sell_ahead if old else None,
            touch.ask if touch else None, touch.ask_size if touch else 0, -1,
        )  # fmt: skip
    return user


def _ahead(
    price: int,
    old_price: int | None,
    old_ahead: int | None,
    touch: int | None,
    touch_size: int,
    side: int,
) -> int | None:
    """The queue ahead of the user at ``price``: kept while the level is the same, else
    the recorded size there if it is the touch, 0 if it improves it, unknown if behind."""
    if price == old_price:
        return old_ahead
    if touch is None or (price - touch) * side > 0:
        return 0
    if price == touch:
        return touch_size
    return None
