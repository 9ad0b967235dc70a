"""What a trader reads after a replay: round trips, statistics, daily P&L, the orders table.

Built from the fills the tracker accepted, the mark samples of the replay (the closes of
the base time frame's bars) and the orders the tracker saw, per symbol:

* a **round trip** opens when a symbol's position leaves flat and closes when it is flat
  again (a fill that flips the position closes one trip and opens the next with the
  rest); entry and exit prices are quantity-weighted averages; MAE and MFE are the worst
  and best open P&L in ticks per contract seen in the marks while it was open (and at
  its fills);
* **statistics** over the closed trips, and Sharpe and Sortino on the daily P&L (trading
  days: the instrument's sessions, so an evening trade of an overnight session counts for
  the next day; without trading hours, the UTC date), annualised
  with 252 days; max drawdown and its duration on the equity curve; exposure is the
  share of the replayed time with a position open;
* money is a string with the decimals of the instrument's tick value (at least 2, more
  when a commission has more: a per-order fee of 0.125), so
  ``report.json`` never carries a float for money; a sum over several instruments (a
  day's P&L, the statistics) has the finest decimals of the replay's instruments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

import msgspec

from ec_core.calendar import ns_datetime
from ec_core.model import (
    Fill,
    Instrument,
    ModifyOrder,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Side,
)
from ec_core.model.money import format_money, money_places
from ec_core.strategy.outcomes import DeniedAction

__all__ = [
    "ORDER_STATE_TEXT",
    "ORDER_TYPE_TEXT",
    "SIDE_TEXT",
    "DayPnL",
    "OrderRow",
    "RoundTrip",
    "TradeStats",
    "ZoneTable",
    "daily_pnl",
    "exchange_time",
    "exchange_zone",
    "money",
    "order_rows",
    "portfolio_places",
    "round_trips",
    "trade_stats",
    "zoned_time",
]

_NS = 1_000_000_000


class RoundTrip(msgspec.Struct, frozen=True, kw_only=True):
    """Flat to flat in one symbol."""

    symbol: str
    side: str  # BUY for a long trip, SELL for a short one
    qty: int  # the largest position held
    entry_ns: int
    exit_ns: int
    entry_time: str  # ISO 8601 in the exchange's time zone
    exit_time: str
    entry_price: Decimal
    exit_price: Decimal
    pnl_ticks: int  # per contract, entry to exit
    pnl: str  # money, after commissions
    commission: str
    holding_s: float
    mae_ticks: int  # worst open P&L per contract (<= 0)
    mfe_ticks: int  # best open P&L per contract (>= 0)


class TradeStats(msgspec.Struct, frozen=True, kw_only=True):
    trades: int
    wins: int
    losses: int
    win_rate: float
    avg_win: str
    avg_loss: str
    profit_factor: float | None  # None: no losing trade
    expectancy: str  # money per trade
    sharpe: float | None  # on daily P&L, annualised (None: fewer than 2 days)
    sortino: float | None
    max_drawdown: str
    max_drawdown_s: float  # longest time under a previous equity peak
    exposure: float  # share of the replayed time with a position open
    commissions: str
    slippage: str  # slippage_ticks x tick value x contracts of market-type fills
    days: int


class DayPnL(msgspec.Struct, frozen=True, kw_only=True):
    date: str  # the trading day, exchange time zone
    pnl: str  # realized on the trips closed that day, after commissions
    trades: int


class OrderRow(msgspec.Struct, frozen=True, kw_only=True):
    cl_order_id: str
    symbol: str
    side: str
    qty: int
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    outcome: str  # FILLED, CANCELLED, REJECTED, EXPIRED, WORKING, DENIED, ...
    filled_qty: int
    avg_fill_price: Decimal | None
    code: str  # the reject code, or the rule that denied it
    text: str
    updated_ns: int = 0  # the order's last report (its outcome), or when it was denied
    updated_time: str = ""  # updated_ns in the exchange's time zone


def money(value: Decimal, instrument: Instrument | None = None) -> str:
    """``value`` with the decimals of the instrument's tick value (at least 2)."""
    return format_money(value, money_places(instrument) if instrument is not None else 2)


def portfolio_places(instruments: dict[str, Instrument], fills: Sequence[Fill] = ()) -> int:
    """Decimals of a sum over the replay's instruments: the finest of theirs (at least 2),
    so a 10-year note's 15.625 is not rounded in a day's or a statistic's total, and finer
    still when a commission of ``fills`` is (a per-order fee of 0.125)."""
    places = max((money_places(i) for i in instruments.values()), default=2)
    return max(places, fee_places(fills))


