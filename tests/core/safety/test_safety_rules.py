"""Every built-in rule: one passing and at least one failing request, through PreTradeChecks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from ec_core.errors import ConfigError, Violation
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Side,
    TradingHours,
)
from ec_core.safety import Code, Limits
from ec_core.safety.activation import datetime_ns
from ec_core.validation import PreTradeContext
from hypothesis import given, settings
from hypothesis import strategies as st
from safety_support import CL, ES, GC, NOW_NS, checks, codes, context, new, order


def run(request: OrderRequest, ctx: PreTradeContext | None = None) -> list[Violation]:
    return checks().check(request, ctx or context())


def modify(**overrides: Any) -> ModifyOrder:
    fields: dict[str, Any] = {
        "account_id": "ACC1",
        "symbol": CL.symbol,
        "orig_cl_order_id": "o1",
        "cl_order_id": "m1",
    }
    fields.update(overrides)
    return ModifyOrder(**fields)


def with_order(**overrides: Any) -> PreTradeContext:
    return context(open_orders=[order(**overrides)])


PASSING: list[tuple[str, tuple[OrderRequest, PreTradeContext]]] = [
    ("limit buy", (new(), context())),
    (
        "market sell",
        (new(side=Side.SELL, order_type=OrderType.MKT, limit_price=None), context()),
    ),
    (
        "stop buy",
        (
            new(order_type=OrderType.STP, limit_price=None, stop_price=Decimal("76")),
            context(),
        ),
    ),
    (
        "stop-limit buy, limit above stop",
        (
            new(
                order_type=OrderType.STL, stop_price=Decimal("75.50"), limit_price=Decimal("75.60")
            ),
            context(),
        ),
    ),
    (
        "stop-limit sell, limit below stop",
        (
            new(
                side=Side.SELL,
                order_type=OrderType.STL,
                stop_price=Decimal("74.50"),
                limit_price=Decimal("74.40"),
            ),
            context(),
        ),
    ),
    (
        "GTD today",
        (new(duration=Duration.GTD, good_thru_date=date(2023, 11, 14)), context()),
    ),
    (
        "exec instructions",
        (new(exec_instructions=frozenset({ExecInstruction.AON})), context()),
    ),
    ("qty at the limits max", (new(qty=15), context())),
    ("position up to max", (new(qty=10), context(position=10))),
    ("reducing a long past max", (new(side=Side.SELL, qty=15), context(position=25))),
    ("price at band edge", (new(limit_price=Decimal("76.00")), context())),
    (
        "band uses mid without last",
        (
            new(),
            context(last_price=None, best_bid=Decimal("74.99"), best_ask=Decimal("75.01")),
        ),
    ),
    (
        "buy below our own sell",
        (
            new(limit_price=Decimal("75.00")),
            with_order(side=Side.SELL, limit_price=Decimal("75.01")),
        ),
    ),
    (
        "buy vs our own sell stop",
        (
            new(limit_price=Decimal("75.00")),
            with_order(
                side=Side.SELL, order_type=OrderType.STP, limit_price=None, stop_price=Decimal("74")
            ),
        ),
    ),
    ("modify price", (modify(limit_price=Decimal("74.60")), with_order())),
    ("modify qty down", (modify(qty=2), with_order(filled_qty=1))),
    ("modify one of two fields", (modify(qty=5, limit_price=Decimal("74.60")), with_order())),
    (  # the working values are not settled: the pending modify may still change them
        "modify to the same price while a modify is pending",
        (modify(limit_price=Decimal("74.50")), with_order(state=OrderState.PENDING_MODIFY)),
    ),
    (
        "cancel",
        (
            CancelOrder(account_id="ACC1", symbol=CL.symbol, orig_cl_order_id="o1"),
            context(),
        ),
    ),
    ("cancel all", (CancelAll(account_id="ACC1"), context())),
    ("liquidate all", (LiquidateAll(account_id="ACC1", symbol=CL.symbol), context())),
    ("go flat", (GoFlat(account_id="ACC1"), context())),
    (
        "ES in session",
        (
            new(symbol=ES.symbol, limit_price=Decimal("4500.25")),
            context(instrument=ES, last_price=Decimal("4500")),
        ),
    ),
]


@pytest.mark.parametrize("case", PASSING, ids=[name for name, _ in PASSING])
def test_valid_requests_pass(
    case: tuple[str, tuple[OrderRequest, PreTradeContext]],
) -> None:
    request, ctx = case[1]
    assert run(request, ctx) == []


_TUE_CLOSED = datetime_ns(datetime(2023, 11, 14, 22, 30, tzinfo=UTC))  # 16:30 CT: maintenance break
_SATURDAY = datetime_ns(datetime(2023, 11, 18, 15, 0, tzinfo=UTC))

FAILING: list[tuple[str, tuple[OrderRequest, PreTradeContext], str, str]] = [
    ("empty account", (new(account_id=""), context()), Code.FIELD_MISSING, "account_id"),
    ("empty symbol", (new(symbol=""), context()), Code.FIELD_MISSING, "symbol"),
    (
        "cancel without id",
        (CancelOrder(account_id="ACC1", symbol=CL.symbol, orig_cl_order_id=""), context()),
        Code.FIELD_MISSING,
        "orig_cl_order_id",
    ),
    (
        "cancel-all empty symbol",
        (CancelAll(account_id="ACC1", symbol=""), context()),
        Code.FIELD_MISSING,
        "symbol",
    ),
    (
        "go flat without account",
        (GoFlat(account_id=""), context()),
        Code.FIELD_MISSING,
        "account_id",
    ),
    ("modify nothing", (modify(), with_order()), Code.NOTHING_TO_MODIFY, "qty"),
    (  # it was sent: a venue round trip (and a modify of the rate) for no change
        "modify to the working values",
        (modify(qty=5, limit_price=Decimal("74.5")), with_order()),
        Code.NOTHING_TO_MODIFY,
        "qty",
    ),
    (
        "modify to the working duration",
        (modify(duration=Duration.DAY), with_order(state=OrderState.PARTIALLY_FILLED)),
        Code.NOTHING_TO_MODIFY,
        "duration",
    ),
    (  # compared with the working price, a signalling NaN raised instead of being denied
        "modify to a signalling nan price",
        (modify(limit_price=Decimal("sNaN")), with_order()),
        Code.PRICE_INVALID,
        "limit_price",
    ),
    (
        "modify unknown order",
        (modify(qty=3), context()),
        Code.ORDER_NOT_FOUND,
        "orig_cl_order_id",
    ),
    (
        "modify other symbol",
        (modify(qty=3, symbol=ES.symbol), with_order()),
        Code.ORDER_MISMATCH,
        "symbol",
    ),
    ("bad side", (new(side="LONG"), context()), Code.ENUM_INVALID, "side"),
    (
        "bad order type",
        (new(order_type="LIMIT"), context()),
        Code.ENUM_INVALID,
        "order_type",
    ),
    ("bad duration", (new(duration="GTX"), context()), Code.ENUM_INVALID, "duration"),
    (
        "bad instruction",
        (new(exec_instructions=frozenset({"HIDDEN"})), context()),
        Code.ENUM_INVALID,
        "exec_instructions",
    ),
    (
        "modify bad duration",
        (modify(duration="FOREVER"), with_order()),
        Code.ENUM_INVALID,
        "duration",
    ),
    ("qty zero", (new(qty=0), context()), Code.QTY_NOT_POSITIVE, "qty"),
    ("qty negative", (new(qty=-3), context()), Code.QTY_NOT_POSITIVE, "qty"),
    ("qty float", (new(qty=1.5), context()), Code.QTY_NOT_INTEGRAL, "qty"),
    ("qty bool", (new(qty=True), context()), Code.QTY_NOT_INTEGRAL, "qty"),
    ("qty above limits", (new(qty=16), context()), Code.QTY_ABOVE_MAX, "qty"),
    (
        "qty above instrument",
        (
            new(symbol=ES.symbol, qty=501, limit_price=Decimal("4500")),
            context(instrument=ES, last_price=Decimal("4500")),
        ),
        Code.QTY_ABOVE_MAX,
        "qty",
    ),
    (
        "modify qty to filled",
        (modify(qty=2), with_order(filled_qty=2, state=OrderState.PARTIALLY_FILLED)),
        Code.QTY_NOT_ABOVE_FILLED,
        "qty",
    ),
    (
        "limit without price",
        (new(limit_price=None), context()),
        Code.PRICE_MISSING,
        "limit_price",
    ),
    (
        "stop without stop",
        (new(order_type=OrderType.STP, limit_price=None), context()),
        Code.PRICE_MISSING,
        "stop_price",
    ),
    (
        "market with price",
        (new(order_type=OrderType.MKT), context()),
        Code.PRICE_NOT_ALLOWED,
        "limit_price",
    ),
    (
        "limit with stop",
        (new(stop_price=Decimal("75")), context()),
        Code.PRICE_NOT_ALLOWED,
        "stop_price",
    ),
    ("float price", (new(limit_price=75.0), context()), Code.PRICE_INVALID, "limit_price"),
    (
        "nan price",
        (new(limit_price=Decimal("NaN")), context()),
        Code.PRICE_INVALID,
        "limit_price",
    ),
    (
        "modify stop of a limit",
        (modify(stop_price=Decimal("74")), with_order()),
        Code.PRICE_NOT_ALLOWED,
        "stop_price",
    ),
    (
        "off tick",
        (new(limit_price=Decimal("75.005")), context()),
        Code.PRICE_OFF_TICK,
        "limit_price",
    ),
    (
        "modify off tick",
        (modify(limit_price=Decimal("74.555")), with_order()),
        Code.PRICE_OFF_TICK,
        "limit_price",
    ),
    (
        "stop-limit buy inverted",
        (
            new(
                order_type=OrderType.STL, stop_price=Decimal("75.50"), limit_price=Decimal("75.40")
            ),
            context(),
        ),
        Code.STOP_LIMIT_RELATION,
        "limit_price",
    ),
    (
        "stop-limit sell inverted",
        (
            new(
                side=Side.SELL,
                order_type=OrderType.STL,
                stop_price=Decimal("74.50"),
                limit_price=Decimal("74.60"),
            ),
            context(),
        ),
        Code.STOP_LIMIT_RELATION,
        "limit_price",
    ),
    (
        "modify stop-limit inverted",
        (
            modify(limit_price=Decimal("74.00")),
            with_order(
                order_type=OrderType.STL, stop_price=Decimal("74.50"), limit_price=Decimal("74.60")
            ),
        ),
        Code.STOP_LIMIT_RELATION,
        "limit_price",
    ),
    (
        "above band (ticks)",
        (new(limit_price=Decimal("76.01")), context()),
        Code.PRICE_OUTSIDE_BAND,
        "limit_price",
    ),
    (
        "stop below band",
        (
            new(order_type=OrderType.STP, limit_price=None, stop_price=Decimal("73.99")),
            context(),
        ),
        Code.PRICE_OUTSIDE_BAND,
        "stop_price",
    ),
    (
        "outside band (pct)",
        (
            new(symbol=ES.symbol, limit_price=Decimal("4612.75")),
            context(instrument=ES, last_price=Decimal("4500")),
        ),
        Code.PRICE_OUTSIDE_BAND,
        "limit_price",
    ),
    (
        "notional",
        (
            new(symbol=ES.symbol, qty=50, limit_price=Decimal("4500")),
            context(instrument=ES, last_price=Decimal("4500")),
        ),
        Code.NOTIONAL_ABOVE_MAX,
        "qty",
    ),
    (
        "no reference: the band denies (the default)",
        (new(limit_price=Decimal("99")), context(last_price=None)),
        Code.NO_REFERENCE_PRICE,
        "limit_price",
    ),
    (
        "market notional without reference",
        (new(order_type=OrderType.MKT, limit_price=None), context(last_price=None)),
        Code.NO_REFERENCE_PRICE,
        "qty",
    ),
    ("position", (new(qty=11), context(position=10)), Code.POSITION_ABOVE_MAX, "qty"),
    (
        "position with working orders",
        (new(qty=6), with_order(qty=15)),
        Code.POSITION_ABOVE_MAX,
        "qty",
    ),
    (
        "short position",
        (new(side=Side.SELL, qty=5), context(position=-16)),
        Code.POSITION_ABOVE_MAX,
        "qty",
    ),
    (
        "modify raises position",
        (modify(qty=25), with_order(qty=5)),
        Code.POSITION_ABOVE_MAX,
        "qty",
    ),
    (
        "open orders per instrument",
        (
            new(),
            context(
                open_orders=[order(cl_order_id=f"x{i}", chain_id=f"x{i}", qty=1) for i in range(10)]
            ),
        ),
        Code.OPEN_ORDERS_ABOVE_MAX,
        "open_orders",
    ),
    (
        "buy crosses our sell",
        (
            new(limit_price=Decimal("75.01")),
            with_order(side=Side.SELL, limit_price=Decimal("75.01")),
        ),
        Code.SELF_TRADE,
        "limit_price",
    ),
    (
        "market sell crosses our buy",
        (new(side=Side.SELL, order_type=OrderType.MKT, limit_price=None), with_order()),
        Code.SELF_TRADE,
        "limit_price",
    ),
    (
        "modify crosses our other order",
        (
            modify(limit_price=Decimal("75.20")),
            context(
                open_orders=[
                    order(),
                    order(
                        cl_order_id="s1",
                        chain_id="s1",
                        side=Side.SELL,
                        limit_price=Decimal("75.10"),
                    ),
                ]
            ),
        ),
        Code.SELF_TRADE,
        "limit_price",
    ),
    (
        "GTD without date",
        (new(duration=Duration.GTD), context()),
        Code.GTD_DATE_MISSING,
        "good_thru_date",
    ),
    (
        "GTD in the past",
        (new(duration=Duration.GTD, good_thru_date=date(2023, 11, 13)), context()),
        Code.GTD_DATE_PAST,
        "good_thru_date",
    ),
    (
        "date on a DAY order",
        (new(good_thru_date=date(2023, 11, 20)), context()),
        Code.GTD_DATE_NOT_ALLOWED,
        "good_thru_date",
    ),
    (
        "modify date of a DAY order",
        (modify(good_thru_date=date(2023, 11, 20)), with_order()),
        Code.GTD_DATE_NOT_ALLOWED,
        "good_thru_date",
    ),
    (
        "modify to GTD without date",
        (modify(duration=Duration.GTD), with_order()),
        Code.GTD_DATE_MISSING,
        "good_thru_date",
    ),
    (
        "session break",
        (
            new(symbol=ES.symbol, limit_price=Decimal("4500")),
            context(instrument=ES, last_price=Decimal("4500"), now_ns=_TUE_CLOSED),
        ),
        Code.SESSION_CLOSED,
        "symbol",
    ),
    (
        "weekend",
        (
            new(symbol=ES.symbol, limit_price=Decimal("4500")),
            context(instrument=ES, last_price=Decimal("4500"), now_ns=_SATURDAY),
        ),
        Code.SESSION_CLOSED,
        "symbol",
    ),
    (
        "instrument not allowed",
        (
            new(symbol=GC.symbol, limit_price=Decimal("2000.0")),
            context(instrument=GC, last_price=Decimal("2000")),
        ),
        Code.INSTRUMENT_NOT_ALLOWED,
        "symbol",
    ),
    (
        "instrument unknown",
        (new(), context(instrument=None)),
        Code.INSTRUMENT_UNKNOWN,
        "symbol",
    ),
]


@pytest.mark.parametrize("case", FAILING, ids=[name for name, *_ in FAILING])
def test_invalid_requests_are_denied_naming_field_and_rule(
    case: tuple[str, tuple[OrderRequest, PreTradeContext], str, str],
) -> None:
    _, build, code, field = case
    request, ctx = build
    violations = run(request, ctx)
    matching = [v for v in violations if v.code == code]
    assert matching, f"expected {code}, got {violations}"
    assert any(v.field == field for v in matching)
    assert all(v.rule for v in violations)


def test_off_tick_names_the_two_nearest_prices() -> None:
    (violation,) = run(new(limit_price=Decimal("75.005")))
    assert violation.code == Code.PRICE_OFF_TICK
    assert "75.00" in violation.rule
    assert "75.01" in violation.rule
    assert violation.value == Decimal("75.005")
    assert violation.limit == Decimal("0.01")


def test_all_violations_are_collected() -> None:
    request = new(side="UP", qty=0, limit_price=Decimal("75.005"), good_thru_date=date(2023, 1, 1))
    assert {
        Code.ENUM_INVALID,
        Code.QTY_NOT_POSITIVE,
        Code.PRICE_OFF_TICK,
        Code.GTD_DATE_NOT_ALLOWED,
    } <= codes(run(request))


def test_self_trade_prevention_can_be_switched_off() -> None:
    toml = '[instruments."F.US.CLE*"]\nself_trade_prevention = false\n[accounts."*"]\n'
    request = new(limit_price=Decimal("75.01"))
    ctx = with_order(side=Side.SELL, limit_price=Decimal("75.01"))
    assert checks(limits_obj=Limits.from_toml(toml)).check(request, ctx) == []


@pytest.mark.parametrize(
    ("setting", "denied"),
    [
        ("", True),  # the default: deny
        ('price_band_without_reference = "deny"\n', True),
        ('price_band_without_reference = "allow"\n', False),
        ("band_requires_reference = true\n", True),  # the old name still reads
        ("band_requires_reference = false\n", False),
    ],
)
def test_a_band_without_a_reference_price_denies_unless_allowed(setting: str, denied: bool) -> None:
    toml = f'[instruments."F.US.CLE*"]\nprice_band_ticks = 5\n{setting}[accounts."*"]\n'
    for price in ("0", "-70", "75.00"):  # no price source: nothing to hold them to
        request = new(limit_price=Decimal(price))
        violations = checks(limits_obj=Limits.from_toml(toml)).check(
            request, context(last_price=None)
        )
        assert (Code.NO_REFERENCE_PRICE in codes(violations)) is denied, price
    with_reference = context(last_price=None, reference_price=Decimal("75.03"))
    assert checks(limits_obj=Limits.from_toml(toml)).check(new(), with_reference) == []


def test_the_band_policy_is_named_once() -> None:
    toml = '[defaults]\nprice_band_without_reference = "allow"\nband_requires_reference = true\n'
    with pytest.raises(ConfigError, match="price_band_without_reference only"):
        Limits.from_toml(toml)
    with pytest.raises(ConfigError) as caught:
        Limits.from_toml('[defaults]\nprice_band_without_reference = "skip"\n')
    assert caught.value.path == "defaults.price_band_without_reference"


def test_overnight_session_opens_the_evening_before() -> None:
    hours = TradingHours(timezone="America/Chicago", open=time(17, 0), close=time(16, 0))
    instrument = ES.__class__(symbol=ES.symbol, tick_size=ES.tick_size, trading_hours=hours)
    sunday_evening = datetime_ns(datetime(2023, 11, 19, 23, 30, tzinfo=UTC))  # 17:30 CT Sunday
    friday_evening = datetime_ns(datetime(2023, 11, 17, 23, 30, tzinfo=UTC))  # 17:30 CT Friday
    request = new(symbol=ES.symbol, limit_price=Decimal("4500"))
    open_ctx = context(instrument=instrument, last_price=Decimal("4500"), now_ns=sunday_evening)
    closed_ctx = context(instrument=instrument, last_price=Decimal("4500"), now_ns=friday_evening)
    assert Code.SESSION_CLOSED not in codes(run(request, open_ctx))
    assert Code.SESSION_CLOSED in codes(run(request, closed_ctx))


def test_trading_hours_cache_follows_the_clock() -> None:
    from ec_core.safety.rules import TradingHoursGate

    gate = TradingHoursGate()
    request = new(symbol=ES.symbol, limit_price=Decimal("4500"))
    one_minute = 60_000_000_000
    before_break = datetime_ns(datetime(2023, 11, 14, 21, 59, tzinfo=UTC))  # 15:59 CT
    results = [
        bool(gate.validate(request, context(instrument=ES, now_ns=before_break + i * one_minute)))
        for i in range(0, 64, 1)
    ]
    # open until 16:00, closed for the hour, open again from 17:00 CT
    assert results == [False] + [True] * 60 + [False] * 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.integers(min_value=0, max_value=14 * 24 * 60).map(lambda m: m * 60_000_000_000),
        min_size=1,
        max_size=40,
    )
)
def test_trading_hours_kept_per_instrument_answer_as_a_fresh_gate_at_any_time(
    minutes: list[int],
) -> None:
    # The decision the gate keeps per instrument (an interval its session is open) gives
    # the verdict of a gate that never saw the instrument, whichever way the clock moves.
    from ec_core.safety.rules import TradingHoursGate

    start = datetime_ns(datetime(2023, 11, 17, 20, 0, tzinfo=UTC))  # a Friday, 14:00 CT
    request = new(symbol=ES.symbol, limit_price=Decimal("4500"))
    kept = TradingHoursGate()
    for offset in minutes:
        for instrument in (ES, CL):
            ctx = context(instrument=instrument, now_ns=start + offset)
            assert kept.validate(request, ctx) == TradingHoursGate().validate(request, ctx)


def test_gtd_uses_the_exchange_date() -> None:
    # 2023-11-15 03:00 UTC is still the 14th in Chicago.
    late = datetime_ns(datetime(2023, 11, 15, 3, 0, tzinfo=UTC))
    request = new(
        symbol=ES.symbol,
        limit_price=Decimal("4500"),
        duration=Duration.GTD,
        good_thru_date=date(2023, 11, 14),
    )
    ctx = context(instrument=ES, last_price=Decimal("4500"), now_ns=late)
    assert Code.GTD_DATE_PAST not in codes(run(request, ctx))
    utc_ctx = context(now_ns=late)
    assert Code.GTD_DATE_PAST in codes(
        run(new(duration=Duration.GTD, good_thru_date=date(2023, 11, 14)), utc_ctx)
    )


def test_now_is_a_tuesday_morning_in_chicago() -> None:
    assert datetime.fromtimestamp(NOW_NS / 1e9, UTC).weekday() == 1


@pytest.mark.parametrize(
    "accounts",
    ['[accounts."OTHER"]\n', '[accounts."*"]\n[accounts."ACC*"]\nallowed = false\n', ""],
)
def test_account_default_deny(accounts: str) -> None:
    limits = Limits.from_toml('[instruments."F.US.CLE*"]\n' + accounts)
    violations = checks(limits_obj=limits).check(new(), context())
    assert codes(violations) == {Code.ACCOUNT_NOT_ALLOWED}
    assert violations[0].field == "account_id"
    cancel = CancelOrder(account_id="ACC1", symbol=CL.symbol, orig_cl_order_id="o1")
    assert checks(limits_obj=limits).check(cancel, context()) == []


def test_instrument_allowed_false_overrides_a_wildcard() -> None:
    limits = Limits.from_toml(
        '[instruments."F.US.*"]\n[instruments.CL]\nallowed = false\n'
        '[aliases]\nCL = "F.US.CLE*"\n[accounts."*"]\n'
    )
    assert codes(checks(limits_obj=limits).check(new(), context())) == {Code.INSTRUMENT_NOT_ALLOWED}
    es = new(symbol=ES.symbol, limit_price=Decimal("4500"))
    assert checks(limits_obj=limits).check(es, context(instrument=ES)) == []


def test_trading_hours_follow_the_calendar_holidays_and_half_days() -> None:
    from ec_core.calendar import Holiday, SessionHours, TradingCalendar

    calendar = TradingCalendar(
        timezone="America/Chicago",
        sessions=(SessionHours(open=time(17, 0), close=time(16, 0)),),
        holidays=(
            Holiday(day=date(2023, 11, 23), name="Thanksgiving"),
            Holiday(day=date(2023, 11, 24), name="day after", close=time(12, 15)),
        ),
    )
    instrument = ES.__class__(symbol=ES.symbol, tick_size=ES.tick_size, calendar=calendar)
    request = new(symbol=ES.symbol, limit_price=Decimal("4500"))

    def at(moment: datetime) -> set[str]:
        ctx = context(instrument=instrument, last_price=Decimal("4500"), now_ns=datetime_ns(moment))
        return codes(run(request, ctx))

    thanksgiving_noon = datetime(2023, 11, 23, 18, 0, tzinfo=UTC)  # 12:00 CT
    assert Code.SESSION_CLOSED in at(thanksgiving_noon)
    assert Code.SESSION_CLOSED not in at(datetime(2023, 11, 24, 18, 0, tzinfo=UTC))  # 12:00
    assert Code.SESSION_CLOSED in at(datetime(2023, 11, 24, 18, 30, tzinfo=UTC))  # 12:30 CT
    ctx = context(
        instrument=instrument, last_price=Decimal("4500"), now_ns=datetime_ns(thanksgiving_noon)
    )
    (violation,) = [v for v in run(request, ctx) if v.code == Code.SESSION_CLOSED]
    assert "Thanksgiving" in str(violation.limit)


_ODD_PRICES = st.one_of(
    st.none(),
    st.sampled_from([Decimal(x) for x in ("NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "-0",
                                          "0.24", "0.25", "1E+999999", "-1E-999999")]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(),
    st.just("0.00"),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(limit=_ODD_PRICES, stop=_ODD_PRICES, modify=st.booleans())
def test_price_floor_raises_on_no_price_and_names_each_finite_one_below(
    limit: Any, stop: Any, modify: bool
) -> None:
    # A NaN, sNaN or infinite price is PriceFields' to deny (PRICE_INVALID): compared with
    # the floor it would raise; a finite Decimal under it is named by its field.
    from ec_core.safety.rules import PriceFloor

    floored = msgspec.structs.replace(ES, min_price=Decimal("0.25"))
    if modify:
        request: OrderRequest = ModifyOrder(
            account_id="A", symbol=ES.symbol, orig_cl_order_id="o1", limit_price=limit,
            stop_price=stop,
        )  # fmt: skip
    else:
        request = new(symbol=ES.symbol, order_type=OrderType.STL, limit_price=limit,
                      stop_price=stop)  # fmt: skip
    found = PriceFloor().validate(request, context(instrument=floored))
    low = [
        field
        for field, value in (("limit_price", limit), ("stop_price", stop))
        if type(value) is Decimal and value.is_finite() and value < Decimal("0.25")
    ]
    assert [(v.code, v.field, v.limit) for v in found] == [
        (Code.PRICE_BELOW_MINIMUM, field, Decimal("0.25")) for field in low
    ]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (new(order_type=OrderType.MKT, limit_price=Decimal("0")), "limit_price"),
        (new(order_type=OrderType.MTL, limit_price=Decimal("0")), "limit_price"),
        (new(order_type=OrderType.LMT, stop_price=Decimal("0")), "stop_price"),
        (
            new(order_type=OrderType.STP, limit_price=Decimal("0"), stop_price=Decimal("75")),
            "limit_price",
        ),
        (modify(limit_price=Decimal("0")), "limit_price"),  # of a working market order
    ],
)
def test_a_price_its_order_type_does_not_use_is_denied_once(
    request_: OrderRequest, field: str
) -> None:
    # A MKT order carrying a limit price under the floor was denied twice over one field:
    # PRICE_NOT_ALLOWED and PRICE_BELOW_MINIMUM. The floor judges only prices used.
    from ec_core.safety.rules import PriceFloor

    floored = msgspec.structs.replace(CL, min_price=Decimal("0.01"))
    target = order(order_type=OrderType.MKT, limit_price=None)
    ctx = context(instrument=floored, open_orders=[target])
    assert PriceFloor().validate(request_, ctx) == ()
    # nor does the band (test_the_band_judges_only_the_prices_the_order_type_sends)
    assert [v.code for v in run(request_, ctx) if v.field == field] == [Code.PRICE_NOT_ALLOWED]


@pytest.mark.parametrize(
    "floor", [Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), 0, "0.25"]
)
def test_an_instrument_refuses_a_lowest_price_that_is_not_a_finite_decimal(floor: Any) -> None:
    # every order of it would be compared with the floor: a NaN would raise there
    from ec_core.errors import PriceError

    with pytest.raises(PriceError, match="min_price must be a finite Decimal"):
        msgspec.structs.replace(ES, min_price=floor)


_OUT = Decimal("77.00")  # outside CL's band of 100 ticks around 75.00: [74.00, 76.00]


@pytest.mark.parametrize(
    ("order_type", "limit", "stop", "judged"),
    [
        (OrderType.MKT, _OUT, None, []),  # a MKT order sends no limit price
        (OrderType.LMT, _OUT, None, ["limit_price"]),
        (OrderType.LMT, Decimal("75.00"), _OUT, []),  # nor a LMT order a stop price
        (OrderType.STP, None, _OUT, ["stop_price"]),
        (OrderType.STP, _OUT, Decimal("75.50"), []),  # nor a STP order a limit price
        (OrderType.STL, _OUT, _OUT, ["limit_price", "stop_price"]),
    ],
)
def test_the_band_judges_only_the_prices_the_order_type_sends(
    order_type: OrderType, limit: Decimal | None, stop: Decimal | None, judged: list[str]
) -> None:
    # a price the type does not use is PriceFields' one denial (PRICE_NOT_ALLOWED): the
    # band judged it too, a second denial of the same field for a price never sent
    found = run(new(order_type=order_type, limit_price=limit, stop_price=stop))
    assert [v.field for v in found if v.code == Code.PRICE_OUTSIDE_BAND] == judged


def test_the_band_judges_a_modify_by_its_working_order_type() -> None:
    market = with_order(order_type=OrderType.MKT, limit_price=None)
    found = run(modify(limit_price=_OUT), market)
    assert [v.code for v in found if v.field == "limit_price"] == [Code.PRICE_NOT_ALLOWED]
    # its target unknown, both prices are judged
    assert Code.PRICE_OUTSIDE_BAND in codes(run(modify(limit_price=_OUT), context()))


def test_without_a_reference_the_band_names_only_a_price_the_order_type_sends() -> None:
    no_reference = context(last_price=None)
    stray = new(order_type=OrderType.MKT, limit_price=Decimal("75.00"))
    assert [v.code for v in run(stray, no_reference) if v.field == "limit_price"] == [
        Code.PRICE_NOT_ALLOWED
    ]
    stop = new(order_type=OrderType.STP, limit_price=Decimal("75.00"), stop_price=Decimal("75"))
    denied = [v for v in run(stop, no_reference) if v.code == Code.NO_REFERENCE_PRICE]
    assert [v.field for v in denied] == ["stop_price"]
