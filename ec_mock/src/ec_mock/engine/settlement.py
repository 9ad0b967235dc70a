"""The daily settlement price: what a trading day's close is marked to, and from what.

CME Rule 813 (daily settlement price): each product settles every trading day to a
price taken from its closing range. The engine's rule, in order:

1. a price the exchange was given for the day (:meth:`Exchange.provide_settlement`,
   a settlement feed in a recorded replay): ``FEED``;
2. the volume-weighted average of the trades in the closing range (the product's last
   ``settlement_seconds`` of the session), rounded to the nearest tick, a half tick to
   the even tick: ``VWAP``;
3. the session's last trade: ``LAST``;
4. the midpoint of the best bid and offer at the close, rounded the same way: ``MID``;
5. the previous settlement: ``PREVIOUS``;

and no settlement at all when none of these exists (nothing traded or quoted, ever).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import final

import msgspec

__all__ = [
    "ClosingRange",
    "Settlement",
    "SettlementSource",
    "VariationMargin",
    "nearest_tick",
]


class SettlementSource(StrEnum):
    FEED = "FEED"
    VWAP = "VWAP"
    LAST = "LAST"
    MID = "MID"
    PREVIOUS = "PREVIOUS"


class Settlement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One trading day's settlement of one instrument (``ticks`` is ``price`` in ticks)."""

    symbol: str
    trade_date: date
    price: Decimal
    ticks: int
    source: SettlementSource
    ts_ns: int


class VariationMargin(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What one settlement paid into (``amount`` > 0) or took out of an account for one
    instrument: the day's move of the position from its reference prices (yesterday's
    settlement, or the trade price of what was traded today) to the settlement price,
    plus what positions closed during the day made against their reference (CME Rule 814).
    ``qty`` is the position carried into the next day."""

    account_id: str
    symbol: str
    trade_date: date
    settlement_price: Decimal
    qty: int
    amount: Decimal
    ts_ns: int


def nearest_tick(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` ticks rounded to the nearest tick, a half to the even one."""
    quotient, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


@final
class ClosingRange:
    """The trades of one session's closing range, from ``start_ns`` to the close."""

    __slots__ = ("start_ns", "value", "volume")

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns
        self.value = 0  # sum of price ticks x quantity
        self.volume = 0

    def add(self, price: int, qty: int) -> None:
        self.value += price * qty
        self.volume += qty

    def vwap(self) -> int | None:
        """The volume-weighted average price on the nearest tick, ``None`` without trades."""
        if not self.volume:
            return None
        return nearest_tick(self.value, self.volume)
