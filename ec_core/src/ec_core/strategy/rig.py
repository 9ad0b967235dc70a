"""Wire a strategy plan to a vendor session: executor, tracker, feeds, engine.

Both ``ec run`` and ``ec replay`` use it, so a strategy meets the same doors in a
replay as live: the plugin host's gateway, trade monitor and validators, the
core :class:`~ec_core.execution.Executor` and :class:`~ec_core.tracking.OrderTracker`.
``ec run`` adds the rest of the safety stack: a
:class:`~ec_core.safety.PreTradeChecks` gate (limits, kill switch, rate limits) as
``checks``, a :class:`~ec_core.journal.Journal` (recovered before the trade stream
starts), and a reconciliation with the venue before the strategies trade.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import final

import anyio

from ec_core.clock import Clock
from ec_core.data import FeedSet
from ec_core.errors import ConfigError, ProtocolError, RequestTimeoutError, SymbolNotFoundError
from ec_core.execution import (
    ClientOrderIds,
    Executor,
    PreTradeGate,
    PriceSource,
    ReconcileReport,
    StaleLookup,
    ValidatorGate,
)
from ec_core.gateway.tap import TappedStream
from ec_core.journal import Journal, RecoveryReport
from ec_core.model import Instrument, TradeEvent
from ec_core.plugins import PluginHost, SessionParts
from ec_core.strategy.context import ExecutorRouter
from ec_core.strategy.engine import ErrorReport, StrategyEngine
from ec_core.strategy.errors import StrategyError
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.signal import OpSignal
from ec_core.tracking import OrderTracker, multipliers
from ec_core.tracking.retention import DEFAULT_RETAIN_FINAL
from ec_core.vendor import Session

__all__ = ["OrderPath", "TradingRig", "order_path", "trading_rig"]

log = logging.getLogger(__name__)


@final
class TradingRig:
    """What a run holds: the session's instruments, the executor, tracker and engine."""

    __slots__ = (
        "account_id",
        "backlog",
        "engine",
        "executor",
        "instruments",
        "priced",
        "reconciled",
        "recovery",
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
        priced: Mapping[str, Instrument] | None = None,
    ) -> None:
        self.session = session
        self.backlog = backlog  # trade events buffered for the executor, not yet consumed
        self.account_id = account_id
        self.instruments = instruments  # the plan's: what the run streams
        # what the order path prices with: the plan's and those of what the account held
        # at start (another terminal's symbols, resolved for their P&L)
        self.priced: Mapping[str, Instrument] = instruments if priced is None else priced
        self.executor = executor
        self.tracker = tracker
        self.engine = engine
        self.recovery: RecoveryReport | None = None  # what the journal gave back at start
        self.reconciled: ReconcileReport | None = None  # the venue's word at start


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
    checks: PreTradeGate | None = None,
    journal: Journal | None = None,
    reconcile: bool = False,
    signal_history: int = 10_000,
    on_signal_finished: Callable[[OpSignal], None] | None = None,
) -> AsyncIterator[TradingRig]:
    """Resolve the plan's symbols, build the order path, and consume the account's events.

    ``engine_clock=None`` runs the strategies on event time (a replay). ``checks``
    defaults to the host's validators alone. With a ``journal`` the tracker is first
    rebuilt from it (``rig.recovery``) and the strategies' client order ids skip every
    id it holds. Orders for an account the session does not trade are denied
    (``ACCOUNT_UNKNOWN``). ``reconcile`` agrees with the venue (``rig.reconciled``) once the
    account's snapshot is in, before the block runs. ``signal_history`` and
    ``on_signal_finished`` are the engine's ``history`` and ``on_finished``.
    """
    instruments = {symbol: await session.resolve(symbol) for symbol in plan.symbols}
    feeds = FeedSet.of(
        list(instruments.values()), timeframes=plan.timeframes, stats_window=plan.stats_window
    )
    # a copy: the path adds the instruments of what the account holds of other symbols
    # (the journal's, the venue's snapshot's) for their P&L; the run streams the plan's
    priced = dict(instruments)
    async with order_path(
        host,
        session,
        account_id=account_id,
        clock=clock,
        instruments=priced,
        checks=checks,
        journal=journal,
        ack_timeout=ack_timeout,
        prices=feeds.prices if checks is not None else None,
        stale_market=feeds.stale if checks is not None else None,
        replay=engine_clock is None,
        reconcile=reconcile,
    ) as path:
        executor = path.executor
        engine = StrategyEngine(
            feeds,
            plan.strategies,
            router=ExecutorRouter(executor, path.tracker),
            account_id=account_id,
            clock=engine_clock,
            cl_order_ids=_unused_ids(executor.ids) if journal is not None else None,
            on_error=on_error,
            max_consecutive_failures=plan.max_consecutive_failures,
            history=signal_history,
            on_finished=on_signal_finished,
        )
        rig = TradingRig(
            session=session,
            account_id=account_id,
            instruments=instruments,
            executor=executor,
            tracker=path.tracker,
            engine=engine,
            backlog=path.backlog,
            priced=priced,
        )
        rig.recovery = path.recovery
        rig.reconciled = path.reconciled
        yield rig


@final
class OrderPath:
    """The order path of one account: executor and tracker, its trade stream consumed."""

    __slots__ = ("backlog", "executor", "reconciled", "recovery", "tracker")

    def __init__(
        self,
        executor: Executor,
        tracker: OrderTracker,
        backlog: Callable[[], int],
        recovery: RecoveryReport | None,
    ) -> None:
        self.executor = executor
        self.tracker = tracker
        self.backlog = backlog  # trade events buffered for the executor, not yet consumed
        self.recovery = recovery  # what the journal gave back at start
        self.reconciled: ReconcileReport | None = None  # the venue's word at start


