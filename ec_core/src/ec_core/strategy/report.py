"""The report of a replay: fills, round trips, statistics, orders, daily P&L, per-signal
paths; text, JSON and an SVG chart.

``report.json`` keeps the trader's tables under stable keys: ``trades`` (round trips),
``stats``, ``orders`` and ``daily`` (see :mod:`ec_core.strategy.analytics`); ``fills``
lists every fill with the P&L it booked.

P&L is computed from the fills the tracker accepted, per symbol, on average cost:
money = price difference x quantity x the instrument's multiplier, in Decimal.
The equity curve is realized plus unrealized P&L at the mid price, sampled on the
recorded market's time (at most once per ``sample_ns`` and at every fill).

The chart is a small hand-written SVG (a price pane per instrument, then equity): no
plotting dependency in ec-core, and a browser or any image viewer shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import msgspec

from ec_core.data.tick_checks import TickCheckSummary
from ec_core.model import Fill, Instrument, Order, OrderType, Side
from ec_core.model.money import money_places
from ec_core.strategy.analytics import (
    SIDE_TEXT,
    DayPnL,
    OrderRow,
    RoundTrip,
    TradeStats,
    ZoneTable,
    daily_pnl,
    exchange_time,
    order_rows,
    portfolio_places,
    round_trips,
    trade_stats,
    zoned_time,
)
from ec_core.strategy.chart import render_svg
from ec_core.strategy.engine import ErrorReport
from ec_core.strategy.holds import HeldPayload
from ec_core.strategy.outcomes import DeniedAction, OrderCounts
from ec_core.strategy.report_text import render_text
from ec_core.strategy.signal import OpSignal
from ec_core.strategy.signal_rows import (
    SignalLog,
    SignalPath,
    shadowed_branches,
    signal_path,
)

__all__ = [
    "EquityPoint",
    "PricePoint",
    "ReplayReport",
    "SignalPath",
    "TradeRecord",
    "build_report",
    "equity_curve",
    "price_series",
    "render_svg",
    "render_text",
]


class TradeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One fill, with the realized P&L it booked (money, after commission)."""

    ts_ns: int
    time: str  # ts_ns in the exchange's time zone, ISO 8601 with the zone
    symbol: str
    side: str
    qty: int
    price: Decimal
    realized: Decimal
    cl_order_id: str


class TimedError(ErrorReport, frozen=True, kw_only=True):
    """An isolated failure as the report writes it, with its first ``time`` in exchange time."""

    time: str


class TimedHold(HeldPayload, frozen=True, kw_only=True):
    """A held payload as the report writes it, with ``start_time`` in exchange time."""

    start_time: str


