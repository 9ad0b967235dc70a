"""The seed README tree on the real order path: Executor + OrderTracker + the ``mock`` vendor.

The venue is opened through ``PluginHost.load()`` (entry point ``mock``), the
market is a short recorded tape shown to the venue before the strategy sees each
tick, and every order the tree sends is validated by the host's validators,
matched by the mock engine and answered on the account's trade stream.
Prices follow the seed (A=100, modify to 80, B=50, C=60, D=70) scaled onto crude
oil: ``70 + x / 100``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from ec_core.model import (
    CancelOrder,
    LiquidateAll,
    MarketEvent,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    Quote,
    Side,
    Trade,
)
from ec_core.plugins import PluginHost
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    OpSignal,
    OpStrategy,
    SignalState,
    StrategyContext,
)
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_plan
from ec_core.strategy.report import ReplayReport
from ec_core.strategy.rig import TradingRig

ACCOUNT = "SEED-1"
SYMBOL = "CLE"
SEC = 1_000_000_000
T0 = 1_704_898_800_000_000_000 + SEC  # a Wednesday morning in Chicago: CLE trades
A, M, B, C, D = (Decimal(70) + Decimal(x) / 100 for x in (100, 80, 50, 60, 70))


def ticks(price: Decimal) -> int:
    return int(price * 100)


def q(second: float, bid: str, ask: str, size: int = 10) -> Quote:
    return Quote(
        symbol=SYMBOL,
        ts_ns=T0 + int(second * SEC),
        bid=ticks(Decimal(bid)),
        ask=ticks(Decimal(ask)),
        bid_size=size,
        ask_size=size,
    )


def close(ctx: StrategyContext) -> Decimal:
    return ctx.feeds[SYMBOL].tick_buffer.ohlc()["Close"]


def seed_tree(deadline_ns: int, *, raise_in: str = "") -> ActionTree:
    """The seed README tree (entry, modify, take-profit, cancel, overtime) on CLE."""

    def cond(name: str, test: Callable[[Decimal], bool]) -> Callable[[StrategyContext], bool]:
        def check(ctx: StrategyContext) -> bool:
            if name == raise_in:
                raise ZeroDivisionError(f"bug in {name}")
            return test(close(ctx))

        return check

    te_trigger = cond("entry", lambda c: c >= A)
    mod_trigger = cond("modify", lambda c: B < c < C)
    tp1_trigger = cond("tp1", lambda c: c <= C)
    tp2_trigger = cond("tp2", lambda c: c <= D)
    cancel_trigger = cond("cancel", lambda c: c < B)

    def overtime(ctx: StrategyContext) -> bool:
        return ctx.now_ns >= deadline_ns

    def order(side: Side, price: Decimal, cl: str = "") -> NewOrder:
        return NewOrder(
            account_id=ACCOUNT, symbol=SYMBOL, side=side, qty=2, order_type=OrderType.LMT,
            limit_price=price, cl_order_id=cl,
        )  # fmt: skip

    entry = order(Side.SELL, A, "seed-entry")
    modify = ModifyOrder(
        account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="seed-entry", limit_price=M
    )
    cancel = CancelOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="seed-entry")
    cancel_node = ActionNode("CancelEntry", [cancel], cancel_trigger)
    tp1 = ActionNode("TakeProfit1", [order(Side.BUY, C)], tp1_trigger)
    tp2 = ActionNode("TakeProfit2", [order(Side.BUY, D)], tp2_trigger)
    modify_node = ActionNode(
        "ModifyTargetEntry", [modify], mod_trigger, {"TP2": (tp2_trigger, tp2)}
    )
    root = ActionNode(
        "TargetEntry",
        [entry],
        te_trigger,
        {
            "Cancel": (cancel_trigger, cancel_node),
            "Modify": (mod_trigger, modify_node),
            "TP1": (tp1_trigger, tp1),
        },
    )
    exit_node = ActionNode("OvertimeExit", [LiquidateAll(account_id=ACCOUNT, symbol=SYMBOL)])
    return ActionTree(root, overtime, exit_node)


class Seed(OpStrategy):
    """One seed-tree signal per run (a second one with ``also_quiet`` that never fires)."""

    def __init__(self, *, raise_in: str = "", overtime_s: int = 600) -> None:
        super().__init__(symbols=[SYMBOL], max_signals=2)
        self.raise_in = raise_in
        self.overtime_s = overtime_s

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        deadline = ctx.now_ns + self.overtime_s * SEC
        return OpSignal(seed_tree(deadline, raise_in=self.raise_in), symbol=symbol, name="seed")


async def run(tape: list[MarketEvent], strategy: Seed) -> tuple[ReplayReport, TradingRig]:
    rigs: list[TradingRig] = []
    report = await replay_plan(
        PluginHost.load(),
        StrategyPlan([strategy], timeframes=("1s", "1m")),
        tape,
        account_id=ACCOUNT,
        on_rig=rigs.append,
    )
    return report, rigs[0]


def states(rig: TradingRig) -> dict[str, OrderState]:
    """Order state by the chain's first client id, as the venue last reported it."""
    return {o.chain_id: o.state for o in rig.tracker.orders(ACCOUNT)}


def path_of(report: ReplayReport) -> tuple[str, ...]:
    [path] = report.signal_paths
    return path.path


# The entry rests when the bid is under A while the mid is at or above it.
ENTRY_RESTS = q(1, "70.99", "71.03")