@asynccontextmanager
async def order_path(
    host: PluginHost,
    session: Session,
    *,
    account_id: str,
    clock: Clock,
    instruments: MutableMapping[str, Instrument],
    checks: PreTradeGate | None = None,
    journal: Journal | None = None,
    ack_timeout: float = 5.0,
    prices: PriceSource | None = None,
    stale_market: StaleLookup | None = None,
    replay: bool = False,
    reconcile: bool = False,
    tap: Callable[[TradeEvent], None] | None = None,
) -> AsyncIterator[OrderPath]:
    """Build the tracker and executor for ``account_id`` and consume its trade stream.

    Shared by :func:`trading_rig` (``ec run``, ``ec replay``), :func:`ec_core.connect`
    and ``ec gateway``.
    ``instruments`` may grow while the path runs (the executor looks symbols up in it,
    the tracker its multipliers); the symbols of the orders, positions and fills recovered
    from the journal or brought by the venue's snapshot are resolved into it at start.
    ``replay``: on event time, the tracker keeps every finished order (the report lists
    every fill) and the executor refuses to sleep on a clock only the replay moves.
    ``tap`` hears every trade event as the executor takes it (the gateway publishes them).
    ``prices`` and ``stale_market``: the executor's (a :class:`FeedSet`'s ``prices`` and
    ``stale``).
    """
    parts = host.parts(session)  # every plugin's wrappers applied
    # An order for an account this logon does not trade is denied before it is sent.
    known_accounts = [account.account_id for account in await parts.accounts()]
    if known_accounts and account_id not in known_accounts:
        raise ConfigError(
            f"ACCOUNT_UNKNOWN: account {account_id!r} is not one this {session.vendor} logon"
            f" trades (known: {', '.join(known_accounts)}): name one of them with --account"
            " or account_id in the settings",
            path="account_id",
        )
    # A replay's report lists every fill, so it keeps every finished order; a live run
    # keeps the tracker's bounded default.
    tracker = OrderTracker(
        clock=clock,
        host=host,
        retain_final=None if replay else DEFAULT_RETAIN_FINAL,
        multiplier=multipliers(instruments),
    )
    monitor = parts.trades
    executor = Executor(
        gateway=parts.orders,
        checks=checks if checks is not None else ValidatorGate(host.validators()),
        tracker=tracker,
        journal=journal,
        clock=clock,
        vendor=session.vendor,
        instruments=instruments,
        prices=prices,
        stale_market=stale_market,
        ack_timeout=ack_timeout,
        host=host,
        monitor=monitor,
        session_accounts=known_accounts,
        # On event time the engine holds payloads for their window; the executor
        # must never sleep on a clock only the replay moves.
        sleep=_replay_cannot_wait if replay else anyio.sleep,
        unknown_timer=not replay,  # retries are checked as the replay's events move time
    )
    recovery = executor.recover()
    await _resolve_held(parts, tracker, account_id, instruments)  # the journal's
    async with (
        monitor.stream(account_id) as events,
        executor.consume(events if tap is None else TappedStream(events, tap)),
    ):
        path = OrderPath(executor, tracker, _backlog_of(events), recovery)
        if reconcile:
            await anyio.lowlevel.checkpoint()
            while path.backlog():  # the snapshot first: reconcile on a quiet stream
                await anyio.lowlevel.checkpoint()
            path.reconciled = await executor.reconcile(account_id)
            await _resolve_held(parts, tracker, account_id, instruments)  # the venue's
        yield path


async def _resolve_held(
    parts: SessionParts,
    tracker: OrderTracker,
    account_id: str,
    instruments: MutableMapping[str, Instrument],
) -> None:
    """Resolve the symbols the tracker holds that are not resolved yet: those of fills
    booked in price points (the journal's, the venue's snapshot's), of open orders and of
    positions. Their P&L is money then, and an order working across a restart fills in
    money, inside the daily loss limit's sum. One the venue does not list stays unpriced
    (pnl() refuses naming it)."""
    held = set(tracker.unpriced())
    held.update(order.symbol for order in tracker.open_orders(account_id))
    held.update(position.symbol for position in tracker.positions(account_id))
    for symbol in sorted(held - instruments.keys()):
        try:
            instruments[symbol] = await parts.resolve(symbol)
        except SymbolNotFoundError:
            pass
        except (RequestTimeoutError, ProtocolError) as exc:  # pricing must not stop the start
            log.warning(
                "%s held on %s: its instrument could not be resolved (%s); its P&L stays in"
                " price points and pnl() refuses it until trader.instrument(%r) succeeds",
                symbol,
                account_id,
                exc,
                symbol,
            )


async def _replay_cannot_wait(seconds: float) -> None:
    """The executor's sleep in a replay: waiting would wait on itself, so refuse."""
    raise StrategyError(
        f"a replay cannot wait {seconds:.3f}s for an activation window on its own clock:"
        " send through the strategy engine, which holds the payload until replayed time"
        " reaches it"
    )


def _unused_ids(ids: ClientOrderIds, prefix: str = "ec") -> Callable[[], str]:
    """``ec1``, ``ec2``... skipping ids the executor holds as used (a journal's)."""
    counter = itertools.count(1)

    def new_id() -> str:
        while True:
            candidate = f"{prefix}{next(counter)}"
            if not ids.is_used(candidate):
                return candidate

    return new_id


def _backlog_of(events: object) -> Callable[[], int]:
    """How many events a stream has buffered, if it can tell (the mock's channels can)."""
    if hasattr(type(events), "__len__"):
        return events.__len__  # type: ignore[attr-defined, no-any-return]  # no lambda's frame
    return lambda: 0
