"""Money totals as integers: exact, fast, and read back as the Decimal a sum would give.

The account's running money totals (cash, unrealized P&L, margin in use) change
on nearly every order and print, so they are kept as integers in units of
``10**scale`` (the finest exponent of any amount that went in; a finer one
rescales) rather than as Decimals. Each total also remembers the exponent the
plain Decimal sum would have (the smallest of the terms added, Decimal's rule for
exact sums), so :attr:`AccountLedger.cash` and the others read back exactly the
Decimal, digits and exponent, that summing Decimals would have given.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "average_price",
    "check_amount",
    "exponent_of",
    "to_units",
    "units_to_decimal",
]


def exponent_of(value: Decimal, what: str) -> int:
    exponent = Decimal(value).as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"{what} must be a finite Decimal, got {value!r}")
    return exponent


def average_price(cost: int, qty: int, tick_size: Decimal) -> Decimal:
    """The average of fills costing ``cost`` ticks over ``qty`` contracts, as a price.

    The one rounding rule for an order's and a position's average: exact when ``qty``
    divides ``cost``, else a single rounding (the Decimal context's 28 digits) of the
    exact quotient. Multiplying by the tick before dividing is what keeps it to one.
    """
    return Decimal(cost) * tick_size / qty


def check_amount(value: Decimal, what: str) -> None:
    """Refuse a money amount the ledger cannot hold (not a finite number)."""
    exponent_of(value, what)


def to_units(value: Decimal, scale: int) -> int:
    """``value`` as an integer count of ``10**scale`` (exact: ``value``'s exponent >= scale)."""
    sign, digits, exponent = Decimal(value).as_tuple()
    coefficient = int("".join(map(str, digits))) if digits else 0
    assert isinstance(exponent, int)
    assert exponent >= scale
    units: int = coefficient * 10 ** (exponent - scale)
    return -units if sign else units


_ONES: dict[int, Decimal] = {}  # exponent -> Decimal 1 written with it (1E-2, 1E+3, ...)


def units_to_decimal(units: int, scale: int, exponent: int) -> Decimal:
    """The Decimal worth ``units * 10**scale`` written with ``exponent`` (>= scale).

    ``Decimal(n) * 1E<exponent>`` has exactly that exponent and n as coefficient
    (the product of exact operands), and costs one C call less than ``scaleb``.
    """
    if exponent != scale:
        units //= 10 ** (exponent - scale)  # exact: every term was a multiple of it
    one = _ONES.get(exponent)
    if one is None:
        one = _ONES[exponent] = Decimal((0, (1,), exponent))
    return Decimal(units) * one
