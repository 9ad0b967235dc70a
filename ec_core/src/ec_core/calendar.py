"""The trading calendar of an instrument: weekly sessions, holidays and half days, DST-correct.

One type feeds everything that asks "is it open?" or "which trading day is it?": the
``TRADING_HOURS`` pre-trade rule, session-aware daily and session bars, the mock engine
and the CQG-dialect server's session information.

* A :class:`SessionHours` is one weekly segment in the exchange's local time: ``open``
  and ``close`` wall times and the ``weekdays`` (Monday = 0) on which it *closes*. An
  ``open`` not before ``close`` means the segment opened the day before (CME Globex:
  17:00 the day before to 16:00).
* A :class:`Holiday` changes one trading day: closed (no ``open``/``close``), or a late
  open / early close (a half day).
* The *trading day* of a session is the local date it closes on. A tick outside every
  session belongs to the trading day of the next session (a print in the daily break or
  over a weekend counts in the day it leads into, as CME assigns activity after the close
  to the next trade date). So trading day ``D`` covers every instant after the previous
  trading day's last close up to ``D``'s last close: daily bars cut there, which for CME
  is the 16:00/17:00 America/Chicago boundary whatever the UTC offset.

Local times become UTC through :mod:`zoneinfo` for each date, so both DST switches
move the UTC instants and never the local ones. Everything else works in UTC
nanoseconds. The struct is plain data (TOML/JSON through msgspec); spans of a day are
cached, so repeated questions cost a dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from ec_core.errors import ConfigError

if TYPE_CHECKING:
    from ec_core.model.instrument import TradingHours

__all__ = [
    "Holiday",
    "SessionHours",
    "SessionSpan",
    "TradingCalendar",
    "datetime_ns",
    "local_date",
    "utc_midnight_ns",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_DAY_NS = 86_400 * 1_000_000_000
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_SCAN_DAYS = 15  # the longest run of days without a session a calendar may have (two weeks)


@final
class SessionHours(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One weekly session segment in local time; ``weekdays`` are the days it closes on."""

    open: time
    close: time
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    name: str = "regular"

    @property
    def overnight(self) -> bool:
        """The segment opens the calendar day before it closes."""
        return self.open >= self.close