def fee_places(fills: Sequence[Fill]) -> int:
    """The decimals the commissions of ``fills`` need (0 without any)."""
    places = 0
    for fill in fills:
        exponent = fill.commission.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            places = -exponent
    return places


def exchange_time(ts_ns: int, instrument: Instrument | None) -> str:
    """``ts_ns`` as ISO 8601 in the instrument's exchange time zone (UTC if it has none)."""
    return zoned_time(ts_ns, exchange_zone(instrument))


def zoned_time(ts_ns: int, zone: ZoneInfo | None) -> str:
    """:func:`exchange_time` with the zone looked up already (:class:`ZoneTable`)."""
    return _local(ts_ns, zone).isoformat()


class ZoneTable(dict[str, "ZoneInfo | None"]):
    """Each symbol's exchange time zone, looked up on its first read: a report formats
    thousands of times of a few symbols (its orders, its signals' moves)."""

    __slots__ = ("instruments",)

    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        super().__init__()
        self.instruments = instruments

    def __missing__(self, symbol: str) -> ZoneInfo | None:
        zone = self[symbol] = exchange_zone(self.instruments.get(symbol))
        return zone


def exchange_zone(instrument: Instrument | None) -> ZoneInfo | None:
    """The instrument's exchange time zone (``None``: UTC, it has no trading hours)."""
    hours = instrument.trading_hours if instrument is not None else None
    return ZoneInfo(hours.timezone) if hours is not None else None


def _local(ts_ns: int, zone: ZoneInfo | None) -> datetime:
    return ns_datetime(ts_ns, zone or UTC)


class _Open:
    """The trip being built for one symbol."""

    __slots__ = (
        "commission",
        "cost_in",
        "cost_out",
        "entry_ns",
        "mae",
        "max_qty",
        "mfe",
        "qty_in",
        "qty_out",
        "side",
    )  # fmt: skip

    def __init__(self, side: int, ts_ns: int) -> None:
        self.side = side
        self.entry_ns = ts_ns
        self.qty_in = self.qty_out = self.max_qty = 0
        self.cost_in = self.cost_out = Decimal(0)
        self.commission = Decimal(0)
        self.mae = self.mfe = 0

    def excursion(self, price: Decimal, tick: Decimal) -> None:
        if not self.qty_in:
            return
        ticks = int((price - self.cost_in / self.qty_in) / tick) * self.side
        self.mae = min(self.mae, ticks)
        self.mfe = max(self.mfe, ticks)


def round_trips(
    fills: Sequence[Fill],
    marks: Sequence[tuple[int, str, Decimal]],
    instruments: dict[str, Instrument],
) -> list[RoundTrip]:
    """The closed round trips of ``fills`` (in time order), with MAE/MFE from ``marks``."""
    events: list[tuple[int, int, Fill | tuple[str, Decimal]]] = [(f.ts_ns, 0, f) for f in fills]
    events += [(ts, 1, (symbol, price)) for ts, symbol, price in marks]
    events.sort(key=lambda e: (e[0], e[1]))
    fees: dict[str, int] = {}  # per symbol: the decimals its commissions need
    for fill in fills:
        fees[fill.symbol] = max(fees.get(fill.symbol, 0), fee_places((fill,)))
    position: dict[str, int] = {}
    trips: dict[str, _Open] = {}
    done: list[RoundTrip] = []
    for ts, _, item in events:
        if not isinstance(item, Fill):
            symbol, price = item
            trip = trips.get(symbol)
            instrument = instruments.get(symbol)
            if trip is not None and instrument is not None:
                trip.excursion(price, instrument.tick_size)
            continue
        instrument = instruments.get(item.symbol)
        tick = instrument.tick_size if instrument is not None else Decimal(1)
        signed = item.qty if item.side is Side.BUY else -item.qty
        left = signed
        per_contract = item.commission / item.qty if item.qty else Decimal(0)
        while left:
            held = position.get(item.symbol, 0)
            trip = trips.get(item.symbol)
            if trip is None:
                trip = trips[item.symbol] = _Open(1 if left > 0 else -1, ts)
            if held == 0 or (held > 0) == (left > 0):  # opening or adding
                trip.qty_in += abs(left)
                trip.cost_in += item.price * abs(left)
                trip.commission += per_contract * abs(left)
                position[item.symbol] = held + left
                trip.max_qty = max(trip.max_qty, abs(held + left))
                trip.excursion(item.price, tick)
                left = 0
                continue
            closing = min(abs(left), abs(held))
            trip.excursion(item.price, tick)
            trip.qty_out += closing
            trip.cost_out += item.price * closing
            trip.commission += per_contract * closing
            step = closing if left > 0 else -closing
            position[item.symbol] = held + step
            left -= step
            if position[item.symbol] == 0:
                done.append(_close(item.symbol, trip, ts, instrument, fees[item.symbol]))
                del trips[item.symbol]
    return done


