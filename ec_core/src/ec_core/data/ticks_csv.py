"""Recorded ticks as CSV: the one reader and writer of the format, for ``ec replay`` and ec-mock.

::

    ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor
    1704898800000000000,EP,quote,,,4500.00,12,4500.25,9,
    1704898800100000000,EP,trade,4500.25,3,,,,,BUY

One tick per row, header required: ``ts_ns``, ``symbol`` and ``kind`` always, and
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
:mod:`ec_core.data.ticks_arrow`, row by row through the same parser and checks.

The format lives in ec-core because both sides need it: a replay reads it without
importing any vendor, and ec-mock records simulator runs with :func:`write_ticks`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ec_core.data.tick_checks import TickChecks, TickRow, missing_columns, parse_ts_ns
from ec_core.data.ticks_arrow import arrow_rows, is_arrow, write_arrow
from ec_core.errors import ConfigError, PriceError
from ec_core.model import Instrument, Quote, Side, Trade

__all__ = [
    "BAR_FIELDS",
    "TICK_FIELDS",
    "cell_int",
    "cell_ticks",
    "cell_ts_ns",
    "is_bar_file",
    "is_bar_header",
    "read_symbols",
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


def is_bar_header(columns: Iterable[str]) -> bool:
    """A header with ``open`` and no ``kind``: a file of OHLCV bars, not of ticks."""
    have = set(columns)
    return "open" in have and "kind" not in have


def is_bar_file(path: str | Path) -> bool:
    """Whether the file's header is that of OHLCV bars (:func:`is_bar_header`)."""
    target = Path(path)
    if is_arrow(target):
        return is_bar_header(arrow_rows(target)[0])
    try:
        with target.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except FileNotFoundError:
        raise ConfigError("tick file not found", file=str(target)) from None
    return is_bar_header(h.strip() for h in header)


def record_rows(path: Path, *, bars: bool | None = False) -> Iterator[tuple[str, dict[str, str]]]:
    """``(where, row)`` per data row, ``where`` being ``file:line`` (CSV) or ``file:row N``
    (Parquet, Arrow IPC: :mod:`ec_core.data.ticks_arrow`) for error messages.

    The columns a row's kind needs are checked at the first row of that kind: a missing
    ``bid_size`` column is an error, never a silent zero.
    """
    if is_arrow(path):
        columns, rows = arrow_rows(path)
        yield from _checked(path, columns, rows, bars)
        return
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("tick file not found", file=str(path)) from None
    with handle:
        reader = csv.DictReader(handle)
        cells = (
            (
                f"{path.name}:{reader.line_num}",
                {k: (v or "").strip() for k, v in row.items() if k is not None},
            )
            for row in reader
        )
        yield from _checked(path, reader.fieldnames or (), cells, bars)


def _checked(
    path: Path,
    columns: Sequence[str],
    rows: Iterable[tuple[str, dict[str, str]]],
    bars: bool | None,
) -> Iterator[tuple[str, dict[str, str]]]:
    """``bars``: the file must hold bars (True), ticks (False) or either (None)."""
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
        yield from rows
        return
    missing = _REQUIRED - set(columns)
    if missing:
        raise ConfigError(f"missing column(s) {sorted(missing)}", path=f"{path.name}:1")
    checked: set[str] = set()
    for where, row in rows:
        kind = (row.get("kind") or "").strip().lower()
        if kind not in checked:
            checked.add(kind)
            lacking = missing_columns(kind, columns)
            if lacking:
                raise ConfigError(
                    f"a {kind} row needs the column(s) {', '.join(lacking)}, missing from"
                    f" the header (line 1)",
                    path=where,
                )
        yield where, row


def read_symbols(path: str | Path) -> list[str]:
    """The symbols of a tick file, in order of first appearance (to resolve them first)."""
    seen: dict[str, None] = {}
    for _, row in record_rows(Path(path), bars=None):
        seen.setdefault(row.get("symbol", ""), None)
    return [s for s in seen if s]


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
    rows = read_tick_rows(path, instrument)
    if checks is not None:
        return checks.apply(rows)
    return (tick for _, tick, _ in rows)


def read_tick_rows(
    path: str | Path, instrument: InstrumentLookup | Mapping[str, Instrument]
) -> Iterator[TickRow]:
    """``(where, tick, instrument)`` per row, lazily, with no row rules applied (for
    :mod:`ec_core.data.tick_checks` and :func:`~ec_core.data.tick_summary.summarize_ticks`)."""
    lookup = instrument.get if isinstance(instrument, Mapping) else instrument
    return (_parse(row, lookup, where) for where, row in record_rows(Path(path)))


def _parse(row: dict[str, str], lookup: InstrumentLookup, where: str) -> TickRow:
    inst = row_instrument(row, lookup, where)
    return where, _tick(row, inst, where), inst


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
    text = row.get(column, "")
    if not text:
        return None
    try:
        return inst.to_ticks(Decimal(text))
    except InvalidOperation:
        raise ConfigError(
            f"bad price {text!r}: not a decimal number", path=f"{where}.{column}"
        ) from None
    except PriceError as exc:
        raise ConfigError(f"bad price {text!r}: {exc}", path=f"{where}.{column}") from None


def cell_int(row: Mapping[str, str], column: str, where: str) -> int:
    """The integer in ``column`` (0 when empty); a :class:`ConfigError` naming it otherwise."""
    text = row.get(column, "")
    try:
        return int(text) if text else 0
    except ValueError:
        raise ConfigError(f"not an integer: {text!r}", path=f"{where}.{column}") from None


def cell_ts_ns(row: Mapping[str, str], where: str) -> int:
    """``ts_ns`` of the row (:func:`~ec_core.data.tick_checks.parse_ts_ns`)."""
    try:
        return parse_ts_ns(row.get("ts_ns", ""))
    except ValueError as exc:
        raise ConfigError(f"ts_ns {exc}", path=f"{where}.ts_ns") from None


def _tick(row: dict[str, str], inst: Instrument, where: str) -> Quote | Trade:
    symbol = inst.symbol

    def ticks(column: str) -> int | None:
        return cell_ticks(row, column, inst, where)

    def integer(column: str) -> int:
        return cell_int(row, column, where)

    ts_ns = cell_ts_ns(row, where)
    kind = row.get("kind", "").lower()
    if kind == "quote":
        return Quote(
            symbol=symbol,
            ts_ns=ts_ns,
            bid=ticks("bid"),
            bid_size=integer("bid_size"),
            ask=ticks("ask"),
            ask_size=integer("ask_size"),
        )
    if kind == "trade":
        price = ticks("price")
        if price is None:
            raise ConfigError("a trade needs a price", path=f"{where}.price")
        side = row.get("aggressor", "").upper()
        if side not in ("", "BUY", "SELL"):
            raise ConfigError(
                f"aggressor must be BUY, SELL or empty, got {side!r}", path=f"{where}.aggressor"
            )
        return Trade(
            symbol=symbol,
            ts_ns=ts_ns,
            price=price,
            size=integer("size"),
            aggressor=Side(side) if side else None,
        )
    raise ConfigError(f"kind must be 'quote' or 'trade', got {kind!r}", path=f"{where}.kind")


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
