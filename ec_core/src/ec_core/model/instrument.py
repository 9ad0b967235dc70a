"""Instruments and exact price <-> tick conversion.

Prices are :class:`~decimal.Decimal` at the edges (what a user types, what a
report shows) and integer ticks inside (the book, the wire). Conversion is
exact: a price that is not a whole number of ticks raises :class:`PriceError`
rather than being rounded silently.
"""

from __future__ import annotations

from datetime import time
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    Inexact,
    InvalidOperation,
)
from decimal import Overflow as DecimalOverflow
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

import msgspec

from ec_core.calendar import TradingCalendar
from ec_core.errors import PriceError

__all__ = ["Instrument", "Rounding", "TradingHours"]

# All tick arithmetic runs in this context, never the caller's thread-local one:
# enough digits that no realistic price is rounded, and any inexact result raises
# instead of silently shifting a price onto the wrong tick.
_EXACT = Context(
    prec=64,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, DecimalOverflow, Inexact],
)


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


@lru_cache(maxsize=256)
def _calendar_of_hours(hours: TradingHours) -> TradingCalendar:
    return TradingCalendar.from_hours(hours)


class Instrument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tradable contract. Immutable: it is a fact about the venue.

    ``tick_size`` is the minimum price increment in price units; ``multiplier`` is
    the currency value of one price unit per contract (so one tick is worth
    ``tick_size * multiplier``). ``vendor_id`` is the vendor's contract id, when known.
    ``min_price`` is the lowest limit or stop price the venue takes (an E-mini's is one
    tick); ``None``: no lowest price (crude oil has traded below zero), none is checked.
    """

    symbol: str
    tick_size: Decimal
    multiplier: Decimal = Decimal(1)
    currency: str = "USD"
    vendor_id: str | None = None
    description: str = ""
    max_order_qty: Annotated[int, msgspec.Meta(gt=0)] = 10_000
    min_price: Decimal | None = None
    trading_hours: TradingHours | None = None
    calendar: TradingCalendar | None = None
    """Sessions and holidays; when absent, derived from ``trading_hours`` (see
    :attr:`trading_calendar`)."""

    def __post_init__(self) -> None:
        # msgspec cannot put ``gt=0`` on a Decimal, so the check lives here; it runs on
        # construction and on decoding (where it becomes a ``msgspec.ValidationError``).
        for name in ("tick_size", "multiplier"):
            value = getattr(self, name)
            if not (isinstance(value, Decimal) and value.is_finite() and value > 0):
                raise PriceError(
                    f"{self.symbol}: {name} must be a finite Decimal > 0, got {value!r}",
                    price=None,
                    tick_size=self.tick_size,
                )
        floor = self.min_price
        if floor is not None and not (isinstance(floor, Decimal) and floor.is_finite()):
            raise PriceError(
                f"{self.symbol}: min_price must be a finite Decimal or None, got {floor!r}",
                price=floor,
                tick_size=self.tick_size,
            )

    @property
    def trading_calendar(self) -> TradingCalendar | None:
        """The instrument's calendar: ``calendar``, else one built from ``trading_hours``
        (``None``: it trades around the clock, as far as ec knows)."""
        if self.calendar is not None:
            return self.calendar
        if self.trading_hours is None:
            return None
        return _calendar_of_hours(self.trading_hours)

    @property
    def tick_value(self) -> Decimal:
        """Currency value of one tick for one contract."""
        return self.tick_size * self.multiplier

    def to_ticks(self, price: Decimal, rounding: Rounding = Rounding.REFUSE) -> int:
        """Exact number of ticks in ``price``. Raises :class:`PriceError` if off grid.

        With a ``rounding`` other than ``REFUSE`` an off-grid price is moved onto the grid
        the way the policy says; the arithmetic stays exact whatever the Decimal context.
        """
        if not isinstance(price, Decimal) or not price.is_finite():
            raise PriceError(
                f"{self.symbol}: price must be a finite Decimal, got {price!r}",
                price=price,
                tick_size=self.tick_size,
            )
        low, remainder = self._floor_ticks(price)
        if not remainder:
            return low
        if rounding is Rounding.REFUSE:
            below, above = self.to_price(low), self.to_price(low + 1)
            raise PriceError(
                f"{self.symbol}: price {price} is not a multiple of tick size {self.tick_size}"
                f" (nearest valid prices {below} and {above})",
                price=price,
                tick_size=self.tick_size,
            )
        if rounding is Rounding.DOWN:
            return low
        if rounding is Rounding.UP:
            return low + 1
        # NEAREST, half away from zero: compare the distance to each neighbour exactly.
        twice = _EXACT.multiply(remainder, 2)
        if twice > self.tick_size or (twice == self.tick_size and low >= 0):
            return low + 1
        return low

    def to_price(self, ticks: int) -> Decimal:
        """The price of ``ticks`` ticks, exact."""
        try:
            return _EXACT.multiply(self.tick_size, Decimal(ticks))
        except DecimalException as exc:
            raise PriceError(
                f"{self.symbol}: {ticks} ticks is not representable exactly",
                price=ticks,
                tick_size=self.tick_size,
            ) from exc

    def nearest_prices(self, price: Decimal) -> tuple[Decimal, Decimal]:
        """The valid prices just below and just above ``price`` (equal if on grid)."""
        low, remainder = self._floor_ticks(price)
        return self.to_price(low), self.to_price(low + 1 if remainder else low)

    def is_on_grid(self, price: Decimal) -> bool:
        """A finite Decimal that is a whole number of ticks; ``False`` for anything else,
        a price too large or too finely divided for exact tick arithmetic included."""
        if not (isinstance(price, Decimal) and price.is_finite()):
            return False
        try:
            return not self._floor_ticks(price)[1]
        except PriceError:
            return False

    def _floor_ticks(self, price: Decimal) -> tuple[int, Decimal]:
        """``(n, r)`` with ``price == n * tick_size + r`` and ``0 <= r < tick_size``, exactly."""
        try:
            quotient, remainder = _EXACT.divmod(price, self.tick_size)
            low = int(quotient)
            if remainder < 0:  # divmod truncates towards zero; floor for negative prices
                low -= 1
                # inside the try: -1E-67 + 0.01 needs more digits than the context has
                remainder = _EXACT.add(remainder, self.tick_size)
        except DecimalException as exc:
            raise PriceError(
                f"{self.symbol}: price {price} is out of range for tick size {self.tick_size}",
                price=price,
                tick_size=self.tick_size,
            ) from exc
        return low, remainder
