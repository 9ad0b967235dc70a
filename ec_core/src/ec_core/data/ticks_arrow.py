"""Recorded ticks in Parquet or Arrow IPC files: the CSV's columns, read in batches.

The optional extra ``ec-core[parquet]`` brings pyarrow; without it, opening such a
file is a :class:`~ec_core.errors.ConfigError` saying what to install. The columns are
those of the CSV format (:data:`~ec_core.data.ticks_csv.TICK_FIELDS`); prices may be
strings, decimals or floats (a float must still be on the instrument's tick grid),
``ts_ns`` an integer (nanoseconds) or an ISO 8601 string. Each batch is read column by
column (one ``to_pylist`` per column, integers kept as ints, text as text), and each row
goes through the same parser and checks as a CSV row (:mod:`ec_core.data.tick_parser`),
named ``file:row N``.
Several instruments in one file are read interleaved by time, as in a CSV.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any, final

from ec_core.data.tick_parser import cell_text
from ec_core.errors import ConfigError

__all__ = ["ARROW_SUFFIXES", "ArrowRows", "arrow_columns", "is_arrow", "write_arrow"]

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
ARROW_SUFFIXES = PARQUET_SUFFIXES | {".arrow", ".feather", ".ipc"}
_BATCH = 65_536


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

    __slots__ = ("_batches", "_read", "columns", "line_num")

    def __init__(self, path: Path, *, only: Iterable[str] | None = None) -> None:
        """``only``: read just these columns (the last of a name); the others' cells are
        empty, so a row keeps the header's indices."""
        self.columns, self._batches = _open(path)
        self.line_num = 0
        names = list(self.columns)
        self._read = (
            None
            if only is None
            else frozenset(len(names) - 1 - names[::-1].index(n) for n in only if n in names)
        )

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        columns, read = self.columns, self._read
        for batch in self._batches:
            cells: list[Iterable[object]] = [
                _column(name, batch.column(i)) if read is None or i in read else repeat("")
                for i, name in enumerate(columns)
            ]
            for row in zip(*cells, strict=False):  # the read columns: one length per batch
                self.line_num += 1
                yield row


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


def _column(name: str, column: Any) -> list[object]:
    import pyarrow
    import pyarrow.compute

    kind = column.type
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
