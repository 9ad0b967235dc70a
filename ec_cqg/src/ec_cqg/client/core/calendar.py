"""CQG session information → the core :class:`~ec_core.calendar.TradingCalendar`.

CQG states a weekly schedule in UTC per segment (a stretch of constant UTC offset, so a
DST switch starts a new segment): days of the week and millisecond offsets from that
day's UTC midnight. :func:`calendar_from_session_information` maps the segment in force
at a given instant to a calendar in ``UTC``: a session day opening on UTC weekday ``d``
at offset ``o`` and closing at offset ``c`` (beyond 24 h when it closes the next day)
becomes ``SessionHours(open=o, close=c mod 24 h, weekdays=(the UTC weekday it closes,))``;
closed holidays become :class:`~ec_core.calendar.Holiday` entries. The calendar is exact
for the segment's period; ask again after its ``to_utc_time`` (the next DST switch).
"""

from __future__ import annotations

from datetime import time

from ec_core.calendar import Holiday, SessionHours, TradingCalendar
from ec_core.errors import ProtocolError

from ec_cqg.protocol.pb import trading_session_2
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["calendar_from_session_information"]

_MS_PER_DAY = 86_400_000


def _wall(offset_ms: int) -> time:
    ms = offset_ms % _MS_PER_DAY
    return time(ms // 3_600_000, ms // 60_000 % 60, ms // 1_000 % 60)


def calendar_from_session_information(
    report: trading_session_2.SessionInformationReport, *, base: BaseTime, at_ns: int
) -> TradingCalendar | None:
    """The calendar of the segment in force at ``at_ns``; ``None`` if no segment covers it."""
    for segment in report.session_segments:
        begin = base.to_ns(segment.from_utc_time) if segment.HasField("from_utc_time") else None
        end = base.to_ns(segment.to_utc_time) if segment.HasField("to_utc_time") else None
        if (begin is not None and at_ns < begin) or (end is not None and at_ns >= end):
            continue
        sessions: list[SessionHours] = []
        holidays: dict[object, Holiday] = {}
        for schedule in segment.session_schedules:
            for day in schedule.session_days:
                if day.close_offset <= day.open_offset:
                    raise ProtocolError(
                        f"session day closes ({day.close_offset} ms) before it opens"
                        f" ({day.open_offset} ms) in schedule {schedule.name!r}"
                    )
                shift = day.close_offset // _MS_PER_DAY
                closing = tuple(
                    sorted({(cqg_day - 1 + shift) % 7 for cqg_day in day.days_of_week})
                )  # CQG: Sunday 0; ours: Monday 0
                sessions.append(
                    SessionHours(
                        open=_wall(day.open_offset),
                        close=_wall(day.close_offset),
                        weekdays=closing,
                        name=schedule.name,
                    )
                )
            for holiday in schedule.session_holidays:
                when = base.to_date(holiday.holiday_date)
                holidays[when] = Holiday(day=when, name=holiday.holiday_name)
        if not sessions:
            return None
        return TradingCalendar(
            timezone="UTC", sessions=tuple(sessions), holidays=tuple(holidays.values())
        )
    return None
