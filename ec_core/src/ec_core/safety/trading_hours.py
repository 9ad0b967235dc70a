"""Is an instrument's session open at a given instant?

The answer comes from the instrument's :class:`~ec_core.calendar.TradingCalendar`
(its sessions, holidays and half days, in the exchange's time zone). Time-zone
arithmetic is slow, so :class:`SessionClock` remembers, per calendar, the interval
around the last answer during which the answer cannot change (until the next open
or close); the hot path is then two integer comparisons.
"""

from __future__ import annotations

from typing import final

from ec_core.calendar import TradingCalendar, local_date
from ec_core.model import TradingHours

__all__ = ["SessionClock", "is_session_open", "local_date", "session_state"]


def _calendar(hours: TradingHours | TradingCalendar) -> TradingCalendar:
    return hours if isinstance(hours, TradingCalendar) else TradingCalendar.from_hours(hours)


def session_state(hours: TradingHours | TradingCalendar, now_ns: int) -> tuple[bool, int, int]:
    """``(is_open, since_ns, until_ns)``: the answer and an interval over which it holds."""
    return _calendar(hours).state(now_ns)


def is_session_open(hours: TradingHours | TradingCalendar, now_ns: int) -> bool:
    return _calendar(hours).is_open(now_ns)


@final
class SessionClock:
    """Cached :meth:`TradingCalendar.state` per calendar object."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[TradingCalendar, bool, int, int]] = {}

    def is_open(self, calendar: TradingCalendar, now_ns: int) -> bool:
        entry = self._cache.get(id(calendar))
        if entry is not None and entry[0] is calendar and entry[2] <= now_ns < entry[3]:
            return entry[1]
        is_open, since, until = calendar.state(now_ns)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[id(calendar)] = (calendar, is_open, since, until)
        return is_open

    def open_span(self, calendar: TradingCalendar, now_ns: int) -> tuple[int, int] | None:
        """``(since_ns, until_ns)``, an interval around ``now_ns`` over which the session
        stays open, or ``None`` while it is closed."""
        if not self.is_open(calendar, now_ns):
            return None
        _, _, since, until = self._cache[id(calendar)]
        return since, until
