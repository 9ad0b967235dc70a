"""Exact price and quantity conversion between CQG's wire integers and ec's numbers.

On the wire a price is an integer ``scaled`` with ``price = scaled × correct_price_scale``.
Inside ec a price is an integer number of ticks of the contract's ``tick_size``; at the
edges it is a :class:`~decimal.Decimal`. Nothing here ever rounds silently: a value that is
not exactly representable raises :class:`ec_core.errors.PriceError` with the values involved.

``correct_price_scale`` and ``tick_size`` are IEEE doubles in the protocol. ``Decimal(0.01)``
would give the binary value ``0.01000000000000000020816681711721685…``, which breaks exact
arithmetic. The server meant the decimal number it printed, and Python's ``repr`` of a
float is the *shortest* decimal string that round-trips to the same double, so
``Decimal(repr(x))`` recovers ``0.01``, ``0.25``, ``0.015625`` (1/64) exactly. Scales that
are not decimal fractions at all (1/3) do not occur: every double is a finite binary
fraction, and CQG uses decimal or power-of-two scales.

Quantities are ``cqg.Decimal{significand, exponent}`` (exact) or the deprecated ``uint32``
fields. ec trades whole contracts, so :func:`qty_from_cqg` refuses fractions.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import final

from ec_core.errors import PriceError

from ec_cqg.protocol.pb import decimal as decimal_pb

__all__ = [
    "PriceScale",
    "decimal_from_cqg",
    "decimal_to_cqg",
    "double_to_decimal",
    "qty_from_cqg",
    "qty_to_cqg",
]


#: A sint64 significand has at most 19 digits; beyond this exponent nothing is a sane quantity.
_MAX_QTY_EXPONENT = 19
_SINT64_LIMIT = 2**63


def double_to_decimal(value: float) -> Decimal:
    """The decimal number a protocol double stands for (shortest round-trip string)."""
    if not isinstance(value, float | int):
        raise TypeError(f"expected a float, got {type(value).__qualname__}")
    result = Decimal(repr(float(value)))
    if not result.is_finite():
        raise PriceError(f"not a finite number: {value!r}", price=value, tick_size=None)
    return result


def _exact_decimal(n: int, exponent: int) -> Decimal:
    # String construction is exact; arithmetic would round to the context precision.
    return Decimal(f"{n}E{exponent}")


@final
class PriceScale:
    """Price conversion for one contract: scaled wire integer ⇄ Decimal ⇄ ticks.

    Build it from ``ContractMetadata`` with :meth:`from_metadata`. A ``RealTimeMarketData``
    snapshot may carry its own ``correct_price_scale``; make a new instance with
    :meth:`with_scale` then.
    """

    __slots__ = (
        "_den",
        "_num",
        "_scale",
        "_scale_ratio",
        "_scale_tuple",
        "_tick",
        "_tick_ratio",
        "_tick_tuple",
        "scale",
        "tick_size",
        "ticks_ratio",
    )

    def __init__(self, *, correct_price_scale: Decimal | float, tick_size: Decimal | float) -> None:
        scale = (
            correct_price_scale
            if isinstance(correct_price_scale, Decimal)
            else double_to_decimal(correct_price_scale)
        )
        tick = tick_size if isinstance(tick_size, Decimal) else double_to_decimal(tick_size)
        if not (scale.is_finite() and scale > 0):
            raise PriceError(
                f"correct_price_scale must be > 0, got {scale}", price=None, tick_size=tick
            )
        if not (tick.is_finite() and tick > 0):
            raise PriceError(f"tick_size must be > 0, got {tick}", price=None, tick_size=tick)
        self.scale: Decimal = scale
        self.tick_size: Decimal = tick
        self._scale = Fraction(scale)
        self._tick = Fraction(tick)
        # Everything below is plain integers, worked out once: the conversions run per
        # quote and per order, and Fraction/Decimal arithmetic there costs microseconds.
        self._scale_ratio = scale.as_integer_ratio()
        self._tick_ratio = tick.as_integer_ratio()
        self._scale_tuple = _significand_exponent(scale)
        self._tick_tuple = _significand_exponent(tick)
        ticks_per_scaled = self._scale / self._tick
        self._num = ticks_per_scaled.numerator
        self._den = ticks_per_scaled.denominator
        #: ``ticks = scaled × num / den`` in lowest terms, for callers that inline the
        #: conversion (market data); off the grid when the division leaves a remainder.
        self.ticks_ratio: tuple[int, int] = (self._num, self._den)

    @classmethod
    def from_metadata(cls, metadata: object) -> PriceScale:
        """From a ``metadata_2.ContractMetadata`` (its double fields, converted safely)."""
        scale = getattr(metadata, "correct_price_scale", None)
        tick = getattr(metadata, "tick_size", None)
        if not isinstance(scale, float) or not isinstance(tick, float):
            raise TypeError("expected a ContractMetadata with correct_price_scale and tick_size")
        return cls(correct_price_scale=scale, tick_size=tick)

    def with_scale(self, correct_price_scale: Decimal | float) -> PriceScale:
        """The same contract with another price scale (from a market-data snapshot)."""
        return PriceScale(correct_price_scale=correct_price_scale, tick_size=self.tick_size)

    def __repr__(self) -> str:
        return f"PriceScale(correct_price_scale={self.scale}, tick_size={self.tick_size})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PriceScale)
            and other._scale == self._scale
            and other._tick == self._tick
        )

    def __hash__(self) -> int:
        return hash((self._scale, self._tick))

    # scaled <-> Decimal -------------------------------------------------------------

    def to_price(self, scaled: int) -> Decimal:
        """``scaled × correct_price_scale``, exact."""
        significand, exponent = self._scale_tuple
        return _exact_decimal(scaled * significand, exponent)

    def to_scaled(self, price: Decimal) -> int:
        """The wire integer of ``price``; :class:`PriceError` unless a whole multiple."""
        n, d = _ratio(price, self.tick_size)
        sn, sd = self._scale_ratio
        scaled, rest = divmod(n * sd, d * sn)
        if rest:
            raise PriceError(
                f"price {price} is not a multiple of the price scale {self.scale}",
                price=price,
                tick_size=self.tick_size,
            )
        return scaled

    # scaled <-> ticks ---------------------------------------------------------------

    def scaled_to_ticks(self, scaled: int) -> int:
        """Ticks in a wire price; :class:`PriceError` if it is off the tick grid.

        Integer arithmetic only (the hot path of market data): ``scaled × num / den``
        with ``num/den = correct_price_scale / tick_size`` reduced once at construction.
        """
        den = self._den
        if den == 1:
            return scaled * self._num
        ticks, rest = divmod(scaled * self._num, den)
        if rest:
            raise PriceError(
                f"price {self.to_price(scaled)} (scaled {scaled}) is not on the tick grid"
                f" of {self.tick_size}",
                price=self.to_price(scaled),
                tick_size=self.tick_size,
            )
        return ticks

    def ticks_to_scaled(self, ticks: int) -> int:
        """The wire integer of ``ticks``; :class:`PriceError` if the scale cannot express it."""
        scaled, rest = divmod(ticks * self._den, self._num)
        if rest:
            raise PriceError(
                f"{ticks} ticks of {self.tick_size} is not a multiple of the price scale"
                f" {self.scale}",
                price=self.ticks_to_price(ticks),
                tick_size=self.tick_size,
            )
        return scaled

    # Decimal <-> ticks --------------------------------------------------------------

    def price_to_ticks(self, price: Decimal) -> int:
        """Ticks in ``price``; :class:`PriceError` if it is off the grid."""
        n, d = _ratio(price, self.tick_size)
        tn, td = self._tick_ratio
        ticks, rest = divmod(n * td, d * tn)
        if rest:
            raise PriceError(
                f"price {price} is not a multiple of tick size {self.tick_size}",
                price=price,
                tick_size=self.tick_size,
            )
        return ticks

    def ticks_to_price(self, ticks: int) -> Decimal:
        """``ticks × tick_size``, exact."""
        significand, exponent = self._tick_tuple
        return _exact_decimal(ticks * significand, exponent)


def _ratio(price: Decimal, tick_size: Decimal) -> tuple[int, int]:
    """``price`` as an exact integer ratio; :class:`PriceError` unless a finite Decimal."""
    if not isinstance(price, Decimal) or not price.is_finite():
        raise PriceError(
            f"price must be a finite Decimal, got {price!r}", price=price, tick_size=tick_size
        )
    return price.as_integer_ratio()


def _significand_exponent(value: Decimal) -> tuple[int, int]:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    return int("".join(map(str, digits))) * (-1 if sign else 1), exponent


def decimal_from_cqg(value: decimal_pb.Decimal) -> Decimal:
    """A ``cqg.Decimal`` as an exact :class:`Decimal`."""
    return _exact_decimal(value.significand, value.exponent)


def decimal_to_cqg(
    value: Decimal | int, into: decimal_pb.Decimal | None = None
) -> decimal_pb.Decimal:
    """Fill ``into`` (or a new ``cqg.Decimal``) exactly. Integers keep exponent 0."""
    out = decimal_pb.Decimal() if into is None else into
    if isinstance(value, int):
        out.significand = value
        out.exponent = 0
        return out
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite quantity: {value}")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    significand = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if exponent > 0 and -_SINT64_LIMIT <= significand * 10**exponent < _SINT64_LIMIT:
        # keep integers as integers: 1E+1 -> significand 10, exponent 0
        significand *= 10**exponent
        exponent = 0
    if not -_SINT64_LIMIT <= significand < _SINT64_LIMIT or not -(2**31) <= exponent < 2**31:
        raise ValueError(f"{value} does not fit a cqg.Decimal (sint64 significand)")
    out.significand = significand
    out.exponent = exponent
    return out


def qty_from_cqg(value: decimal_pb.Decimal | None, legacy: int | None = None) -> int:
    """A whole quantity from ``cqg.Decimal`` (preferred) or the deprecated uint32 field.

    Raises :class:`ValueError` for a fractional quantity (ec counts whole contracts) and
    for a negative one (no quantity, size or fill is below zero: booked, it would turn a
    position and its P&L the wrong way).
    """
    if value is None:
        return 0 if legacy is None else int(legacy)
    significand, exponent = value.significand, value.exponent
    if significand == 0:
        return 0
    if significand < 0:
        raise ValueError(f"quantity {decimal_from_cqg(value)} is negative")
    if exponent >= 0:
        if exponent > _MAX_QTY_EXPONENT:
            raise ValueError(f"quantity {decimal_from_cqg(value)} is out of range")
        return int(significand * 10**exponent)
    if -exponent > _MAX_QTY_EXPONENT:  # |significand| < 10**19: cannot be whole
        raise ValueError(f"quantity {decimal_from_cqg(value)} is not a whole number of contracts")
    whole, rest = divmod(significand, 10**-exponent)
    if rest:
        raise ValueError(f"quantity {decimal_from_cqg(value)} is not a whole number of contracts")
    return int(whole)


def qty_to_cqg(qty: int, into: decimal_pb.Decimal | None = None) -> decimal_pb.Decimal:
    """A whole quantity as ``cqg.Decimal{significand: qty, exponent: 0}`` (as CQG's own samples)."""
    return decimal_to_cqg(int(qty), into)