@pytest.mark.anyio
async def test_entry_then_take_profit_fills_on_the_venue_and_goes_flat() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.20", "70.21"),
        q(1, "71.00", "71.01"),  # mid 71.00 >= A: sell 2 @ 71.00 fills against the bid
        q(2, "70.60", "70.61"),  # mid 70.60 == C: buy 2 @ 70.60 rests under the ask
        q(3, "70.58", "70.59"),  # the ask comes down through it: filled at its limit
    ]
    report, rig = await run(tape, Seed())
    assert path_of(report) == ("TargetEntry", "TakeProfit1")
    assert report.signal_paths[0].state == SignalState.DONE.value
    assert [(t.side, t.qty, t.price) for t in report.fills] == [
        ("SELL", 2, Decimal("71.00")),
        ("BUY", 2, Decimal("70.60")),
    ]
    assert report.positions == {SYMBOL: 0}
    assert report.realized_pnl == Decimal("800.00")  # 0.40 x 2 x 1000
    assert rig.tracker.position(ACCOUNT, SYMBOL).qty == 0
    assert set(states(rig).values()) == {OrderState.FILLED}


@pytest.mark.anyio
async def test_modify_path_reprices_the_resting_entry_on_the_venue() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.20", "70.21"),
        ENTRY_RESTS,
        q(2, "70.55", "70.56"),  # B < 70.55 < C: modify the entry to M
        q(3, "70.55", "70.56"),  # modify acknowledged: TP2 (<= D) fires
    ]
    report, rig = await run(tape, Seed())
    assert path_of(report) == ("TargetEntry", "ModifyTargetEntry", "TakeProfit2")
    [entry] = [o for o in rig.tracker.orders(ACCOUNT) if o.side is Side.SELL]
    assert entry.limit_price == M  # the venue acknowledged the new price
    assert entry.state is OrderState.WORKING
    [tp2] = [o for o in rig.tracker.orders(ACCOUNT) if o.side is Side.BUY]
    assert tp2.limit_price == D
    assert tp2.state is OrderState.FILLED  # 70.70 crosses the ask at 70.56


@pytest.mark.anyio
async def test_cancel_path_cancels_the_entry_on_the_venue() -> None:
    tape: list[MarketEvent] = [q(0, "70.20", "70.21"), ENTRY_RESTS, q(2, "70.40", "70.41")]
    report, rig = await run(tape, Seed())
    assert path_of(report) == ("TargetEntry", "CancelEntry")
    assert list(states(rig).values()) == [OrderState.CANCELLED]
    assert report.fills == ()
    assert rig.tracker.open_orders(ACCOUNT) == []


@pytest.mark.anyio
async def test_overtime_cancels_working_orders_then_liquidates() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.20", "70.21"),
        ENTRY_RESTS,
        q(30, "70.80", "70.81"),  # nothing: the entry rests, no branch holds (C < 70.80)
        q(61, "70.80", "70.81"),  # past the one-minute deadline: overtime
    ]
    report, rig = await run(tape, Seed(overtime_s=60))
    assert path_of(report) == ("TargetEntry", "OvertimeExit")
    [record] = [r for r in report.signal_paths[0].transitions if r.kind == "overtime"]
    assert record.ts_ns == T0 + 61 * SEC
    assert list(states(rig).values()) == [OrderState.CANCELLED]
    assert rig.tracker.open_orders(ACCOUNT) == []
    assert report.signal_paths[0].state == SignalState.DONE.value
    assert report.errors == ()


@pytest.mark.anyio
async def test_recorded_trades_fill_a_resting_order() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.20", "70.21"),
        ENTRY_RESTS,  # sell 2 @ 71.00 rests at the top of the ask side
        Trade(symbol=SYMBOL, ts_ns=T0 + 2 * SEC, price=7101, size=50, aggressor=Side.BUY),
    ]
    report, rig = await run(tape, Seed())
    assert [(t.side, t.qty, t.price) for t in report.fills] == [("SELL", 2, Decimal("71.00"))]
    assert rig.tracker.position(ACCOUNT, SYMBOL).qty == -2


@pytest.mark.anyio
async def test_a_raising_condition_cancels_the_signal_and_its_orders_on_the_venue() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.20", "70.21"),
        ENTRY_RESTS,  # entry rests; the branches are evaluated from the next tick
        q(2, "70.90", "70.91"),  # the cancel branch's condition raises
        q(3, "70.90", "70.91"),
    ]
    report, rig = await run(tape, Seed(raise_in="cancel"))
    [path] = report.signal_paths
    assert path.state == SignalState.CANCELLED.value
    assert "ZeroDivisionError" in path.reason
    [error] = report.errors
    assert (error.where, error.error_type, error.signal_id) == (
        "signal",
        "ZeroDivisionError",
        path.signal_id,
    )
    assert list(states(rig).values()) == [OrderState.CANCELLED]  # confirmed by the venue
    assert rig.tracker.open_orders(ACCOUNT) == []


@pytest.mark.anyio
async def test_same_tape_same_report() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.20", "70.21"),
        q(1, "71.00", "71.01"),
        q(2, "70.60", "70.61"),
        q(3, "70.58", "70.59"),
    ]
    first, _ = await run(tape, Seed())
    second, _ = await run(tape, Seed())
    assert first.fills == second.fills
    assert [p.transitions for p in first.signal_paths] == [
        p.transitions for p in second.signal_paths
    ]
