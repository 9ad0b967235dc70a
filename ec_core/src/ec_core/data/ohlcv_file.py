"""Recorded OHLCV bars as CSV, Parquet or Arrow IPC: the reader behind ``ec replay --bars``.

::

    ts_ns,symbol,open,high,low,close,volume
    2024-01-10T15:00:00Z,CLE,70.00,70.05,69.98,70.03,412

One bar per row, header required with all seven columns; ``ts_ns`` is the bar's
*start*, in nanoseconds since the epoch or ISO 8601 with a zone; prices are decimals on
the instrument's tick grid. Several symbols may be interleaved, in time order of the
bars' starts. A file is read by the tick reader's machinery
(:func:`~ec_core.data.ticks_csv.record_rows`: the same CSV/Arrow handling, cell parsers
and ``file:line.field`` errors), and a bar's rules are checked with the tick rules
(:class:`~ec_core.data.tick_checks.TickChecks`). :func:`read_bar_ticks` turns the bars
into the ticks a replay venue understands (:func:`~ec_core.data.ohlcv.bar_ticks`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from ec_core.data.ohlcv import RecordedBar, bar_ticks
from ec_core.data.tick_checks import TickChecks
from ec_core.data.ticks_csv import (
    InstrumentLookup,
    cell_int,
    cell_ticks,
    cell_ts_ns,
    record_rows,
    row_instrument,
)
from ec_core.data.timeframe import BarKind, Timeframe
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Trade

__all__ = ["BarRow", "bar_length_ns", "read_bar_rows", "read_bar_ticks"]

#: ``(where, bar, instrument)``: ``where`` is ``file:line`` for messages.
BarRow = tuple[str, RecordedBar, Instrument]


def bar_length_ns(text: str, *, option: str = "--bar-length") -> int:
    """The ``--bar-length`` of a bar file (``1s``, ``5m``, ``1h``, ``1d``) in ns; ``option``
    names the command-line option in the error (a time frame given elsewhere)."""
    frame = Timeframe.parse(text)
    if frame.kind is not BarKind.TIME:
        raise ConfigError(f"{option} must be a time (1s, 5m, 1h, 1d), got {text!r}", path=option)
    return frame.size


def read_bar_rows(
    path: str | Path, instrument: InstrumentLookup | Mapping[str, Instrument]
) -> Iterator[BarRow]:
    """``(where, bar, instrument)`` per row, lazily, with no bar rules applied."""
    lookup = instrument.get if isinstance(instrument, Mapping) else instrument
    for where, row in record_rows(Path(path), bars=True):
        inst = row_instrument(row, lookup, where)
        yield where, _bar(row, inst, where), inst


def _bar(row: Mapping[str, str], inst: Instrument, where: str) -> RecordedBar:
    def price(column: str) -> int:
        value = cell_ticks(row, column, inst, where)
        if value is None:
            raise ConfigError(f"a bar needs a {column} price", path=f"{where}.{column}")
        return value

    return RecordedBar(
        symbol=inst.symbol,
        ts_ns=cell_ts_ns(row, where),
        open=price("open"),
        high=price("high"),
        low=price("low"),
        close=price("close"),
        volume=cell_int(row, "volume", where),
    )


def read_bar_ticks(
    path: str | Path,
    instrument: InstrumentLookup | Mapping[str, Instrument],
    *,
    length_ns: int,
    checks: TickChecks | None = None,
) -> Iterator[Quote | Trade]:
    """The ticks of the bars of ``path`` (each ``length_ns`` long), checked by ``checks``
    (strict by default: a broken bar is a :class:`~ec_core.errors.ConfigError`)."""
    checked = (checks if checks is not None else TickChecks()).apply(
        read_bar_rows(path, instrument)
    )
    return bar_ticks(checked, length_ns)
