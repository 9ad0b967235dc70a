"""Instruments and exact price <-> tick conversion.

Prices are :class:`~decimal.Decimal` at the edges (what a user types, what a
report shows) and integer ticks inside (the book, the wire). Conversion is
exact: a price that is not a whole number of ticks raises :class:`PriceError`
rather than being rounded silently.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import msgspec

from ec_core.errors import PriceError

__all__ = ["Instrument", "Rounding", "TradingHours"]

PositiveDecimal = Annotated[Decimal, msgspec.Meta(gt=0)]


class Rounding(StrEnum):
    """Explicit rounding policy for :meth:`Instrument.to_ticks`. The default is to refuse."""

    REFUSE = "REFUSE"
    NEAREST = "NEAREST"  # half away from zero
    DOWN = "DOWN"  # towards minus infinity (a buyer's safe side)
    UP = "UP"  # towards plus infinity (a seller's safe side)


class TradingHours(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Daily session in the exchange's time zone; ``open > close`` means it spans midnight."""

    timezone: str = "America/Chicago"
    open: time
    close: time
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0; the day the session closes


class Instrument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tradable contract. Immutable: it is a fact about the venue.

    ``tick_size`` is the minimum price increment in price units; ``multiplier`` is
    the currency value of one price unit per contract (so one tick is worth
    ``tick_size * multiplier``). ``vendor_id`` is the vendor's contract id, when known.
    """

    symbol: str
    tick_size: PositiveDecimal
    multiplier: PositiveDecimal = Decimal(1)
    currency: str = "USD"
    vendor_id: str | None = None
    description: str = ""
    max_order_qty: Annotated[int, msgspec.Meta(gt=0)] = 10_000
    trading_hours: TradingHours | None = None

    @property
    def tick_value(self) -> Decimal:
        """Currency value of one tick for one contract."""
        return self.tick_size * self.multiplier

    def to_ticks(self, price: Decimal, rounding: Rounding = Rounding.REFUSE) -> int:
        """Exact number of ticks in ``price``. Raises :class:`PriceError` if off grid."""
        if not isinstance(price, Decimal) or not price.is_finite():
            raise PriceError(
                f"{self.symbol}: price must be a finite Decimal, got {price!r}",
                price=price,
                tick_size=self.tick_size,
            )
        quotient, remainder = divmod(price, self.tick_size)
        if not remainder:
            return int(quotient)
        if rounding is Rounding.REFUSE:
            below, above = self.nearest_prices(price)
            raise PriceError(
                f"{self.symbol}: price {price} is not a multiple of tick size {self.tick_size}"
                f" (nearest valid prices {below} and {above})",
                price=price,
                tick_size=self.tick_size,
            )
        exact = price / self.tick_size
        if rounding is Rounding.DOWN:
            return int(exact.to_integral_value(rounding="ROUND_FLOOR"))
        if rounding is Rounding.UP:
            return int(exact.to_integral_value(rounding="ROUND_CEILING"))
        return int(exact.to_integral_value(rounding="ROUND_HALF_UP"))

    def to_price(self, ticks: int) -> Decimal:
        """The price of ``ticks`` ticks, exact."""
        return self.tick_size * ticks

    def nearest_prices(self, price: Decimal) -> tuple[Decimal, Decimal]:
        """The valid prices just below and just above ``price`` (equal if on grid)."""
        exact = price / self.tick_size
        low = int(exact.to_integral_value(rounding="ROUND_FLOOR"))
        high = int(exact.to_integral_value(rounding="ROUND_CEILING"))
        return self.to_price(low), self.to_price(high)

    def is_on_grid(self, price: Decimal) -> bool:
        return isinstance(price, Decimal) and price.is_finite() and not price % self.tick_size
