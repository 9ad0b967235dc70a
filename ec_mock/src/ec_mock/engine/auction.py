"""The opening auction's price: one price that trades the most of a crossed book.

CME Globex pre-open: orders are taken but not matched; the Indicative Opening Price
(IOP) is the price at which the most quantity would trade if the market opened now.
At the open, crossing orders trade at that one price, in price-time priority, then
continuous matching starts. Ties between prices are broken the Globex way in
spirit: the smallest imbalance, then the price nearest the last trade (the lower
price without one).
"""

from __future__ import annotations

from decimal import Decimal

from ec_core.model import Trade

from ec_mock.engine.book import OrderBook
from ec_mock.engine.external import ExternalPrintsLayer

__all__ = ["AuctionLayer", "opening_price"]


def opening_price(book: OrderBook, last: int | None) -> tuple[int, int] | None:
    """``(price, qty)`` the book would open at, or ``None`` if it is not crossed."""
    bids = book.bid_keys  # ascending prices
    asks = book.ask_keys  # ascending negated prices: the best ask is -asks[-1]
    if not bids or not asks or bids[-1] < -asks[-1]:
        return None
    low, high = -asks[-1], bids[-1]  # every crossing price lies in [low, high]
    candidates = sorted(
        {p for p in bids if low <= p <= high} | {-k for k in asks if low <= -k <= high}
    )
    best: tuple[int, int, int, int] | None = None  # (-volume, imbalance, distance, price)
    for price in candidates:
        bought = sum(book.bids[p].qty + book.bids[p].hidden for p in bids if p >= price)
        sold = sum(book.asks[-k].qty + book.asks[-k].hidden for k in asks if -k <= price)
        volume = min(bought, sold)
        distance = abs(price - last) if last is not None else price
        key = (-volume, abs(bought - sold), distance, price)
        if best is None or key < best:
            best = key
    assert best is not None
    return (best[3], -best[0]) if best[0] else None


class AuctionLayer(ExternalPrintsLayer):
    """Opening auctions: after the pre-open and after a velocity pause."""

    def indicative_open(self, symbol: str) -> tuple[Decimal, int] | None:
        """The Indicative Opening Price and quantity of a crossed book, ``None`` if none.

        During the pre-open it is what the opening auction would trade now; in
        continuous trading the book is never crossed and this is ``None``.
        """
        book = self._books.get(symbol)
        if book is None:
            return None
        found = opening_price(book, self._marks.get(symbol))
        if found is None:
            return None
        return self._price(symbol, found[0]), found[1]

    def _open_auction(self, symbol: str) -> None:
        """At the open: crossing orders trade at one price (CME Globex opening match).

        The price is :func:`~ec_mock.engine.auction.opening_price`; bids at or above it
        and offers at or below it trade in price-time priority, every fill at that
        price, published as one print with no aggressor.
        """
        book = self._books[symbol]
        found = opening_price(book, self._marks.get(symbol))
        if found is None:
            return
        price, volume = found
        self._mark(symbol, price, book.holders)
        left = volume
        while left:
            bid = book.bids[book.bid_keys[-1]]
            ask = book.asks[-book.ask_keys[-1]]
            buyer = next(o for o in bid.live())
            seller = next(o for o in ask.live())
            qty = min(left, buyer.qty - buyer.filled, seller.qty - seller.filled)
            for order in (buyer, seller):
                self._fill_resting(order, qty, price, None)  # one price, no aggressor
            left -= qty
        self._touched[symbol] = None
        now = self._ts
        self._last[symbol] = (now, price, volume, None)
        self._closing_print(symbol, price, volume)
        if self._sinks:
            self._emit(Trade(symbol=symbol, ts_ns=now, price=price, size=volume, aggressor=None))

    def _reopen(self, symbol: str) -> None:
        """The end of a velocity pause: an auction, then continuous trading (if still in
        session; a pause that runs into the close ends there)."""
        self._halted.discard(symbol)
        if symbol in self._closed and self._calendars[symbol].is_open(self._ts):
            self._closed.discard(symbol)
            self._open_auction(symbol)
