"""The action tree FSM driven through the engine with a recording router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import anyio
import pytest
from ec_core.data import FeedSet
from ec_core.errors import OrderRejectedError
from ec_core.execution import Payload
from ec_core.model import CancelOrder, LiquidateAll, MarketEvent, ModifyOrder, NewOrder, Side
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    AdvanceOn,
    ErrorReport,
    OpSignal,
    OpStrategy,
    SignalState,
    StrategyContext,
    StrategyEngine,
    TreeState,
    cancel_of,
    modify_of,
)
from strategy_support import (
    ACCOUNT,
    INSTRUMENT,
    SEC,
    SYMBOL,
    T0,
    RecordingRouter,
    close,
    context,
    limit,
    quote,
)


def seed_tree(overtime_after: int | None = None) -> ActionTree:
    """The seed README's tree, with branches ordered so every path is reachable."""
    entry_template = limit(Side.SELL, 100, qty=2, cl_order_id="1231314")
    modify_template = ModifyOrder(
        account_id=ACCOUNT,
        symbol=SYMBOL,
        orig_cl_order_id="1231314",
        cl_order_id="1231315",
        limit_price=Decimal(80),
    )
    cancel_template = CancelOrder(
        account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="1231314", cl_order_id="1231316"
    )
    cancel_node = ActionNode(
        "CancelEntry", [cancel_template], lambda ctx: close(ctx) < 50, transitions={}
    )
    tp1 = ActionNode("TakeProfit1", [limit(Side.BUY, 60, 2)], lambda ctx: close(ctx) <= 60)
    tp2 = ActionNode("TakeProfit2", [limit(Side.BUY, 70, 2)], lambda ctx: close(ctx) <= 70)
    modify = ActionNode(
        "ModifyTargetEntry",
        payloads=[modify_template],
        trigger_cond=lambda ctx: 50 < close(ctx) < 60,
        transitions={"TakeProfit2": (lambda ctx: close(ctx) <= 70, tp2)},
    )
    entry = ActionNode(
        "TargetEntry",
        payloads=[entry_template],
        trigger_cond=lambda ctx: close(ctx) >= 100,
        transitions={
            "CancelEntry": (lambda ctx: close(ctx) < 50, cancel_node),
            "ModifyTargetEntry": (lambda ctx: 50 < close(ctx) < 60, modify),
            "TakeProfit1": (lambda ctx: close(ctx) <= 60, tp1),
        },
    )
    if overtime_after is None:
        return ActionTree(entry)
    deadline = T0 + overtime_after

    def overtime(ctx: StrategyContext) -> bool:
        return ctx.now_ns >= deadline

    exit_node = ActionNode(
        "OvertimeExit", [LiquidateAll(account_id=ACCOUNT, symbol=SYMBOL)], overtime
    )
    return ActionTree(entry, overtime, exit_node)


class OneShot(OpStrategy):
    """Produces one signal from a tree factory on the first tick."""

    def __init__(self, factory: Callable[[], ActionTree], **kwargs: object) -> None:
        super().__init__(symbols=[SYMBOL], **kwargs)  # type: ignore[arg-type]
        self.factory = factory

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return OpSignal(self.factory(), symbol=symbol) if self.produced == 0 else None


def engine_for(*strategies: OpStrategy, router: RecordingRouter) -> StrategyEngine:
    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s",))
    return StrategyEngine(feeds, strategies, router=router, account_id=ACCOUNT)


def ticks(*closes: int) -> list[MarketEvent]:
    return [quote(T0 + i * SEC, c) for i, c in enumerate(closes)]


@pytest.mark.anyio
async def test_seed_tree_entry_modify_take_profit() -> None:
    router = RecordingRouter()
    engine = engine_for(OneShot(seed_tree), router=router)
    await engine.replay(ticks(90, 101, 99, 55, 55, 40))
    assert router.kinds() == ["NEW", "MODIFY", "NEW"]
    entry, modify, tp2 = router.requests
    assert isinstance(entry, NewOrder)
    assert entry.limit_price == 100
    assert isinstance(modify, ModifyOrder)
    # the template's fixed ids are replaced; the modify points at the live entry order
    assert entry.cl_order_id != "1231314"
    assert modify.orig_cl_order_id == entry.cl_order_id
    assert isinstance(tp2, NewOrder)
    assert tp2.limit_price == 70
    (signal,) = engine.finished
    assert signal.state is SignalState.DONE
    path = [(r.kind, r.target) for r in signal.tree.history if r.kind in ("fire", "branch")]
    assert path == [
        ("fire", "TargetEntry"),
        ("branch", "ModifyTargetEntry"),
        ("fire", "ModifyTargetEntry"),
        ("branch", "TakeProfit2"),
        ("fire", "TakeProfit2"),
    ]
    assert next(r.ts_ns for r in signal.tree.history) == T0 + SEC
    assert not engine.errors


