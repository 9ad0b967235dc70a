"""Tree semantics that trip EC_API users: when a node advances, shadowed branches, cool-downs.

* ``advance_on`` per node (``SENT`` / ``ACKNOWLEDGED`` / ``FILLED``): an entry that is
  still working must not let its take-profit fire when the node says ``FILLED``;
* a branch listed after a wider one is never taken: the replay report warns;
* a cool-down counts from when a signal was created (default) or when it ended.
"""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from ec_core.data import FeedSet
from ec_core.model import MarketEvent, NewOrder, Quote, Side, Trade
from ec_core.plugins import PluginHost
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    AdvanceOn,
    CooldownFrom,
    OpSignal,
    OpStrategy,
    StrategyContext,
    StrategyEngine,
    TreeState,
)
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_plan
from ec_core.strategy.report import ReplayReport, render_text
from ec_core.strategy.rig import TradingRig
from strategy_support import ACCOUNT as UNIT_ACCOUNT
from strategy_support import CLE_T0, INSTRUMENT, RecordingRouter, cle_limit, cle_quote, limit, quote
from strategy_support import SEC as UNIT_SEC
from strategy_support import T0 as UNIT_T0

ACCOUNT = "TREE-1"
SYMBOL = "CLE"
SEC = 1_000_000_000
T0 = CLE_T0


def q(second: float, bid: str, ask: str) -> Quote:
    return cle_quote(second, bid, ask)


def mid(ctx: StrategyContext) -> Decimal:
    return ctx.feeds[SYMBOL].tick_buffer.ohlc()["Close"]


def order(side: Side, price: str) -> NewOrder:
    return cle_limit(ACCOUNT, side, price, qty=2)


class EntryThenTakeProfit(OpStrategy):
    """Sell 2 at 71.00 (rests above the market), buy them back at 70.60 when mid <= 70.60."""

    def __init__(self, advance_on: AdvanceOn | None) -> None:
        super().__init__(symbols=[SYMBOL])
        self.advance_on = advance_on

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        take_profit = ActionNode("TakeProfit", [order(Side.BUY, "70.60")])
        entry = ActionNode(
            "Entry",
            [order(Side.SELL, "71.00")],
            transitions={"TP": (lambda ctx: mid(ctx) <= Decimal("70.60"), take_profit)},
            advance_on=self.advance_on,
        )
        return OpSignal(ActionTree(entry), symbol=symbol)


async def replay(strategy: OpStrategy, tape: list[MarketEvent]) -> tuple[ReplayReport, TradingRig]:
    rigs: list[TradingRig] = []
    with anyio.fail_after(10):
        report = await replay_plan(
            PluginHost.load(),
            StrategyPlan([strategy]),
            tape,
            account_id=ACCOUNT,
            on_rig=rigs.append,
        )
    return report, rigs[0]


DROP_BEFORE_FILL: list[MarketEvent] = [
    q(0, "70.90", "70.91"),  # the entry rests at 71.00
    q(1, "70.59", "70.60"),  # the market falls without trading at 71.00
    q(2, "70.59", "70.60"),
]


@pytest.mark.anyio
async def test_acknowledged_by_default_lets_the_take_profit_fire_before_the_entry_fills() -> None:
    """The EC_API trap the default keeps (documented): the account ends long 2."""
    report, rig = await replay(EntryThenTakeProfit(advance_on=None), DROP_BEFORE_FILL)
    assert rig.tracker.position(ACCOUNT, SYMBOL).qty == 2
    assert report.positions[SYMBOL] == 2


@pytest.mark.anyio
async def test_filled_holds_the_branches_until_the_entry_has_filled() -> None:
    report, rig = await replay(EntryThenTakeProfit(advance_on=AdvanceOn.FILLED), DROP_BEFORE_FILL)
    assert rig.tracker.position(ACCOUNT, SYMBOL).qty == 0
    assert [o.side for o in rig.tracker.open_orders(ACCOUNT)] == [Side.SELL]  # the entry waits
    [path] = report.signal_paths
    assert path.path == ("Entry",)


@pytest.mark.anyio
async def test_filled_entry_then_take_profit_ends_flat() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.90", "70.91"),
        Trade(symbol=SYMBOL, ts_ns=T0 + SEC, price=7101, size=50, aggressor=Side.BUY),
        q(2, "70.90", "70.91"),  # the entry filled: the node is through, branches armed
        q(3, "70.59", "70.60"),  # take-profit
        q(4, "70.59", "70.60"),
    ]
    report, rig = await replay(EntryThenTakeProfit(advance_on=AdvanceOn.FILLED), tape)
    assert [(t.side, t.qty) for t in report.fills] == [("SELL", 2), ("BUY", 2)]
    assert rig.tracker.position(ACCOUNT, SYMBOL).qty == 0
    [path] = report.signal_paths
    assert path.path == ("Entry", "TakeProfit")
    arm = [t for t in path.transitions if t.kind == "arm" and t.source == "Entry"]
    assert "filled" in arm[0].reason


