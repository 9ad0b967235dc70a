"""The trading calendar: CME sessions across both DST switches, holidays, half days, days."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import pytest
from ec_core.calendar import Holiday, SessionHours, TradingCalendar
from ec_core.errors import ConfigError
from ec_core.model import Instrument, TradingHours
from hypothesis import given, settings
from hypothesis import strategies as st

CHICAGO = ZoneInfo("America/Chicago")
GLOBEX = TradingCalendar(
    timezone="America/Chicago",
    sessions=(SessionHours(open=time(17), close=time(16)),),
    holidays=(
        Holiday(day=date(2024, 7, 4), name="Independence Day", close=time(12)),
        Holiday(day=date(2024, 12, 25), name="Christmas"),
    ),
)
YEAR_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * 10**9
YEAR_END = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()) * 10**9


def ns(year: int, month: int, day: int, hour: int, minute: int = 0, tz: ZoneInfo = CHICAGO) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()) * 10**9


def local(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, CHICAGO)


@pytest.mark.parametrize(
    ("day", "open_utc_hour"),
    [
        (date(2024, 3, 8), 23),  # Friday before the spring switch: CST, UTC-6
        (date(2024, 3, 11), 22),  # opened Sunday 10 March 17:00 CDT (UTC-5)
        (date(2024, 11, 1), 22),  # CDT
        (date(2024, 11, 4), 23),  # opened Sunday 3 November 17:00 CST again
    ],
)
def test_sessions_open_at_17_chicago_whatever_the_utc_offset(day: date, open_utc_hour: int) -> None:
    (span,) = GLOBEX.day_spans(day)
    opened = local(span.open_ns)
    assert (opened.hour, opened.minute) == (17, 0)
    assert (local(span.close_ns).hour, local(span.close_ns).date()) == (16, day)
    assert datetime.fromtimestamp(span.open_ns / 1e9, UTC).hour == open_utc_hour


def test_weekend_has_no_trading_day_and_monday_opens_on_sunday() -> None:
    assert GLOBEX.day_spans(date(2024, 1, 13)) == ()  # Saturday
    assert GLOBEX.day_spans(date(2024, 1, 14)) == ()  # Sunday
    (monday,) = GLOBEX.day_spans(date(2024, 1, 15))
    assert local(monday.open_ns) == datetime(2024, 1, 14, 17, tzinfo=CHICAGO)


def test_a_closed_holiday_and_a_half_day() -> None:
    assert not GLOBEX.is_trading_day(date(2024, 12, 25))
    assert not GLOBEX.is_open(ns(2024, 12, 25, 10))
    (half,) = GLOBEX.day_spans(date(2024, 7, 4))
    assert local(half.close_ns) == datetime(2024, 7, 4, 12, tzinfo=CHICAGO)
    assert GLOBEX.is_open(ns(2024, 7, 4, 11, 59))
    assert not GLOBEX.is_open(ns(2024, 7, 4, 12))
    assert GLOBEX.holiday(date(2024, 7, 4)) == GLOBEX.holidays[0]


def test_a_tick_outside_every_session_counts_in_the_next_trading_day() -> None:
    assert GLOBEX.trading_day(ns(2024, 1, 10, 15, 59)) == date(2024, 1, 10)
    assert GLOBEX.trading_day(ns(2024, 1, 10, 16, 30)) == date(2024, 1, 11)  # daily break
    assert GLOBEX.trading_day(ns(2024, 1, 10, 17)) == date(2024, 1, 11)
    assert GLOBEX.trading_day(ns(2024, 1, 13, 12)) == date(2024, 1, 15)  # Saturday → Monday
    assert GLOBEX.trading_day(ns(2024, 7, 4, 13)) == date(2024, 7, 5)  # after the half day


def test_state_names_the_interval_over_which_the_answer_holds() -> None:
    assert GLOBEX.state(ns(2024, 1, 10, 9)) == (True, ns(2024, 1, 9, 17), ns(2024, 1, 10, 16))
    assert GLOBEX.state(ns(2024, 1, 10, 16, 30)) == (
        False,
        ns(2024, 1, 10, 16, 30),
        ns(2024, 1, 10, 17),
    )


def test_spans_overlapping_an_interval_come_in_order() -> None:
    spans = list(GLOBEX.spans(ns(2024, 12, 23, 0), ns(2024, 12, 28, 0)))
    assert [s.trading_day for s in spans] == [
        date(2024, 12, 23),
        date(2024, 12, 24),
        date(2024, 12, 26),
        date(2024, 12, 27),
    ]


def test_an_instrument_without_a_calendar_derives_one_from_its_trading_hours() -> None:
    hours = TradingHours(open=time(17), close=time(16))
    instrument = Instrument(symbol="EP", tick_size=Decimal("0.25"), trading_hours=hours)
    assert instrument.trading_calendar == TradingCalendar.from_hours(hours)
    assert Instrument(symbol="X", tick_size=Decimal(1)).trading_calendar is None
    explicit = Instrument(symbol="EP", tick_size=Decimal("0.25"), calendar=GLOBEX)
    assert explicit.trading_calendar is GLOBEX


def test_the_calendar_is_plain_data() -> None:
    encoded = msgspec.json.encode(GLOBEX)
    assert msgspec.json.decode(encoded, type=TradingCalendar) == GLOBEX
    instrument = Instrument(symbol="EP", tick_size=Decimal("0.25"), calendar=GLOBEX)
    decoded = msgspec.json.decode(msgspec.json.encode(instrument), type=Instrument)
    assert decoded.calendar == GLOBEX


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"timezone": "Mars/Olympus"}, "calendar.timezone"),
        ({"sessions": ()}, "sessions"),
        ({"sessions": (SessionHours(open=time(9), close=time(16), weekdays=(7,)),)}, "weekdays"),
        (
            {"holidays": (Holiday(day=date(2024, 1, 1)), Holiday(day=date(2024, 1, 1)))},
            "holidays",
        ),
    ],
)
def test_a_bad_calendar_is_a_config_error_naming_the_field(
    fields: dict[str, object], path: str
) -> None:
    values: dict[str, object] = {"timezone": "America/Chicago", "sessions": GLOBEX.sessions}
    values.update(fields)
    with pytest.raises(ConfigError) as caught:
        TradingCalendar(**values)  # type: ignore[arg-type]
    assert caught.value.path is not None
    assert path in caught.value.path


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(YEAR_START, YEAR_END), min_size=2, max_size=20))
def test_trading_days_never_go_back_and_sessions_agree(moments: list[int]) -> None:
    moments.sort()
    days = [GLOBEX.trading_day(t) for t in moments]
    assert days == sorted(days)
    for t in moments:
        span = GLOBEX.session_at(t)
        assert GLOBEX.is_open(t) == (span is not None)
        if span is not None:
            assert span.trading_day == GLOBEX.trading_day(t)
            assert local(span.open_ns).time() == time(17)
            assert local(span.close_ns).time() in (time(16), time(12))
        else:
            upcoming = GLOBEX.next_session(t)
            assert upcoming is not None
            assert upcoming.open_ns > t


def test_a_year_of_spans_never_overlap_and_keep_local_times() -> None:
    spans = list(GLOBEX.spans(YEAR_START, YEAR_END))
    # the 262 weekdays of 2024 less Christmas, plus 1 January 2025 (opens 31 December)
    assert len(spans) == 262 - 1 + 1
    assert spans[-1].trading_day == date(2025, 1, 1)
    for before, after in itertools.pairwise(spans):
        assert before.close_ns <= after.open_ns
        assert before.trading_day < after.trading_day