def _close(
    symbol: str, trip: _Open, exit_ns: int, instrument: Instrument | None, fees: int
) -> RoundTrip:
    places = max(money_places(instrument) if instrument is not None else 2, fees)
    tick = instrument.tick_size if instrument is not None else Decimal(1)
    multiplier = instrument.multiplier if instrument is not None else Decimal(1)
    entry = trip.cost_in / trip.qty_in
    exit_ = trip.cost_out / trip.qty_out
    gross = (trip.cost_out - trip.cost_in) * trip.side * multiplier
    zone = exchange_zone(instrument)
    return RoundTrip(
        symbol=symbol,
        side="BUY" if trip.side > 0 else "SELL",
        qty=trip.max_qty,
        entry_ns=trip.entry_ns,
        exit_ns=exit_ns,
        entry_time=_local(trip.entry_ns, zone).isoformat(),
        exit_time=_local(exit_ns, zone).isoformat(),
        entry_price=_price(entry, tick),
        exit_price=_price(exit_, tick),
        pnl_ticks=int((exit_ - entry) / tick) * trip.side,
        pnl=format_money(gross - trip.commission, places),
        commission=format_money(trip.commission, places),
        holding_s=round((exit_ns - trip.entry_ns) / _NS, 3),
        mae_ticks=min(trip.mae, 0),
        mfe_ticks=max(trip.mfe, 0),
    )


def _price(value: Decimal, tick: Decimal) -> Decimal:
    """``value`` (an average) to two places finer than the tick, trailing zeros dropped
    down to the tick's places: 70.00, 70.105 (never 7E+1, which normalize alone gives)."""
    exponent = tick.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    fine = value.quantize(Decimal(1).scaleb(-(places + 2)))
    trimmed = fine.normalize()
    kept = trimmed.as_tuple().exponent
    if isinstance(kept, int) and -kept < places:
        return fine.quantize(Decimal(1).scaleb(-places))
    return trimmed


def _trading_day(ts_ns: int, instrument: Instrument | None) -> str:
    """The session the time belongs to (an evening trade of an overnight session counts
    for the next day), else the date in the exchange's time zone, else in UTC."""
    calendar = instrument.trading_calendar if instrument is not None else None
    if calendar is not None:
        return calendar.trading_day(ts_ns).isoformat()
    return _local(ts_ns, exchange_zone(instrument)).date().isoformat()


def daily_pnl(trips: Sequence[RoundTrip], instruments: dict[str, Instrument]) -> list[DayPnL]:
    """Realized P&L of the trips closed in each trading day (the instrument's sessions)."""
    places = max(portfolio_places(instruments), *(len(t.pnl.partition(".")[2]) for t in trips), 0)
    days: dict[str, tuple[Decimal, int]] = {}
    for trip in trips:
        day = _trading_day(trip.exit_ns, instruments.get(trip.symbol))
        pnl, count = days.get(day, (Decimal(0), 0))
        days[day] = (pnl + Decimal(trip.pnl), count + 1)
    return [
        DayPnL(date=day, pnl=format_money(pnl, places), trades=count)
        for day, (pnl, count) in sorted(days.items())
    ]


def trade_stats(
    trips: Sequence[RoundTrip],
    days: Sequence[DayPnL],
    *,
    equity: Sequence[tuple[int, float]],
    fills: Sequence[Fill],
    market_fill_ids: frozenset[str] = frozenset(),
    slippage_ticks: int = 0,
    instruments: dict[str, Instrument],
    first_ns: int,
    last_ns: int,
) -> TradeStats:
    """Statistics of the closed trips; ``equity`` is ``(ts_ns, equity)`` in time order."""
    places = max(
        portfolio_places(instruments, fills), *(len(d.pnl.partition(".")[2]) for d in days), 0
    )

    def as_money(value: Decimal) -> str:
        return format_money(value, places)

    pnls = [Decimal(t.pnl) for t in trips]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p <= 0]
    gross_win, gross_loss = sum(wins, Decimal(0)), -sum(losses, Decimal(0))
    daily = [float(d.pnl) for d in days]
    slippage = Decimal(0)
    for fill in fills:
        if fill.cl_order_id in market_fill_ids and slippage_ticks:
            instrument = instruments.get(fill.symbol)
            if instrument is not None:
                slippage += slippage_ticks * instrument.tick_size * instrument.multiplier * fill.qty
    worst, worst_s = _drawdown(equity)
    span = max(last_ns - first_ns, 1)
    held = sum(t.exit_ns - t.entry_ns for t in trips)
    return TradeStats(
        trades=len(trips),
        wins=len(wins),
        losses=len(losses),
        win_rate=round(len(wins) / len(trips), 4) if trips else 0.0,
        avg_win=as_money(gross_win / len(wins) if wins else Decimal(0)),
        avg_loss=as_money(-gross_loss / len(losses) if losses else Decimal(0)),
        profit_factor=round(float(gross_win / gross_loss), 4) if gross_loss else None,
        expectancy=as_money(sum(pnls, Decimal(0)) / len(pnls) if pnls else Decimal(0)),
        sharpe=_ratio(daily, downside=False),
        sortino=_ratio(daily, downside=True),
        max_drawdown=as_money(Decimal(str(round(worst, places)))),
        max_drawdown_s=round(worst_s / _NS, 3),
        exposure=round(min(held / span, 1.0), 4),
        commissions=as_money(sum((f.commission for f in fills), Decimal(0))),
        slippage=as_money(slippage),
        days=len(days),
    )


