"""Market data ticks and bars. Prices are integer ticks of the instrument.

These objects sit on the per-tick hot path, so they are small msgspec structs
without garbage-collector tracking (``gc=False``) and prices are ints: convert
with :meth:`Instrument.to_price` at the edge when a Decimal is needed.
"""

from __future__ import annotations

from typing import TypeAlias

import msgspec

from ec_core.model.enums import Side

__all__ = ["Bar", "MarketEvent", "Quote", "Trade"]


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
