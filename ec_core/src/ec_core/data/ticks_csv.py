"""Recorded ticks as CSV: the one reader and writer of the format, for ``ec replay`` and ec-mock.

::

    ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor
    1704898800000000000,EP,quote,,,4500.00,12,4500.25,9,
    1704898800100000000,EP,trade,4500.25,3,,,,,BUY

UTF-8 (a byte-order mark, as spreadsheets write one, is skipped). One tick per row, header
required: ``ts_ns``, ``symbol`` and ``kind`` always, and
the columns the rows' kinds read (a quote: ``bid,bid_size,ask,ask_size``; a trade:
``price,size``). ``ts_ns`` is nanoseconds since the epoch or an ISO 8601 time with a
zone. Prices are decimals in the instrument's units, converted exactly to ticks: a
price off the grid, an unknown symbol or a bad field is a
:class:`~ec_core.errors.ConfigError` naming the row and column (``ticks.csv:2.bid``).
``aggressor`` is ``BUY``, ``SELL`` or empty.

:func:`read_ticks` with ``checks=`` also applies the row rules of
:mod:`ec_core.data.tick_checks` (time order, two-sided uncrossed quotes, positive
sizes), as ``ec replay`` does.

The same columns in a Parquet or Arrow IPC file (``.parquet``, ``.arrow``...; the
optional extra ``ec-core[parquet]``) are read and written through
:mod:`ec_core.data.ticks_arrow`, column by column, and each row goes through the same
parser (:mod:`ec_core.data.tick_parser`) and checks.

A replay reads every row, so the reader does no per-row work it can skip: ``csv.reader``
with the header's column indices resolved once, rows taken a chunk at a time and, when a
chunk's rows are plain ones of one kind and symbol, converted whole columns at once
(:mod:`ec_core.data.tick_columns`) and checked with a few whole-column comparisons; any
other chunk row by row, prices converted to ticks with integers when they are plain
decimals. Both ways read the same ticks and name the same first bad row, and the
``file:line`` of a row is made only for an error. With pyarrow installed, a file of a
megabyte or more whose every line is one row (no quote character, NUL, blank line or lone
carriage return) is read by pyarrow's CSV reader into the same chunks
(:class:`~ec_core.data.ticks_arrow.ArrowCsv`); where it stops, ``csv.reader`` goes on.

Sizes and ``ts_ns`` are whole numbers in ASCII digits (``int()`` would also read
``1_000`` and other scripts' digits) within 64 bits.

The format lives in ec-core because both sides need it: a replay reads it without
importing any vendor, and ec-mock records simulator runs with :func:`write_ticks`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path
from typing import Protocol

from ec_core.data.tick_checks import Batch, ColumnBatch, TickChecks, TickRow
from ec_core.data.tick_parser import (
    BadCell,
    PriceGrid,
    TickParser,
    cell_text,
    column_index,
    integer,
    price_ticks,
    timestamp,
)
from ec_core.data.ticks_arrow import ArrowCsv, ArrowRows, arrow_columns, is_arrow, write_arrow
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Trade

__all__ = [
    "BAR_FIELDS",
    "TICK_FIELDS",
    "cell_int",
    "cell_ticks",
    "cell_ts_ns",
    "is_bar_file",
    "is_bar_header",
    "read_symbols",
    "read_tick_chunks",
    "read_tick_rows",
    "read_ticks",
    "record_rows",
    "row_instrument",
    "write_ticks",
]

TICK_FIELDS = (
    "ts_ns",
    "symbol",
    "kind",
    "price",
    "size",
    "bid",
    "bid_size",
    "ask",
    "ask_size",
    "aggressor",
)
_REQUIRED = frozenset({"ts_ns", "symbol", "kind"})
#: The columns of a bar file (:mod:`ec_core.data.ohlcv_file`), all required.
BAR_FIELDS = ("ts_ns", "symbol", "open", "high", "low", "close", "volume")

InstrumentLookup = Callable[[str], Instrument | None]
#: CSV rows converted together (a few hundred: the chunk's columns stay in the CPU's cache).
_CHUNK = 256
#: From this size a CSV is read by pyarrow's CSV reader when installed (a smaller file
#: is read before pyarrow would be imported).
_ARROW_FROM = 1 << 20
#: A chunk of rows: their numbers, the rows, and their cells column by column when every
#: row is a full one (no blank line, no short row), for :meth:`TickParser.batch`.
Chunk = tuple[Sequence[int], Iterable[Sequence[object]], Sequence[Sequence[object]] | None]


def is_bar_header(columns: Iterable[str]) -> bool:
    """A header with ``open`` and no ``kind``: a file of OHLCV bars, not of ticks."""
    have = set(columns)
    return "open" in have and "kind" not in have


def is_bar_file(path: str | Path) -> bool:
    """Whether the file's header is that of OHLCV bars (:func:`is_bar_header`)."""
    target = Path(path)
    if is_arrow(target):
        return is_bar_header(arrow_columns(target))
    try:
        with target.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except FileNotFoundError:
        raise ConfigError("tick file not found", file=str(target)) from None
    return is_bar_header(h.strip() for h in header)


