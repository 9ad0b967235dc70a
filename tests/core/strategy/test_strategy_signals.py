"""Signal lifecycle and windows; strategy cool-downs and the cap on live signals."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator

import pytest
from ec_core.data import FeedSet
from ec_core.model import MarketEvent, Quote, Side
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    OpSignal,
    OpStrategy,
    SignalState,
    StrategyContext,
    StrategyEngine,
)
from strategy_support import ACCOUNT, INSTRUMENT, SEC, SYMBOL, T0, RecordingRouter, limit, quote


def resting_tree() -> ActionTree:
    """Places one order, then waits forever."""
    wait = ActionNode("Wait", [], lambda ctx: False)
    return ActionTree(
        ActionNode("Entry", [limit(Side.BUY, 1)], transitions={"w": (lambda c: False, wait)})
    )


class EveryTick(OpStrategy):
    def __init__(
        self,
        window: tuple[int, int] | None = None,
        *,
        max_signals: int = 1,
        cooldown_ns: int = 0,
        global_cooldown_ns: int = 0,
    ) -> None:
        super().__init__(
            symbols=[SYMBOL],
            max_signals=max_signals,
            cooldown_ns=cooldown_ns,
            global_cooldown_ns=global_cooldown_ns,
        )
        self.window = window

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        start, end = self.window or (None, None)
        return OpSignal(resting_tree(), symbol=symbol, start_ns=start, end_ns=end)


class Raising(OpStrategy):
    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        raise RuntimeError("bad strategy")


def run(
    strategy: OpStrategy, seconds: int, router: RecordingRouter | None = None
) -> StrategyEngine:
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)),
        [strategy],
        account_id=ACCOUNT,
    )
    for i in range(seconds):
        engine.on_event(quote(T0 + i * SEC, 100))
    return engine


def test_cap_on_live_signals() -> None:
    strategy = EveryTick(max_signals=3)
    engine = run(strategy, 10)
    assert strategy.produced == 3
    assert len(engine.signals) == 3


def test_per_instrument_cooldown() -> None:
    strategy = EveryTick(max_signals=100, cooldown_ns=3 * SEC)
    run(strategy, 10)
    assert strategy.produced == 4  # t = 0, 3, 6, 9


def test_global_cooldown() -> None:
    strategy = EveryTick(max_signals=100, global_cooldown_ns=5 * SEC)
    run(strategy, 10)
    assert strategy.produced == 2


def test_a_raising_strategy_is_reported_and_does_not_stop_the_engine() -> None:
    engine = run(Raising(symbols=[SYMBOL]), 3)
    assert [(e.where, e.count) for e in engine.errors] == [("generate", 3)]
    assert engine.events == 3


@pytest.mark.anyio
async def test_window_pending_active_expired() -> None:
    router = RecordingRouter()
    strategy = EveryTick(window=(T0 + 2 * SEC, T0 + 5 * SEC), max_signals=1)
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [strategy], router=router, account_id=ACCOUNT
    )
    await engine.replay([quote(T0 + i * SEC, 100) for i in range(2)])
    assert engine.signals[0].state.value == "PENDING"
    assert router.requests == []
    await engine.replay([quote(T0 + 2 * SEC, 100)])
    assert engine.signals[0].state is SignalState.ACTIVE
    assert router.kinds() == ["NEW"]
    await engine.replay([quote(T0 + 5 * SEC, 100)])
    expired = engine.finished[0]
    assert expired.state is SignalState.EXPIRED
    assert router.kinds() == ["NEW", "CANCEL"]
    assert strategy.live_signals == 0
    # the next signal may come on the next tick; its window is over, so it sends nothing
    await engine.replay([quote(T0 + 6 * SEC, 100)])
    assert strategy.produced == 2
    assert engine.finished[1].state is SignalState.EXPIRED
    assert router.kinds() == ["NEW", "CANCEL"]


@pytest.mark.anyio
@pytest.mark.parametrize("prefix", ["ec", "a{0}b{", ""])
async def test_client_ids_are_the_prefix_and_a_counter_shared_with_request_ids(
    prefix: str,
) -> None:
    """The engine's client ids are ``id_prefix`` then a number, drawn from the counter its
    request ids come from (one each per payload), whatever characters the prefix holds."""
    router = RecordingRouter()
    strategy = EveryTick(max_signals=3)
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)),
        [strategy],
        router=router,
        account_id=ACCOUNT,
        id_prefix=prefix,
    )
    await engine.replay([quote(T0 + i * SEC, 100) for i in range(3)])
    assert [r.cl_order_id for r in router.requests] == [f"{prefix}1", f"{prefix}3", f"{prefix}5"]


@pytest.mark.anyio
async def test_shutdown_cancels_working_orders() -> None:
    router = RecordingRouter()
    strategy = EveryTick(max_signals=2)
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [strategy], router=router, account_id=ACCOUNT
    )
    await engine.replay([quote(T0, 100), quote(T0 + SEC, 100)])
    assert len(router.open_orders()) == 2
    await engine.shutdown()
    assert router.open_orders() == []
    assert [s.state for s in engine.finished] == [SignalState.CANCELLED] * 2


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        OpSignal(resting_tree(), symbol=SYMBOL, start_ns=5, end_ns=5)


@pytest.mark.parametrize("timeframes", [("1s", "1m"), ("1s", "5t")])
def test_engine_builds_the_same_bars_as_the_tick_buffer_alone(
    timeframes: tuple[str, ...],
) -> None:
    """The engine feeds each symbol's buffer through its bound handlers: same bars, stats
    and ring as the buffer fed directly, one-sided quotes and trades included (``5t``
    adds tick-count bars to the mid-drawn ones)."""
    import random

    from ec_core.model import Quote, Trade

    rng = random.Random(7)
    events: list[Quote | Trade] = []
    ts, mid = T0, 7_000
    for i in range(3_000):
        ts += rng.randint(1, 300_000_000)
        mid += rng.choice((-1, 0, 1))
        if i % 7 == 0:
            events.append(Trade(symbol=SYMBOL, ts_ns=ts, price=mid, size=2))
        elif i % 11 == 0:
            events.append(Quote(symbol=SYMBOL, ts_ns=ts, bid=mid, ask=None))
        else:
            events.append(Quote(symbol=SYMBOL, ts_ns=ts, bid=mid, ask=mid + rng.choice((1, 2))))
    alone = FeedSet.of([INSTRUMENT], timeframes=timeframes)
    feeds = FeedSet.of([INSTRUMENT], timeframes=timeframes)
    engine = StrategyEngine(feeds, [EveryTick(max_signals=1)])
    for event in events:
        alone.on_event(event)
        engine.on_event(event)
    direct, inline = alone[SYMBOL].tick_buffer, feeds[SYMBOL].tick_buffer
    for tf in timeframes:
        assert list(inline.bars(tf)) == list(direct.bars(tf))
        assert len(inline.bars(tf)) > 5
        assert inline.ohlc_ticks(tf) == direct.ohlc_ticks(tf)
        assert inline.stats(tf).mean == direct.stats(tf).mean
        assert inline.stats(tf).vwap == direct.stats(tf).vwap
    assert list(inline.ticks) == list(direct.ticks)
    assert inline.quote == direct.quote


class _Venue:
    """A venue's trade-event count, moved by hand; its stream keeps the ReplayFeed
    contract (``spoke`` asked after a tick that moved the count since it last said no)."""

    def __init__(self) -> None:
        self.activity = 0
        self._heard = -1

    def stream(
        self, events: Iterable[MarketEvent], *, spoke: Callable[[MarketEvent], bool] | None = None
    ) -> Iterator[MarketEvent]:
        for event in events:
            if self.activity != self._heard and spoke is not None:
                if spoke(event):
                    return
                self._heard = self.activity
            yield event


class _CountingSync:
    """A ReplaySync that counts how often the replay asks whether the venue spoke."""

    def __init__(self) -> None:
        self.asked = 0
        self.venue = _Venue()

    @property
    def dirty(self) -> bool:
        self.asked += 1
        return False

    @dirty.setter
    def dirty(self, value: bool) -> None:
        raise AssertionError("never dirty")

    def backlog(self) -> int:
        return 0


class OneOrder(OpStrategy):
    """One signal: a resting bid sent on the first tick, then nothing."""

    def __init__(self) -> None:
        super().__init__(symbols=[SYMBOL], max_signals=1)

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return None if self.produced else OpSignal(resting_tree(), symbol=symbol)


@pytest.mark.parametrize(("venue_sees_ticks", "asked"), [(True, 3), (False, 2)])
@pytest.mark.anyio
async def test_replay_asks_the_venue_only_when_it_may_have_spoken(
    venue_sees_ticks: bool, asked: int
) -> None:
    """A venue shown no ticks only speaks in answer to order actions: the replay asks it
    before the first tick and after the tick whose action it ran, not on quiet ticks. A
    venue shown the ticks is asked on the first tick and then only on the ticks after
    which its activity moved (here the 10th and the 30th), not on the 47 others."""
    router = RecordingRouter()
    engine = StrategyEngine(FeedSet.of([INSTRUMENT]), [OneOrder()], router=router)
    sync = _CountingSync()

    def ticks() -> Iterator[Quote]:
        for i in range(50):
            if i in (10, 30):
                sync.venue.activity += 1  # feeding this tick made the venue speak
            yield quote(T0 + i * SEC, 100)

    await engine.replay(ticks(), sync=sync, venue_sees_ticks=venue_sees_ticks)
    assert router.kinds() == ["NEW"]
    assert sync.asked == asked


def test_ingest_stops_at_the_tick_that_queues_an_order_action() -> None:
    """``ingest`` hands back control when an action waits (the replay runs it before the
    next tick); the rest of the iterator is left where it was."""
    router = RecordingRouter()
    engine = StrategyEngine(FeedSet.of([INSTRUMENT]), [OneOrder()], router=router)
    ticks = iter([quote(T0 + i * SEC, 100) for i in range(10)])
    assert engine.ingest(ticks) is True
    assert engine.events == 1
    assert engine.in_flight == 1
    assert next(ticks).ts_ns == T0 + SEC  # the next tick was not taken


def test_a_strategy_overriding_maybe_generate_is_still_asked_through_it() -> None:
    """The engine asks a strategy through its bound maybe_generate: an override is honoured."""

    class Gated(OneOrder):
        asked = 0

        def maybe_generate(self, ctx: StrategyContext, symbol: str, now_ns: int) -> OpSignal | None:
            self.asked += 1
            return None

    gated, plain = Gated(), OneOrder()
    engine = StrategyEngine(FeedSet.of([INSTRUMENT]), [gated, plain], router=RecordingRouter())
    for i in range(5):
        engine.on_event(quote(T0 + i * SEC, 100))
    assert gated.asked == 5
    assert (gated.produced, plain.produced) == (0, 1)


def test_quiet_until_folds_the_cap_and_the_global_cooldown() -> None:
    """The engine asks a strategy only once ``quiet_until_ns`` has passed: never while
    the cap is reached, the end of the global cool-down once a signal has ended."""
    strategy = EveryTick(max_signals=1, global_cooldown_ns=5 * SEC)
    assert strategy.quiet_until_ns == 0
    engine = run(strategy, 1)
    assert strategy.quiet_until_ns > T0 + 10**6 * SEC  # the cap: never
    engine.signals[0].cancel(T0 + SEC, "test")
    engine.on_event(quote(T0 + SEC, 100))  # reaps the cancelled signal
    assert strategy.live_signals == 0
    assert strategy.quiet_until_ns == T0 + 5 * SEC


def test_quiet_until_folds_the_cooldown_of_a_one_symbol_strategy() -> None:
    """A strategy of one symbol is gated by its cool-down in the same number (so the
    engine skips it without a call); one of two symbols keeps it per symbol."""
    one = EveryTick(max_signals=100, cooldown_ns=3 * SEC)
    run(one, 1)
    assert one.quiet_until_ns == T0 + 3 * SEC
    two = OpStrategy(symbols=[SYMBOL, "OTHER"], cooldown_ns=3 * SEC, max_signals=100)
    two.count_produced(OpSignal(resting_tree(), symbol=SYMBOL), SYMBOL, T0)
    assert two.quiet_until_ns == T0  # OTHER may be asked at once (no global cool-down)


def test_an_override_of_maybe_generate_is_asked_through_its_symbols_cooldown() -> None:
    """A strategy that overrides maybe_generate decides itself when it is asked: the
    engine's gate is the cap and the global cool-down only (as documented), not also the
    cool-down of its one symbol, which is its maybe_generate's to apply."""

    class Watching(EveryTick):
        asked = 0

        def maybe_generate(self, ctx: StrategyContext, symbol: str, now_ns: int) -> OpSignal | None:
            self.asked += 1
            return super().maybe_generate(ctx, symbol, now_ns)

    strategy = Watching(max_signals=100, cooldown_ns=3 * SEC)
    engine = run(strategy, 5)
    assert strategy.asked == 5  # every tick, the ones in the cool-down too
    assert [s.created_ns for s in engine.signals] == [T0, T0 + 3 * SEC]  # its checks kept


