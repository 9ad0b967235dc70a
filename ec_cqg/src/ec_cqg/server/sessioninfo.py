"""Session information and order entitlements, answered from the instruments' data.

``session_information_request{session_info_id}`` (the id is the contract's, as the
metadata says) → ``session_information_report``. CQG states a weekly schedule in UTC:
days of the week and millisecond offsets from that day's UTC midnight. A local schedule
(17:00–16:00 Chicago) therefore has one UTC shape in winter and another in summer, so the
report holds one **segment per stretch of constant UTC offset** over the asked range
(default: a day back to 60 days ahead), each with its ``from_utc_time``/``to_utc_time``.
A session day lists the UTC day it opens on, its open and close offsets (a close past
midnight is an offset beyond 24 h) and, as ``original_day_of_week``, the local weekday of
its trading day. Closed holidays are ``session_holidays`` of the schedule; half days are
not expressible in CQG's schedule and are left out. An instrument without a calendar
trades around the clock: one segment, every day 0–24 h.

``order_entitlement_request{contract_id, account_id}`` → every order type, duration and
instruction the mock engine accepts: the mock's users are entitled to everything listed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ec_core.calendar import SessionSpan, TradingCalendar, ns_datetime, utc_midnight_ns

from ec_cqg.protocol.pb import order_2, trading_session_2
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["order_entitlements", "session_information"]

_MS_PER_DAY = 86_400_000
_NS_PER_MS = 1_000_000
_O = order_2.Order
_NONE = _O.EXEC_INSTRUCTION_NONE
DEFAULT_BACK_NS = 86_400 * 1_000_000_000
DEFAULT_AHEAD_NS = 60 * 86_400 * 1_000_000_000
#: The longest range one request may ask for (its work grows with the days it covers, on
#: the server's one thread: 50 years took ~3 s while every other session waited).
MAX_SESSION_SPAN_NS = 366 * 86_400 * 1_000_000_000


def _cqg_weekday(day: date) -> int:
    """CQG's DayOfWeek: Sunday 0 … Saturday 6 (Python: Monday 0)."""
    return (day.weekday() + 1) % 7


def _offset_of(calendar: TradingCalendar, ts_ns: int) -> timedelta:
    offset = ns_datetime(ts_ns, ZoneInfo(calendar.timezone)).utcoffset()
    return offset if offset is not None else timedelta(0)


def _stretches(calendar: TradingCalendar, start_ns: int, end_ns: int) -> list[tuple[int, int]]:
    """``[from, to)`` pieces of the range over which the zone's UTC offset is constant."""
    hour = 3_600 * 1_000_000_000
    pieces: list[tuple[int, int]] = []
    begin = start_ns
    offset = _offset_of(calendar, start_ns)
    probe = start_ns
    while probe < end_ns:
        nxt = min(probe + hour, end_ns)
        if _offset_of(calendar, nxt) != offset and nxt < end_ns:
            low, high = probe, nxt  # bisect to the switch's nanosecond (~42 steps an hour)
            while high - low > 1:
                mid = (low + high) // 2
                if _offset_of(calendar, mid) == offset:
                    low = mid
                else:
                    high = mid
            pieces.append((begin, high))
            begin, offset = high, _offset_of(calendar, high)
        probe = nxt
    pieces.append((begin, end_ns))
    return pieces


def _session_day(span: SessionSpan) -> tuple[int, int, int, int]:
    """``(UTC weekday of the open, open offset ms, close offset ms, local trading weekday)``."""
    opened = datetime.fromtimestamp(span.open_ns // 1_000_000_000, UTC)
    midnight_ms = utc_midnight_ns(opened.date()) // _NS_PER_MS
    open_ms = span.open_ns // _NS_PER_MS - midnight_ms
    close_ms = span.close_ns // _NS_PER_MS - midnight_ms
    return _cqg_weekday(opened.date()), open_ms, close_ms, _cqg_weekday(span.trading_day)


def session_information(
    calendar: TradingCalendar | None,
    session_info_id: int,
    *,
    base: BaseTime,
    start_ns: int,
    end_ns: int,
) -> trading_session_2.SessionInformationReport:
    """The report for ``[start_ns, end_ns)``; see the module docstring."""
    report = trading_session_2.SessionInformationReport(session_info_id=session_info_id)
    if calendar is None:
        segment = report.session_segments.add(
            session_segment_id=1,
            from_utc_time=base.to_offset_ms(start_ns),
            to_utc_time=base.to_offset_ms(end_ns),
        )
        schedule = segment.session_schedules.add(name="continuous", is_primary=True)
        for weekday in range(7):
            schedule.session_days.add(
                days_of_week=[weekday], open_offset=0, close_offset=_MS_PER_DAY
            )
        return report
    for index, (begin, finish) in enumerate(_stretches(calendar, start_ns, end_ns), start=1):
        segment = report.session_segments.add(
            session_segment_id=index,
            from_utc_time=base.to_offset_ms(begin),
            to_utc_time=base.to_offset_ms(finish),
        )
        for hours in calendar.sessions:
            schedule = segment.session_schedules.add(
                name=hours.name, is_primary=hours is calendar.sessions[0]
            )
            seen: set[tuple[int, int, int, int]] = set()
            for span in calendar.spans(begin, finish):
                if span.name != hours.name or calendar.holiday(span.trading_day) is not None:
                    continue  # a half day's shortened hours are not the weekly shape
                shape = _session_day(span)
                if shape in seen:
                    continue
                seen.add(shape)
                weekday, open_ms, close_ms, local = shape
                schedule.session_days.add(
                    days_of_week=[weekday],
                    open_offset=open_ms,
                    close_offset=close_ms,
                    original_day_of_week=local,
                )
            for holiday in calendar.holidays:
                at = utc_midnight_ns(holiday.day)
                if holiday.closed and begin <= at + _MS_PER_DAY * _NS_PER_MS and at < finish:
                    schedule.session_holidays.add(
                        holiday_date=base.to_offset_ms(at),
                        holiday_name=holiday.name or "holiday",
                    )
    return report


#: What the mock engine takes (ec_cqg.protocol.mapping.codes): order types, durations,
#: and the instructions beside none.
_ORDER_TYPES = (_O.ORDER_TYPE_MKT, _O.ORDER_TYPE_LMT, _O.ORDER_TYPE_STP, _O.ORDER_TYPE_STL)
_DURATIONS = (
    _O.DURATION_DAY,
    _O.DURATION_GTC,
    _O.DURATION_GTD,
    _O.DURATION_FAK,
    _O.DURATION_FOK,
)
_INSTRUCTIONS = {
    _O.ORDER_TYPE_MKT: (_O.EXEC_INSTRUCTION_MTL,),  # market-to-limit
    _O.ORDER_TYPE_LMT: (
        _O.EXEC_INSTRUCTION_AON,
        _O.EXEC_INSTRUCTION_ICEBERG,
        _O.EXEC_INSTRUCTION_POSTONLY,
    ),
}


def order_entitlements() -> order_2.OrderEntitlementReport:
    """Every order type × duration, without an instruction and with the ones it takes."""
    report = order_2.OrderEntitlementReport()
    for order_type in _ORDER_TYPES:
        for duration in _DURATIONS:
            for instruction in (_NONE, *_INSTRUCTIONS.get(order_type, ())):
                report.order_entitlements.add(
                    order_type=order_type,
                    is_synthetic=False,
                    duration=duration,
                    exec_instruction=instruction,
                )
    return report
