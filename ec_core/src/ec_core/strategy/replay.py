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

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio

from ec_core.model import Instrument, MarketEvent, Quote
from ec_core.plugins import PluginHost
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.recorded import recorded_market
from ec_core.strategy.report import ReplayReport, build_report
from ec_core.strategy.rig import TradingRig, trading_rig
from ec_core.strategy.ticks_csv import read_symbols, read_ticks

__all__ = ["DEFAULT_REPLAY_ACCOUNT", "replay_plan"]

DEFAULT_REPLAY_ACCOUNT = "REPLAY-1"
SECOND = 1_000_000_000


async def replay_plan(
    host: PluginHost,
    plan: StrategyPlan,
    ticks: str | Path | Iterable[MarketEvent],
    *,
    account_id: str = DEFAULT_REPLAY_ACCOUNT,
    seed: int = 0,
    sample_ns: int = SECOND,
    vendor_settings: Mapping[str, Any] | None = None,
    on_rig: Callable[[TradingRig], None] | None = None,
) -> ReplayReport:
    """Replay ``ticks`` (a CSV path or events) through ``plan`` on the mock vendor."""
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
                table.update(rig.instruments)
                marks: list[tuple[int, str, Decimal]] = []
                counter = _Counter()
                seen = [market.events_for_account]

                backlog = rig.backlog

                def pending() -> bool:
                    # The venue spoke to our account since the last look: yield once so
                    # the consumer runs, then until its buffer is empty.
                    if market.events_for_account != seen[0]:
                        seen[0] = market.events_for_account
                        return True
                    return backlog() > 0

                started = time.perf_counter()
                stream = _sampled(market.feeding(events), table, marks, counter, sample_ns)
                await rig.engine.replay(stream, pending=pending)
                await _settle(rig)
                wall = time.perf_counter() - started
                engine = rig.engine
                return build_report(
                    fills=rig.tracker.fills(account_id),
                    marks=marks,
                    instruments=rig.instruments,
                    signals=[*engine.finished, *engine.signals],
                    errors=list(engine.errors),
                    ticks=counter.n,
                    first_ns=counter.first,
                    last_ns=counter.last,
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


class _Counter:
    __slots__ = ("first", "last", "n")

    def __init__(self) -> None:
        self.n = 0
        self.first = 0
        self.last = 0


def _sampled(
    ticks: Iterator[MarketEvent],
    instruments: Mapping[str, Instrument],
    marks: list[tuple[int, str, Decimal]],
    counter: _Counter,
    sample_ns: int,
) -> Iterator[MarketEvent]:
    """Pass ticks through, keeping a mid price per symbol at most every ``sample_ns``."""
    due: dict[str, int] = {}
    n = 0
    ts = 0
    for tick in ticks:
        ts = tick.ts_ns
        if n == 0:
            counter.first = ts
        n += 1
        symbol = tick.symbol
        if ts >= due.get(symbol, 0) and type(tick) is Quote:
            bid, ask = tick.bid, tick.ask
            if bid is not None and ask is not None:
                inst = instruments.get(symbol)
                if inst is not None:
                    marks.append((ts, symbol, inst.tick_size * (bid + ask) / 2))
                    due[symbol] = ts + sample_ns
        yield tick
    counter.n = n
    counter.last = ts
