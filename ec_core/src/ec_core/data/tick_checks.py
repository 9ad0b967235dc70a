"""What a recorded tick must satisfy before a replay trusts it, whatever file format it came in.

A tick file with reversed timestamps, a missing ``bid_size`` column or crossed quotes
replayed "fine" and gave a wrong P&L. The rules live here, apart from any reader, so
the CSV reader and any other format check the same things:

* columns: a quote row needs ``bid``, ``bid_size``, ``ask``, ``ask_size``; a trade row
  ``price`` and ``size`` (:func:`missing_columns`, checked by the reader at the first
  row of each kind);
* time: ``ts_ns`` is nanoseconds since the epoch or an ISO 8601 time with a zone
  (:func:`parse_ts_ns`); rows must not go back in time (:class:`TickChecks` refuses
  the first row earlier than the one before it, or sorts when asked);
* values: a quote has a bid and an ask, the bid is not above the ask, and every size
  that goes with a price is positive.

By default a broken row is a :class:`~ec_core.errors.ConfigError` naming
``file:line.field``. ``lenient=True`` is for recorded data that really has such rows:
they are skipped, counted by code and the first ones kept as examples for the report.
Never silent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import chain, islice, repeat
from operator import le
from typing import Any, Final, TypeVar, final

import msgspec

from ec_core.calendar import datetime_ns
from ec_core.data.ohlcv import RecordedBar, bar_problem
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Trade

__all__ = [
    "REQUIRED_COLUMNS",
    "ColumnBatch",
    "TickCheckSummary",
    "TickChecks",
    "TickRow",
    "missing_columns",
    "parse_ts_ns",
    "row_problem",
]

#: Columns each row kind reads its values from.
REQUIRED_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "quote": ("bid", "bid_size", "ask", "ask_size"),
    "trade": ("price", "size"),
}

#: ``(where, tick, instrument)``: ``where`` is ``file:line`` for messages.
TickRow = tuple[str, Quote | Trade, Instrument]
#: What the checks take: a tick, or a recorded bar (:mod:`ec_core.data.ohlcv`).
Record = TypeVar("Record", Quote | Trade, RecordedBar)
#: A row's place: its ``file:line`` text, or a key a reader turns into it on demand.
Place = TypeVar("Place")

_ISO: Final = re.compile(
    r"^(?P<base>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<zone>Z|[+-]\d\d:?\d\d)?$",
    re.ASCII,  # digits 0-9 only: str.isdigit and int() also read other scripts' digits
)
#: At most this many ticks of rows checked one by one are given together (a reader's
#: batch holds fewer; :meth:`TickChecks.apply`'s rows are one long batch).
_ROWS: Final = 4096
_MAX_NS: Final = (1 << 63) - 1
_TS_RULE: Final = (
    "must be nanoseconds since the epoch (e.g. 1704898800000000000) or an ISO 8601 time"
    " with a zone (e.g. 2024-01-10T15:00:00.25Z)"
)


def missing_columns(kind: str, columns: Iterable[str]) -> list[str]:
    """The columns a row of ``kind`` needs that ``columns`` lacks (in the format's order)."""
    have = set(columns)
    return [c for c in REQUIRED_COLUMNS.get(kind, ()) if c not in have]


def parse_ts_ns(text: str) -> int:
    """Nanoseconds since the epoch from ``text``; :class:`ValueError` saying the rule."""
    text = text.strip()
    if text.isdigit() and text.isascii():
        value = int(text)
        if value > _MAX_NS:  # past 2262-04-11: no clock or wire field holds it
            raise ValueError(f"must fit in 64-bit nanoseconds (at most {_MAX_NS}), got {text}")
        return value
    match = _ISO.match(text)
    if match is None:
        raise ValueError(f"{_TS_RULE}, got {text!r}")
    if match["zone"] is None:
        raise ValueError(f"an ISO 8601 time needs a zone (Z or +01:00), got {text!r}")
    zone = match["zone"].replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(f"{match['base'].replace(' ', 'T')}{zone}")
    except ValueError:
        raise ValueError(f"{_TS_RULE}, got {text!r}") from None
    fraction = int((match["frac"] or "").ljust(9, "0") or 0)
    return datetime_ns(moment) + fraction


class TickCheckSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What the checks did to a file, for the replay report."""

    sorted: bool  # --sort was given
    reordered: int  # rows that were earlier than a row before them (sorted into place)
    lenient: bool  # --lenient was given
    skipped: dict[str, int]  # rule code -> rows skipped
    examples: tuple[str, ...]  # the first skipped rows, ``file:line.field: message``


@final
class ColumnBatch:
    """Rows a reader converted whole columns at a time (:meth:`TickParser.batch
    <ec_core.data.tick_parser.TickParser.batch>`): one kind, one instrument, every value
    an int (a price on the grid, a size, a time), kept as the columns the rules read.

    :meth:`TickChecks.chunks` passes such a batch with a few whole-column
    comparisons when no row breaks a rule, and checks it row by row otherwise, which
    names the first broken row as :meth:`TickChecks.apply` does.
    """

    __slots__ = ("inst", "keys", "prices", "sizes", "ticks", "ts")

    def __init__(
        self,
        *,
        keys: Sequence[object],
        ticks: list[Quote] | list[Trade],
        inst: Instrument,
        ts: list[int],
        sizes: tuple[list[int], ...],
        prices: tuple[list[int], list[int]] | None = None,
    ) -> None:
        self.keys = keys  # each row's place (file:line, or a key a reader turns into it)
        self.ticks = ticks
        self.inst = inst
        self.ts = ts
        self.sizes = sizes  # a quote's bid_size and ask_size, a trade's size
        self.prices = prices  # a quote's bid and ask (a trade: None)

    def rows(self) -> Iterator[tuple[object, Quote | Trade, Instrument]]:
        return zip(self.keys, self.ticks, repeat(self.inst))

    def passes(self, after_ns: int) -> bool:
        """No row is earlier than ``after_ns`` or the row before it, or breaks a value
        rule of :func:`row_problem` (its columns hold no ``None``)."""
        ts = self.ts
        if ts[0] < after_ns or not all(map(le, ts, islice(ts, 1, None))):
            return False
        if min(map(min, self.sizes)) <= 0:
            return False
        return self.prices is None or all(map(le, *self.prices))


#: What :meth:`TickChecks.chunks` takes: column batches, or rows read one by one.
Batch = ColumnBatch | Iterable[tuple[Any, Quote | Trade, Instrument]]


@final
class TickChecks:
    """The row rules of the module doc, applied to a stream of ``(where, tick, instrument)``.

    ``sort=True`` reads everything, drops broken rows first (or raises), then sorts by
    time (stable) and counts the rows that were out of order in :attr:`reordered`.
    """

    __slots__ = ("examples", "keep_examples", "lenient", "problems", "reordered", "sort")

    def __init__(self, *, lenient: bool = False, sort: bool = False, keep_examples: int = 20):
        self.lenient = lenient
        self.sort = sort
        self.keep_examples = keep_examples
        self.problems: dict[str, int] = {}  # code -> rows skipped (lenient only)
        self.examples: list[str] = []  # the first skipped rows, ``file:line.field: message``
        self.reordered = 0  # rows that were earlier than a row before them (sort only)

    @property
    def skipped(self) -> int:
        return sum(self.problems.values())

    def summary(self) -> TickCheckSummary:
        return TickCheckSummary(
            sorted=self.sort,
            reordered=self.reordered,
            lenient=self.lenient,
            skipped=dict(self.problems),
            examples=tuple(self.examples),
        )

    def apply(
        self,
        rows: Iterable[tuple[Place, Record, Instrument]],
        *,
        where: Callable[[Place], str] | None = None,
    ) -> Iterator[Record]:
        """The ticks that pass, in time order; raises :class:`ConfigError` on the first
        broken row unless lenient.

        A row's first item is its ``file:line`` text, or with ``where`` a key that
        ``where`` turns into that text, only for a message (a reader then makes none for
        the rows that pass).
        """
        place: Callable[[Any], str] = where if where is not None else str
        if self.sort:
            return iter(self._sorted(rows, place))
        return chain.from_iterable(self._in_order((rows,), place))  # type: ignore[arg-type]

    def chunks(
        self, batches: Iterable[Batch], *, where: Callable[[Any], str] | None = None
    ) -> Iterator[Sequence[Quote | Trade]]:
        """:meth:`apply` on a reader's batches, a batch at a time: the ticks of each batch
        that pass, as a list (a :class:`ColumnBatch` whose rows break no rule passes whole:
        its own list; any other batch is checked row by row, in file order), so a replay
        takes a batch with one loop instead of resuming a generator per tick. A broken row
        (or one the reader refuses) is raised after the ticks before it were given."""
        place: Callable[[Any], str] = where if where is not None else str
        if self.sort:
            rows = chain.from_iterable(
                b.rows() if isinstance(b, ColumnBatch) else b for b in batches
            )
            return iter((self._sorted(rows, place),))
        return self._in_order(batches, place)

    def _in_order(
        self, batches: Iterable[Batch], place: Callable[[Any], str]
    ) -> Iterator[Sequence[Any]]:
        last_ts: int = -1
        last: object = ""
        problem = row_problem
        for batch in batches:
            if isinstance(batch, ColumnBatch) and batch.passes(last_ts):
                yield batch.ticks
                last_ts, last = batch.ts[-1], batch.keys[-1]
                continue
            rows = batch.rows() if isinstance(batch, ColumnBatch) else batch
            kept: list[Any] = []
            try:
                for key, tick, instrument in rows:
                    if tick.ts_ns < last_ts:
                        raise ConfigError(
                            f"earlier than line {_line(place(last))} ({tick.ts_ns} < {last_ts}):"
                            " the rows must be in time order (sort the file, or pass --sort)",
                            path=f"{place(key)}.ts_ns",
                        )
                    last_ts, last = tick.ts_ns, key
                    if problem(tick, instrument) is None or self._valid(
                        place(key), tick, instrument
                    ):
                        kept.append(tick)
                        if len(kept) == _ROWS:
                            yield kept
                            kept = []
            except Exception:
                if kept:  # the rows before the broken one come first, as row by row
                    yield kept
                raise
            if kept:
                yield kept

    def _sorted(
        self, rows: Iterable[tuple[Place, Record, Instrument]], place: Callable[[Any], str]
    ) -> list[Record]:
        kept: list[Record] = []
        high = -1
        for key, tick, instrument in rows:
            if tick.ts_ns < high:
                self.reordered += 1
            high = max(high, tick.ts_ns)
            if row_problem(tick, instrument) is None or self._valid(place(key), tick, instrument):
                kept.append(tick)
        kept.sort(key=_ts)
        return kept

    def _valid(self, where: str, tick: Quote | Trade | RecordedBar, instrument: Instrument) -> bool:
        found = row_problem(tick, instrument)
        if found is None:
            return True
        code, field, message = found
        if not self.lenient:
            raise ConfigError(
                f"{message} (recorded data with such rows: pass --lenient to skip and count them)",
                path=f"{where}.{field}",
            )
        self.problems[code] = self.problems.get(code, 0) + 1
        if len(self.examples) < self.keep_examples:
            self.examples.append(f"{where}.{field}: {message}")
        return False


def _ts(tick: Quote | Trade | RecordedBar) -> int:
    return tick.ts_ns


def _line(where: str) -> str:
    return where.rpartition(":")[2] or where


def row_problem(tick: Quote | Trade | RecordedBar, inst: Instrument) -> tuple[str, str, str] | None:
    """``(code, field, message)`` of the first rule ``tick`` breaks, or ``None``."""
    if type(tick) is not Quote:  # a quote first: the rows of a replay are mostly quotes
        if isinstance(tick, RecordedBar):
            return bar_problem(tick, inst)
        if isinstance(tick, Trade):
            if tick.size <= 0:
                return "bad_size", "size", f"a trade's size must be > 0, got {tick.size}"
            return None
    if tick.bid is None or tick.ask is None:
        side = "bid" if tick.bid is None else "ask"
        return "one_sided_quote", side, f"a quote needs a bid and an ask; the {side} is empty"
    if tick.bid_size <= 0:
        return "bad_size", "bid_size", f"bid_size must be > 0, got {tick.bid_size}"
    if tick.ask_size <= 0:
        return "bad_size", "ask_size", f"ask_size must be > 0, got {tick.ask_size}"
    if tick.bid > tick.ask:
        bid, ask = inst.to_price(tick.bid), inst.to_price(tick.ask)
        return "crossed_quote", "ask", f"crossed quote: bid {bid} is above ask {ask}"
    return None