@pytest.mark.anyio
async def test_seed_tree_cancel_branch_cancels_the_entry_at_the_venue() -> None:
    router = RecordingRouter()
    engine = engine_for(OneShot(seed_tree), router=router)
    await engine.replay(ticks(100, 45))
    assert router.kinds() == ["NEW", "CANCEL"]
    assert router.open_orders() == []
    assert engine.finished[0].state is SignalState.DONE


@pytest.mark.anyio
async def test_overtime_cancels_working_orders_then_runs_the_overtime_node() -> None:
    router = RecordingRouter()
    engine = engine_for(OneShot(lambda: seed_tree(overtime_after=3 * SEC)), router=router)
    await engine.replay(ticks(100, 99, 98, 97, 96))
    assert router.kinds() == ["NEW", "CANCEL", "LIQUIDATE_ALL"]
    cancel = router.requests[1]
    assert isinstance(cancel, CancelOrder)
    assert cancel.orig_cl_order_id == router.requests[0].cl_order_id
    (signal,) = engine.finished
    assert signal.state is SignalState.DONE
    assert signal.tree.in_overtime
    assert [r.kind for r in signal.tree.history] == [
        "fire",
        "arm",
        "overtime",
        "fire",
        "arm",
        "done",
    ]


@pytest.mark.anyio
async def test_taking_a_branch_cancels_the_working_orders_of_standby_siblings() -> None:
    router = RecordingRouter()

    def tp_filled(ctx: StrategyContext) -> bool:
        assert ctx.signal is not None
        ids = ctx.signal.order_ids("TakeProfit")
        return bool(ids) and all(o.cl_order_id not in ids for o in router.open_orders())

    def tree() -> ActionTree:
        tp = ActionNode("TakeProfit", [limit(Side.SELL, 110)], standby=True)
        sl = ActionNode("StopLoss", [limit(Side.SELL, 90)], standby=True)
        entry = ActionNode(
            "Entry",
            [limit(Side.BUY, 100)],
            lambda ctx: close(ctx) >= 100,
            {"TakeProfit": (tp_filled, tp), "StopLoss": (lambda ctx: close(ctx) < 90, sl)},
        )
        return ActionTree(entry)

    engine = engine_for(OneShot(tree), router=router)
    await engine.replay(ticks(100, 101))
    assert router.kinds() == ["NEW", "NEW", "NEW"]  # entry, then both standby children
    entry_id, tp_id, sl_id = (r.cl_order_id for r in router.requests)
    router.fill(entry_id)
    router.fill(tp_id)
    await engine.replay([quote(T0 + 5 * SEC, 105)])
    assert router.kinds()[-1] == "CANCEL"
    assert router.requests[-1].orig_cl_order_id == sl_id  # type: ignore[union-attr]
    assert engine.finished[0].state is SignalState.DONE
    assert engine.finished[0].tree.active.name == "TakeProfit"


@pytest.mark.anyio
async def test_rejected_payload_cancels_only_its_signal() -> None:
    router = RecordingRouter()
    router.fail[ModifyOrder] = OrderRejectedError("too late", code="TOO_LATE", cl_order_id="x")
    quiet = OneShot(lambda: ActionTree(ActionNode("Wait", [], lambda ctx: False)), name="quiet")
    engine = engine_for(OneShot(seed_tree, name="seed"), quiet, router=router)
    await engine.replay(ticks(100, 55, 55))
    assert router.kinds() == ["NEW", "MODIFY", "CANCEL"]  # the failed signal's entry is pulled
    failed = engine.finished[0]
    assert failed.state is SignalState.CANCELLED
    assert isinstance(failed.error, OrderRejectedError)
    assert failed.tree.state is TreeState.FAILED
    assert [(e.where, e.strategy) for e in engine.errors] == [("order", "seed")]
    assert [s.name for s in engine.signals] == ["Wait"]  # the other signal goes on


