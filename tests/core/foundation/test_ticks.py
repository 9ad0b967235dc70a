"""Price <-> tick conversion is exact for every tick size, and off-grid prices are never rounded
silently."""

from __future__ import annotations

import decimal
from decimal import Decimal

import msgspec
import pytest
from ec_core.errors import PriceError
from ec_core.model import Instrument, Rounding
from hypothesis import given
from hypothesis import strategies as st

TICK_SIZES = [
    Decimal("1"),
    Decimal("5"),
    Decimal("0.25"),  # ES
    Decimal("0.01"),  # CL
    Decimal("0.005"),
    Decimal("0.0001"),
    Decimal("0.00005"),  # 6E
    Decimal(1) / Decimal(64),  # ZN: 1/64 = 0.015625
    Decimal(1) / Decimal(32),  # ZB: 1/32 = 0.03125
    Decimal(1) / Decimal(128),  # 1/128 = 0.0078125
    Decimal(1) / Decimal(256),
    Decimal("0.0025"),
]

ticks_sizes = st.sampled_from(TICK_SIZES)
tick_counts = st.integers(min_value=-(10**12), max_value=10**12)
# An exact fraction k / 10**j of a tick, strictly between 0 and 1.
fractions = st.integers(min_value=1, max_value=6).flatmap(
    lambda j: st.tuples(st.integers(min_value=1, max_value=10**j - 1), st.just(10**j))
)


def instrument(tick: Decimal) -> Instrument:
    return Instrument(symbol="X", tick_size=tick, multiplier=Decimal(1000))


def off_grid(inst: Instrument, n: int, k: int, m: int) -> Decimal:
    """``n + k/m`` ticks, computed with digits to spare so the test itself never rounds."""
    with decimal.localcontext(decimal.Context(prec=80, traps=[decimal.Inexact])):
        return inst.to_price(n) + inst.tick_size * k / m


def test_fractional_tick_sizes_are_exact_decimals() -> None:
    assert Decimal(1) / Decimal(64) == Decimal("0.015625")
    assert Decimal(1) / Decimal(32) == Decimal("0.03125")


@given(ticks_sizes, tick_counts)
def test_ticks_to_price_and_back_is_exact(tick: Decimal, n: int) -> None:
    inst = instrument(tick)
    price = inst.to_price(n)
    assert price == tick * n  # numerically exact
    assert inst.is_on_grid(price)
    assert inst.to_ticks(price) == n
    for policy in Rounding:
        assert inst.to_ticks(price, policy) == n  # on grid: the policy does not matter


@given(ticks_sizes, tick_counts, st.integers(min_value=0, max_value=6))
def test_trailing_zeros_do_not_change_the_tick_count(tick: Decimal, n: int, zeros: int) -> None:
    inst = instrument(tick)
    price = inst.to_price(n)
    padded = price.quantize(Decimal(1).scaleb(price.as_tuple().exponent - zeros))  # type: ignore[operator]
    assert padded == price
    assert inst.to_ticks(padded) == n


@given(ticks_sizes, tick_counts, fractions)
def test_off_grid_price_is_refused_naming_the_nearest_valid_prices(
    tick: Decimal, n: int, fraction: tuple[int, int]
) -> None:
    inst = instrument(tick)
    k, m = fraction
    price = off_grid(inst, n, k, m)
    assert not inst.is_on_grid(price)
    below, above = inst.to_price(n), inst.to_price(n + 1)
    assert inst.nearest_prices(price) == (below, above)
    with pytest.raises(PriceError) as info:
        inst.to_ticks(price)
    assert info.value.price == price
    assert info.value.tick_size == tick
    assert f"nearest valid prices {below} and {above}" in str(info.value)
    assert isinstance(info.value, ValueError)