@final
class Holiday(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A trading day that differs: closed when neither ``open`` nor ``close`` is given,
    otherwise its sessions open no earlier than ``open`` and close no later than ``close``."""

    day: date
    name: str = ""
    open: time | None = None
    close: time | None = None

    @property
    def closed(self) -> bool:
        return self.open is None and self.close is None


@final
class SessionSpan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One concrete session: ``[open_ns, close_ns)`` in UTC, on ``trading_day``."""

    trading_day: date
    name: str
    open_ns: int
    close_ns: int

    def __contains__(self, ts_ns: object) -> bool:
        return isinstance(ts_ns, int) and self.open_ns <= ts_ns < self.close_ns


@final
class TradingCalendar(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Sessions, holidays and the time zone of one instrument; see the module docstring."""

    timezone: str
    sessions: tuple[SessionHours, ...]
    holidays: tuple[Holiday, ...] = ()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"unknown time zone {self.timezone!r} (an IANA name such as 'America/Chicago')",
                path="calendar.timezone",
            ) from None
        if not self.sessions:
            raise ConfigError("a trading calendar needs at least one session", path="sessions")
        for index, hours in enumerate(self.sessions):
            bad = [d for d in hours.weekdays if not 0 <= d <= 6]
            if bad or not hours.weekdays:
                raise ConfigError(
                    f"weekdays must be 0 (Monday) .. 6 (Sunday), not empty; got {hours.weekdays}",
                    path=f"sessions[{index}].weekdays",
                )
        days = [h.day for h in self.holidays]
        if len(days) != len(set(days)):
            raise ConfigError("a holiday date is listed twice", path="holidays")

    @classmethod
    def from_hours(cls, hours: TradingHours, holidays: tuple[Holiday, ...] = ()) -> TradingCalendar:
        """The calendar of one daily session (:class:`~ec_core.model.TradingHours`)."""
        return cls(
            timezone=hours.timezone,
            sessions=(SessionHours(open=hours.open, close=hours.close, weekdays=hours.weekdays),),
            holidays=holidays,
        )

    # -- days ----------------------------------------------------------------

    def holiday(self, day: date) -> Holiday | None:
        return _holidays(self).get(day)

    def day_spans(self, day: date) -> tuple[SessionSpan, ...]:
        """The sessions of trading day ``day``, in order (empty on a closed day)."""
        return _day_spans(self, day)

    def is_trading_day(self, day: date) -> bool:
        return bool(_day_spans(self, day))

    def day_bounds(self, day: date) -> tuple[int, int] | None:
        """``(first open, last close)`` of trading day ``day`` in UTC ns; ``None`` if closed."""
        spans = _day_spans(self, day)
        if not spans:
            return None
        return spans[0].open_ns, spans[-1].close_ns

    # -- instants ------------------------------------------------------------

    def spans(self, start_ns: int, end_ns: int) -> Iterator[SessionSpan]:
        """Every session overlapping ``[start_ns, end_ns)``, in time order."""
        day = local_date(start_ns, self.timezone) - _DAY
        last = local_date(end_ns, self.timezone) + 2 * _DAY
        while day <= last:
            for span in _day_spans(self, day):
                if span.close_ns > start_ns and span.open_ns < end_ns:
                    yield span
            day += _DAY

    def session_at(self, ts_ns: int) -> SessionSpan | None:
        """The session open at ``ts_ns``, or ``None`` outside every session."""
        for span in self._around(ts_ns):
            if span.open_ns <= ts_ns < span.close_ns:
                return span
        return None

    def is_open(self, ts_ns: int) -> bool:
        return self.session_at(ts_ns) is not None

    def next_session(self, ts_ns: int) -> SessionSpan | None:
        """The session open at ``ts_ns``, else the next one to open (``None``: none in reach)."""
        day = local_date(ts_ns, self.timezone) - _DAY
        for _ in range(_SCAN_DAYS + 3):
            for span in _day_spans(self, day):
                if span.close_ns > ts_ns:
                    return span
            day += _DAY
        return None

    def trading_day(self, ts_ns: int) -> date:
        """The trading day ``ts_ns`` counts in: its session's, else the next session's."""
        span = self.next_session(ts_ns)
        if span is None:
            return local_date(ts_ns, self.timezone)
        return span.trading_day

    def state(self, ts_ns: int) -> tuple[bool, int, int]:
        """``(is_open, since_ns, until_ns)``: the answer and an interval over which it holds."""
        span = self.next_session(ts_ns)
        if span is None:
            return False, ts_ns, ts_ns + _SCAN_DAYS * 86_400 * 1_000_000_000
        if span.open_ns <= ts_ns:
            return True, span.open_ns, span.close_ns
        return False, ts_ns, span.open_ns

    def _around(self, ts_ns: int) -> Iterator[SessionSpan]:
        day = local_date(ts_ns, self.timezone)
        for offset in (0, 1, -1, 2):
            yield from _day_spans(self, day + timedelta(days=offset))


def datetime_ns(moment: datetime, *, naive_as_utc: bool = False) -> int:
    """Nanoseconds since the epoch of a timezone-aware datetime, exact on both sides of 1970.

    The one conversion of a datetime to the nanoseconds everything else works in (the
    calendar, the activation window, GTD expiry, order-history requests). A naive
    datetime is a ``TypeError`` saying so, unless ``naive_as_utc`` (an API documented as
    "naive means UTC"); only that failure path looks at the flag.
    """
    try:
        return (moment - _EPOCH) // _US * 1000
    except TypeError:
        if naive_as_utc and isinstance(moment, datetime) and moment.tzinfo is None:
            return (moment.replace(tzinfo=UTC) - _EPOCH) // _US * 1000
        if isinstance(moment, datetime):
            raise TypeError(f"needs a timezone-aware datetime, got {moment} (no zone)") from None
        raise TypeError(f"needs a timezone-aware datetime, got {moment!r}") from None


def ns_datetime(ts_ns: int, zone: tzinfo = UTC) -> datetime:
    """The aware datetime of ``ts_ns`` in ``zone``, floored to the microsecond (a
    datetime's finest): :func:`datetime_ns`'s inverse, in integers. ``fromtimestamp``
    takes float seconds, which round to the nearest microsecond: a time in the last
    nanoseconds of a second showed as the next second (and a date as the next day)."""
    moment = _EPOCH + timedelta(microseconds=ts_ns // 1000)
    return moment if zone is UTC else moment.astimezone(zone)


def utc_midnight_ns(day: date) -> int:
    """The UTC midnight that starts ``day``, in nanoseconds since the epoch: how a date
    without a zone (a trade date, a good-through date, a UTC day's bar) becomes a time."""
    return (day.toordinal() - _EPOCH_DAY) * _DAY_NS


def local_date(ts_ns: int, timezone: str | None) -> date:
    """The calendar date at ``ts_ns`` in ``timezone`` (UTC when ``None``)."""
    return ns_datetime(ts_ns, _zone(timezone) if timezone else UTC).date()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def _holidays(calendar: TradingCalendar) -> dict[date, Holiday]:
    return {h.day: h for h in calendar.holidays}


@lru_cache(maxsize=16_384)
def _day_spans(calendar: TradingCalendar, day: date) -> tuple[SessionSpan, ...]:
    holiday = _holidays(calendar).get(day)
    if holiday is not None and holiday.closed:
        return ()
    zone = _zone(calendar.timezone)
    spans: list[SessionSpan] = []
    for hours in calendar.sessions:
        if day.weekday() not in hours.weekdays:
            continue
        open_day = day - _DAY if hours.overnight else day
        opens = datetime_ns(datetime.combine(open_day, hours.open, tzinfo=zone))
        closes = datetime_ns(datetime.combine(day, hours.close, tzinfo=zone))
        if holiday is not None:
            if holiday.open is not None:
                late = datetime_ns(datetime.combine(day, holiday.open, tzinfo=zone))
                if holiday.open > hours.close and open_day != day:
                    late = datetime_ns(datetime.combine(open_day, holiday.open, tzinfo=zone))
                opens = max(opens, late)
            if holiday.close is not None:
                closes = min(closes, datetime_ns(datetime.combine(day, holiday.close, tzinfo=zone)))
        if opens < closes:
            spans.append(
                SessionSpan(trading_day=day, name=hours.name, open_ns=opens, close_ns=closes)
            )
    spans.sort(key=lambda s: s.open_ns)
    return tuple(spans)
