"""One tick row's cells to a :class:`~ec_core.model.Quote` or :class:`~ec_core.model.Trade`:
the per-row work of every tick file reader (CSV, Parquet, Arrow IPC).

A replay reads millions of rows, so the row is a sequence of cells at column indices
resolved once from the header, and nothing is built for a row that parses: the
``file:line.column`` of an error is made by the reader only when a cell is refused
(:class:`BadCell` carries the column). Cells are read as they are and stripped only when
the plain reading fails, so a padded cell still reads as before. A price is converted
to ticks by :class:`PriceGrid`: an integer path for plain decimals, :class:`~decimal.Decimal`
and :meth:`Instrument.to_ticks <ec_core.model.Instrument.to_ticks>` for anything else and
for every error (the same messages as a Decimal read).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Final, final

from ec_core.data.tick_checks import REQUIRED_COLUMNS, ColumnBatch, missing_columns, parse_ts_ns
from ec_core.data.tick_columns import MAX_INT, SIDES, quote_batch, trade_batch
from ec_core.errors import PriceError
from ec_core.model import Instrument, Quote, Trade

__all__ = [
    "BadCell",
    "PriceGrid",
    "TickParser",
    "cell_text",
    "column_index",
    "integer",
    "price_ticks",
    "timestamp",
]

#: Past these, a price takes the Decimal path (whose exact context has 64 digits).
_MAX_DIGITS: Final = 30
_MAX_PLACES: Final = 18
#: The last nanosecond ``parse_ts_ns`` takes, and the largest size.
_MAX_NS: Final = MAX_INT
#: Prices remembered per instrument (a day of a contract trades at a few thousand).
_SEEN: Final = 4096
#: An integer cell: ASCII digits (``int()`` also reads ``1_000`` and other scripts' digits).
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")

InstrumentLookup = Callable[[str], Instrument | None]
Cells = Sequence[object]
Batcher = Callable[
    [Sequence[Sequence[object]], Sequence[object], Instrument, "PriceGrid"], ColumnBatch | None
]
_SIDES: Final = SIDES


def column_index(columns: Sequence[str]) -> dict[str, int]:
    """Each column name's index in a header; of a name given twice, the last (the cell a
    row's dict keeps, so every reader of a file picks the same one)."""
    return {name: i for i, name in enumerate(columns)}


