"""Replay of recorded ticks: read them from CSV, feed them into an exchange.

CSV format (header required, one tick per row)::

    ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor
    1704898800000000000,EP,quote,,,4500.00,12,4500.25,9,
    1704898800100000000,EP,trade,4500.25,3,,,,,BUY

Prices are decimals in the instrument's price units (converted exactly to ticks;
a price off the tick grid is an error naming the row). ``aggressor`` is ``BUY``,
``SELL`` or empty.

:class:`ReplayFeeder` shows the recorded bid/ask as house liquidity in the book
(one house order per side, resized in place so it keeps its queue position), and
turns recorded prints into :meth:`Exchange.apply_external_trade`, where the
exchange's :class:`~ec_mock.engine.FillModel` decides which resting orders fill.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import final

from ec_core.clock import ManualClock
from ec_core.errors import ConfigError, PriceError
from ec_core.model import Duration, Instrument, OrderType, Quote, Side, Trade

from ec_mock.engine import Exchange
from ec_mock.instruments import builtin_instruments
from ec_mock.market.simulator import HOUSE_ACCOUNT

__all__ = ["ReplayFeeder", "replay_csv", "write_csv"]

_FIELDS = (
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


def replay_csv(
    path: str | Path, *, instruments: Iterable[Instrument] | None = None
) -> Iterator[Quote | Trade]:
    """Ticks of a recorded CSV file, in file order (prices become ticks)."""
    table: Mapping[str, Instrument] = {
        i.symbol: i for i in (instruments if instruments is not None else builtin_instruments())
    }
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"ts_ns", "symbol", "kind"} - set(reader.fieldnames or ())
        if missing:
            raise ConfigError(f"missing column(s) {sorted(missing)}", path=f"{path.name}:1")
        for row in reader:
            where = f"{path.name}:{reader.line_num}"
            yield _parse_row(row, table, where)


def _parse_row(
    row: Mapping[str, str | None], table: Mapping[str, Instrument], where: str
) -> Quote | Trade:
    symbol = (row.get("symbol") or "").strip()
    instrument = table.get(symbol)
    if instrument is None:
        raise ConfigError(f"unknown instrument {symbol!r}", path=f"{where}.symbol")

    def ticks(column: str) -> int | None:
        text = (row.get(column) or "").strip()
        if not text:
            return None
        try:
            return instrument.to_ticks(Decimal(text))
        except (InvalidOperation, PriceError) as exc:
            raise ConfigError(f"bad price {text!r}: {exc}", path=f"{where}.{column}") from None

    def integer(column: str) -> int:
        text = (row.get(column) or "").strip()
        try:
            return int(text) if text else 0
        except ValueError:
            raise ConfigError(f"not an integer: {text!r}", path=f"{where}.{column}") from None

    ts_ns = integer("ts_ns")
    kind = (row.get("kind") or "").strip().lower()
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
        side_text = (row.get("aggressor") or "").strip().upper()
        if side_text not in ("", "BUY", "SELL"):
            raise ConfigError(
                f"aggressor must be BUY, SELL or empty, got {side_text!r}",
                path=f"{where}.aggressor",
            )
        return Trade(
            symbol=symbol,
            ts_ns=ts_ns,
            price=price,
            size=integer("size"),
            aggressor=Side(side_text) if side_text else None,
        )
    raise ConfigError(f"kind must be 'quote' or 'trade', got {kind!r}", path=f"{where}.kind")


def write_csv(
    path: str | Path, ticks: Iterable[Quote | Trade], instruments: Iterable[Instrument]
) -> None:
    """Record ticks in the format :func:`replay_csv` reads (e.g. from a simulator run)."""
    table = {i.symbol: i for i in instruments}
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_FIELDS)
        for tick in ticks:
            inst = table[tick.symbol]

            def price(value: int | None, inst: Instrument = inst) -> str:
                return "" if value is None else str(inst.to_price(value))

            if isinstance(tick, Quote):
                writer.writerow(
                    (
                        tick.ts_ns,
                        tick.symbol,
                        "quote",
                        "",
                        "",
                        price(tick.bid),
                        tick.bid_size,
                        price(tick.ask),
                        tick.ask_size,
                        "",
                    )
                )
            else:
                writer.writerow(
                    (
                        tick.ts_ns,
                        tick.symbol,
                        "trade",
                        price(tick.price),
                        tick.size,
                        "",
                        "",
                        "",
                        "",
                        tick.aggressor.value if tick.aggressor else "",
                    )
                )


@final
class ReplayFeeder:
    """Feeds recorded ticks into ``exchange`` as house liquidity and external prints."""

    def __init__(self, exchange: Exchange, *, house_account: str = HOUSE_ACCOUNT) -> None:
        self.exchange = exchange
        self.house = house_account
        if not exchange.has_account(house_account):
            exchange.open_account(house_account, unlimited=True, name="recorded market")
        self._resting: dict[tuple[str, int], tuple[int, str]] = {}  # (symbol, side) -> (price, cl)
        self._next_cl = 1
        self.fed = 0

    def feed(self, tick: Quote | Trade) -> None:
        exchange = self.exchange
        clock = exchange.clock
        if isinstance(clock, ManualClock) and tick.ts_ns > clock.now_ns():
            exchange.advance_to(tick.ts_ns)
        if isinstance(tick, Quote):
            self._show(tick.symbol, 1, tick.bid, tick.bid_size)
            self._show(tick.symbol, -1, tick.ask, tick.ask_size)
        elif tick.size > 0:
            exchange.apply_external_trade(
                tick.symbol,
                tick.price,
                tick.size,
                counterparty=self.house,
                aggressor=tick.aggressor,
            )
        self.fed += 1

    def feed_all(self, ticks: Iterable[Quote | Trade]) -> int:
        count = 0
        for tick in ticks:
            self.feed(tick)
            count += 1
        return count

    def _show(self, symbol: str, side: int, price: int | None, size: int) -> None:
        exchange = self.exchange
        key = (symbol, side)
        current = self._resting.get(key)
        if current is not None:
            old_price, cl = current
            live = exchange.remaining_qty(self.house, cl)
            if live and old_price == price and size > 0:
                if live != size:
                    filled = exchange.order_status(self.house, cl)
                    done = filled.filled_qty if filled is not None else 0
                    exchange.set_resting_qty(self.house, cl, done + size)
                return
            if live:
                exchange.cancel(self.house, cl)
            del self._resting[key]
        if price is None or size <= 0:
            return
        cl = f"R{self._next_cl}"
        self._next_cl += 1
        exchange.place(
            self.house,
            symbol,
            Side.BUY if side > 0 else Side.SELL,
            size,
            OrderType.LMT,
            price=price,
            duration=Duration.GTC,
            cl_order_id=cl,
        )
        if exchange.remaining_qty(self.house, cl):
            self._resting[key] = (price, cl)