@pytest.mark.anyio
async def test_an_entry_that_ends_unfilled_under_filled_fails_the_tree_saying_why() -> None:
    router = RecordingRouter()
    entry = ActionNode(
        "Entry",
        [limit(Side.SELL, 110)],
        transitions={"TP": (lambda ctx: False, ActionNode("TP"))},
        advance_on=AdvanceOn.FILLED,
    )
    tree = ActionTree(entry)

    class One(OpStrategy):
        def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
            return None if self.produced else OpSignal(tree, symbol=symbol)

    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)),
        [One(symbols=[INSTRUMENT.symbol])],
        router=router,
        account_id=UNIT_ACCOUNT,
    )
    await engine.replay([quote(UNIT_T0, 100)])
    assert tree.state.value == "FIRING"  # acknowledged, waiting for the fill
    [chain] = router.orders
    router.cancel(chain)  # the venue cancelled it (e.g. end of session)
    await engine.replay([quote(UNIT_T0 + UNIT_SEC, 100)])
    assert tree.state is TreeState.FAILED
    assert "CANCELLED before it filled" in repr(tree.error)
    assert "advance_on=FILLED" in repr(tree.error)


def test_a_node_without_advance_on_takes_the_trees_and_the_default_is_acknowledged() -> None:
    assert ActionTree(ActionNode("A")).advance_on is AdvanceOn.ACKNOWLEDGED
    node = ActionNode("A", advance_on=AdvanceOn.FILLED)
    assert node.advance_on is AdvanceOn.FILLED
    assert ActionNode("B").advance_on is None
    with pytest.raises(ValueError, match="advance_on"):
        ActionNode("C", advance_on="filled")  # type: ignore[arg-type]


# -- branches tried in order ------------------------------------------------------------------


class WideFirst(OpStrategy):
    """The seed's order: the wide take-profit band listed before the narrow modify band."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        wide = ActionNode("TakeProfit1")
        narrow = ActionNode("ModifyTargetEntry")
        root = ActionNode(
            "TargetEntry",
            [order(Side.SELL, "71.00")],
            transitions={
                "TakeProfit1": (lambda ctx: mid(ctx) <= Decimal("70.60"), wide),
                "ModifyTargetEntry": (
                    lambda ctx: Decimal("70.50") < mid(ctx) < Decimal("70.60"),
                    narrow,
                ),
            },
        )
        return OpSignal(ActionTree(root), symbol=symbol)


@pytest.mark.anyio
async def test_the_report_warns_of_a_branch_an_earlier_branch_shadowed() -> None:
    tape: list[MarketEvent] = [
        q(0, "70.90", "70.91"),
        q(1, "70.55", "70.56"),
        q(2, "70.55", "70.56"),
    ]
    report, _ = await replay(WideFirst(symbols=[SYMBOL]), tape)
    [warning] = report.warnings
    assert "ModifyTargetEntry" in warning
    assert "TakeProfit1" in warning
    assert "never taken" in warning
    assert "listed first" in warning
    assert "warnings:" in render_text(report)


# -- cool-downs ---------------------------------------------------------------------------------


class Short(OpStrategy):
    """A signal whose tree is done after its entry is acknowledged, every time allowed."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        entry = ActionNode(
            "Entry",
            [limit(Side.BUY, 90)],
            transitions={"Exit": (lambda c: c.now_ns >= self.exit_at, ActionNode("Exit"))},
        )
        self.exit_at = ctx.now_ns + 4 * UNIT_SEC
        return OpSignal(ActionTree(entry), symbol=symbol)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("cooldown_from", "created"),
    [
        (CooldownFrom.CREATED, [0, 10, 20]),  # the default: 10 s after each was created
        (CooldownFrom.ENDED, [0, 14, 28]),  # 10 s after each ended (4 s after it began)
    ],
)
async def test_cooldown_counts_from_creation_or_from_the_end(
    cooldown_from: CooldownFrom, created: list[int]
) -> None:
    strategy = Short(
        symbols=[INSTRUMENT.symbol], cooldown_ns=10 * UNIT_SEC, cooldown_from=cooldown_from
    )
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)),
        [strategy],
        router=RecordingRouter(),
        account_id=UNIT_ACCOUNT,
    )
    await engine.replay([quote(UNIT_T0 + i * UNIT_SEC, 100) for i in range(30)])
    signals = [*engine.finished, *engine.signals]
    assert [(s.created_ns - UNIT_T0) // UNIT_SEC for s in signals] == created


def test_cooldown_from_defaults_to_created() -> None:
    assert OpStrategy(symbols=["X"]).cooldown_from is CooldownFrom.CREATED
    with pytest.raises(ValueError, match="cooldown_from"):
        OpStrategy(symbols=["X"], cooldown_from="end")  # type: ignore[arg-type]