class _Numbered(Protocol):
    line_num: int  # the row last read: its line (CSV) or row number (Parquet, Arrow)


@contextlib.contextmanager
def _source(
    path: Path, bars: bool | None, *, only: Sequence[str] | None = None
) -> Iterator[tuple[list[str], Iterator[Sequence[object]], _Numbered]]:
    """The columns once the header passed :func:`_header_checked`, the rows (a blank CSV
    line is an empty row: no row) and what numbers the row last read. ``only``: the
    columns the caller reads (a Parquet or Arrow file converts just those)."""
    if is_arrow(path):
        rows = ArrowRows(path, only=only)
        yield _header_checked(path, [str(c) for c in rows.columns], bars), iter(rows), rows
        return
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("tick file not found", file=str(path)) from None
    with handle:
        reader = csv.reader(handle)
        try:  # the caller's rows are read here: a bad line is the file's error, named
            yield _header_checked(path, next(reader, []), bars), reader, reader
        except csv.Error as exc:
            raise ConfigError(f"not a CSV row: {exc}", path=_where(path, reader.line_num)) from None
        except UnicodeDecodeError as exc:
            byte = exc.object[exc.start : exc.start + 1].hex()
            raise ConfigError(
                f"a tick file must be UTF-8 text: byte 0x{byte} cannot be decoded"
                f" (after line {reader.line_num})",
                path=path.name,
            ) from None


def _where(path: Path, number: int) -> str:
    """``file:line`` (CSV) or ``file:row N`` (Parquet, Arrow IPC), for messages."""
    return f"{path.name}:row {number}" if is_arrow(path) else f"{path.name}:{number}"


def _header_checked(path: Path, columns: list[str], bars: bool | None) -> list[str]:
    """``bars``: the file must hold bars (True), ticks (False) or either (None)."""
    if not any(c.strip() for c in columns):  # not "missing columns": there is no header
        raise ConfigError(
            "the file is empty: it needs a header line (ticks: ts_ns,symbol,kind,price,size,"
            "bid,bid_size,ask,ask_size,aggressor; bars: ts_ns,symbol,open,high,low,close,volume)"
            " and rows",
            path=f"{path.name}:1",
        )
    if bars is not None and bars != is_bar_header(columns):
        held, flag = ("OHLCV bars", "--bars") if not bars else ("ticks", "--ticks")
        raise ConfigError(
            f"this file holds {held} (its header), not {'bars' if bars else 'ticks'}:"
            f" read it with {flag}",
            path=f"{path.name}:1",
        )
    if is_bar_header(columns):
        lacking = [c for c in BAR_FIELDS if c not in set(columns)]
        if lacking:
            raise ConfigError(
                f"a bar file needs the column(s) {', '.join(lacking)}", path=f"{path.name}:1"
            )
        return columns
    missing = _REQUIRED - set(columns)
    if missing:
        raise ConfigError(f"missing column(s) {sorted(missing)}", path=f"{path.name}:1")
    return columns