@given(ticks_sizes, tick_counts, fractions)
def test_rounding_policies(tick: Decimal, n: int, fraction: tuple[int, int]) -> None:
    inst = instrument(tick)
    k, m = fraction
    price = off_grid(inst, n, k, m)
    assert inst.to_ticks(price, Rounding.DOWN) == n  # towards minus infinity
    assert inst.to_ticks(price, Rounding.UP) == n + 1  # towards plus infinity
    nearest = inst.to_ticks(price, Rounding.NEAREST)
    if 2 * k < m:
        assert nearest == n
    elif 2 * k > m:
        assert nearest == n + 1
    else:  # exactly half way: away from zero
        assert nearest == (n + 1 if n >= 0 else n)
    # NEAREST really is nearest: no valid price is closer.
    with decimal.localcontext(decimal.Context(prec=80, traps=[decimal.Inexact])):
        distance = abs(inst.to_price(nearest) - price)
        assert distance <= abs(inst.to_price(n) - price)
        assert distance <= abs(inst.to_price(n + 1) - price)


@pytest.mark.parametrize(
    ("price", "nearest", "down", "up"),
    [
        ("0.5", 1, 0, 1),
        ("-0.5", -1, -1, 0),
        ("1.5", 2, 1, 2),
        ("-1.5", -2, -2, -1),
        ("-0.3", 0, -1, 0),
        ("-0.7", -1, -1, 0),
        ("2.49", 2, 2, 3),
    ],
)
def test_rounding_of_negative_and_half_prices(price: str, nearest: int, down: int, up: int) -> None:
    inst = instrument(Decimal(1))
    assert inst.to_ticks(Decimal(price), Rounding.NEAREST) == nearest
    assert inst.to_ticks(Decimal(price), Rounding.DOWN) == down
    assert inst.to_ticks(Decimal(price), Rounding.UP) == up


def test_conversion_does_not_depend_on_the_callers_decimal_context() -> None:
    inst = instrument(Decimal(1) / Decimal(64))
    price = Decimal("123456789.015625")  # 15 significant digits
    with decimal.localcontext(decimal.Context(prec=4, traps=[decimal.Inexact])):
        assert inst.to_ticks(price) == 123456789 * 64 + 1
        assert inst.to_price(123456789 * 64 + 1) == price


def test_tiny_offset_beyond_28_digits_is_still_seen_off_grid() -> None:
    inst = instrument(Decimal(1))
    price = Decimal("1.0000000000000000000000000001")  # 29 significant digits
    assert not inst.is_on_grid(price)
    assert inst.nearest_prices(price) == (Decimal(1), Decimal(2))
    assert inst.to_ticks(price, Rounding.UP) == 2
    with pytest.raises(PriceError):
        inst.to_ticks(price)


@pytest.mark.parametrize(
    "price",
    [1.25, 5, "1.25", Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")],
)
def test_only_finite_decimals_are_prices(price: object) -> None:
    inst = instrument(Decimal("0.25"))
    with pytest.raises(PriceError, match="finite Decimal"):
        inst.to_ticks(price)  # type: ignore[arg-type]
    assert not inst.is_on_grid(price)  # type: ignore[arg-type]


def test_a_price_too_large_to_count_in_ticks_is_a_price_error() -> None:
    inst = instrument(Decimal("0.25"))
    with pytest.raises(PriceError, match="out of range"):
        inst.to_ticks(Decimal("1E+100"))


@pytest.mark.parametrize("bad", [Decimal(0), Decimal("-0.25"), Decimal("NaN"), Decimal("Inf")])
@pytest.mark.parametrize("field", ["tick_size", "multiplier"])
def test_tick_size_and_multiplier_must_be_positive(field: str, bad: Decimal) -> None:
    kwargs = {"tick_size": Decimal("0.25"), "multiplier": Decimal(50), field: bad}
    with pytest.raises(PriceError, match=field):
        Instrument(symbol="ES", tick_size=kwargs["tick_size"], multiplier=kwargs["multiplier"])
    document = msgspec.json.encode({"symbol": "ES", **{k: str(v) for k, v in kwargs.items()}})
    with pytest.raises(msgspec.ValidationError, match=field):
        msgspec.json.decode(document, type=Instrument)


def test_tick_value_is_tick_size_times_multiplier() -> None:
    assert instrument(Decimal(1) / Decimal(64)).tick_value == Decimal("15.625")
    es = Instrument(symbol="ES", tick_size=Decimal("0.25"), multiplier=Decimal(50))
    assert es.tick_value == Decimal("12.50")
