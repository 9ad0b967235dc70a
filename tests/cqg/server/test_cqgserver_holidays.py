"""The CQG-dialect server answers session information from the mock's instrument data."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.sessioninfo import session_information
from ec_mock.instruments import builtin_instruments


def _ct(day: date, hour: int) -> int:
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo("America/Chicago"))
    return int(moment.timestamp()) * 1_000_000_000


def test_the_cqg_dialect_server_serves_the_same_holidays() -> None:
    """The CQG-dialect server's session information reads the instrument's calendar:
    Christmas 2024 is a session holiday of EP there too."""
    (ep_instrument,) = [i for i in builtin_instruments() if i.symbol == "EP"]
    base = BaseTime("2024-12-01T00:00:00")
    report = session_information(
        ep_instrument.trading_calendar,
        1,
        base=base,
        start_ns=_ct(date(2024, 12, 20), 0),
        end_ns=_ct(date(2024, 12, 31), 0),
    )
    holidays = {
        (base.to_date(h.holiday_date), h.holiday_name)
        for segment in report.session_segments
        for schedule in segment.session_schedules
        for h in schedule.session_holidays
    }
    assert (date(2024, 12, 25), "Christmas Day") in holidays