def record_rows(path: Path, *, bars: bool | None = False) -> Iterator[tuple[str, dict[str, str]]]:
    """``(where, row)`` per data row, ``where`` being ``file:line`` (CSV) or ``file:row N``
    (Parquet, Arrow IPC: :mod:`ec_core.data.ticks_arrow`) for error messages, every cell
    as stripped text (the bar reader's way; ticks go through :func:`read_tick_rows`).

    The columns a row's kind needs are checked at the first row of that kind: a missing
    ``bid_size`` column is an error, never a silent zero.
    """
    with _source(path, bars) as (columns, rows, at):
        kinds = None if is_bar_header(columns) else TickParser(columns, _no_instrument)
        for row in rows:
            if not row:
                continue
            if kinds is not None:
                _checked(kinds, row, path, at.line_num)
            yield _where(path, at.line_num), dict(zip(columns, map(cell_text, row), strict=False))


def _no_instrument(symbol: str) -> None:
    return None


def _checked(kinds: TickParser, row: Sequence[object], path: Path, number: int) -> None:
    """The row's kind has its columns (:meth:`TickParser.kind_checked`), else an error."""
    try:
        kinds.kind_checked(row[kinds.kind_at] if kinds.kind_at < len(row) else "")
    except BadCell as bad:
        raise _named(bad, path, number) from None


def read_symbols(path: str | Path) -> list[str]:
    """The symbols of a tick file, in order of first appearance (to resolve them first).

    The symbol and kind cells are gathered without a Python step per row; a short row or
    a kind whose columns the header lacks sends the file through the row-by-row read,
    which names the row."""
    target = Path(path)
    try:
        seen = _symbol_cells(target)
    except (IndexError, BadCell):
        seen = _symbol_cells_by_row(target)
    symbols = dict.fromkeys(cell_text(s) for s in seen)
    return [s for s in symbols if s]


def _symbol_cells(path: Path) -> Iterable[object]:
    with _source(path, None, only=("kind", "symbol")) as (columns, rows, _):
        symbol_at = column_index(columns)["symbol"]
        if is_bar_header(columns):
            return dict.fromkeys(map(itemgetter(symbol_at), filter(None, rows)))
        kinds = TickParser(columns, _no_instrument)
        pairs = dict.fromkeys(map(itemgetter(kinds.kind_at, symbol_at), filter(None, rows)))
    for kind in dict.fromkeys(kind for kind, _ in pairs):
        kinds.kind_checked(kind)
    return dict.fromkeys(symbol for _, symbol in pairs)


def _symbol_cells_by_row(path: Path) -> Iterable[object]:
    seen: dict[object, None] = {}
    with _source(path, None) as (columns, rows, numbered):
        kinds = None if is_bar_header(columns) else TickParser(columns, _no_instrument)
        at = column_index(columns)["symbol"]
        for row in rows:
            if not row:
                continue
            if kinds is not None:
                _checked(kinds, row, path, numbered.line_num)
            seen.setdefault(row[at] if at < len(row) else "", None)
    return seen


def read_ticks(
    path: str | Path,
    instrument: InstrumentLookup | Mapping[str, Instrument],
    *,
    checks: TickChecks | None = None,
) -> Iterator[Quote | Trade]:
    """The ticks of ``path``, read lazily: in file order, or as ``checks`` pass them.

    ``instrument`` gives each symbol's tick grid: a ``symbol -> Instrument | None``
    function or a mapping.
    """
    if checks is not None:
        return chain.from_iterable(read_tick_chunks(path, instrument, checks=checks))
    return (tick for _, tick, _ in _rows_of(_tick_batches(Path(path), instrument)))


def read_tick_chunks(
    path: str | Path,
    instrument: InstrumentLookup | Mapping[str, Instrument],
    *,
    checks: TickChecks,
) -> Iterator[Sequence[Quote | Trade]]:
    """:func:`read_ticks` with ``checks``, a chunk of ticks at a time (lists, lazily): what
    ``ec replay`` reads, so a tick costs one step of a list's iterator instead of a
    generator step per layer (:meth:`TickChecks.chunks
    <ec_core.data.tick_checks.TickChecks.chunks>`)."""
    target = Path(path)
    return checks.chunks(_tick_batches(target, instrument), where=partial(_where, target))


def read_tick_rows(
    path: str | Path, instrument: InstrumentLookup | Mapping[str, Instrument]
) -> Iterator[TickRow]:
    """``(where, tick, instrument)`` per row, lazily, with no row rules applied (for
    :mod:`ec_core.data.tick_checks` and :func:`~ec_core.data.tick_summary.summarize_ticks`)."""
    target = Path(path)
    rows = _rows_of(_tick_batches(target, instrument))
    return ((_where(target, n), tick, inst) for n, tick, inst in rows)


