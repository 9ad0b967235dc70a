"""``ec run STRATEGY --gateway redis://…``: the same strategies, their orders executed by
``ec gateway``.

The strategies meet the same doors as in process: a
:class:`~ec_core.strategy.engine.StrategyEngine` over feeds of the gateway's
instruments, routing through :class:`~ec_core.strategy.context.ExecutorRouter` to a
:class:`~ec_core.gateway.link.WorkerLink` (which has the executor's ``execute``) and
the tracker it mirrors from the gateway. Client order ids are the link's
(``worker.token.n``), so the gateway knows whose orders they are. The limits, kill
switch and journal are the gateway's. The first line (``ec run: running ...``) and
the closing summary read as a local run's.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import click

from ec_core.cli.run_view import open_at_stop, run_stop
from ec_core.data import FeedSet
from ec_core.strategy.context import ExecutorRouter
from ec_core.strategy.engine import ErrorReport, StrategyEngine
from ec_core.strategy.loader import StrategyPlan

__all__ = ["run_remote"]

_SETTLE_SECONDS = 5.0  # how long a stop waits for the cancelled orders' last reports


async def run_remote(
    plan: StrategyPlan,
    url: str,
    *,
    account: str,
    worker: str | None,
    cancel_working: bool,
    label: str,
    on_error: Callable[[ErrorReport], None],
) -> tuple[str, bool]:
    from ec_core.gateway import require_redis

    require_redis("ec run --gateway")
    from ec_core.gateway.client import open_link
    from ec_core.gateway.redis_io import redacted

    stop = run_stop()
    symbols = tuple(plan.symbols)
    async with open_link(url, account_id=account, worker=worker) as link:
        await link.subscribe(symbols)
        feeds = FeedSet.of(
            [link.instruments[s] for s in symbols],
            timeframes=plan.timeframes,
            stats_window=plan.stats_window,
        )
        engine = StrategyEngine(
            feeds,
            plan.strategies,
            router=ExecutorRouter(link, link.tracker),
            account_id=account,
            clock=None,
            cl_order_ids=link.new_id,
            on_error=on_error,
            max_consecutive_failures=plan.max_consecutive_failures,
        )
        async with link.quotes(symbols) as events, anyio.create_task_group() as tg:
            await tg.start(stop.watch, tg.cancel_scope)
            click.echo(
                f"ec run: running {label} through the gateway at {redacted(url)} (worker"
                f" {link.worker}, account {account}, {', '.join(symbols)}); Ctrl-C to stop"
            )
            click.echo(
                "ec run: safety: the gateway's (limits, kill switch, journal, reconciliation)"
            )
            await engine.run(events)
            tg.cancel_scope.cancel()
        with anyio.CancelScope(shield=True):
            live_signals = len(engine.signals)
            await engine.shutdown(cancel_working=cancel_working, reason=stop.reason)
            if cancel_working:  # the cancels are answered; their reports may still come
                with anyio.move_on_after(_SETTLE_SECONDS):
                    for order in link.own_open_orders():
                        await link.tracker.wait_for(order.chain_id, lambda o: o.state.is_final)
            working, unknown = open_at_stop(link.own_open_orders())
            gaps = link.market_gaps
    action = "cancelled" if cancel_working else "left"
    disabled = "".join(f"; {name} disabled: {why}" for name, why in engine.disabled.items())
    summary = (
        f"ec run: {stop.reason}; {engine.events} ticks,"
        f" {sum(s.produced for s in engine.strategies)} signals"
        f" ({live_signals} live at stop, their working orders {action}),"
        f" {engine.outcomes.snapshot().describe()}, {link.tracker.stats().fills} fills,"
        f" {working} orders working, {unknown} orders UNKNOWN, {gaps} market-data gaps,"
        f" {sum(e.count for e in engine.errors)} errors{disabled}"
    )
    return summary, engine.failed
