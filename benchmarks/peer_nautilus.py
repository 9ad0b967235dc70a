"""The peer in ``bench_replay.py --peer``: nautilus_trader's ``BacktestEngine`` on the same quotes.

Its simulated venue (L1 book, netting margin account) sees every quote; a strategy
subscribes to the quotes and to 1-minute mid bars built from them, and makes an order
action every ``ORDER_EVERY`` quotes: alternately a resting bid 50 ticks under the
market and the cancel of it (what ``PingStrategy`` does in the ec run). Install it with
``uv sync --group peers``; without it the peer is skipped with a message.
"""

from __future__ import annotations

import time
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType, QuoteTick
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, TimeInForce
from nautilus_trader.model.identifiers import TraderId, Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

__all__ = ["T0", "run_nautilus"]

T0 = 1_623_000_000_000_000_000  # June 2021: inside the test future's listing


class _Ping(Strategy):  # type: ignore[misc]  # nautilus is untyped here
    def __init__(self, instrument: Any, every: int) -> None:
        super().__init__(StrategyConfig())
        self.instrument = instrument
        self.every = every
        self.quotes = 0
        self.actions = 0
        self.bars = 0
        self.resting: LimitOrder | None = None

    def on_start(self) -> None:
        self.subscribe_quote_ticks(self.instrument.id)
        self.subscribe_bars(BarType.from_str(f"{self.instrument.id}-1-MINUTE-MID-INTERNAL"))

    def on_bar(self, bar: Bar) -> None:
        self.bars += 1

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.quotes += 1
        if self.quotes % self.every:
            return
        self.actions += 1
        if self.resting is not None:
            self.cancel_order(self.resting)
            self.resting = None
            return
        price = Price(tick.bid_price.as_double() - 0.50, 2)
        order = self.order_factory.limit(
            instrument_id=self.instrument.id,
            order_side=OrderSide.BUY,
            quantity=Quantity.from_int(1),
            price=price,
            time_in_force=TimeInForce.GTC,
        )
        self.submit_order(order)
        self.resting = order


def run_nautilus(quotes: list[tuple[int, int, int]], every: int) -> dict[str, float | int]:
    """``quotes``: ``(ts_ns, bid_ticks, ask_ticks)``, prices in cents. Returns seconds
    spent in ``engine.run()`` and what the strategy saw."""
    instrument = TestInstrumentProvider.future()
    engine = BacktestEngine(
        config=BacktestEngineConfig(
            trader_id=TraderId("BENCH-001"), logging=LoggingConfig(log_level="ERROR")
        )
    )
    engine.add_venue(
        venue=Venue("GLBX"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000, USD)],
    )
    engine.add_instrument(instrument)
    size = Quantity.from_int(5)
    ticks = [
        QuoteTick(
            instrument_id=instrument.id,
            bid_price=Price(bid / 100, 2),
            ask_price=Price(ask / 100, 2),
            bid_size=size,
            ask_size=size,
            ts_event=ts,
            ts_init=ts,
        )
        for ts, bid, ask in quotes
    ]
    engine.add_data(ticks)
    strategy = _Ping(instrument, every)
    engine.add_strategy(strategy)
    started = time.perf_counter()
    engine.run()
    spent = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": spent,
        "quotes": strategy.quotes,
        "order_actions": strategy.actions,
        "bars": strategy.bars,
    }
