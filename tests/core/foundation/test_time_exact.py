"""Nanoseconds to a datetime in integers: no float seconds on the way (they rounded the
last nanoseconds of a second up into the next one, a day's into the next day)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ec_core.calendar import datetime_ns, local_date, ns_datetime
from ec_core.clock import utc_iso
from hypothesis import given, settings
from hypothesis import strategies as st

MIDNIGHT = datetime_ns(datetime(2024, 1, 10, tzinfo=UTC))
ZONES = st.sampled_from(["UTC", "America/Chicago", "Europe/London", "Asia/Kolkata"])


def test_the_last_nanosecond_of_a_day_is_shown_in_that_day() -> None:
    assert utc_iso(MIDNIGHT - 1) == "2024-01-09T23:59:59.999+00:00"
    assert utc_iso(MIDNIGHT) == "2024-01-10T00:00:00.000+00:00"
    assert utc_iso(-1) == "1969-12-31T23:59:59.999+00:00"
    assert ns_datetime(MIDNIGHT - 1).date() == date(2024, 1, 9)


@settings(max_examples=300, deadline=None)
@given(ns=st.integers(-(2**62), 2**62), zone=ZONES)
def test_ns_datetime_is_the_exact_inverse_of_datetime_ns(ns: int, zone: str) -> None:
    moment = ns_datetime(ns, ZoneInfo(zone))
    assert moment.utcoffset() is not None
    assert datetime_ns(moment) == ns // 1000 * 1000  # a datetime holds microseconds
    assert local_date(ns, zone) == moment.date()
    assert utc_iso(ns) == ns_datetime(ns).isoformat(timespec="milliseconds")


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_a_days_last_nanosecond_is_that_day_in_every_zone(day: date) -> None:
    start = datetime_ns(datetime.combine(day, datetime.min.time(), tzinfo=UTC))
    assert local_date(start - 1, None) == day - timedelta(days=1)
    assert local_date(start, None) == day
