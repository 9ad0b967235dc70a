"""Historical market data: what a vendor with :attr:`Capability.HISTORY
<ec_core.vendor.Capability.HISTORY>` serves, and the rules every vendor follows.

A session with history offers ``session.history`` (:class:`SupportsHistory`, found with
``isinstance``)::

    if isinstance(session, SupportsHistory):
        bars = await session.history.bars(instrument, "1m", start, end)
        ticks = await session.history.ticks(instrument, start, end)

The contract, the same for every vendor:

* ``start`` and ``end`` are UTC instants: an aware :class:`~datetime.datetime` or integer
  nanoseconds. The range is half-open, ``[start, end)``; ``end=None`` means now.
* :meth:`HistoryFeed.ticks` gives the quotes and trades of the range in time order,
  prices in integer ticks of the instrument.
* :meth:`HistoryFeed.bars` gives the *complete* trade bars that lie inside the range:
  ``start <= bar.start_ns`` and ``bar.end_ns <= end``. Time frames of seconds, minutes
  and hours are cut on multiples of their length since the epoch (as
  :class:`~ec_core.data.TickBuffer` cuts them); ``"1d"`` is one *trading day* of the
  instrument's :class:`~ec_core.calendar.TradingCalendar` (see :mod:`ec_core.data.bars`).
  Intervals without a trade have no bar.
* Both return a :class:`HistoryResult`: a sequence with ``up_to_ns``, the instant up to
  which it is complete. Every event (every bar start) before ``up_to_ns`` is in it; a
  live stream opened before the request supplies what comes at or after it. That is the
  seam a warm-up joins at without a gap or a double count.
* Failures are typed (:mod:`ec_core.errors`): :class:`~ec_core.errors.HistoryRequestError`
  (bad arguments, nothing asked), :class:`~ec_core.errors.HistoryTooFarBackError`,
  :class:`~ec_core.errors.HistoryNotEntitledError`,
  :class:`~ec_core.errors.HistoryRateLimitError`.

Both coroutines are cancel-safe: a cancelled request leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Generic, Protocol, TypeAlias, TypeVar, final, overload, runtime_checkable

from ec_core.calendar import datetime_ns
from ec_core.data.timeframe import BarKind, Timeframe
from ec_core.errors import ConfigError, HistoryRequestError
from ec_core.model import Bar, Instrument, MarketEvent

__all__ = [
    "HistoryFeed",
    "HistoryResult",
    "Moment",
    "SupportsHistory",
    "history_range",
    "history_timeframe",
    "moment_ns",
]

Moment: TypeAlias = datetime | int
"""A UTC instant: an aware datetime, or integer nanoseconds since the epoch."""

T_co = TypeVar("T_co", covariant=True)

_DAY_NS = 86_400 * 1_000_000_000


@final
class HistoryResult(Sequence[T_co], Generic[T_co]):
    """What a history request returns: the items, oldest first, and ``up_to_ns``."""

    __slots__ = ("_items", "up_to_ns")

    def __init__(self, items: Sequence[T_co], *, up_to_ns: int) -> None:
        self._items = tuple(items)
        self.up_to_ns = up_to_ns

    @overload
    def __getitem__(self, index: int) -> T_co: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T_co]: ...

    def __getitem__(self, index: int | slice) -> T_co | Sequence[T_co]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T_co]:
        return iter(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HistoryResult):
            return self._items == other._items and self.up_to_ns == other.up_to_ns
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HistoryResult({len(self._items)} items, up_to_ns={self.up_to_ns})"


@runtime_checkable
class HistoryFeed(Protocol):
    """Bars and ticks of the past; see the module docstring for the contract."""

    async def bars(
        self,
        instrument: Instrument,
        timeframe: str | Timeframe,
        start: Moment,
        end: Moment | None = None,
    ) -> HistoryResult[Bar]:
        """Complete trade bars of ``timeframe`` inside ``[start, end)``. Cancel-safe."""
        ...

    async def ticks(
        self, instrument: Instrument, start: Moment, end: Moment | None = None
    ) -> HistoryResult[MarketEvent]:
        """Quotes and trades inside ``[start, end)``, in time order. Cancel-safe."""
        ...


@runtime_checkable
class SupportsHistory(Protocol):
    """A session that serves history (``Capability.HISTORY``)."""

    @property
    def history(self) -> HistoryFeed: ...


def moment_ns(value: Moment, *, symbol: str, field: str) -> int:
    """``value`` as UTC nanoseconds; a naive datetime is a :class:`HistoryRequestError`."""
    if isinstance(value, bool) or not isinstance(value, datetime | int):
        raise HistoryRequestError(
            f"must be an aware datetime or int nanoseconds, got {value!r}",
            symbol=symbol,
            field=field,
            value=value,
        )
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        raise HistoryRequestError(
            "a naive datetime is ambiguous: give a time zone (UTC)",
            symbol=symbol,
            field=field,
            value=value,
        )
    return datetime_ns(value)


def history_range(
    symbol: str, start: Moment, end: Moment | None, *, default_end_ns: int
) -> tuple[int, int]:
    """``(start_ns, end_ns)`` checked: ``end`` is not before ``start``; ``None`` is
    ``default_end_ns`` (a vendor passes just after its now, so now is included)."""
    start_ns = moment_ns(start, symbol=symbol, field="start")
    end_ns = default_end_ns if end is None else moment_ns(end, symbol=symbol, field="end")
    if end_ns < start_ns:
        raise HistoryRequestError(
            f"end {end_ns} is before start {start_ns}", symbol=symbol, field="end", value=end_ns
        )
    return start_ns, end_ns


def history_timeframe(symbol: str, timeframe: str | Timeframe) -> Timeframe:
    """A time frame history bars can be cut on: seconds, minutes, hours, or ``"1d"``."""
    try:
        parsed = Timeframe.parse(timeframe)
    except ConfigError as exc:
        raise HistoryRequestError(
            exc.message, symbol=symbol, field="timeframe", value=timeframe
        ) from None
    if parsed.kind is not BarKind.TIME:
        raise HistoryRequestError(
            f"history bars are time bars; {parsed.name} is a {parsed.kind.lower()} bar"
            " (cut those from history ticks)",
            symbol=symbol,
            field="timeframe",
            value=parsed.name,
        )
    if parsed.size % _DAY_NS == 0 and parsed.size != _DAY_NS:
        raise HistoryRequestError(
            f"{parsed.name}: daily history bars are single trading days ('1d')",
            symbol=symbol,
            field="timeframe",
            value=parsed.name,
        )
    return parsed