def test_the_engine_asks_generate_itself_only_when_the_gate_is_whole() -> None:
    """gate_is_whole: one symbol and maybe_generate not overridden. The engine then calls
    generate and books its signal (count_produced) as maybe_generate would: same
    signals, same cool-downs."""

    class Counted(EveryTick):
        asked = 0

        def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
            self.asked += 1
            return super().generate(ctx, symbol) if self.asked % 2 else None

    class Overridden(Counted):
        def maybe_generate(self, ctx: StrategyContext, symbol: str, now_ns: int) -> OpSignal | None:
            return super().maybe_generate(ctx, symbol, now_ns)

    assert Counted().gate_is_whole
    assert not Overridden().gate_is_whole
    assert not OpStrategy(symbols=[SYMBOL, "OTHER"]).gate_is_whole
    runs = []
    for kind in (Counted, Overridden):
        strategy = kind(max_signals=100, cooldown_ns=2 * SEC)
        engine = run(strategy, 10)
        runs.append((strategy.asked, strategy.produced, [s.created_ns for s in engine.signals]))
    assert runs[0] == runs[1]
    # asked at 0 s (a signal, 2 s of cool-down), 2 (none), 3 (a signal), 5, 6 (a signal), 8, 9
    assert runs[0][:2] == (7, 4)


