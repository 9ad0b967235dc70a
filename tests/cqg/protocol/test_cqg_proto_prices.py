"""Exact price, tick and quantity conversions; base-time and Timestamp conversions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from ec_core.calendar import datetime_ns
from ec_core.errors import PriceError, ProtocolError
from ec_cqg.protocol.pb import decimal as decimal_pb
from ec_cqg.protocol.prices import (
    PriceScale,
    decimal_from_cqg,
    decimal_to_cqg,
    double_to_decimal,
    qty_from_cqg,
    qty_to_cqg,
)
from ec_cqg.protocol.timestamps import BaseTime, ns_to_timestamp, timestamp_to_ns
from hypothesis import given, settings
from hypothesis import strategies as st

# (correct_price_scale, tick_size) pairs as CQG sends them: doubles.
SCALES = [(0.01, 0.25), (0.01, 0.01), (1.0, 1.0), (0.0078125, 0.015625), (0.001, 0.005), (0.5, 5.0)]
SINT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def test_doubles_become_the_decimal_the_server_meant() -> None:
    assert double_to_decimal(0.01) == Decimal("0.01")
    assert Decimal.from_float(0.01) != Decimal("0.01")  # why we go through repr
    assert double_to_decimal(1 / 64) == Decimal("0.015625")
    assert double_to_decimal(0.1) == Decimal("0.1")
    with pytest.raises(PriceError):
        double_to_decimal(float("nan"))


def test_flows_example_scaled_price() -> None:
    scale = PriceScale(correct_price_scale=0.01, tick_size=0.25)
    assert scale.to_price(450025) == Decimal("4500.25")
    assert scale.scaled_to_ticks(450025) == 18001
    assert scale.to_scaled(Decimal("4500.25")) == 450025


def test_off_grid_values_are_refused_with_values() -> None:
    scale = PriceScale(correct_price_scale=0.01, tick_size=0.25)
    with pytest.raises(PriceError) as info:
        scale.scaled_to_ticks(450010)
    assert info.value.price == Decimal("4500.10")
    assert info.value.tick_size == Decimal("0.25")
    with pytest.raises(PriceError):
        scale.to_scaled(Decimal("4500.255"))
    with pytest.raises(PriceError):
        scale.price_to_ticks(Decimal("4500.10"))
    coarse = PriceScale(correct_price_scale=0.5, tick_size=0.25)
    with pytest.raises(PriceError):
        coarse.ticks_to_scaled(1)


@pytest.mark.parametrize("bad", [0.0, -0.01, float("inf")])
def test_bad_scales_are_refused(bad: float) -> None:
    with pytest.raises(PriceError):
        PriceScale(correct_price_scale=bad, tick_size=0.25)


@settings(max_examples=200, deadline=None)
@given(pair=st.sampled_from(SCALES), ticks=st.integers(-(10**12), 10**12))
def test_ticks_round_trip_exactly(pair: tuple[float, float], ticks: int) -> None:
    scale = PriceScale(correct_price_scale=pair[0], tick_size=pair[1])
    price = scale.ticks_to_price(ticks)
    assert scale.price_to_ticks(price) == ticks
    scaled = scale.to_scaled(price)
    assert scale.to_price(scaled) == price
    assert scale.scaled_to_ticks(scaled) == ticks
    assert scale.ticks_to_scaled(ticks) == scaled


@settings(max_examples=200, deadline=None)
@given(pair=st.sampled_from(SCALES), scaled=SINT64)
def test_any_wire_price_converts_exactly_or_refuses(pair: tuple[float, float], scaled: int) -> None:
    scale = PriceScale(correct_price_scale=pair[0], tick_size=pair[1])
    price = scale.to_price(scaled)
    assert scale.to_scaled(price) == scaled
    try:
        ticks = scale.scaled_to_ticks(scaled)
    except PriceError:
        assert not scale.tick_size.is_zero()
        assert price % scale.tick_size != 0
    else:
        assert scale.ticks_to_price(ticks) == price


@settings(max_examples=200, deadline=None)
@given(significand=SINT64, exponent=st.integers(-30, 30))
def test_cqg_decimal_round_trip(significand: int, exponent: int) -> None:
    value = decimal_from_cqg(decimal_pb.Decimal(significand=significand, exponent=exponent))
    back = decimal_to_cqg(value)
    assert decimal_from_cqg(back) == value


@settings(max_examples=200, deadline=None)
@given(qty=st.integers(0, 2**53))
def test_whole_quantities_round_trip(qty: int) -> None:
    wire = qty_to_cqg(qty)
    assert (wire.significand, wire.exponent) == (qty, 0)
    assert qty_from_cqg(wire) == qty
    assert qty_from_cqg(decimal_pb.Decimal(significand=qty * 100, exponent=-2)) == qty


def test_quantity_edge_cases() -> None:
    assert qty_from_cqg(None, 7) == 7  # legacy uint32 field
    assert qty_from_cqg(None) == 0
    with pytest.raises(ValueError, match="whole"):
        qty_from_cqg(decimal_pb.Decimal(significand=15, exponent=-1))
    with pytest.raises(ValueError, match="whole"):
        qty_from_cqg(decimal_pb.Decimal(significand=1, exponent=-(2**31)))
    with pytest.raises(ValueError, match="range"):
        qty_from_cqg(decimal_pb.Decimal(significand=1, exponent=2**31 - 1))
    assert qty_from_cqg(decimal_pb.Decimal(significand=3, exponent=2)) == 300


@pytest.mark.parametrize(("significand", "exponent"), [(-5, 0), (-1, 3), (-20, -1), (-(2**62), 0)])
def test_a_negative_quantity_is_refused(significand: int, exponent: int) -> None:
    # It was returned as is: a status with fill_qty -5 reached the book as a fill of -5.
    with pytest.raises(ValueError, match="negative"):
        qty_from_cqg(decimal_pb.Decimal(significand=significand, exponent=exponent))


BASE = BaseTime("2024-10-31T12:00:00")
BASE_NS = int(datetime(2024, 10, 31, 12, tzinfo=UTC).timestamp()) * 10**9


def test_base_time_parses_the_protocol_format_only() -> None:
    assert BASE.epoch_ns == BASE_NS
    assert BASE.to_ns(0) == BASE_NS
    assert BASE.to_ns(-600_000) == BASE_NS - 600 * 10**9
    for bad in ("2024-10-31 12:00:00", "2024-10-31T12:00:00Z", "", "2024-13-01T00:00:00"):
        with pytest.raises(ProtocolError):
            BaseTime(bad)


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(-(2**50), 2**50))
def test_offsets_round_trip(offset: int) -> None:
    assert BASE.to_offset_ms(BASE.to_ns(offset), exact=True) == offset


def test_sub_millisecond_is_floored_or_refused() -> None:
    assert BASE.to_offset_ms(BASE_NS + 1_999_999) == 1
    assert BASE.to_offset_ms(BASE_NS - 1) == -1
    with pytest.raises(ValueError, match="milliseconds"):
        BASE.to_offset_ms(BASE_NS + 1, exact=True)


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=date(1980, 1, 1), max_value=date(2100, 12, 31)))
def test_dates_round_trip(day: date) -> None:
    assert BASE.to_date(BASE.from_date(day)) == day


@settings(max_examples=200, deadline=None)
@given(ns=st.integers(-(2**62), 2**62))
def test_timestamps_round_trip(ns: int) -> None:
    ts = ns_to_timestamp(ns)
    assert 0 <= ts.nanos < 10**9
    assert timestamp_to_ns(ts) == ns


@settings(max_examples=200)
@given(
    pair=st.sampled_from(SCALES),
    price=st.decimals(
        allow_nan=False, allow_infinity=False, places=None, min_value=-(10**9), max_value=10**9
    ),
)
def test_integer_conversions_agree_with_exact_fractions(
    pair: tuple[float, float], price: Decimal
) -> None:
    # The conversions run in plain integers; Fraction arithmetic is the oracle.
    scale = PriceScale(correct_price_scale=pair[0], tick_size=pair[1])
    exact_ticks = Fraction(price) / Fraction(scale.tick_size)
    exact_scaled = Fraction(price) / Fraction(scale.scale)
    if exact_ticks.denominator == 1:
        assert scale.price_to_ticks(price) == exact_ticks.numerator
    else:
        with pytest.raises(PriceError):
            scale.price_to_ticks(price)
    if exact_scaled.denominator == 1:
        assert scale.to_scaled(price) == exact_scaled.numerator
        assert scale.to_price(exact_scaled.numerator) == price
        num, den = scale.ticks_ratio
        assert Fraction(exact_scaled.numerator * num, den) == exact_ticks
    else:
        with pytest.raises(PriceError):
            scale.to_scaled(price)


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
    ns=st.integers(-(2**62), 2**62),
)
def test_any_base_time_converts_exactly_both_ways(moment: datetime, ns: int) -> None:
    """Whatever the base (before 1970 too): its epoch in integers, a millisecond offset
    back to itself, any time floored to its millisecond and no further."""
    whole = moment.replace(microsecond=0)
    base = BaseTime(whole.strftime("%Y-%m-%dT%H:%M:%S"))
    assert base.epoch_ns == datetime_ns(whole.replace(tzinfo=UTC))
    offset = base.to_offset_ms(ns)
    assert base.to_ns(offset) == ns - ns % 1_000_000
    assert base.to_offset_ms(base.to_ns(offset), exact=True) == offset
    assert timestamp_to_ns(ns_to_timestamp(base.to_ns(offset))) == base.to_ns(offset)