def _rows_of(batches: Iterable[Batch]) -> Iterator[tuple[int, Quote | Trade, Instrument]]:
    return chain.from_iterable(b.rows() if isinstance(b, ColumnBatch) else b for b in batches)


def _tick_batches(
    path: Path, instrument: InstrumentLookup | Mapping[str, Instrument]
) -> Iterator[Batch]:
    """The file's rows a chunk at a time: converted whole columns at once when the chunk
    allows it (:meth:`TickParser.batch`), else row by row, lazily, each row's where made
    only for an error (so the first bad row is named as a row-by-row read names it)."""
    lookup = instrument.get if isinstance(instrument, Mapping) else instrument
    with _source(path, False) as (columns, rows, at):
        parser = TickParser(columns, lookup)
        chunks = (
            _arrow_chunks(at.chunks())
            if isinstance(at, ArrowRows)
            else _csv_file_chunks(path, columns, rows, at)  # type: ignore[arg-type]
        )
        for numbers, chunk, cells in chunks:
            batch = None if cells is None else parser.batch(cells, numbers)
            yield batch if batch is not None else _parsed(parser, path, numbers, chunk)


def _parsed(
    parser: TickParser, path: Path, numbers: Sequence[int], rows: Iterable[Sequence[object]]
) -> Iterator[tuple[int, Quote | Trade, Instrument]]:
    """``(number, tick, instrument)`` per row, parsed one by one (a blank line: no row)."""
    parse = parser.parse
    for number, row in zip(numbers, rows, strict=True):
        if not row:
            continue
        try:
            tick, inst = parse(row)
        except BadCell as bad:
            raise _named(bad, path, number) from None
        yield number, tick, inst


def _arrow_chunks(chunks: Iterable[tuple[range, list[list[object]]]]) -> Iterator[Chunk]:
    return ((numbers, zip(*cells, strict=True), cells) for numbers, cells in chunks)


def _csv_file_chunks(
    path: Path, columns: Sequence[str], rows: Iterator[list[str]], at: _Numbered
) -> Iterator[Chunk]:
    """A CSV's rows after the header: read by pyarrow (installed, a file of a megabyte or
    more, one row a line: :func:`_one_row_a_line`) until it stops, then by ``csv.reader``."""
    if path.stat().st_size >= _ARROW_FROM and ArrowCsv.available() and _one_row_a_line(path):
        fast = ArrowCsv(path, columns, at.line_num)
        yield from _arrow_chunks(fast.chunks())
        if fast.complete:
            return
        deque(islice(rows, fast.given), maxlen=0)  # the rows pyarrow gave
    yield from _csv_chunks(rows, at, len(columns))


def _one_row_a_line(path: Path) -> bool:
    """No quote character (so no quoted comma or line break), NUL, blank line or lone
    carriage return: every line is one row, split at each comma by csv and pyarrow alike."""
    tail = b""
    returns = pairs = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            window = tail + block
            if b'"' in block or b"\0" in block or b"\n\n" in window or b"\n\r\n" in window:
                return False
            if b"\r" in window:  # Windows line ends: each a pair
                returns += block.count(b"\r")
                pairs += window[len(tail) - 1 :].count(b"\r\n") if tail else block.count(b"\r\n")
            tail = window[-2:]
    return returns == pairs


def _csv_chunks(rows: Iterator[list[str]], at: _Numbered, width: int) -> Iterator[Chunk]:
    """The CSV's rows :data:`_CHUNK` at a time. A line csv cannot read ends the rows
    after the ones before it are given (a row-by-row read meets them first)."""
    while True:
        start = at.line_num
        chunk: list[list[str]] = []
        failure: Exception | None = None
        try:
            chunk.extend(islice(rows, _CHUNK))  # keeps the rows read before a failure
        except (csv.Error, UnicodeDecodeError) as exc:
            failure = exc
        if chunk:
            if at.line_num - start == len(chunk):  # one line a row: no quoted line break
                numbers: Sequence[int] = range(start + 1, at.line_num + 1)
            else:
                numbers = _line_numbers(start, chunk)
            full = min(map(len, chunk)) >= width  # no blank line or short row
            yield numbers, chunk, list(zip(*chunk, strict=False)) if full else None
        if failure is not None:
            raise failure
        if len(chunk) < _CHUNK:
            return