def test_a_tree_that_finishes_finishes_its_signal() -> None:
    """The tree tells its signal when it reaches a final state (``on_final``), whoever
    moved it there: a failed order outcome cancels the signal at once."""
    from strategy_support import context

    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s",))
    feeds.on_event(quote(T0, 100))
    signal = OpSignal(resting_tree(), symbol=SYMBOL)
    ctx = context(feeds)
    assert signal.step(ctx, T0) is True
    (command,) = signal.tree.take_commands()
    assert signal.state is SignalState.ACTIVE
    signal.tree.on_result(command, None, RuntimeError("rejected"), T0 + 1)  # type: ignore[arg-type]
    assert signal.done  # finished by the tree, not by a call to the signal
    assert signal.state.value == "CANCELLED"
    assert signal.finished_ns == T0 + 1
    assert signal.reason == "tree failed"


def test_an_active_signal_without_a_window_end_is_ticked_through_its_tree() -> None:
    """Per tick the engine calls ``on_tick``: the tree's own update for an active signal
    with no window end (one call), the lifecycle step while a window must be watched."""
    plain = OpSignal(resting_tree(), symbol=SYMBOL)
    windowed = OpSignal(resting_tree(), symbol=SYMBOL, end_ns=T0 + 5 * SEC)
    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s",))
    feeds.on_event(quote(T0, 100))
    from strategy_support import context

    ctx = context(feeds)
    for signal in (plain, windowed):
        assert signal.on_tick == signal.step
        signal.on_tick(ctx, T0)
    assert plain.on_tick == plain.tree.update
    assert windowed.on_tick == windowed.step
    plain.cancel(T0, "done with it")
    assert plain.on_tick(ctx, T0) is False
    assert plain.step(ctx) is False


