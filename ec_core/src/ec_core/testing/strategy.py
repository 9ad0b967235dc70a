"""Run an :class:`~ec_core.strategy.OpStrategy` on the mock venue from a test.

:func:`run_strategy` is ``ec replay`` as a function: the ticks you give are the
market, every order takes the real path (executor, pre-trade checks, the mock
engine's matching, the order tracker), and you get back what a test asserts on::

    run = await run_strategy(MyStrategy(symbols=["CLE"]), ticks)
    assert run.position("CLE") == 0
    assert [t.side for t in run.report.fills] == ["SELL", "BUY"]

It never hangs: the whole run has a deadline (``deadline_s``), and a payload waiting
for an activation window the ticks never reach ends EXPIRED in ``report.held``.
ec-mock's pytest plugin wraps it as the ``strategy_rig`` fixture, with helpers
that build ticks from decimal prices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, final

import anyio

from ec_core.model import MarketEvent, Order
from ec_core.plugins import PluginHost
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import DEFAULT_REPLAY_ACCOUNT, replay_plan
from ec_core.strategy.report import ReplayReport, SignalPath
from ec_core.strategy.rig import TradingRig
from ec_core.strategy.strategy import OpStrategy

__all__ = ["StrategyRun", "run_strategy"]


@final
class StrategyRun:
    """What a strategy did on the mock: the replay report and the tracker's view."""

    __slots__ = ("account_id", "report", "rig")

    def __init__(self, report: ReplayReport, rig: TradingRig, account_id: str) -> None:
        self.report = report
        self.rig = rig
        self.account_id = account_id

    def position(self, symbol: str) -> int:
        """Net contracts held in ``symbol`` (long > 0), as the venue's fills left it."""
        return self.rig.tracker.position(self.account_id, symbol).qty

    @property
    def orders(self) -> list[Order]:
        """Every order the strategy placed, in its last known state."""
        return list(self.rig.tracker.orders(self.account_id))

    @property
    def open_orders(self) -> list[Order]:
        """Orders still working at the venue when the ticks ran out."""
        return self.rig.tracker.open_orders(self.account_id)

    @property
    def signals(self) -> tuple[SignalPath, ...]:
        """Each signal's state, reason and the nodes its tree went through."""
        return self.report.signal_paths


async def run_strategy(
    strategy: OpStrategy | Sequence[OpStrategy] | StrategyPlan,
    ticks: str | Path | Iterable[MarketEvent],
    *,
    account_id: str = DEFAULT_REPLAY_ACCOUNT,
    seed: int = 0,
    timeframes: Sequence[str] = ("1s", "1m"),
    vendor_settings: Mapping[str, Any] | None = None,
    host: PluginHost | None = None,
    deadline_s: float = 30.0,
) -> StrategyRun:
    """Replay ``ticks`` (events, or a tick CSV path) through ``strategy`` on the mock vendor.

    ``strategy`` is one strategy, a list, or a :class:`StrategyPlan`. Raises
    ``TimeoutError`` if the run takes longer than ``deadline_s`` seconds of wall time.
    """
    if isinstance(strategy, StrategyPlan):
        plan = strategy
    elif isinstance(strategy, OpStrategy):
        plan = StrategyPlan([strategy], timeframes=timeframes)
    else:
        plan = StrategyPlan(list(strategy), timeframes=timeframes)
    rigs: list[TradingRig] = []
    with anyio.fail_after(deadline_s):
        report = await replay_plan(
            host if host is not None else PluginHost.load(),
            plan,
            ticks,
            account_id=account_id,
            seed=seed,
            vendor_settings=vendor_settings,
            on_rig=rigs.append,
        )
    return StrategyRun(report, rigs[0], account_id)
