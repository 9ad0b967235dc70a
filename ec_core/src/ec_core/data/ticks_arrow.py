"""Recorded ticks in Parquet or Arrow IPC files: the CSV's columns, read in batches.

The optional extra ``ec-core[parquet]`` brings pyarrow; without it, opening such a
file is a :class:`~ec_core.errors.ConfigError` saying what to install. The columns are
those of the CSV format (:data:`~ec_core.data.ticks_csv.TICK_FIELDS`); prices may be
strings, decimals or floats (a float must still be on the instrument's tick grid),
``ts_ns`` an integer (nanoseconds) or an ISO 8601 string. Each batch is read column by
column, a few thousand rows at a time (one ``to_pylist`` per column, integers kept as
ints, text as text), and goes through the same parser and checks as a CSV chunk
(:mod:`ec_core.data.tick_parser`, :mod:`ec_core.data.tick_columns`), rows named
``file:row N``. A file pyarrow cannot read, at its opening or at a later batch (damaged,
cut short), is a :class:`~ec_core.errors.ConfigError` naming it.
Several instruments in one file are read interleaved by time, as in a CSV.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, final

from ec_core.data.tick_parser import cell_text, column_index
from ec_core.errors import ConfigError

__all__ = ["ARROW_SUFFIXES", "ArrowCsv", "ArrowRows", "arrow_columns", "is_arrow", "write_arrow"]

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
ARROW_SUFFIXES = PARQUET_SUFFIXES | {".arrow", ".feather", ".ipc"}
_BATCH = 65_536
#: Rows converted together: a Parquet batch is sliced so a chunk's columns stay in cache.
_CHUNK = 2048


def is_arrow(path: Path) -> bool:
    return path.suffix.lower() in ARROW_SUFFIXES


def _pyarrow(path: Path) -> Any:
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        raise ConfigError(
            "reading or writing Parquet/Arrow tick files needs pyarrow:"
            " pip install 'ec-core[parquet]'",
            file=str(path),
        ) from None
    return pyarrow


#: Integer columns read as Python ints (the rest of the format is text).
_INTEGERS = frozenset({"ts_ns", "size", "bid_size", "ask_size", "volume"})


def arrow_columns(path: Path) -> list[str]:
    """The column names of a Parquet or Arrow IPC file."""
    return _open(path)[0]


@final
class ArrowRows:
    """The rows of a Parquet or Arrow IPC file as cell tuples, read column by column per
    batch; :attr:`line_num` is the number of the last row given (as ``csv.reader``'s).

    A cell is what the CSV reader would read in its place (:mod:`ec_core.data.tick_parser`):
    text (``""`` for a missing value, a float by its ``repr``), or a Python int for an
    integer ``ts_ns``, size or volume column without missing values (``ts_ns`` also none
    negative: those are refused with the text's message).
    """

    __slots__ = ("_batches", "_errors", "_path", "_read", "columns", "line_num")

    def __init__(self, path: Path, *, only: Iterable[str] | None = None) -> None:
        """``only``: read just these columns (the last of a name); the others' cells are
        empty, so a row keeps the header's indices."""
        self.columns, self._batches = _open(path)
        self._path = path
        self._errors = (_pyarrow(path).ArrowException, OSError, UnicodeDecodeError)
        self.line_num = 0
        index = column_index(self.columns)
        self._read = None if only is None else frozenset(index[n] for n in only if n in index)

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        for _, cells in self._parts():
            for row in zip(*cells, strict=True):
                self.line_num += 1
                yield row

    def chunks(self) -> Iterator[tuple[range, list[list[object]]]]:
        """The rows a few thousand at a time: their numbers and their cells column by
        column (a column not read: empty cells); :attr:`line_num` is the chunk's last."""
        for numbers, cells in self._parts():
            self.line_num = numbers[-1]
            yield numbers, cells

    def _parts(self) -> Iterator[tuple[range, list[list[object]]]]:
        number = self.line_num
        for batch in self._checked(self._batches):
            yield from _sliced(batch, self.columns, number, self._converted, self._read)
            number += batch.num_rows

    def _checked(self, batches: Iterable[Any]) -> Iterator[Any]:
        """The batches; one pyarrow cannot read (damaged or cut short after the part
        that opened) is a :class:`ConfigError` naming the file."""
        try:
            yield from batches
        except self._errors as exc:
            raise self._unreadable(exc) from None

    def _converted(self, name: str, column: Any) -> list[object]:
        try:
            return _column(name, column)
        except self._errors as exc:  # bytes that are not the text they claim
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: Exception) -> ConfigError:
        kind = "Parquet" if self._path.suffix.lower() in PARQUET_SUFFIXES else "Arrow IPC"
        return ConfigError(
            f"not a readable {kind} file (after row {self.line_num}): {exc}", path=self._path.name
        )


@final
class ArrowCsv:
    """A CSV tick file read by pyarrow's CSV reader when pyarrow is installed: the rows
    a few thousand at a time, cells as :class:`ArrowRows` gives them, row ``N`` on line
    ``N`` (the caller hands over only files where a row is a line: no quote character, no
    blank line, no lone carriage return, no NUL).

    pyarrow stops at what it cannot read as such a file (a row of another width, bytes
    that are not UTF-8, a cell past csv's field limit): :attr:`complete` stays False and
    :attr:`given` says how many rows were given, so ``csv.reader`` takes over from the
    next row and reads or names it as it always did.
    """

    __slots__ = ("_columns", "_first", "_path", "complete", "given")

    def __init__(self, path: Path, columns: Sequence[str], first_line: int) -> None:
        self._path = path
        self._columns = list(columns)
        self._first = first_line  # the header's last line
        self.complete = False
        self.given = 0

    @staticmethod
    def available() -> bool:
        """Whether pyarrow is installed (found, not imported)."""
        return importlib.util.find_spec("pyarrow") is not None

    def chunks(self) -> Iterator[tuple[range, list[list[object]]]]:
        import csv

        try:
            import pyarrow.csv
        except ImportError:
            return
        pa, names = pyarrow, [f"c{i}" for i in range(len(self._columns))]
        errors = (pa.ArrowException, OSError, ValueError)
        limit = csv.field_size_limit()
        try:
            batches = pa.csv.open_csv(
                str(self._path),
                read_options=pa.csv.ReadOptions(
                    column_names=names, skip_rows=1, use_threads=False, block_size=1 << 20
                ),
                parse_options=pa.csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
                convert_options=pa.csv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
                ),
            )
        except errors:
            return
        number = self._first
        while True:
            try:
                batch = batches.read_next_batch()
            except StopIteration:
                self.complete = True
                return
            except errors:
                return
            if any(_longest(batch.column(i)) > limit for i in range(batch.num_columns)):
                return  # csv.reader refuses such a cell: it names the line
            for numbers, cells in _sliced(batch, self._columns, number, _column):
                yield numbers, cells
                self.given += len(numbers)
            number += batch.num_rows


