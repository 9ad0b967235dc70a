"""Recorded ticks in Parquet or Arrow IPC files: the CSV's columns, read in batches.

The optional extra ``ec-core[parquet]`` brings pyarrow; without it, opening such a
file is a :class:`~ec_core.errors.ConfigError` saying what to install. The columns are
those of the CSV format (:data:`~ec_core.data.ticks_csv.TICK_FIELDS`); prices may be
strings, decimals or floats (a float must still be on the instrument's tick grid),
``ts_ns`` an integer (nanoseconds) or an ISO 8601 string. Each row goes through the same
parser and checks as a CSV row (:mod:`ec_core.data.ticks_csv`), named ``file:row N``.
Several instruments in one file are read interleaved by time, as in a CSV.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ec_core.errors import ConfigError

__all__ = ["ARROW_SUFFIXES", "arrow_rows", "is_arrow", "write_arrow"]

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


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def arrow_rows(path: Path) -> tuple[list[str], Iterator[tuple[str, dict[str, str]]]]:
    """The column names and ``(where, row)`` per row, read lazily batch by batch."""
    pa = _pyarrow(path)
    if not path.exists():
        raise ConfigError("tick file not found", file=str(path))
    if path.suffix.lower() in PARQUET_SUFFIXES:
        parquet = pa.parquet.ParquetFile(str(path))
        columns = list(parquet.schema_arrow.names)
        batches: Iterable[Any] = parquet.iter_batches(batch_size=_BATCH)
    else:
        reader = pa.ipc.open_file(str(path))
        columns = list(reader.schema.names)
        batches = (reader.get_batch(i) for i in range(reader.num_record_batches))

    def rows() -> Iterator[tuple[str, dict[str, str]]]:
        number = 0
        for batch in batches:
            for record in batch.to_pylist():
                number += 1
                yield f"{path.name}:row {number}", {k: _text(v) for k, v in record.items()}

    return columns, rows()


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