class EquityPoint(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    ts_ns: int
    # the first symbol's price its equity is valued at: its last mark's mid, or a later
    # fill's own price (chart only; every symbol's mids are in ``prices``)
    price: float
    equity: float


class PricePoint(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """A symbol's mid at one mark (charts only: a pane per instrument)."""

    ts_ns: int
    mid: float


class ReplayReport(msgspec.Struct, frozen=True, kw_only=True):
    """Money amounts carry the instruments' decimals (JSON: strings like ``"350.00"``);
    each ``*_ns`` time has an ISO 8601 exchange time beside it (``*_time``/``time``)."""

    ticks: int
    first_ns: int
    last_ns: int
    wall_s: float
    orders_sent: int
    signals: int
    fills: tuple[TradeRecord, ...]
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    net_pnl: Decimal
    commissions: Decimal
    max_drawdown: Decimal
    positions: dict[str, int]
    signal_paths: tuple[SignalPath, ...]
    errors: tuple[TimedError, ...]  # once per distinct error, with its count
    equity: tuple[EquityPoint, ...]
    # payloads whose activation window never opened within the data (never sent)
    held: tuple[TimedHold, ...] = ()
    # what the replay suggests is wrong with the strategy (e.g. a branch never reachable)
    warnings: tuple[str, ...] = ()
    disabled: dict[str, str] = {}  # strategy -> why it was disabled during the replay
    first_time: str = ""  # first_ns in the exchange's time zone, ISO 8601 with the zone
    last_time: str = ""
    # order actions by outcome: orders_sent above is their ``sent``
    order_outcomes: OrderCounts = OrderCounts()
    # what the tick file's checks did (rows sorted, rows skipped under --lenient)
    tick_checks: TickCheckSummary | None = None
    trades: tuple[RoundTrip, ...] = ()  # round trips, flat to flat
    stats: TradeStats | None = None
    orders: tuple[OrderRow, ...] = ()
    daily: tuple[DayPnL, ...] = ()
    chart_symbol: str = ""  # the symbol the equity curve's price is of
    # each instrument's mid at its marks, in time order, the instruments' order: the charts
    # draw a price pane per symbol from it
    prices: dict[str, tuple[PricePoint, ...]] = {}

    def to_json(self) -> bytes:
        return msgspec.json.format(msgspec.json.encode(self), indent=2)

    def __repr__(self) -> str:
        """A summary, not every fill and equity point: asyncio formats a finished task's
        result when ``anyio.run`` returns one, which printed a long replay's whole report
        twice per run. The report itself is in :meth:`to_json`."""
        return (
            f"ReplayReport(ticks={self.ticks}, orders_sent={self.orders_sent},"
            f" fills={len(self.fills)}, net_pnl={self.net_pnl}, max_drawdown={self.max_drawdown},"
            f" errors={len(self.errors)}, first_time={self.first_time!r},"
            f" last_time={self.last_time!r})"
        )


class _Book:
    """Average-cost position of one symbol, in money, and the price it is valued at."""

    __slots__ = ("avg", "mark", "multiplier", "qty", "realized")

    def __init__(self, multiplier: Decimal) -> None:
        self.multiplier = multiplier
        self.qty = 0
        self.avg = Decimal(0)
        self.realized = Decimal(0)
        self.mark: Decimal | None = None  # its last mark, or a later fill's price

    def fill(self, side: Side, qty: int, price: Decimal) -> Decimal:
        signed = qty if side is Side.BUY else -qty
        booked = Decimal(0)
        if self.qty and (self.qty > 0) != (signed > 0):
            closing = min(abs(signed), abs(self.qty))
            direction = 1 if self.qty > 0 else -1
            booked = (price - self.avg) * closing * direction * self.multiplier
            self.qty += closing * -direction
            signed += closing * direction
            if self.qty == 0:
                self.avg = Decimal(0)
        if signed:
            total = self.avg * abs(self.qty) + price * abs(signed)
            self.qty += signed
            self.avg = total / abs(self.qty)
        self.realized += booked
        return booked

    def unrealized(self) -> Decimal:
        if not self.qty or self.mark is None:
            return Decimal(0)
        return (self.mark - self.avg) * self.qty * self.multiplier


def _quantize(amount: Decimal, places: int) -> Decimal:
    """``amount`` with exactly ``places`` decimals (how it is written in report.json)."""
    return amount.quantize(Decimal(1).scaleb(-places))


def money_places_of(instruments: dict[str, Instrument], symbol: str) -> int:
    instrument = instruments.get(symbol)
    return money_places(instrument) if instrument is not None else 2


def equity_curve(
    fills: Sequence[Fill],
    marks: Sequence[tuple[int, str, Decimal]],
    instruments: dict[str, Instrument],
) -> tuple[list[EquityPoint], dict[str, _Book]]:
    """Replay fills and mark samples in time order (fills first on a tie).

    A fill marks its instrument at its own price until the next mark: it is the latest
    price known there, and the mark before it may be a bar older (a position opened
    between two marks was valued at the older mid, a loss or gain that never was)."""
    books = {s: _Book(i.multiplier) for s, i in instruments.items()}
    chart_symbol = _chart_symbol(marks, instruments)
    points: list[EquityPoint] = []
    events: list[tuple[int, int, Fill | tuple[str, Decimal]]] = [(f.ts_ns, 0, f) for f in fills]
    events += [(ts, 1, (sym, px)) for ts, sym, px in marks]
    events.sort(key=lambda e: (e[0], e[1]))
    # the chart symbol's first price stands for it until it has one: the other
    # instruments' fills and marks before it are points of the curve too
    price = next(
        (
            item.price if isinstance(item, Fill) else item[1]
            for _, _, item in events
            if (item.symbol if isinstance(item, Fill) else item[0]) == chart_symbol
        ),
        None,
    )
    for ts, _, item in events:
        if isinstance(item, Fill):
            book = books.setdefault(item.symbol, _Book(Decimal(1)))
            book.fill(item.side, item.qty, item.price)
            book.realized -= item.commission
            book.mark = item.price
        elif (marked := books.get(item[0])) is not None:
            marked.mark = item[1]
        equity = sum((b.realized + b.unrealized() for b in books.values()), Decimal(0))
        chart = books.get(chart_symbol)
        if chart is not None and chart.mark is not None:
            price = chart.mark
        if price is not None:
            points.append(EquityPoint(ts_ns=ts, price=float(price), equity=float(equity)))
    return points, books


def _chart_symbol(
    marks: Sequence[tuple[int, str, Decimal]], instruments: dict[str, Instrument]
) -> str:
    """The first instrument with a mark (the first price pane): a point of the equity curve
    needs its price, and a first instrument never quoted left the curve empty (and the
    drawdown 0 whatever the other instruments lost)."""
    marked = {symbol for _, symbol, _ in marks}
    return next((s for s in instruments if s in marked), next(iter(instruments), ""))


def price_series(
    marks: Sequence[tuple[int, str, Decimal]], instruments: dict[str, Instrument]
) -> dict[str, tuple[PricePoint, ...]]:
    """Each symbol's marks as chart points, in time order; symbols in the instruments'
    order (the first is the chart symbol), those without a mark left out."""
    series: dict[str, list[PricePoint]] = {s: [] for s in instruments}
    for ts, symbol, price in sorted(marks, key=lambda mark: mark[0]):
        series.setdefault(symbol, []).append(PricePoint(ts_ns=ts, mid=float(price)))
    return {s: tuple(points) for s, points in series.items() if points}


def _max_drawdown(points: Iterable[EquityPoint], places: int) -> Decimal:
    peak = None
    worst = 0.0
    for point in points:
        peak = point.equity if peak is None else max(peak, point.equity)
        worst = max(worst, peak - point.equity)
    return Decimal(str(round(worst, places)))


def build_report(
    *,
    fills: Sequence[Fill],
    marks: Sequence[tuple[int, str, Decimal]],
    instruments: dict[str, Instrument],
    signals: Sequence[OpSignal],
    errors: Sequence[ErrorReport],
    disabled: dict[str, str] | None = None,
    ticks: int,
    first_ns: int,
    last_ns: int,
    wall_s: float,
    orders_sent: int,
    held: Sequence[HeldPayload] = (),
    warnings: Sequence[str] = (),
    tick_checks: TickCheckSummary | None = None,
    orders: Sequence[Order] = (),
    slippage_ticks: int = 0,
    order_counts: OrderCounts | None = None,
    finished: SignalLog | None = None,
    denied: Sequence[DeniedAction] = (),
) -> ReplayReport:
    """``signals``: the signals to list whole (a replay's live ones at the end); ``finished``:
    the rows a :class:`SignalLog` kept of those that finished, listed first; ``denied``: the
    order actions the pre-trade checks refused (``OrderOutcomes.denials``)."""
    ordered = sorted(fills, key=lambda f: f.ts_ns)
    replay_books = {s: _Book(i.multiplier) for s, i in instruments.items()}
    trades = []
    zones = ZoneTable(instruments)
    for fill in ordered:
        book = replay_books.setdefault(fill.symbol, _Book(Decimal(1)))
        booked = book.fill(fill.side, fill.qty, fill.price) - fill.commission
        trades.append(
            TradeRecord(
                ts_ns=fill.ts_ns,
                time=zoned_time(fill.ts_ns, zones[fill.symbol]),
                symbol=fill.symbol,
                side=SIDE_TEXT[fill.side],
                qty=fill.qty,
                price=fill.price,
                realized=_quantize(booked, money_places_of(instruments, fill.symbol)),
                cl_order_id=fill.cl_order_id,
            )
        )
    points, books = equity_curve(ordered, marks, instruments)
    realized = sum((b.realized for b in books.values()), Decimal(0))
    # at the prices the curve ends at (a fill after a symbol's last mark is the later price)
    unrealized = sum((b.unrealized() for b in books.values()), Decimal(0))
    trips = round_trips(ordered, marks, instruments)
    days = daily_pnl(trips, instruments)
    market_orders = frozenset(
        o.cl_order_id
        for o in orders
        if o.order_type in (OrderType.MKT, OrderType.MTL, OrderType.STP)
    )
    places = portfolio_places(instruments, fills)
    first_instrument = next(iter(instruments.values()), None)
    return ReplayReport(
        ticks=ticks,
        first_ns=first_ns,
        first_time=exchange_time(first_ns, first_instrument),
        last_ns=last_ns,
        last_time=exchange_time(last_ns, first_instrument),
        wall_s=round(wall_s, 3),
        orders_sent=orders_sent,
        signals=len(signals) + (finished.count if finished is not None else 0),
        fills=tuple(trades),
        realized_pnl=_quantize(realized, places),
        unrealized_pnl=_quantize(unrealized, places),
        net_pnl=_quantize(realized + unrealized, places),
        commissions=_quantize(sum((f.commission for f in fills), Decimal(0)), places),
        max_drawdown=_quantize(_max_drawdown(points, places), places),
        positions={s: b.qty for s, b in books.items()},
        signal_paths=(
            *(finished.paths if finished is not None else ()),
            *(signal_path(s, instruments.get(s.symbol)) for s in signals),
        ),
        errors=tuple(
            TimedError(**msgspec.structs.asdict(e), time=exchange_time(e.ts_ns, first_instrument))
            for e in errors
        ),
        equity=tuple(points),
        held=tuple(
            TimedHold(
                **msgspec.structs.asdict(h), start_time=exchange_time(h.start_ns, first_instrument)
            )
            for h in held
        ),
        warnings=(
            *warnings,
            *_dropped_paths(finished),
            *shadowed_branches(signals, finished.branches if finished is not None else None),
        ),
        disabled=dict(disabled or {}),
        tick_checks=tick_checks,
        trades=tuple(trips),
        stats=trade_stats(
            trips,
            days,
            equity=[(p.ts_ns, p.equity) for p in points],
            fills=ordered,
            market_fill_ids=market_orders,
            slippage_ticks=slippage_ticks,
            instruments=instruments,
            first_ns=first_ns,
            last_ns=last_ns,
        ),
        orders=tuple(order_rows(orders, denied, instruments=instruments)),
        daily=tuple(days),
        order_outcomes=order_counts
        if order_counts is not None
        else OrderCounts(actions=orders_sent, sent=orders_sent),
        chart_symbol=_chart_symbol(marks, instruments),
        prices=price_series(marks, instruments),
    )


def _dropped_paths(finished: SignalLog | None) -> list[str]:
    """Say so when the report lists fewer signal paths than signals ran."""
    if finished is None or not finished.dropped():
        return []
    return [
        f"{finished.count} signals finished; signal_paths lists the last {len(finished.paths)}"
        f" ({finished.dropped()} earlier ones are counted in signals, their paths not kept)"
    ]
