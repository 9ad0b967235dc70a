"""``end_of_date_ns`` and ``trading_date``: when a GTD order good through a day expires, and
which day it is, to the nanosecond."""

from __future__ import annotations

from datetime import date, time

from ec_core.calendar import TradingCalendar, utc_midnight_ns
from ec_core.model import TradingHours
from ec_mock.engine.sessions import SessionCalendar, end_of_date_ns


def test_a_close_with_microseconds_expires_exactly_then() -> None:
    hours = TradingHours(timezone="America/Chicago", open=time(17), close=time(16, 0, 0, 250_000))
    # 16:00:00.25 in Chicago (CST, UTC-6) on 2026-12-08 is 22:00:00.25 UTC
    assert end_of_date_ns(date(2026, 12, 8), hours) == 1_796_767_200_250_000_000


def test_a_close_before_1970_is_exact_too() -> None:
    hours = TradingHours(timezone="UTC", open=time(17), close=time(16, 0, 0, 500_000))
    assert (
        end_of_date_ns(date(1969, 12, 31), hours) == -28_799_500_000_000
    )  # 1969-12-31 16:00:00.5 UTC


def test_without_trading_hours_it_is_midnight_after_the_day() -> None:
    assert end_of_date_ns(date(2026, 12, 8), None) == 1_796_774_400_000_000_000


def test_the_trading_date_turns_at_local_midnight_to_the_nanosecond() -> None:
    # ts_ns / 1e9 as a float rounded the last ~120 ns of a day up to the next: a GTD
    # order good through today, sent then, was rejected as good through a past date
    utc_midnight = utc_midnight_ns(date(2026, 12, 9))
    around_the_clock = SessionCalendar(None)
    assert around_the_clock.trading_date(utc_midnight - 1) == date(2026, 12, 8)
    assert around_the_clock.trading_date(utc_midnight) == date(2026, 12, 9)
    hours = TradingHours(timezone="America/Chicago", open=time(17), close=time(16))
    chicago = SessionCalendar(TradingCalendar.from_hours(hours))
    local_midnight = utc_midnight + 6 * 3_600 * 1_000_000_000  # CST is UTC-6
    assert chicago.trading_date(local_midnight - 1) == date(2026, 12, 8)
    assert chicago.trading_date(local_midnight) == date(2026, 12, 9)
