"""Trading-session arithmetic: is an instrument open at a time, and when does that change.

Sessions come from :class:`ec_core.model.TradingHours` (local open/close times in the
exchange's time zone; ``open > close`` spans midnight; ``weekdays`` name the day the
session *closes*). Everything is computed in UTC nanoseconds so the engine never
touches a local clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import final
from zoneinfo import ZoneInfo

from ec_core.model import TradingHours

__all__ = ["SessionCalendar", "end_of_date_ns"]

_NS = 1_000_000_000


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _to_ns(moment: datetime) -> int:
    return int(moment.timestamp()) * _NS


def end_of_date_ns(day: date, hours: TradingHours | None) -> int:
    """When a GTD order good through ``day`` expires: that day's close, else midnight after it."""
    if hours is None:
        return _to_ns(datetime(day.year, day.month, day.day, tzinfo=_zone("UTC"))) + 86_400 * _NS
    zone = _zone(hours.timezone)
    close = datetime.combine(day, hours.close, tzinfo=zone)
    return _to_ns(close)


@final
class SessionCalendar:
    """Open/close intervals of one instrument, with the next boundary cached.

    ``None`` hours mean the instrument trades around the clock and never closes.
    """

    def __init__(self, hours: TradingHours | None) -> None:
        self.hours = hours
        self._open = True
        # cache: the state holds for _valid_from <= ts < _valid_until (always, without hours)
        self._valid_from = 0 if hours is not None else -(2**63)
        self._valid_until = -1 if hours is not None else 2**63

    def _intervals(self, ts_ns: int) -> list[tuple[int, int]]:
        hours = self.hours
        assert hours is not None
        zone = _zone(hours.timezone)
        local = datetime.fromtimestamp(ts_ns / _NS, tz=zone).date()
        spans: list[tuple[int, int]] = []
        for offset in range(-2, 10):
            day = local + timedelta(days=offset)
            if day.weekday() not in hours.weekdays:
                continue
            close = datetime.combine(day, hours.close, tzinfo=zone)
            start_day = day if hours.open < hours.close else day - timedelta(days=1)
            opened = datetime.combine(start_day, hours.open, tzinfo=zone)
            spans.append((_to_ns(opened), _to_ns(close)))
        return spans

    def state(self, ts_ns: int) -> tuple[bool, int]:
        """``(is_open, next_boundary_ns)`` at ``ts_ns``; the boundary is ``-1`` if none."""
        if self.hours is None:
            return True, -1
        if self._valid_from <= ts_ns < self._valid_until:
            return self._open, self._valid_until
        is_open = False
        boundary = -1
        for opened, closed in self._intervals(ts_ns):
            if opened <= ts_ns < closed:
                is_open = True
            for edge in (opened, closed):
                if edge > ts_ns and (boundary < 0 or edge < boundary):
                    boundary = edge
        self._open = is_open
        self._valid_from = ts_ns
        self._valid_until = boundary if boundary >= 0 else 2**62
        return is_open, boundary

    def is_open(self, ts_ns: int) -> bool:
        if self._valid_from <= ts_ns < self._valid_until:
            return self._open
        return self.state(ts_ns)[0]

    def trading_date(self, ts_ns: int) -> date:
        """The calendar date in the exchange's zone (used to tell a GTD date in the past)."""
        zone = _zone(self.hours.timezone if self.hours else "UTC")
        return datetime.fromtimestamp(ts_ns / _NS, tz=zone).date()
