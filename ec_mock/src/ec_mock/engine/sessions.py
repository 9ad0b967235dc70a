"""Trading-session arithmetic: is an instrument open at a time, and when does that change.

Sessions, holidays and half days come from the instrument's
:class:`ec_core.calendar.TradingCalendar` (built from its ``trading_hours`` when it
has no ``calendar``). Everything is computed in UTC nanoseconds so the engine never
touches a local clock.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import final
from zoneinfo import ZoneInfo

from ec_core.calendar import TradingCalendar, datetime_ns, local_date, utc_midnight_ns
from ec_core.model import TradingHours

__all__ = ["SessionCalendar", "end_of_date_ns"]

_NS = 1_000_000_000


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def end_of_date_ns(day: date, hours: TradingHours | None) -> int:
    """When a GTD order good through ``day`` expires: that day's close, else midnight after it."""
    if hours is None:
        return utc_midnight_ns(day) + 86_400 * _NS
    zone = _zone(hours.timezone)
    close = datetime.combine(day, hours.close, tzinfo=zone)
    return datetime_ns(close)


@final
class SessionCalendar:
    """Open/closed state of one instrument, with the next boundary cached.

    The sessions, holidays and half days come from core's
    :class:`~ec_core.calendar.TradingCalendar` (the instrument's
    ``trading_calendar``), the one calendar the pre-trade rules, bars and the
    CQG-dialect server read too. ``None`` means the instrument trades around the
    clock and never closes.
    """

    def __init__(self, calendar: TradingCalendar | None) -> None:
        self.calendar = calendar
        self._open = True
        # cache: the state holds for _valid_from <= ts < _valid_until (always, without one)
        self._valid_from = 0 if calendar is not None else -(2**63)
        self._valid_until = -1 if calendar is not None else 2**63

    def state(self, ts_ns: int) -> tuple[bool, int]:
        """``(is_open, next_boundary_ns)`` at ``ts_ns``; the boundary is ``-1`` if none."""
        calendar = self.calendar
        if calendar is None:
            return True, -1
        if self._valid_from <= ts_ns < self._valid_until:
            return self._open, self._valid_until
        is_open, _since, until = calendar.state(ts_ns)
        self._open = is_open
        self._valid_from = ts_ns
        self._valid_until = until
        return is_open, until

    def is_open(self, ts_ns: int) -> bool:
        if self._valid_from <= ts_ns < self._valid_until:
            return self._open
        return self.state(ts_ns)[0]

    def trading_date(self, ts_ns: int) -> date:
        """The calendar date in the exchange's zone (used to tell a GTD date in the past)."""
        return local_date(ts_ns, self.calendar.timezone if self.calendar else None)
