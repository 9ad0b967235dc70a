"""The opening auction's price: one price that trades the most of a crossed book.

CME Globex pre-open: orders are taken but not matched; the Indicative Opening Price
(IOP) is the price at which the most quantity would trade if the market opened now.
At the open, crossing orders trade at that one price, in price-time priority, then
continuous matching starts. Ties between prices are broken the Globex way in
spirit: the smallest imbalance, then the price nearest the last trade (the lower
price without one).
"""

from __future__ import annotations

from ec_mock.engine.book import OrderBook

__all__ = ["opening_price"]


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
        bought = sum(book.bids[p].qty for p in bids if p >= price)
        sold = sum(book.asks[-k].qty for k in asks if -k <= price)
        volume = min(bought, sold)
        distance = abs(price - last) if last is not None else price
        key = (-volume, abs(bought - sold), distance, price)
        if best is None or key < best:
            best = key
    assert best is not None
    return (best[3], -best[0]) if best[0] else None