def _ratio(daily: Sequence[float], *, downside: bool) -> float | None:
    if len(daily) < 2:
        return None
    mean = sum(daily) / len(daily)
    if downside:
        spread = math.sqrt(sum(min(d, 0.0) ** 2 for d in daily) / len(daily))
    else:
        spread = math.sqrt(sum((d - mean) ** 2 for d in daily) / (len(daily) - 1))
    return round(mean / spread * math.sqrt(252), 4) if spread else None


def _drawdown(equity: Sequence[tuple[int, float]]) -> tuple[float, int]:
    """The deepest fall from a peak, and the longest time from a peak back to it (or to
    the end, if never), in ns."""
    peak: float | None = None
    peak_ns = 0
    worst = 0.0
    longest = 0
    under = False
    last_ns = 0
    for ts, value in equity:
        last_ns = ts
        if peak is None or value >= peak:
            if under:
                longest = max(longest, ts - peak_ns)
            peak, peak_ns, under = value, ts, False
            continue
        under = True
        worst = max(worst, peak - value)
    if under:
        longest = max(longest, last_ns - peak_ns)
    return worst, longest


# an enum's text without its value property (two Python frames a read, three reads a row)
SIDE_TEXT: Final = {side: side.value for side in Side}
ORDER_TYPE_TEXT: Final = {kind: kind.value for kind in OrderType}
ORDER_STATE_TEXT: Final = {state: state.value for state in OrderState}


def order_rows(
    orders: Sequence[Order],
    denied: Sequence[DeniedAction] = (),
    *,
    instruments: dict[str, Instrument] | None = None,
) -> list[OrderRow]:
    """Every order the tracker saw with its outcome and the time of it, then every denied
    action (refused before sending, so the venue never saw it) with what it asked, the
    rules it broke (``code``) and when."""
    table = instruments or {}
    zones = ZoneTable(table)
    rows = [
        OrderRow(
            cl_order_id=o.cl_order_id,
            symbol=o.symbol,
            side=SIDE_TEXT[o.side],
            qty=o.qty,
            order_type=ORDER_TYPE_TEXT[o.order_type],
            limit_price=o.limit_price,
            stop_price=o.stop_price,
            outcome=ORDER_STATE_TEXT[o.state],
            filled_qty=o.filled_qty,
            avg_fill_price=o.avg_fill_price,
            code=o.reject_code,
            text=o.reject_text,
            updated_ns=o.updated_ns,
            updated_time=zoned_time(o.updated_ns, zones[o.symbol]) if o.updated_ns else "",
        )
        for o in orders
    ]
    rows += [_denied_row(d, table) for d in denied]
    return rows


def _denied_row(denied: DeniedAction, table: dict[str, Instrument]) -> OrderRow:
    request = denied.request
    symbol = getattr(request, "symbol", None) or ""
    new = request if isinstance(request, NewOrder) else None
    modify = request if isinstance(request, ModifyOrder) else None
    priced = new or modify
    return OrderRow(
        cl_order_id=request.cl_order_id or denied.signal_id,
        symbol=symbol,
        side=new.side.value if new is not None else "",
        qty=(new.qty if new is not None else (modify.qty or 0) if modify is not None else 0),
        order_type=(new.order_type.value if new is not None else request.request_type.value),
        limit_price=priced.limit_price if priced is not None else None,
        stop_price=priced.stop_price if priced is not None else None,
        outcome="DENIED",
        filled_qty=0,
        avg_fill_price=None,
        code=",".join(denied.codes),
        text=denied.text,
        updated_ns=denied.ts_ns,
        updated_time=exchange_time(denied.ts_ns, table.get(symbol)),
    )
