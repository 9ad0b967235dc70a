"""A batch of tick rows converted whole columns at a time: the tick readers' fast path.

A replay reads millions of rows, and converting them cell by cell costs a Python call or
more per cell. Here a column of a batch is converted with C builtins over the whole list
(``map(int, ...)``, the price grid's remembered texts, ``min``/``max``), and the ticks are
made in one comprehension: the floor is one struct per row. A column that is not plain
(an empty, padded or odd cell, a value out of range, a row of another kind or symbol)
gives ``None``, and the reader converts that batch row by row
(:attr:`TickParser.parse <ec_core.data.tick_parser.TickParser.parse>`), which reads the
same values and names the cell it refuses: every value given here is the row path's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from ec_core.data.tick_checks import ColumnBatch
from ec_core.model import Instrument, Quote, Side, Trade

__all__ = ["MAX_INT", "SIDES", "quote_batch", "trade_batch", "whole_numbers"]

#: The largest value a time or a size may hold (64-bit, as on the wire and in Parquet).
MAX_INT: Final = (1 << 63) - 1
#: An ``aggressor`` cell's side.
SIDES: Final = {"": None, "BUY": Side.BUY, "SELL": Side.SELL}

Columns = Sequence[Sequence[object]]


class Prices(Protocol):
    """What a batch needs of :class:`~ec_core.data.tick_parser.PriceGrid`."""

    def column(self, cells: Sequence[object]) -> list[int] | None: ...


def whole_numbers(cells: Sequence[object]) -> list[int] | None:
    """``cells`` as ints when every one is a plain whole number from 0 to :data:`MAX_INT`:
    ASCII digits (a CSV, a text column) or a Python int (an integer column); else ``None``
    (a sign, a space, an empty cell, another script's digits, ``1_000``)."""
    try:
        if type(cells[0]) is int:
            if min(cells) < 0 or max(cells) > MAX_INT:  # type: ignore[type-var,operator]
                return None
            return list(cells)  # type: ignore[arg-type]
        text = "".join(cells)  # type: ignore[arg-type]
    except TypeError:  # a column of mixed cells
        return None
    if not (text.isdigit() and text.isascii()):
        return None
    try:
        values = list(map(int, cells))  # type: ignore[arg-type]
    except ValueError:  # an empty cell
        return None
    return values if max(values) <= MAX_INT else None


def quote_batch(
    at: tuple[int, int, int, int, int],
    columns: Columns,
    keys: Sequence[object],
    inst: Instrument,
    grid: Prices,
) -> ColumnBatch | None:
    """The quotes of a batch of one symbol's quote rows (``at``: the columns of
    ``ts_ns``, ``bid``, ``bid_size``, ``ask``, ``ask_size``), or ``None``."""
    ts = whole_numbers(columns[at[0]])
    if ts is None:
        return None
    bids, asks = grid.column(columns[at[1]]), grid.column(columns[at[3]])
    bid_sizes, ask_sizes = whole_numbers(columns[at[2]]), whole_numbers(columns[at[4]])
    if bids is None or asks is None or bid_sizes is None or ask_sizes is None:
        return None
    symbol = inst.symbol
    ticks = [
        Quote(symbol=symbol, ts_ns=t, bid=bid, bid_size=bsz, ask=ask, ask_size=asz)
        for t, bid, bsz, ask, asz in zip(ts, bids, bid_sizes, asks, ask_sizes, strict=True)
    ]
    return ColumnBatch(
        keys=keys,
        ticks=ticks,
        inst=inst,
        ts=ts,
        sizes=(bid_sizes, ask_sizes),
        prices=(bids, asks),
    )


def trade_batch(
    at: tuple[int, int, int, int | None],
    columns: Columns,
    keys: Sequence[object],
    inst: Instrument,
    grid: Prices,
) -> ColumnBatch | None:
    """The trades of a batch of one symbol's trade rows (``at``: the columns of
    ``ts_ns``, ``price``, ``size`` and ``aggressor`` when the file has it), or ``None``."""
    ts = whole_numbers(columns[at[0]])
    if ts is None:
        return None
    prices, sizes = grid.column(columns[at[1]]), whole_numbers(columns[at[2]])
    if prices is None or sizes is None:
        return None
    if at[3] is None:
        sides: Sequence[Side | None] = [None] * len(ts)
    else:
        try:
            sides = list(map(SIDES.__getitem__, columns[at[3]]))  # type: ignore[arg-type]
        except (KeyError, TypeError):  # padded, lower case or odd: the row path reads it
            return None
    symbol = inst.symbol
    ticks = [
        Trade(symbol=symbol, ts_ns=t, price=price, size=size, aggressor=side)
        for t, price, size, side in zip(ts, prices, sizes, sides, strict=True)
    ]
    return ColumnBatch(keys=keys, ticks=ticks, inst=inst, ts=ts, sizes=(sizes,))
