"""``datetime_ns``: the one conversion of a datetime to nanoseconds since the epoch.

The calendar, the pre-trade activation window, the mock engine's GTD expiry and both
vendors' order-history requests all convert through it, so it must be exact to the
microsecond on both sides of 1970 and refuse a naive datetime with a clear message
unless the caller reads one as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ec_core.safety
import pytest
from ec_core.calendar import datetime_ns, utc_midnight_ns
from hypothesis import given
from hypothesis import strategies as st

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_microseconds_convert_exactly_on_both_sides_of_the_epoch() -> None:
    assert datetime_ns(datetime(1970, 1, 1, 0, 0, 1, 250_000, tzinfo=UTC)) == 1_250_000_000
    assert datetime_ns(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)) == -500_000_000
    assert datetime_ns(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1_000


def test_an_aware_time_in_another_zone_counts_its_offset() -> None:
    chicago = datetime(2026, 12, 8, 16, 0, 0, 7, tzinfo=ZoneInfo("America/Chicago"))
    assert datetime_ns(chicago) == datetime_ns(datetime(2026, 12, 8, 22, 0, 0, 7, tzinfo=UTC))


def test_a_naive_time_is_refused_with_a_clear_message() -> None:
    refused = r"timezone-aware datetime, got 2026-12-08 16:00:00 \(no zone\)"
    with pytest.raises(TypeError, match=refused):
        datetime_ns(datetime(2026, 12, 8, 16, 0))


def test_a_naive_time_read_as_utc_when_the_caller_says_so() -> None:
    naive = datetime(1969, 12, 31, 23, 59, 59, 500_000)
    assert datetime_ns(naive, naive_as_utc=True) == -500_000_000
    aware = datetime(2026, 12, 8, 16, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert datetime_ns(aware, naive_as_utc=True) == datetime_ns(aware)


def test_safety_exports_the_same_function() -> None:
    assert ec_core.safety.datetime_ns is datetime_ns


@given(st.datetimes(timezones=st.just(UTC)))
def test_it_is_the_microseconds_since_the_epoch_times_a_thousand(moment: datetime) -> None:
    ns = datetime_ns(moment)
    assert ns % 1_000 == 0
    assert _EPOCH + timedelta(microseconds=ns // 1_000) == moment


@given(st.dates())
def test_a_dates_utc_midnight_is_its_datetime_at_midnight_in_utc(day: date) -> None:
    assert utc_midnight_ns(day) == datetime_ns(datetime.combine(day, time(0), tzinfo=UTC))


def test_utc_midnight_on_both_sides_of_the_epoch() -> None:
    assert utc_midnight_ns(date(1970, 1, 2)) == 86_400_000_000_000
    assert utc_midnight_ns(date(1969, 12, 31)) == -86_400_000_000_000