def _sliced(
    batch: Any,
    columns: Sequence[str],
    before: int,
    convert: Callable[[str, Any], list[object]],
    read: frozenset[int] | None = None,
) -> Iterator[tuple[range, list[list[object]]]]:
    """``batch`` :data:`_CHUNK` rows at a time: their numbers (after ``before``) and their
    cells column by column (a column not in ``read``: empty cells)."""
    for start in range(0, batch.num_rows, _CHUNK):
        part = batch.slice(start, _CHUNK)
        size = part.num_rows
        cells: list[list[object]] = [
            convert(name, part.column(i)) if read is None or i in read else [""] * size
            for i, name in enumerate(columns)
        ]
        yield range(before + start + 1, before + start + size + 1), cells


def _longest(column: Any) -> int:
    import pyarrow.compute

    longest = pyarrow.compute.max(pyarrow.compute.binary_length(column)).as_py()
    return int(longest or 0)


def _open(path: Path) -> tuple[list[str], Iterable[Any]]:
    pa = _pyarrow(path)
    if not path.exists():
        raise ConfigError("tick file not found", file=str(path))
    is_parquet = path.suffix.lower() in PARQUET_SUFFIXES
    try:
        if is_parquet:
            parquet = pa.parquet.ParquetFile(str(path))
            return list(parquet.schema_arrow.names), parquet.iter_batches(batch_size=_BATCH)
        reader = pa.ipc.open_file(str(path))
    except pa.ArrowException as exc:  # not the format its name says, or truncated
        kind = "Parquet" if is_parquet else "Arrow IPC"
        raise ConfigError(f"not a readable {kind} file: {exc}", path=path.name) from None
    batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
    return list(reader.schema.names), batches


def _unsigned(name: str, column: Any) -> bool:
    """``ts_ns`` is kept as ints only when none is negative (those read as refused text)."""
    import pyarrow.compute

    return name != "ts_ns" or not len(column) or pyarrow.compute.min(column).as_py() >= 0


def _digits(column: Any) -> bool:
    """A text column whose every cell is ASCII digits (no sign, space or empty cell)."""
    import pyarrow
    import pyarrow.compute

    if not (pyarrow.types.is_string(column.type) or pyarrow.types.is_large_string(column.type)):
        return False
    if column.null_count or not len(column):
        return False
    return bool(pyarrow.compute.all(pyarrow.compute.ascii_is_decimal(column)).as_py())


def _column(name: str, column: Any) -> list[object]:
    import pyarrow
    import pyarrow.compute

    kind = column.type
    if name in _INTEGERS and _digits(column):  # text of plain digits within 64 bits: ints
        try:
            return pyarrow.compute.cast(column, pyarrow.int64()).to_pylist()  # type: ignore[no-any-return]
        except pyarrow.ArrowInvalid:  # past 64 bits: as text, refused with the rule
            pass
    if pyarrow.types.is_integer(kind):
        if name in _INTEGERS and not column.null_count and _unsigned(name, column):
            return column.to_pylist()  # type: ignore[no-any-return]
        column = pyarrow.compute.cast(column, pyarrow.string())
        kind = column.type
    if pyarrow.types.is_string(kind) or pyarrow.types.is_large_string(kind):
        return pyarrow.compute.fill_null(column, "").to_pylist()  # type: ignore[no-any-return]
    return [cell_text(value) for value in column.to_pylist()]


def write_arrow(path: Path, fields: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write ``rows`` (values in ``fields`` order) as Parquet or Arrow IPC by suffix:
    ``ts_ns`` and sizes as integers, prices as decimal strings (exact)."""
    pa = _pyarrow(path)
    integers = {"ts_ns", "size", "bid_size", "ask_size"}
    columns: dict[str, list[object]] = {name: [] for name in fields}
    count = 0
    for row in rows:
        for name, value in zip(fields, row, strict=True):
            if name in integers:
                columns[name].append(int(value) if value != "" else None)  # type: ignore[call-overload]
            else:
                columns[name].append(str(value))
        count += 1
    schema = pa.schema([(name, pa.int64() if name in integers else pa.string()) for name in fields])
    table = pa.table(columns, schema=schema)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        pa.parquet.write_table(table, str(path))
    else:
        with pa.ipc.new_file(str(path), schema) as writer:
            writer.write_table(table)
    return count
