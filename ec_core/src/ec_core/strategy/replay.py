"""Deterministic replay of recorded ticks on the mock venue, with the real order path.

::

    tick file --> RecordedMarket --> mock exchange (simulated clock, fill model)
        |                                  |  trade events
        +--> StrategyEngine --> Executor --+--> OrderTracker --> report

The venue is opened through the plugin host (vendor ``mock``, no simulated market,
simulated clock); each tick is shown to the venue first, then to the strategies,
and every order action settles before the next tick. Same file, same seed, same
strategy: same report (except the wall time).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio

from ec_core.model import Bar, Instrument, MarketEvent
from ec_core.plugins import PluginHost
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.recorded import recorded_market
from ec_core.strategy.report import ReplayReport, build_report
from ec_core.strategy.rig import TradingRig, trading_rig
from ec_core.strategy.ticks_csv import read_symbols, read_ticks

__all__ = ["DEFAULT_REPLAY_ACCOUNT", "replay_plan"]

DEFAULT_REPLAY_ACCOUNT = "REPLAY-1"


async def replay_plan(
    host: PluginHost,
    plan: StrategyPlan,
    ticks: str | Path | Iterable[MarketEvent],
    *,
    account_id: str = DEFAULT_REPLAY_ACCOUNT,
    seed: int = 0,
    vendor_settings: Mapping[str, Any] | None = None,
    on_rig: Callable[[TradingRig], None] | None = None,
    show_market: bool = True,
) -> ReplayReport:
    """Replay ``ticks`` (a CSV path or events) through ``plan`` on the mock vendor.

    ``show_market=False`` keeps the recorded ticks from the venue (the book stays
    empty but for our own orders): the benchmark's way to time the order path alone.
    """
    settings: dict[str, Any] = dict(vendor_settings or {})
    settings.update({"seed": seed, "market": False, "clock": "simulated", "account_id": account_id})
    async with host.open_session("mock", settings) as session:
        market = recorded_market(session, account_id=account_id)
        try:
            if isinstance(ticks, str | Path):
                symbols = dict.fromkeys([*plan.symbols, *read_symbols(ticks)])
                table = {s: await session.resolve(s) for s in symbols}
                events: Iterable[MarketEvent] = read_ticks(ticks, table.get)
            else:
                table = {}
                events = ticks
            async with trading_rig(
                host,
                session,
                plan,
                account_id=account_id,
                clock=market.clock,
                engine_clock=None,
            ) as rig:
                if on_rig is not None:
                    on_rig(rig)
                marks: list[tuple[int, str, Decimal]] = []
                for symbol, feed in rig.engine.feeds.items():
                    feed.tick_buffer.add_bar_listener(
                        _marker(marks, symbol, feed.instrument, feed.tick_buffer.timeframes[0].name)
                    )
                market.backlog = rig.backlog
                stream = iter(market.feeding(events) if show_market else events)
                first = next(stream, None)
                started = time.perf_counter()
                if first is not None:
                    await rig.engine.replay(itertools.chain((first,), stream), sync=market)
                await _settle(rig)
                wall = time.perf_counter() - started
                engine = rig.engine
                last_ns = engine.clock.now_ns()
                for symbol, feed in engine.feeds.items():  # the last mid, where the run ended
                    quote = feed.tick_buffer.quote
                    if quote is not None and quote.bid is not None and quote.ask is not None:
                        mid = feed.instrument.tick_size * (quote.bid + quote.ask) / 2
                        marks.append((last_ns, symbol, mid))
                return build_report(
                    fills=rig.tracker.fills(account_id),
                    marks=marks,
                    instruments=rig.instruments,
                    signals=[*engine.finished, *engine.signals],
                    errors=list(engine.errors),
                    ticks=engine.events + engine.feeds.unknown_events,
                    first_ns=first.ts_ns if first is not None else 0,
                    last_ns=last_ns,
                    wall_s=wall,
                    orders_sent=engine.orders_sent,
                )
        finally:
            market.close()


async def _settle(rig: TradingRig) -> None:
    """Let the trade-stream consumer apply what the last ticks produced."""
    await rig.engine.wait_idle()
    await anyio.lowlevel.checkpoint()
    while rig.backlog():
        await anyio.lowlevel.checkpoint()


def _marker(
    marks: list[tuple[int, str, Decimal]], symbol: str, instrument: Instrument, timeframe: str
) -> Callable[[Bar], None]:
    """A bar listener keeping the close of each ``timeframe`` bar as a mark (no per-tick cost)."""
    tick_size = instrument.tick_size

    def on_bar(bar: Bar) -> None:
        if bar.timeframe == timeframe:
            marks.append((bar.end_ns, symbol, tick_size * bar.close))

    return on_bar
