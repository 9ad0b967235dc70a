"""CQG time encodings ⇄ UTC nanoseconds since the Unix epoch (what ec uses inside).

CQG sends most times as ``sint64`` *milliseconds relative to the session's base time*,
a text ``YYYY-MM-DDTHH:MM:SS`` (UTC, no zone, no fraction) given in ``LogonResult`` /
``RestoreOrJoinSessionResult.base_time``. Offsets are often negative. Fields that hold a
"date in time format" (``trade_date``, ``good_thru_date``, ``from_date``…) use the same
encoding, only the date part counts. Newer fields are ``google.protobuf.Timestamp``
(absolute UTC). We convert at the edge so nothing past the adapter sees an offset: the base
time changes with every logon, so a stored offset would be meaningless later.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final, final

from ec_core.calendar import datetime_ns
from ec_core.errors import ProtocolError
from google.protobuf.timestamp_pb2 import Timestamp

__all__ = ["BaseTime", "ns_to_timestamp", "timestamp_to_ns"]

_NS_PER_MS: Final = 1_000_000
_NS_PER_S: Final = 1_000_000_000
_MS_PER_DAY: Final = 86_400_000
_BASE_FORMAT: Final = "%Y-%m-%dT%H:%M:%S"


@final
class BaseTime:
    """The zero point of one session's ``sint64`` times. Immutable; one per logon."""

    __slots__ = ("_base_ms", "text")

    def __init__(self, text: str) -> None:
        try:
            parsed = datetime.strptime(text, _BASE_FORMAT).replace(tzinfo=UTC)
        except (TypeError, ValueError) as exc:
            raise ProtocolError(
                f"base_time {text!r} is not in the format YYYY-MM-DDTHH:MM:SS"
            ) from exc
        self.text = text
        self._base_ms = datetime_ns(parsed) // _NS_PER_MS  # whole seconds: exact

    def __repr__(self) -> str:
        return f"BaseTime({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BaseTime) and other._base_ms == self._base_ms

    def __hash__(self) -> int:
        return hash(self._base_ms)

    @property
    def epoch_ns(self) -> int:
        """The base time itself in UTC ns since the epoch."""
        return self._base_ms * _NS_PER_MS

    def to_ns(self, offset_ms: int) -> int:
        """UTC ns since the epoch of a ``sint64`` millisecond offset."""
        return (self._base_ms + offset_ms) * _NS_PER_MS

    def to_offset_ms(self, ns: int, *, exact: bool = False) -> int:
        """The offset in ms of ``ns``; sub-millisecond parts are floored unless ``exact``."""
        ms, rest = divmod(ns, _NS_PER_MS)
        if exact and rest:
            raise ValueError(f"{ns} ns is not a whole number of milliseconds")
        return ms - self._base_ms

    def to_date(self, offset_ms: int) -> date:
        """The UTC calendar date of a "date in time format" field."""
        days = (self._base_ms + offset_ms) // _MS_PER_DAY
        return date.fromordinal(date(1970, 1, 1).toordinal() + days)

    def from_date(self, day: date) -> int:
        """The offset of midnight UTC of ``day``, for fields such as ``good_thru_date``."""
        days = day.toordinal() - date(1970, 1, 1).toordinal()
        return days * _MS_PER_DAY - self._base_ms


def timestamp_to_ns(ts: Timestamp) -> int:
    """UTC ns since the epoch of a ``google.protobuf.Timestamp``."""
    return ts.seconds * _NS_PER_S + ts.nanos


def ns_to_timestamp(ns: int, into: Timestamp | None = None) -> Timestamp:
    """Fill ``into`` (or a new ``Timestamp``) with ``ns``; ``nanos`` is always in [0, 1e9)."""
    ts = Timestamp() if into is None else into
    seconds, nanos = divmod(ns, _NS_PER_S)
    ts.seconds = seconds
    ts.nanos = nanos
    return ts