def test_a_finished_signal_is_freed_without_the_cycle_collector() -> None:
    """A finished signal keeps no bound method of itself (``on_tick``, its tree's
    ``on_final``): dropped from the engine's history it is freed by reference counting,
    and the GC's full collections have fewer objects to walk per finished signal."""
    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s",))
    feeds.on_event(quote(T0, 100))
    from strategy_support import context

    ctx = context(feeds)
    gc.collect()
    gc.disable()
    try:
        for finish in ("cancel", "tree"):
            signal = OpSignal(resting_tree(), symbol=SYMBOL)
            signal.on_tick(ctx, T0)
            commands = signal.tree.take_commands()
            if finish == "cancel":
                signal.cancel(T0, "done with it")
            else:  # the tree fails on a rejected entry and finishes its signal
                signal.tree.on_result(commands[0], None, RuntimeError("rejected"), T0 + 1)  # type: ignore[arg-type]
            assert signal.done
            del signal, commands
            assert gc.collect() == 0, finish
    finally:
        gc.enable()


class OneShot(OpStrategy):
    """An order action per tick: a one-node signal that ends once the venue answered."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return OpSignal(ActionTree(ActionNode("Ping", [limit(Side.BUY, 1)])), symbol=symbol)


@pytest.mark.anyio
async def test_on_finished_hears_every_signal_and_history_keeps_the_last() -> None:
    heard: list[OpSignal] = []
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [OneShot(symbols=[SYMBOL])],
        router=RecordingRouter(), account_id=ACCOUNT, history=2, on_finished=heard.append,
    )  # fmt: skip
    await engine.replay([quote(T0 + i * SEC, 100) for i in range(10)])
    assert len(heard) >= 9
    assert [s.state for s in heard] == [SignalState.DONE] * len(heard)
    assert list(engine.finished) == heard[-2:]  # the engine keeps its last two whole
    assert len({s.signal_id for s in heard}) == len(heard)  # each heard once


class Quiet(OpStrategy):
    """Generates nothing: signals come through ``add_signal``; a hook may cancel one."""

    def __init__(self) -> None:
        super().__init__(symbols=[SYMBOL], max_signals=100)
        self.on_finish: Callable[[OpSignal], None] | None = None

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return None

    def on_signal_finished(self, signal: OpSignal) -> None:
        if self.on_finish is not None:
            self.on_finish(signal)


def quiet_engine(heard: list[str]) -> tuple[StrategyEngine, Quiet, list[OpSignal]]:
    strategy = Quiet()
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [strategy], account_id=ACCOUNT,
        on_finished=lambda s: heard.append(s.name),
    )  # fmt: skip
    engine.on_event(quote(T0, 100))
    signals = [OpSignal(resting_tree(), symbol=SYMBOL, name=name) for name in "ABCD"]
    for signal in signals:
        engine.add_signal(signal, strategy)
    return engine, strategy, signals


def test_signals_finishing_in_one_event_are_reaped_first_admitted_first() -> None:
    """Reaping looks only at the signals that finished (each tells the engine as it
    does); they are retired in admission order whatever order they finished in."""
    heard: list[str] = []
    engine, strategy, (a, b, c, d) = quiet_engine(heard)
    d.cancel(T0, "outside the engine")  # by user code, not by a tick
    b.cancel(T0, "outside the engine")
    assert heard == []  # nothing is reaped before the engine's next step
    engine.on_event(quote(T0 + SEC, 100))
    assert heard == ["B", "D"]
    assert engine.signals == [a, c]
    assert strategy.live_signals == 2
    assert list(engine.finished) == [b, d]
    assert engine._plans.plans[SYMBOL].live == [a, c]


def test_a_signal_a_finish_hook_cancels_is_reaped_in_the_same_pass() -> None:
    """A hook that ends an earlier-admitted signal: it is retired with the others,
    not left among the live signals after its routes stopped stepping it."""
    heard: list[str] = []
    engine, strategy, (a, b, c, d) = quiet_engine(heard)
    strategy.on_finish = lambda s: a.cancel(T0, "hook") if s is c else None
    c.cancel(T0, "outside the engine")
    engine.on_event(quote(T0 + SEC, 100))
    assert heard == ["C", "A"]
    assert engine.signals == [b, d]
    assert strategy.live_signals == 2
    assert engine._plans.plans[SYMBOL].live == [b, d]


def test_a_symbol_listed_twice_in_watch_is_watched_once() -> None:
    """The engine steps a signal once per tick of each symbol in ``watch``: a symbol
    listed twice must not be stepped (and reaped) twice."""
    signal = OpSignal(resting_tree(), symbol=SYMBOL, watch=["Other", SYMBOL, "Other"])
    assert signal.watch == (SYMBOL, "Other")


@pytest.mark.anyio
@pytest.mark.parametrize("one_run", [False, True], ids=["tick by tick", "one replay run"])
async def test_ctx_signal_is_the_signal_evaluated_and_none_elsewhere(one_run: bool) -> None:
    """``ctx.signal`` is the signal whose conditions run, ``None`` inside ``generate``,
    in a finish hook and once ``ingest`` has returned (it is stored once per signal
    stepped, not set and cleared around every tick). In one replay run every tick goes
    through one ``ingest``: ``generate`` on a tick after a signal was stepped still sees
    ``None``."""
    seen: list[tuple[str, str | None]] = []

    def name(ctx: StrategyContext) -> str | None:
        return None if ctx.signal is None else ctx.signal.name

    class Two(OpStrategy):
        def __init__(self) -> None:
            super().__init__(symbols=[SYMBOL], max_signals=2)
            self.made = 0

        def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
            seen.append(("generate", name(ctx)))
            self.made += 1
            label = f"S{self.made}"

            def cond(c: StrategyContext, label: str = label) -> bool:
                seen.append((label, name(c)))
                return c.now_ns >= T0 + 2 * SEC

            return OpSignal(ActionTree(ActionNode(label, [], cond)), symbol=symbol, name=label)

        def on_signal_finished(self, signal: OpSignal) -> None:
            seen.append(("finished", name(engine.ctx)))

    engine = StrategyEngine(FeedSet.of([INSTRUMENT], timeframes=("1s",)), [Two()])
    ticks = [quote(T0 + i * SEC, 100) for i in range(3)]
    if one_run:
        await engine.replay(ticks)
    else:
        for tick in ticks:
            engine.on_event(tick)
            assert engine.ctx.signal is None
    assert engine.ctx.signal is None
    assert seen == [
        ("generate", None),
        ("S1", "S1"),
        ("generate", None),
        ("S1", "S1"),
        ("S2", "S2"),
        ("S1", "S1"),
        ("S2", "S2"),
        ("finished", None),
        ("finished", None),
    ]


@pytest.mark.anyio
async def test_shutdown_stamps_the_engine_clock() -> None:
    """One way to read the time: shutdown cancels at the engine's clock (event time
    in a replay: the last event's), as the per-tick path reads it."""
    strategy = EveryTick(max_signals=1)
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)),
        [strategy],
        router=RecordingRouter(),
        account_id=ACCOUNT,
    )
    await engine.replay([quote(T0, 100), quote(T0 + 7 * SEC, 100)])
    await engine.shutdown()
    assert [s.finished_ns for s in engine.finished] == [T0 + 7 * SEC]
    assert engine.clock.now_ns() == T0 + 7 * SEC