@pytest.mark.anyio
async def test_a_raising_condition_is_isolated_and_its_orders_cancelled() -> None:
    router = RecordingRouter()
    reports: list[ErrorReport] = []

    def boom(ctx: StrategyContext) -> bool:
        raise ZeroDivisionError("user bug")

    def tree() -> ActionTree:
        child = ActionNode("Never", [], lambda ctx: True)
        entry = ActionNode(
            "Entry", [limit(Side.BUY, 100)], lambda ctx: True, {"Boom": (boom, child)}
        )
        return ActionTree(entry)

    survivor = OneShot(seed_tree, name="survivor")
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)),
        [OneShot(tree, name="buggy"), survivor],
        router=router,
        account_id=ACCOUNT,
        on_error=reports.append,
    )
    await engine.replay(ticks(99, 99, 101))
    assert router.kinds() == ["NEW", "CANCEL", "NEW"]
    assert router.requests[1].orig_cl_order_id == router.requests[0].cl_order_id  # type: ignore[union-attr]
    assert [(r.where, r.strategy, r.error_type) for r in reports] == [
        ("signal", "buggy", "ZeroDivisionError")
    ]
    assert engine.finished[0].state is SignalState.CANCELLED
    assert engine.signals[0].tree.active.name == "TargetEntry"  # survivor fired its entry


def test_advance_on_sent_moves_on_without_waiting_for_the_answer() -> None:
    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s",))
    feeds.on_event(quote(T0, 100))
    ctx = context(feeds)

    def make(mode: AdvanceOn) -> ActionTree:
        child = ActionNode("Child", [], lambda ctx: False)
        return ActionTree(
            ActionNode("Entry", [limit(Side.BUY, 100)], transitions={"c": (lambda c: True, child)}),
            advance_on=mode,
        )

    acked = make(AdvanceOn.ACKNOWLEDGED)
    assert acked.update(ctx)
    assert acked.state.value == "FIRING"
    (command,) = acked.take_commands()
    acked.update(ctx)
    assert acked.state.value == "FIRING"  # still waiting for the executor
    acked.on_result(command, None, None, T0)  # type: ignore[arg-type]
    assert acked.state is TreeState.ARMED
    acked.update(ctx)
    assert acked.active.name == "Child"

    sent = make(AdvanceOn.SENT)
    sent.update(ctx)
    assert sent.state is TreeState.ARMED
    sent.update(ctx)
    assert sent.active.name == "Child"


def test_templates_give_fresh_ids_and_keep_payload_settings() -> None:
    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s",))
    feeds.on_event(quote(T0, 100))
    ctx = context(feeds)
    fixed = Payload(request=limit(Side.BUY, 100, cl_order_id="X"), checks=("cqg",), request_id=5)
    dynamic = lambda c: limit(Side.BUY, int(close(c)))  # noqa: E731
    trees = [ActionTree(ActionNode("N", [fixed, dynamic])) for _ in range(2)]
    ids = []
    for tree in trees:
        tree.update(ctx)
        for command in tree.take_commands():
            assert command.payload.request.account_id == ACCOUNT  # type: ignore[union-attr]
            ids.append(command.payload.request.cl_order_id)  # type: ignore[union-attr]
        assert tree.take_commands() == []
    assert len(set(ids)) == 4
    assert "X" not in ids
    assert trees[0].nodes["N"].payloads[0] is fixed  # the template itself is untouched
    first = trees[0]
    assert first.state is TreeState.FIRING


def test_modify_of_and_cancel_of_refer_to_a_node_by_name() -> None:
    feeds = FeedSet.of([INSTRUMENT], timeframes=("1s",))
    feeds.on_event(quote(T0, 100))
    ctx = context(feeds)
    cancel_node = ActionNode("Cancel", [cancel_of("Entry")])
    move = ActionNode(
        "Move",
        [modify_of("Entry", limit_price=lambda c: close(c) - 1)],
        transitions={"c": (lambda c: True, cancel_node)},
    )
    tree = ActionTree(
        ActionNode("Entry", [limit(Side.BUY, 100)], transitions={"m": (lambda c: True, move)}),
        advance_on=AdvanceOn.SENT,
    )
    signal = OpSignal(tree, symbol=SYMBOL)
    ctx.signal = signal
    requests = []
    for _ in range(3):
        tree.update(ctx)
        requests += [c.payload.request for c in tree.take_commands()]  # type: ignore[union-attr]
    new, modify, cancel = requests
    assert isinstance(modify, ModifyOrder)
    assert modify.orig_cl_order_id == new.cl_order_id
    assert modify.limit_price == Decimal(99)
    assert isinstance(cancel, CancelOrder)
    assert cancel.orig_cl_order_id == modify.cl_order_id
    assert tree.state is TreeState.DONE


