"""``StrategyEngine``: market events in, strategies and signals evaluated, orders out.

Per tick the work is synchronous and cheap: the tick goes into its
:class:`~ec_core.data.TickBuffer`, each strategy of the symbol may produce a
signal (after its cool-downs), each live signal steps its tree. No pluggy, no
await. When a tree decides to send, the engine starts the order action as a
task in its task group, so a slow venue never blocks tick ingestion; the
outcome is fed back to the tree when it arrives.

A strategy or a signal that raises is isolated: the error is reported
(:attr:`StrategyEngine.errors`, the log, ``on_error``; once per distinct error, with
the user's ``file:line`` and a count of repeats) and that signal is cancelled with its
working orders; the others go on. A strategy whose code fails
``max_consecutive_failures`` times in a row is disabled (:attr:`StrategyEngine.disabled`).
``generate()`` is not called for a symbol before its feed has a price.

:meth:`StrategyEngine.run` consumes a live async stream; :meth:`replay` runs a
recorded sequence deterministically on the data's own clock, waiting for every
order action to settle before the next event.

On event time a replay never waits on itself: a payload whose activation window
(``start_time``) is still ahead of the data is *held* by the engine, not by the
executor (which would sleep on a clock only the replay moves), and sent on the
first event at or past its start; what is still held when the data ends is
listed in :attr:`StrategyEngine.held` (the replay expires it).
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from typing import final

import anyio

from ec_core.clock import Clock
from ec_core.data import FeedSet
from ec_core.errors import OrderDeniedError
from ec_core.execution.payload import Payload
from ec_core.model import CancelOrder, MarketEvent, Order, Quote
from ec_core.strategy.actions_queue import OrderActions
from ec_core.strategy.context import MarketClock, OrderRouter, StrategyContext
from ec_core.strategy.errors import StrategyError
from ec_core.strategy.failures import (
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    ErrorReport,
    FailureLog,
    strategy_failed,
)
from ec_core.strategy.holds import HeldPayload, WindowHolds, hold_until
from ec_core.strategy.outcomes import OrderOutcomes
from ec_core.strategy.replay_driver import ReplaySync, drive_replay
from ec_core.strategy.routes import SymbolRoutes
from ec_core.strategy.signal import OpSignal
from ec_core.strategy.strategy import OpStrategy
from ec_core.strategy.tree import CancelWorking, SendPayload

__all__ = ["ErrorReport", "ReplaySync", "StrategyEngine"]


logger = logging.getLogger("ec_core.strategy.engine")


@final
class StrategyEngine:
    """Runs strategies over a :class:`FeedSet` and routes their orders through ``router``.

    ``clock=None`` runs on event time (each event's ``ts_ns``), as a replay must;
    pass a wall clock for live trading. Client order ids are ``id_prefix`` and a
    counter, unless ``cl_order_ids`` gives them. :attr:`finished` keeps the last
    ``history`` finished signals; ``on_finished`` hears every one as it finishes (a
    replay's report keeps a compact row of each instead of the signal).
    """

    def __init__(
        self,
        feeds: FeedSet,
        strategies: Sequence[OpStrategy],
        *,
        router: OrderRouter | None = None,
        account_id: str = "",
        clock: Clock | None = None,
        id_prefix: str = "ec",
        cl_order_ids: Callable[[], str] | None = None,
        on_error: Callable[[ErrorReport], None] | None = None,
        history: int = 10_000,
        on_finished: Callable[[OpSignal], None] | None = None,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
    ) -> None:
        self.feeds = feeds
        self.router = router
        self.strategies = tuple(strategies)
        self._market_clock = MarketClock() if clock is None else None
        self.clock: Clock = self._market_clock if self._market_clock is not None else clock  # type: ignore[assignment]
        self.ctx = StrategyContext(
            feeds=feeds, clock=self.clock, router=router, account_id=account_id
        )
        by_symbol: dict[str, list[OpStrategy]] = {}
        for strategy in self.strategies:
            for symbol in strategy.symbols:
                if symbol not in feeds:
                    raise ValueError(
                        f"strategy {strategy.name} trades {symbol!r}, which has no feed"
                    )
                by_symbol.setdefault(symbol, []).append(strategy)
        # live signals -> their admission number (insertion order is admission order)
        self._live: dict[OpSignal, int] = {}
        self._admitted = itertools.count()
        # signals that finished and wait to be reaped: each appends itself as it finishes
        # (OpSignal.on_done), so reaping looks at them alone, not at every live signal
        self._finishing: list[OpSignal] = []
        # Per symbol, everything a tick needs in one lookup: quote handler, trade
        # handler, strategies, live signals watching it (a list kept in place).
        self._plans = SymbolRoutes(feeds.buffers, {k: tuple(v) for k, v in by_symbol.items()})
        self.finished: deque[OpSignal] = deque(maxlen=history)
        self.failures = FailureLog(max_consecutive=max_consecutive_failures)
        self.disabled: dict[str, str] = {}  # strategy name -> why it was disabled
        self._owner: dict[str, OpStrategy] = {}
        self._on_error = on_error
        self._on_finished = on_finished
        counter = itertools.count(1)
        # ``cl_order_ids`` lets a live run draw ids that a journal has not seen used
        # (the default: ``id_prefix`` and the counter's next number, drawn in C: no frame)
        pattern = id_prefix.replace("{", "{{").replace("}", "}}") + "{}"
        self._next_cl_id: Callable[[], str] = cl_order_ids or map(pattern.format, counter).__next__
        self._next_request_id: Callable[[], int] = counter.__next__
        self._actions = OrderActions()
        # (start_ns, order, signal, command): payloads waiting for their window on event time
        self._holds = WindowHolds()
        self._held = self._holds.heap  # the replay loops test it per event: one load
        self.events = 0
        self.outcomes = OrderOutcomes()  # settled order actions: sent, denied, rejected ...

    # -- the per-tick path -----------------------------------------------------------------

    def on_event(self, event: MarketEvent) -> None:
        """Ingest one quote or trade and evaluate everything it may affect. Synchronous.

        Order actions it decides start in the task group while one is open
        (:meth:`run`), else they wait for :meth:`replay`.
        """
        self.ingest((event,))

    def ingest(self, events: Iterable[MarketEvent]) -> bool:
        """Ingest events until one queues an order action (True; the rest of an iterator
        is left for the next call) or they run out (False). Synchronous.

        The hot path of a replay. Each symbol has a plan
        (:class:`~ec_core.strategy.routes.Route`), built on its first tick: the bound
        handlers of its tick buffer, how to ask each of its strategies, and the live
        signals watching it. A strategy is asked only once its
        :attr:`~OpStrategy.quiet_until_ns` has passed (the cap and cool-downs in one
        comparison): through its ``generate`` when that was the whole check
        (:attr:`~OpStrategy.gate_is_whole`), else its ``maybe_generate``; only the
        signals watching the symbol are stepped, each through its
        :attr:`~OpSignal.on_tick`.
        """
        # One function on purpose (complexity near 20): it runs per tick, and
        # the plan, clock, context and backlog live in locals for the whole run; a call
        # per step would cost more than the step (benchmarks/bench_replay.py, (2)).
        plans = self._plans
        routes = plans.plans
        market_clock = self._market_clock
        ctx = self.ctx
        backlog = self._actions.backlog
        unpriced = plans.unpriced
        failure_runs = self.failures.runs
        finishing = self._finishing  # the signals to reap (a list kept in place)
        counted = 0  # added to self.events on the way out (a local is cheaper)
        try:
            for event in events:
                try:
                    route = routes[event.symbol]
                except KeyError:
                    found = plans.build(event.symbol)
                    if found is None:
                        self.feeds.unknown_events += 1
                        continue
                    route = found
                # the handler read as a slot, then called: route.on_quote(event) would be a
                # method lookup that CPython 3.11 cannot specialize (the slot holds a bound
                # method), a generic attribute search per tick
                handler = route.on_quote if type(event) is Quote else route.on_trade
                handler(event)  # type: ignore[arg-type]
                counted += 1
                if market_clock is not None:
                    now = market_clock.ts = event.ts_ns
                else:
                    now = self.clock.now_ns()
                strategies = route.strategies
                if not strategies and unpriced and route.symbol in unpriced:
                    strategies = plans.priced(route.symbol)
                for gate, strategy, generate, maybe_generate in strategies:
                    if now < gate.until_ns:
                        continue  # the cap or a cool-down: decided without a call
                    ctx.signal = None  # a strategy is asked outside every signal
                    try:
                        if generate is not None:  # the gate above was the whole check
                            signal = generate(ctx, route.symbol)
                            if signal is not None:
                                strategy.count_produced(signal, route.symbol, now)
                        else:
                            signal = maybe_generate(ctx, route.symbol, now)
                    except Exception as exc:
                        self._generate_failed(now, strategy, exc)
                        continue
                    if failure_runs:
                        self.failures.succeeded(strategy.name, "generate")
                    if signal is not None:
                        self._admit(strategy, signal)
                live = route.live
                if not live:
                    continue
                for signal in live:
                    ctx.signal = signal  # left set until someone else needs ctx (below)
                    tick = signal.on_tick  # a slot read, then a call (as the handler above)
                    try:
                        if tick(ctx, now):
                            self._pump(signal)
                    except Exception as exc:
                        self._fail_signal(signal, now, exc)
                if finishing:  # a signal finished (it put itself there: OpSignal.on_done)
                    ctx.signal = None
                    self._reap()
                if backlog:
                    return True
        finally:
            self.events += counted
            ctx.signal = None  # outside ingest no signal is being evaluated
        return False

    def _generate_failed(self, now: int, strategy: OpStrategy, exc: Exception) -> None:
        self._report(now, "generate", strategy.name, "", exc)
        self._count_failure(strategy, "generate", exc)

    def _count_failure(self, strategy: OpStrategy, kind: str, exc: Exception) -> None:
        """One more failure in a row of ``strategy``'s code; disable it at the limit."""
        run = self.failures.failed(strategy.name, kind)
        if run < self.failures.max_consecutive or strategy.name in self.disabled:
            return
        why = f"{run} consecutive failures, last: {type(exc).__name__}: {exc}"
        self.disabled[strategy.name] = why
        logger.error("strategy %s disabled after %s", strategy.name, why)
        self._plans.drop(strategy)

    @property
    def errors(self) -> list[ErrorReport]:
        """Every distinct failure, first occurrence first, with its ``count``."""
        return self.failures.reports

    @property
    def failed(self) -> bool:
        """Whether a strategy's own code failed or a strategy was disabled."""
        return strategy_failed(self.failures.reports, self.disabled)

    def _fail_signal(self, signal: OpSignal, now: int, exc: Exception) -> None:
        """A condition or template of ``signal`` raised: report, cancel it and its orders."""
        self._report(now, "signal", self._owner_name(signal), signal.signal_id, exc)
        owner = self._owner.get(signal.signal_id)
        if owner is not None:
            self._count_failure(owner, "signal", exc)
        signal.cancel(now, f"error: {exc!r}", exc)
        self._pump(signal)

    def add_signal(self, signal: OpSignal, strategy: OpStrategy) -> None:
        """Run a signal made outside :meth:`OpStrategy.generate` (it counts against the cap)."""
        strategy.live_signals += 1
        self._admit(strategy, signal)

    @property
    def signals(self) -> list[OpSignal]:
        """The live signals, first admitted first (a new list at each read)."""
        return list(self._live)

    def _admit(self, strategy: OpStrategy, signal: OpSignal) -> None:
        signal.tree.bind_ids(self._next_cl_id, self._next_request_id)
        self._owner[signal.signal_id] = strategy
        self._live[signal] = next(self._admitted)
        if signal.done:  # finished before it was admitted: reaped with the next ones
            self._finishing.append(signal)
        else:
            signal.on_done = self._finishing.append
        for symbol in signal.watch:
            route = self._plans.get(symbol)
            if route is not None:
                route.live.append(signal)
        if logger.isEnabledFor(logging.INFO):  # per signal: one call, not two, when off
            logger.info("signal %s (%s) from %s", signal.signal_id, signal.name, strategy.name)

    def _reap(self) -> None:
        """Retire the signals that finished since the last reap, first admitted first.

        Each finished signal put itself on ``_finishing`` (:attr:`OpSignal.on_done`),
        so the cost is per finished signal: it leaves the live signals (a dict) and the
        live lists of the routes it watches, not a walk of every signal and route.
        """
        pending = self._finishing
        while pending:  # a hook below may finish another signal: it is reaped here too
            batch = pending[:] if len(pending) == 1 else sorted(pending, key=self._live.__getitem__)
            pending.clear()
            for signal in batch:
                self._retire(signal)
            routes = self._plans.plans
            for signal in batch:
                del self._live[signal]
                for symbol in signal.watch:
                    route = routes.get(symbol)
                    if route is not None:
                        try:  # noqa: SIM105 - suppress() is three calls per reaped signal
                            route.live.remove(signal)
                        except ValueError:  # its route was built after it was admitted
                            pass

    def _retire(self, signal: OpSignal) -> None:
        """A finished signal's bookkeeping: its strategy, history, listeners and log."""
        strategy = self._owner.pop(signal.signal_id)
        strategy.count_finished(signal)  # one fewer alive (and ENDED cool-downs) first
        if signal.error is None and self.failures.runs:
            self.failures.succeeded(strategy.name, "signal")
        self.finished.append(signal)
        if self._on_finished is not None:
            self._on_finished(signal)
        if logger.isEnabledFor(logging.INFO):
            logger.info("signal %s %s: %s", signal.signal_id, signal.state.value, signal.reason)
        try:
            strategy.on_signal_finished(signal)
        except Exception as exc:
            self._report(signal.finished_ns, "hook", strategy.name, signal.signal_id, exc)

    def _report(
        self, now: int, where: str, strategy: str, signal_id: str, exc: BaseException
    ) -> None:
        report = self.failures.record(now, where, strategy, signal_id, exc)
        if report is not None and self._on_error is not None:
            try:
                self._on_error(report)
            except Exception:  # an error callback must not break the trading path
                logger.exception("on_error callback raised")

    # -- order actions ---------------------------------------------------------------------

    def _pump(self, signal: OpSignal) -> None:
        for command in signal.tree.take_commands():
            if isinstance(command, SendPayload):
                if command.payload.start_time is not None and self._market_clock is not None:
                    start_ns = hold_until(command, self._market_clock.ts)
                    if start_ns is not None:
                        self._hold(start_ns, signal, command)
                        continue
                self._actions.start(self._send, signal, command)
            else:
                self._cancel_working(signal, command)

    # -- activation windows on event time ----------------------------------------------------

    def _hold(self, start_ns: int, signal: OpSignal, command: SendPayload) -> None:
        """Keep ``command`` until replayed time reaches ``start_ns``; the marker in the
        backlog makes :meth:`ingest` return after this event, so :meth:`replay` watches
        the clock event by event while anything is held."""
        self._holds.hold(start_ns, signal, command)
        self._actions.stop_ingest()
        logger.info(
            "signal %s: %s held until its window opens (%d)",
            signal.signal_id,
            command.payload.request.cl_order_id,
            start_ns,
        )

    def _release_due(self) -> bool:
        """Dispatch every held payload whose window has opened; True if any was."""
        ready = self._holds.due(self.clock.now_ns())
        for signal, command in ready:
            self._actions.start(self._send, signal, command)
        return bool(ready)

    @property
    def held(self) -> list[HeldPayload]:
        """Payloads still waiting for their activation window on event time."""
        return self._holds.listing()

    def expire_held(self, reason: str) -> list[HeldPayload]:
        """The data ended: every payload still held is EXPIRED (never sent), listed."""
        return self._holds.expire(reason)

    def _cancel_working(self, signal: OpSignal, command: CancelWorking) -> None:
        if self.router is None:
            return
        ids = command.order_ids
        for order in self.router.open_orders(None, None):
            if order.chain_id in ids or order.cl_order_id in ids:
                self._actions.start(self._send_cancel, signal, order, command.reason)

    async def _send(self, signal: OpSignal, command: SendPayload) -> None:
        order: Order | None = None
        error: Exception | None = None
        try:
            if self.router is None:
                raise StrategyError(
                    "the engine has no order router: cannot send orders"
                    " (give StrategyEngine a router, or run it through `ec run`/`ec replay`)"
                )
            order = await self.router.execute(command.payload)
        except Exception as exc:
            error = exc
        except BaseException:  # cut off (the run stopped): counted by where it got to
            self.outcomes.count_cut_off(command.payload.status)
            self._actions.settled()
            raise
        self.outcomes.count(error)
        self._actions.settled()
        market_clock = self._market_clock  # on event time: the engine's own clock, no call
        now = market_clock.ts if market_clock is not None else self.clock.now_ns()
        if error is not None:
            self._report(now, "order", self._owner_name(signal), signal.signal_id, error)
            if isinstance(error, OrderDeniedError):
                self.outcomes.note_denied(now, signal.signal_id, command.payload.request, error)
        try:
            waiting = signal.tree.on_result(command, order, error, now)
        except Exception as exc:
            self._report(now, "signal", self._owner_name(signal), signal.signal_id, exc)
            signal.cancel(now, f"error: {exc!r}", exc)
            waiting = True
        if waiting:  # the tree's outbox has commands (none: nothing to take)
            self._pump(signal)
        if not signal.done:  # a finishing tree has told its signal (ActionTree.on_final)
            signal.sync_with_tree(now)
        if self._finishing:  # as in ingest: a finished signal put itself there (on_done)
            self._reap()

    async def _send_cancel(self, signal: OpSignal, order: Order, reason: str) -> None:
        payload = Payload(
            request=CancelOrder(
                account_id=order.account_id,
                symbol=order.symbol,
                orig_cl_order_id=order.cl_order_id,
                cl_order_id=self._next_cl_id(),
            ),
            request_id=self._next_request_id(),
        )
        if logger.isEnabledFor(logging.INFO):  # one call, not two, when INFO is off
            logger.info("cancel %s of signal %s: %s", order.cl_order_id, signal.signal_id, reason)
        error: Exception | None = None
        try:
            assert self.router is not None
            await self.router.execute(payload)
        except Exception as exc:
            error = exc
        except BaseException:  # cut off (the run stopped): counted by where it got to
            self.outcomes.count_cut_off(payload.status)
            self._actions.settled()
            raise
        self.outcomes.count(error)
        self._actions.settled()  # before the report, as in _send: a stop never waits on it
        if error is not None:
            now = self.clock.now_ns()
            self._report(now, "cancel", self._owner_name(signal), signal.signal_id, error)
            if isinstance(error, OrderDeniedError):
                self.outcomes.note_denied(now, signal.signal_id, payload.request, error)

    def _owner_name(self, signal: OpSignal) -> str:
        owner = self._owner.get(signal.signal_id)
        return owner.name if owner is not None else "-"

    @property
    def orders_sent(self) -> int:
        """Order actions that left this process (denied ones did not); see :attr:`outcomes`."""
        return self.outcomes.sent

    @property
    def in_flight(self) -> int:
        """Order actions started and not yet answered."""
        return self._actions.in_flight

    async def wait_idle(self) -> None:
        """Wait until every order action started so far has been answered."""
        await self._actions.wait_idle()

    # -- async shells ----------------------------------------------------------------------

    async def run(self, events: AsyncIterable[MarketEvent], *, settle: bool = False) -> None:
        """Consume a live stream until it ends; ``settle`` waits out order actions per event."""
        async with anyio.create_task_group() as tg:
            self._actions.open(tg)
            try:
                on_event = self.on_event
                async for event in events:
                    on_event(event)
                    if settle and self._actions.in_flight:
                        await self.wait_idle()
                await self.wait_idle()
            finally:
                self._actions.close()

    async def replay(
        self,
        events: Iterable[MarketEvent],
        *,
        sync: ReplaySync | None = None,
        venue_sees_ticks: bool = True,
    ) -> None:
        """Deterministic replay: every order action settles before the next event.

        ``sync`` ties the replay to a venue: when the venue has spoken to our account
        (``sync.dirty``, e.g. a fill the recorded market caused), the replay yields to
        the event loop until the trade-stream consumer has taken everything
        (``sync.backlog()`` is 0), so the strategy sees the next tick with the tracker
        up to date. ``venue_sees_ticks=False`` says the venue is not shown the ticks
        (it only answers order actions): nothing can reach the stream between two
        ticks without an action, so ``sync`` is asked only after order actions.
        """
        await drive_replay(
            events,
            ingest=self.ingest,
            release_due=self._release_due,
            backlog=self._actions.backlog,
            held=self._held,
            sync=sync,
            venue_sees_ticks=venue_sees_ticks,
        )

    async def shutdown(self, *, cancel_working: bool = True, reason: str = "shutdown") -> None:
        """Cancel every live signal and, if asked, every working order the engine placed
        (also those of finished signals, e.g. a resting take-profit), then wait for the
        order actions to settle."""
        now = self.clock.now_ns()
        async with anyio.create_task_group() as tg:
            self._actions.open(tg)
            try:
                for signal in self.signals:
                    signal.cancel(now, reason)
                    commands = signal.tree.take_commands()
                    if cancel_working:
                        for command in commands:
                            if isinstance(command, CancelWorking):
                                self._cancel_working(signal, command)
                if cancel_working:
                    for signal in self.finished:
                        ids = signal.tree.all_order_ids()
                        if ids:
                            self._cancel_working(
                                signal, CancelWorking(order_ids=ids, reason=reason)
                            )
                self._reap()
                await self.wait_idle()
            finally:
                self._actions.close()
