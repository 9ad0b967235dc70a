"""Market data ticks and bars. Prices are integer ticks of the instrument.

These objects sit on the per-tick hot path, so they are small msgspec structs
without garbage-collector tracking (``gc=False``) and prices are ints: convert
with :meth:`Instrument.to_price` at the edge when a Decimal is needed.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

import msgspec

from ec_core.model.enums import Side

__all__ = ["Bar", "BookDepth", "BookLevel", "MarketEvent", "Quote", "Trade"]


class Quote(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False, tag="quote"
):
    """Best bid and offer. A side with no price is ``None``."""

    symbol: str
    ts_ns: int
    bid: int | None = None
    bid_size: int = 0
    ask: int | None = None
    ask_size: int = 0


class Trade(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False, tag="trade"
):
    """One print on the tape."""

    symbol: str
    ts_ns: int
    price: int
    size: int
    aggressor: Side | None = None


class BookLevel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """One price of the book: the quantity of every order resting there, summed."""

    price: int
    size: Annotated[int, msgspec.Meta(gt=0)]


class BookDepth(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="depth"):
    """The book's top levels on both sides, carried by ``stream(..., depth=True)``.

    One level per price (orders aggregated), best first: ``bids`` falling,
    ``asks`` rising, never crossed. At most the vendor's depth (the mock: 10) per
    side; an empty side is ``()``. Each event is the whole picture, not a delta,
    so a consumer that lagged and lost one loses nothing but time.
    """

    symbol: str
    ts_ns: int
    bids: tuple[BookLevel, ...] = ()
    asks: tuple[BookLevel, ...] = ()

    @property
    def best_bid(self) -> BookLevel | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        return self.asks[0] if self.asks else None


class Bar(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """An OHLCV bar; ``timeframe`` names how it was cut (``"1m"``, ``"100t"``, ``"500v"``)."""

    symbol: str
    timeframe: str
    start_ns: int
    end_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    count: int = 0


MarketEvent: TypeAlias = Quote | Trade
"""What every market-data stream yields; ``stream(..., depth=True)`` adds :class:`BookDepth`."""