@pytest.mark.anyio
async def test_order_actions_do_not_block_tick_ingestion() -> None:
    release = anyio.Event()

    class SlowRouter(RecordingRouter):
        async def execute(self, payload: Payload) -> object:  # type: ignore[override]
            await release.wait()
            return await super().execute(payload)

    router = SlowRouter()
    engine = engine_for(OneShot(seed_tree), router=router)
    seen = []

    async def stream() -> AsyncIterator[MarketEvent]:
        for event in ticks(100, 99, 98, 97):
            seen.append(event.ts_ns)
            yield event
            await anyio.lowlevel.checkpoint()
        assert engine.in_flight == 1  # the entry is still waiting for its answer
        release.set()

    await engine.run(stream())
    assert len(seen) == 4
    assert router.kinds() == ["NEW"]
    assert engine.signals[0].tree.state is TreeState.ARMED


def seed_tree_with_timeout(timeout_ns: int) -> ActionTree:
    """The seed tree whose overtime comes by ``timeout_ns`` instead of a condition."""
    condition_tree = seed_tree(overtime_after=0)
    assert condition_tree.overtime_node is not None
    return ActionTree(
        condition_tree.root, overtime_node=condition_tree.overtime_node, timeout_ns=timeout_ns
    )


@pytest.mark.anyio
async def test_a_timeout_sends_the_tree_to_overtime_counted_from_its_first_tick() -> None:
    """``timeout_ns`` is counted from the tree's first evaluation (the signal's first tick,
    here T0 + 1 s), and runs the same path as the condition it replaces."""
    router = RecordingRouter()
    engine = engine_for(OneShot(lambda: seed_tree_with_timeout(3 * SEC)), router=router)
    await engine.replay([quote(T0 + SEC + i * SEC, c) for i, c in enumerate((100, 99, 98))])
    assert router.kinds() == ["NEW"]  # 2 s after the first tick: not yet
    await engine.replay([quote(T0 + 4 * SEC, 96)])
    assert router.kinds() == ["NEW", "CANCEL", "LIQUIDATE_ALL"]
    (signal,) = engine.finished
    assert signal.state is SignalState.DONE
    overtime = next(r for r in signal.tree.history if r.kind == "overtime")
    assert (overtime.ts_ns, overtime.target) == (T0 + 4 * SEC, "OvertimeExit")
    assert overtime.reason == "timeout_ns of 3000000000 ns passed"


def test_a_timeout_and_a_condition_whichever_comes_first() -> None:
    """With both, the condition may come first; the timeout never fires twice or after
    the tree is final."""
    flag = [False]
    entry = ActionNode("Entry", [], lambda ctx: False)
    out = ActionNode("Out", [])
    tree = ActionTree(entry, lambda ctx: flag[0], out, timeout_ns=10 * SEC)
    ctx = context(FeedSet.of([INSTRUMENT], timeframes=("1s",)))
    tree.update(ctx, T0)
    assert tree.active.name == "Entry"
    flag[0] = True
    tree.update(ctx, T0 + SEC)
    assert tree.active.name == "Out"
    assert tree.state is TreeState.DONE  # the overtime node has no payloads: through at once
    tree.update(ctx, T0 + 20 * SEC)
    assert [r.reason for r in tree.history if r.kind == "overtime"] == ["overtime condition held"]
    timed = ActionTree(entry, lambda ctx: False, out, timeout_ns=10 * SEC)
    timed.update(ctx, T0)
    timed.update(ctx, T0 + 10 * SEC - 1)
    assert timed.active.name == "Entry"
    timed.update(ctx, T0 + 10 * SEC)
    assert timed.active.name == "Out"


def test_a_zero_timeout_goes_to_overtime_on_the_first_tick() -> None:
    tree = ActionTree(ActionNode("Entry"), overtime_node=ActionNode("Out"), timeout_ns=0)
    tree.update(context(FeedSet.of([INSTRUMENT], timeframes=("1s",))), T0)
    assert tree.in_overtime
    assert tree.active.name == "Out"


def test_a_timeout_counts_from_the_signals_window_not_its_creation() -> None:
    """A signal waiting for its window does not run its tree: the timeout starts when the
    window opens (the tree's first evaluation)."""
    entry = ActionNode("Entry", [], lambda ctx: False)
    tree = ActionTree(entry, overtime_node=ActionNode("Out"), timeout_ns=2 * SEC)
    signal = OpSignal(tree, symbol=SYMBOL, start_ns=T0 + 10 * SEC)
    ctx = context(FeedSet.of([INSTRUMENT], timeframes=("1s",)))
    for ts in (T0, T0 + 5 * SEC, T0 + 10 * SEC, T0 + 11 * SEC):
        signal.step(ctx, ts)
    assert tree.active.name == "Entry"  # 1 s into the window
    signal.step(ctx, T0 + 12 * SEC)
    assert tree.active.name == "Out"
    assert signal.state is SignalState.DONE
