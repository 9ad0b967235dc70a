"""Recorded ticks from CSV, in the format ec-mock records (``ec_mock.market.write_csv``)::

    ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor
    1704898800000000000,EP,quote,,,4500.00,12,4500.25,9,
    1704898800100000000,EP,trade,4500.25,3,,,,,BUY

Prices are decimals in the instrument's units, converted exactly to ticks (a price
off the grid is an error naming the row). ec-core reads the format itself so a
replay needs nothing from ec-mock but its vendor.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ec_core.errors import ConfigError, PriceError
from ec_core.model import Instrument, MarketEvent, Quote, Side, Trade

__all__ = ["read_symbols", "read_ticks"]

_REQUIRED = frozenset({"ts_ns", "symbol", "kind"})


def _rows(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("tick file not found", file=str(path)) from None
    with handle:
        reader = csv.DictReader(handle)
        missing = _REQUIRED - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"missing column(s) {sorted(missing)}", path=f"{path.name}:1")
        for row in reader:
            yield f"{path.name}:{reader.line_num}", {k: (v or "").strip() for k, v in row.items()}


def read_symbols(path: str | Path) -> list[str]:
    """The symbols of a tick file, in order of first appearance."""
    seen: dict[str, None] = {}
    for _, row in _rows(Path(path)):
        seen.setdefault(row.get("symbol", ""), None)
    return [s for s in seen if s]


def read_ticks(
    path: str | Path, instrument: Callable[[str], Instrument | None]
) -> Iterator[MarketEvent]:
    """The ticks of ``path`` in file order; ``instrument(symbol)`` gives the tick grid."""
    for where, row in _rows(Path(path)):
        yield _parse(row, instrument, where)


def _parse(
    row: dict[str, str], lookup: Callable[[str], Instrument | None], where: str
) -> MarketEvent:
    symbol = row.get("symbol", "")
    inst = lookup(symbol)
    if inst is None:
        raise ConfigError(f"unknown instrument {symbol!r}", path=f"{where}.symbol")

    def ticks(column: str) -> int | None:
        text = row.get(column, "")
        if not text:
            return None
        try:
            return inst.to_ticks(Decimal(text))
        except (InvalidOperation, PriceError) as exc:
            raise ConfigError(f"bad price {text!r}: {exc}", path=f"{where}.{column}") from None

    def integer(column: str) -> int:
        text = row.get(column, "")
        try:
            return int(text) if text else 0
        except ValueError:
            raise ConfigError(f"not an integer: {text!r}", path=f"{where}.{column}") from None

    ts_ns = integer("ts_ns")
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
