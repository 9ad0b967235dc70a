"""Helpers shared by the engine tests: a small exchange and an event recorder."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from decimal import Decimal
from typing import Any

from ec_core.clock import ManualClock
from ec_core.model import (
    Duration,
    ExecInstruction,
    ExecutionReport,
    Instrument,
    NewOrder,
    OrderType,
    Quote,
    ReportKind,
    Side,
    Trade,
    TradeEvent,
    TradingHours,
)
from ec_mock.engine import Exchange
from ec_mock.instruments import builtin_instruments

# Wednesday 2024-01-10 09:00 America/Chicago: inside the CME Globex session.
T0 = 1_704_898_800_000_000_000
SECOND = 1_000_000_000
ES = Instrument(symbol="ES", tick_size=Decimal("0.25"), multiplier=Decimal(50), max_order_qty=100)
ZN = Instrument(
    symbol="ZN", tick_size=Decimal("0.015625"), multiplier=Decimal(1000), max_order_qty=100
)
GLOBEX = TradingHours(timezone="America/Chicago", open=time(17, 0), close=time(16, 0))
CL = Instrument(
    symbol="CL",
    tick_size=Decimal("0.01"),
    multiplier=Decimal(1000),
    trading_hours=GLOBEX,
)


class Recorder:
    """A listener that keeps everything it hears."""

    def __init__(self) -> None:
        self.trade: list[TradeEvent] = []
        self.market: list[Quote | Trade] = []

    def on_trade_event(self, event: TradeEvent) -> None:
        self.trade.append(event)

    hears_market_events = True  # the exchange calls on_market_event

    def on_market_event(self, event: Quote | Trade) -> None:
        self.market.append(event)

    def reports(self, cl_order_id: str | None = None) -> list[ExecutionReport]:
        return [
            e
            for e in self.trade
            if isinstance(e, ExecutionReport)
            and (cl_order_id is None or cl_order_id in (e.cl_order_id, e.chain_id))
        ]

    def kinds(self, cl_order_id: str) -> list[ReportKind]:
        return [r.kind for r in self.reports(cl_order_id)]

    def last(self, cl_order_id: str) -> ExecutionReport:
        return self.reports(cl_order_id)[-1]

    def rejects(self) -> list[ExecutionReport]:
        return [r for r in self.reports() if r.kind is ReportKind.REJECTED]


def make_exchange(
    instruments: Iterable[Instrument] = (ES, ZN, CL),
    *,
    accounts: Iterable[str] = ("A", "B"),
    seed: int = 0,
    start_ns: int = T0,
    **options: object,
) -> tuple[Exchange, ManualClock, Recorder]:
    clock = ManualClock(start_ns)
    exchange = Exchange(instruments=instruments, clock=clock, seed=seed, **options)  # type: ignore[arg-type]
    for account in accounts:
        exchange.open_account(account)
    recorder = Recorder()
    exchange.add_listener(recorder)
    return exchange, clock, recorder


def order(
    cl: str,
    side: Side,
    qty: int,
    price: str | None = None,
    *,
    account: str = "A",
    symbol: str = "ES",
    order_type: OrderType | None = None,
    stop: str | None = None,
    duration: Duration = Duration.DAY,
    aon: bool = False,
    exec_instructions: frozenset[ExecInstruction] = frozenset(),
    **more: object,
) -> NewOrder:
    if order_type is None:
        order_type = OrderType.LMT if price is not None else OrderType.MKT
    return NewOrder(
        account_id=account,
        symbol=symbol,
        side=side,
        qty=qty,
        order_type=order_type,
        limit_price=Decimal(price) if price is not None else None,
        stop_price=Decimal(stop) if stop is not None else None,
        duration=duration,
        exec_instructions=exec_instructions | {ExecInstruction.AON} if aon else exec_instructions,
        cl_order_id=cl,
        **more,  # type: ignore[arg-type]
    )


def globex(**options: Any) -> tuple[Exchange, ManualClock, Recorder]:
    """The built-in products at 09:00 CT on Wednesday 2024-01-10, accounts A, B and C."""
    clock = ManualClock(T0)
    ex = Exchange(instruments=builtin_instruments(), clock=clock, **options)
    for account in ("A", "B", "C"):
        ex.open_account(account)
    rec = Recorder()
    ex.add_listener(rec)
    return ex, clock, rec


def ep(cl: str, side: Side, qty: int, price: str | None = None, **more: Any) -> NewOrder:
    """An order for the built-in E-mini (``EP``)."""
    return order(cl, side, qty, price, symbol="EP", **more)


def fills(rec: Recorder, cl: str) -> list[tuple[int, Decimal]]:
    """``(qty, price)`` of each fill of order ``cl``, in order."""
    return [
        (r.fill.qty, r.fill.price)
        for r in rec.reports(cl)
        if r.kind is ReportKind.FILL and r.fill is not None
    ]
