"""Is an instrument's session open at a given instant?

:class:`~ec_core.model.TradingHours` gives a daily session in the exchange's
time zone; ``open > close`` (or ``open == close``) means it starts the day
before it closes, and ``weekdays`` lists the days a session *closes* on.
Time-zone arithmetic is slow, so :class:`SessionClock` remembers, per
``TradingHours``, the interval around the last answer during which the answer
cannot change (until the next open or close); the hot path is then two integer
comparisons.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import final
from zoneinfo import ZoneInfo

from ec_core.model import TradingHours

__all__ = ["SessionClock", "is_session_open", "local_date"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_SCAN_DAYS = 9  # a week plus margin: the next open is found if the session runs at all


def _ns(moment: datetime) -> int:
    return (moment - _EPOCH) // _US * 1000


def _local(now_ns: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(now_ns // 1000 / 1_000_000, ZoneInfo(timezone))


def local_date(now_ns: int, timezone: str | None) -> date:
    """The calendar date at ``now_ns`` in ``timezone`` (UTC when ``None``)."""
    return _local(now_ns, timezone or "UTC").date()


def _sessions(hours: TradingHours, around: date) -> list[tuple[int, int]]:
    """Session intervals ``[open, close)`` in ns whose close falls near ``around``, in order."""
    tz = ZoneInfo(hours.timezone)
    overnight = hours.open >= hours.close
    result = []
    for offset in range(-1, _SCAN_DAYS):
        close_day = around + timedelta(days=offset)
        if close_day.weekday() not in hours.weekdays:
            continue
        open_day = close_day - _DAY if overnight else close_day
        opens = datetime.combine(open_day, hours.open, tzinfo=tz)
        closes = datetime.combine(close_day, hours.close, tzinfo=tz)
        result.append((_ns(opens), _ns(closes)))
    return result


def session_state(hours: TradingHours, now_ns: int) -> tuple[bool, int, int]:
    """``(is_open, since_ns, until_ns)``: the answer and an interval over which it holds."""
    today = _local(now_ns, hours.timezone).date()
    for opens, closes in _sessions(hours, today):
        if opens <= now_ns < closes:
            return True, opens, closes
        if now_ns < opens:
            return False, now_ns, opens
    # No session ahead in the scanned range: closed; look again in a day.
    return False, now_ns, now_ns + 86_400 * 1_000_000_000


def is_session_open(hours: TradingHours, now_ns: int) -> bool:
    return session_state(hours, now_ns)[0]


@final
class SessionClock:
    """Cached :func:`session_state` per ``TradingHours`` object."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[TradingHours, bool, int, int]] = {}

    def is_open(self, hours: TradingHours, now_ns: int) -> bool:
        entry = self._cache.get(id(hours))
        if entry is not None and entry[0] is hours and entry[2] <= now_ns < entry[3]:
            return entry[1]
        is_open, since, until = session_state(hours, now_ns)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[id(hours)] = (hours, is_open, since, until)
        return is_open