def _line_numbers(start: int, rows: Sequence[Sequence[str]]) -> list[int]:
    """The line each row ends on (``csv.reader``'s ``line_num`` after it), counting the
    line breaks kept inside quoted cells (``\n``, ``\r\n`` or ``\r``: one line each)."""
    numbers = []
    line = start
    for row in rows:
        breaks = sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in row)
        line += 1 + breaks
        numbers.append(line)
    return numbers


def _named(bad: BadCell, path: Path, number: int) -> ConfigError:
    where = _where(path, number)
    return ConfigError(bad.message, path=f"{where}.{bad.column}" if bad.column else where)


def row_instrument(row: Mapping[str, str], lookup: InstrumentLookup, where: str) -> Instrument:
    """The instrument of the row's ``symbol``; a :class:`ConfigError` naming it when unknown."""
    symbol = row.get("symbol", "")
    inst = lookup(symbol)
    if inst is None:
        raise ConfigError(
            f"unknown instrument {symbol!r} (not listed on the venue)", path=f"{where}.symbol"
        )
    return inst


def cell_ticks(row: Mapping[str, str], column: str, inst: Instrument, where: str) -> int | None:
    """The price in ``column`` as ticks of ``inst`` (``None`` when empty); a
    :class:`ConfigError` naming ``where.column`` when it is not a decimal on the grid."""
    try:
        return price_ticks(_grid(inst), column, row.get(column, ""))
    except BadCell as bad:
        raise ConfigError(bad.message, path=f"{where}.{column}") from None


@functools.lru_cache(maxsize=64)
def _grid(inst: Instrument) -> PriceGrid:
    return PriceGrid(inst)


def cell_int(row: Mapping[str, str], column: str, where: str) -> int:
    """The integer in ``column`` (0 when empty); a :class:`ConfigError` naming it otherwise."""
    try:
        return integer(column, row.get(column, ""))
    except BadCell as bad:
        raise ConfigError(bad.message, path=f"{where}.{column}") from None


def cell_ts_ns(row: Mapping[str, str], where: str) -> int:
    """``ts_ns`` of the row (:func:`~ec_core.data.tick_checks.parse_ts_ns`)."""
    try:
        return timestamp(row.get("ts_ns", ""))
    except BadCell as bad:
        raise ConfigError(bad.message, path=f"{where}.ts_ns") from None


def write_ticks(
    path: str | Path, ticks: Iterable[Quote | Trade], instruments: Iterable[Instrument]
) -> int:
    """Write ``ticks`` in the format :func:`read_ticks` reads (CSV, or Parquet / Arrow IPC
    by the file's suffix); return how many were written.

    Raises :class:`ConfigError` for a tick whose symbol is not in ``instruments``.
    """
    table = {i.symbol: i for i in instruments}
    target = Path(path)

    def rows() -> Iterator[tuple[object, ...]]:
        for count, tick in enumerate(ticks):
            inst = table.get(tick.symbol)
            if inst is None:
                raise ConfigError(f"unknown instrument {tick.symbol!r}", path=f"ticks[{count}]")
            yield _row(tick, inst)

    if is_arrow(target):
        return write_arrow(target, TICK_FIELDS, rows())
    count = 0
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TICK_FIELDS)
        for row in rows():
            writer.writerow(row)
            count += 1
    return count


def _row(tick: Quote | Trade, inst: Instrument) -> tuple[object, ...]:
    def price(value: int | None) -> str:
        return "" if value is None else str(inst.to_price(value))

    if isinstance(tick, Quote):
        return (
            tick.ts_ns, tick.symbol, "quote", "", "",
            price(tick.bid), tick.bid_size, price(tick.ask), tick.ask_size, "",
        )  # fmt: skip
    return (
        tick.ts_ns, tick.symbol, "trade", price(tick.price), tick.size,
        "", "", "", "", tick.aggressor.value if tick.aggressor else "",
    )  # fmt: skip
