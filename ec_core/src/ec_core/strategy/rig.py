"""Wire a strategy plan to a vendor session: executor, tracker, feeds, engine.

Both ``ec run`` and ``ec replay`` use it, so a strategy meets the same doors in a
replay as live: the plugin host's gateway, trade monitor and validators, the
core :class:`~ec_core.execution.Executor` and :class:`~ec_core.tracking.OrderTracker`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import final

from ec_core.clock import Clock
from ec_core.data import FeedSet
from ec_core.execution import Executor, ValidatorGate
from ec_core.model import Instrument
from ec_core.plugins import PluginHost
from ec_core.strategy.context import ExecutorRouter
from ec_core.strategy.engine import ErrorReport, StrategyEngine
from ec_core.strategy.loader import StrategyPlan
from ec_core.tracking import OrderTracker
from ec_core.vendor import Session

__all__ = ["TradingRig", "trading_rig"]


@final
class TradingRig:
    """What a run holds: the session's instruments, the executor, tracker and engine."""

    __slots__ = (
        "account_id",
        "backlog",
        "engine",
        "executor",
        "instruments",
        "session",
        "tracker",
    )

    def __init__(
        self,
        *,
        session: Session,
        account_id: str,
        instruments: dict[str, Instrument],
        executor: Executor,
        tracker: OrderTracker,
        engine: StrategyEngine,
        backlog: Callable[[], int],
    ) -> None:
        self.session = session
        self.backlog = backlog  # trade events buffered for the executor, not yet consumed
        self.account_id = account_id
        self.instruments = instruments
        self.executor = executor
        self.tracker = tracker
        self.engine = engine


@asynccontextmanager
async def trading_rig(
    host: PluginHost,
    session: Session,
    plan: StrategyPlan,
    *,
    account_id: str,
    clock: Clock,
    engine_clock: Clock | None,
    ack_timeout: float = 5.0,
    on_error: Callable[[ErrorReport], None] | None = None,
) -> AsyncIterator[TradingRig]:
    """Resolve the plan's symbols, build the order path, and consume the account's events.

    ``engine_clock=None`` runs the strategies on event time (a replay).
    """
    instruments = {symbol: await session.resolve(symbol) for symbol in plan.symbols}
    tracker = OrderTracker(clock=clock, host=host)
    monitor = host.trade_monitor(session)
    executor = Executor(
        gateway=host.order_gateway(session),
        checks=ValidatorGate(host.validators()),
        tracker=tracker,
        journal=None,
        clock=clock,
        vendor=session.vendor,
        instruments=instruments,
        ack_timeout=ack_timeout,
        host=host,
        monitor=monitor,
    )
    feeds = FeedSet.of(
        list(instruments.values()), timeframes=plan.timeframes, stats_window=plan.stats_window
    )
    engine = StrategyEngine(
        feeds,
        plan.strategies,
        router=ExecutorRouter(executor, tracker),
        account_id=account_id,
        clock=engine_clock,
        on_error=on_error,
    )
    async with monitor.stream(account_id) as events, executor.consume(events):
        yield TradingRig(
            session=session,
            account_id=account_id,
            instruments=instruments,
            executor=executor,
            tracker=tracker,
            engine=engine,
            backlog=_backlog_of(events),
        )


def _backlog_of(events: object) -> Callable[[], int]:
    """How many events a stream has buffered, if it can tell (the mock's channels can)."""
    if hasattr(type(events), "__len__"):
        return lambda: len(events)  # type: ignore[arg-type]
    return lambda: 0