class BadCell(Exception):
    """A refused cell: ``column`` (empty: the row) and the message; the reader names
    the row, so its ``file:line`` text is built only for an error."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@final
class PriceGrid:
    """Exact ticks of a price text on one instrument's grid.

    A plain decimal (ASCII digits, an optional point and sign) is converted with integers:
    ``digits * 10**-places / tick_size`` when that divides exactly. Anything else (an
    exponent, an off-grid price, a bad text) goes through ``Decimal(text)`` and
    ``to_ticks``, so every result and every error is that of the Decimal read. The last
    few thousand texts seen are remembered (recorded prices repeat).
    """

    __slots__ = ("_inst", "_seen", "_steps")

    def __init__(self, inst: Instrument) -> None:
        self._inst = inst
        _, digits, exponent = inst.tick_size.as_tuple()
        assert isinstance(exponent, int)  # a finite tick size (the instrument checks it)
        unit = int("".join(map(str, digits)))
        steps = []
        for places in range(_MAX_PLACES + 1):  # price = n * 10**-places; tick = unit * 10**e
            shift = -places - exponent
            steps.append((10**shift, unit) if shift >= 0 else (1, unit * 10**-shift))
        self._steps: tuple[tuple[int, int], ...] = tuple(steps)
        self._seen: dict[str, int] = {}

    def ticks(self, text: str) -> int:
        """Ticks of ``text``; :class:`~decimal.InvalidOperation` or
        :class:`~ec_core.errors.PriceError` as ``to_ticks(Decimal(text))`` raises them."""
        found = self._seen.get(text)
        if found is not None:
            return found
        value = self._plain(text)
        if value is None and text[:1] in ("-", "+"):
            value = self._plain(text[1:])
            if value is not None and text[0] == "-":
                value = -value
        if value is None:
            value = self._inst.to_ticks(Decimal(text))
        seen = self._seen
        if len(seen) >= _SEEN:
            seen.clear()
        seen[text] = value
        return value

    def column(self, cells: Sequence[object]) -> list[int] | None:
        """The ticks of a column of price texts, or ``None`` when a cell is not a price
        on the grid (the row path then names it); texts seen before cost a look-up."""
        seen = self._seen
        try:
            return list(map(seen.__getitem__, cells))  # type: ignore[arg-type]
        except KeyError:  # a text not seen yet (or forgotten)
            pass
        get, ticks = seen.get, self.ticks
        try:
            return [
                found if (found := get(cell)) is not None else ticks(cell)  # type: ignore[call-overload,arg-type]
                for cell in cells
            ]
        except (ArithmeticError, ValueError, TypeError, AttributeError):
            return None

    def _plain(self, text: str) -> int | None:
        """The ticks of an unsigned plain decimal on the grid, or ``None``."""
        whole, _, places = text.partition(".")
        digits = whole + places
        if not (digits.isdigit() and digits.isascii()):
            return None
        if len(digits) > _MAX_DIGITS or len(places) > _MAX_PLACES:
            return None
        scale, unit = self._steps[len(places)]
        ticks, rest = divmod(int(digits) * scale, unit)
        return None if rest else ticks


def price_ticks(grid: PriceGrid, column: str, cell: str) -> int | None:
    """The price ``cell`` of ``column`` as ticks (``None`` when empty); :class:`BadCell`."""
    try:
        return grid.ticks(cell) if cell else None
    except (InvalidOperation, PriceError, ValueError):
        pass
    text = cell.strip()
    if not text:
        return None
    try:
        return grid.ticks(text)
    except InvalidOperation:
        raise BadCell(column, f"bad price {text!r}: not a decimal number") from None
    except PriceError as exc:
        raise BadCell(column, f"bad price {text!r}: {exc}") from None


def integer(column: str, cell: object) -> int:
    """The integer ``cell`` of ``column`` (0 when empty): ASCII digits with an optional
    sign, within 64 bits; :class:`BadCell` otherwise."""
    if type(cell) is int:
        value, text = cell, str(cell)
    else:
        text = str(cell).strip() if cell else ""
        if not text:
            return 0
        if _INTEGER.fullmatch(text) is None:
            raise BadCell(column, f"not an integer: {text!r} (ASCII digits 0-9, an optional sign)")
        value = int(text)
    if value > _MAX_NS:
        raise BadCell(column, f"{column} must be at most {_MAX_NS}, got {text}")
    if value < -_MAX_NS:
        raise BadCell(column, f"{column} must be at least {-_MAX_NS}, got {text}")
    return value


def timestamp(cell: object) -> int:
    """``ts_ns`` (:func:`~ec_core.data.tick_checks.parse_ts_ns`; an integer cell in range
    as it is, so a Parquet ``uint64`` past 64-bit nanoseconds is refused as in a CSV)."""
    if type(cell) is int and 0 <= cell <= _MAX_NS:  # else parse_ts_ns says the rule
        return cell
    if type(cell) is str and cell.isdigit() and cell.isascii():
        try:  # plain nanoseconds; past 2**63 - 1 or odd digits, parse_ts_ns says the rule
            value = int(cell)
        except ValueError:
            value = _MAX_NS + 1
        if value <= _MAX_NS:
            return value
    try:
        return parse_ts_ns(str(cell))
    except ValueError as exc:
        raise BadCell("ts_ns", f"ts_ns {exc}") from None


@final
class TickParser:
    """Rows of one file's columns to ticks: indices resolved once, a plan per symbol
    (instrument, price grid) and per kind text (checked against the header once).

    :attr:`parse` reads one row; :meth:`batch` a batch of rows given as columns, whole
    columns at a time, when every row is a plain one of one kind and symbol seen before.
    """

    __slots__ = (
        "_at",
        "_batchers",
        "_index",
        "_kinds",
        "_lookup",
        "_sizes",
        "_symbols",
        "_width",
        "kind_at",
        "parse",
    )

    def __init__(self, columns: Sequence[str], lookup: InstrumentLookup) -> None:
        self._width = len(columns)
        self._index = column_index(columns)
        self._at = (self._index["kind"], self._index["symbol"], self._index["ts_ns"])
        self.kind_at = self._at[0]
        self._lookup = lookup
        self._symbols: dict[object, tuple[Instrument, PriceGrid]] = {}
        self._kinds: dict[object, Callable[[Cells, Instrument, PriceGrid, int], Quote | Trade]] = {}
        self._batchers: dict[object, Batcher] = {}
        self._sizes: dict[object, int] = {}  # size cells read (recorded sizes repeat)
        self.parse = self._row_plan()

    def kind_checked(self, cell: object) -> None:
        """Refuse a kind whose columns the header lacks, at its first row
        (:class:`BadCell` without a column: the message names the header)."""
        if cell in self._kinds:
            return
        kind = cell_text(cell).lower()
        lacking = missing_columns(kind, self._index)
        if lacking:
            raise BadCell(
                "",
                f"a {kind} row needs the column(s) {', '.join(lacking)}, missing from"
                " the header (line 1)",
            )
        index, ts_at = self._index, self._at[2]
        if kind == "quote":
            self._kinds[cell] = self._quote_plan()
            bid, bid_size, ask, ask_size = (index[c] for c in REQUIRED_COLUMNS["quote"])
            self._batchers[cell] = partial(quote_batch, (ts_at, bid, bid_size, ask, ask_size))
        elif kind == "trade":
            self._kinds[cell] = self._trade_plan()
            price, size = (index[c] for c in REQUIRED_COLUMNS["trade"])
            at = (ts_at, price, size, index.get("aggressor"))
            self._batchers[cell] = partial(trade_batch, at)
        else:
            self._kinds[cell] = _bad_kind(kind)

    def instrument(self, cell: object) -> tuple[Instrument, PriceGrid]:
        """The instrument of a ``symbol`` cell and its grid; :class:`BadCell` when unknown."""
        found = self._symbols.get(cell)
        if found is None:
            symbol = cell_text(cell)
            inst = self._lookup(symbol)
            if inst is None:
                raise BadCell("symbol", f"unknown instrument {symbol!r} (not listed on the venue)")
            found = self._symbols[cell] = (inst, PriceGrid(inst))
        return found

    def batch(
        self, columns: Sequence[Sequence[object]], keys: Sequence[object]
    ) -> ColumnBatch | None:
        """The ticks of a batch of full rows given as ``columns`` (``keys``: each row's
        place), converted whole columns at a time (:mod:`ec_core.data.tick_columns`);
        ``None`` unless every row is a plain one of one kind and one symbol already read
        by :attr:`parse` (the caller then parses the rows one by one)."""
        at_kind, at_symbol, _ = self._at
        kinds, symbols = columns[at_kind], columns[at_symbol]
        count, kind, symbol = len(kinds), kinds[0], symbols[0]
        convert = self._batchers.get(kind)
        found = self._symbols.get(symbol)
        if convert is None or found is None:
            return None
        if kinds.count(kind) != count or symbols.count(symbol) != count:
            return None
        return convert(columns, keys, *found)

    def size(self, column: str, cell: object) -> int:
        """:func:`integer`, remembering the cells read (a quote's sizes repeat)."""
        sizes = self._sizes
        found = sizes.get(cell)
        if found is None:
            found = integer(column, cell)
            if len(sizes) >= _SEEN:
                sizes.clear()
            sizes[cell] = found
        return found

    def _row_plan(self) -> Callable[[Cells], tuple[Quote | Trade, Instrument]]:
        """``parse``: the row's kind plan, its symbol's instrument and grid, its time,
        looked up in that order (the order the errors of a row come in)."""
        width = self._width
        at_kind, at_symbol, at_ts = self._at
        kinds, symbols = self._kinds, self._symbols
        kind_checked, instrument = self.kind_checked, self.instrument

        def parse(row: Cells) -> tuple[Quote | Trade, Instrument]:
            """The tick of ``row`` and its instrument; :class:`BadCell` for a refused cell."""
            if len(row) < width:  # a short row: its missing cells are empty
                row = [*row, *[""] * (width - len(row))]
            plan = kinds.get(row[at_kind])
            if plan is None:
                kind_checked(row[at_kind])
                plan = kinds[row[at_kind]]
            found = symbols.get(row[at_symbol])
            inst, grid = instrument(row[at_symbol]) if found is None else found
            return plan(row, inst, grid, timestamp(row[at_ts])), inst

        return parse

    def _quote_plan(self) -> Callable[[Cells, Instrument, PriceGrid, int], Quote]:
        index, sizes, size = self._index, self._sizes, self.size
        bid, bid_size, ask, ask_size = (index[c] for c in REQUIRED_COLUMNS["quote"])

        def quote(row: Cells, inst: Instrument, grid: PriceGrid, ts_ns: int) -> Quote:
            try:  # cells read before: the same values as below, without a call per cell
                ticks = grid.ticks
                return Quote(
                    symbol=inst.symbol,
                    ts_ns=ts_ns,
                    bid=ticks(row[bid]),  # type: ignore[arg-type]
                    bid_size=sizes[row[bid_size]],
                    ask=ticks(row[ask]),  # type: ignore[arg-type]
                    ask_size=sizes[row[ask_size]],
                )
            except (ArithmeticError, LookupError, ValueError, TypeError):  # new, empty, refused
                pass
            return Quote(
                symbol=inst.symbol,
                ts_ns=ts_ns,
                bid=price_ticks(grid, "bid", row[bid]),  # type: ignore[arg-type]
                bid_size=size("bid_size", row[bid_size]),
                ask=price_ticks(grid, "ask", row[ask]),  # type: ignore[arg-type]
                ask_size=size("ask_size", row[ask_size]),
            )

        return quote

    def _trade_plan(self) -> Callable[[Cells, Instrument, PriceGrid, int], Trade]:
        index, sizes, size = self._index, self._sizes, self.size
        price_at, size_at = (index[c] for c in REQUIRED_COLUMNS["trade"])
        aggressor_at = index.get("aggressor")

        def trade(row: Cells, inst: Instrument, grid: PriceGrid, ts_ns: int) -> Trade:
            side = row[aggressor_at] if aggressor_at is not None else ""
            if side in _SIDES:  # cells read before: the same values as below, fewer calls
                try:
                    return Trade(
                        symbol=inst.symbol,
                        ts_ns=ts_ns,
                        price=grid.ticks(row[price_at]),  # type: ignore[arg-type]
                        size=sizes[row[size_at]],
                        aggressor=_SIDES[side],
                    )
                except (ArithmeticError, LookupError, ValueError, TypeError):
                    pass
            price = price_ticks(grid, "price", row[price_at])  # type: ignore[arg-type]
            if price is None:
                raise BadCell("price", "a trade needs a price")
            side = "" if aggressor_at is None else cell_text(row[aggressor_at]).upper()
            if side not in _SIDES:
                raise BadCell("aggressor", f"aggressor must be BUY, SELL or empty, got {side!r}")
            return Trade(
                symbol=inst.symbol,
                ts_ns=ts_ns,
                price=price,
                size=size("size", row[size_at]),
                aggressor=_SIDES[side],
            )

        return trade


def _bad_kind(kind: str) -> Callable[[Cells, Instrument, PriceGrid, int], Quote | Trade]:
    def refuse(row: Cells, inst: Instrument, grid: PriceGrid, ts_ns: int) -> Quote | Trade:
        raise BadCell("kind", f"kind must be 'quote' or 'trade', got {kind!r}")

    return refuse


def cell_text(cell: object) -> str:
    """A cell as the text the format reads: stripped, empty for a missing value, a float
    by its ``repr`` (the shortest text that reads back as it)."""
    if cell is None:
        return ""
    if isinstance(cell, float):
        return repr(cell)
    return str(cell).strip()
