"""A strategy and its tests on the mock venue (the docs page "Test a strategy on the mock")."""

from decimal import Decimal

import pytest
from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    AdvanceOn,
    OpSignal,
    OpStrategy,
    StrategyContext,
)


class FadeTheRally(OpStrategy):
    """Sell 2 at `entry` once the mid reaches it; buy them back at `target`."""

    def __init__(self, entry: str, target: str) -> None:
        super().__init__(symbols=["CLE"])
        self.entry = Decimal(entry)
        self.target = Decimal(target)

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:  # one trade idea per run
            return None

        def mid(ctx: StrategyContext) -> Decimal:
            return ctx.feeds[symbol].tick_buffer.ohlc()["Close"]

        def order(side: Side, price: Decimal) -> NewOrder:
            return NewOrder(
                account_id=ctx.account_id,  # the account the run trades
                symbol=symbol,
                side=side,
                qty=2,
                order_type=OrderType.LMT,
                limit_price=price,
            )

        take_profit = ActionNode("TakeProfit", [order(Side.BUY, self.target)])
        entry = ActionNode(
            "Entry",
            [order(Side.SELL, self.entry)],
            trigger_cond=lambda ctx: mid(ctx) >= self.entry - Decimal("0.10"),
            transitions={"TP": (lambda ctx: mid(ctx) <= self.target, take_profit)},
            advance_on=AdvanceOn.FILLED,  # no take-profit before the entry has filled
        )
        return OpSignal(ActionTree(entry), symbol=symbol)


@pytest.mark.anyio
async def test_entry_fills_then_take_profit_goes_flat(strategy_rig):
    rig = strategy_rig
    ticks = [
        rig.quote("CLE", 0, "70.90", "70.91"),  # near the entry: sell 2 @ 71.00 rests
        rig.trade("CLE", 1, "71.01", size=50, aggressor=Side.BUY),  # a print through it
        rig.quote("CLE", 2, "70.90", "70.91"),  # filled: the take-profit branch is armed
        rig.quote("CLE", 3, "70.59", "70.60"),  # at the target: buy 2 @ 70.60
        rig.quote("CLE", 4, "70.59", "70.60"),
    ]
    run = await rig.run(FadeTheRally(entry="71.00", target="70.60"), ticks)
    assert [(t.side, t.qty, t.price) for t in run.report.fills] == [
        ("SELL", 2, Decimal("71.00")),
        ("BUY", 2, Decimal("70.60")),
    ]
    assert run.position("CLE") == 0
    assert run.report.realized_pnl == Decimal("800.00")  # 0.40 x 2 x 1000
    [signal] = run.signals
    assert signal.path == ("Entry", "TakeProfit")
    assert run.report.errors == ()


@pytest.mark.anyio
async def test_no_take_profit_while_the_entry_is_still_working(strategy_rig):
    rig = strategy_rig
    ticks = [
        rig.quote("CLE", 0, "70.90", "70.91"),
        rig.quote("CLE", 1, "70.59", "70.60"),  # falls to the target without a fill
        rig.quote("CLE", 2, "70.59", "70.60"),
    ]
    run = await rig.run(FadeTheRally(entry="71.00", target="70.60"), ticks)
    assert run.position("CLE") == 0
    assert [(o.side, o.state.value) for o in run.open_orders] == [(Side.SELL, "WORKING")]
