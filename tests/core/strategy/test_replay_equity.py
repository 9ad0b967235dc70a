"""The equity curve of a replay, checked by hand: a fill is valued at its own price, and a
bar's close marks the market before the tick that closed the bar, not after it.

Three round trips of 2 CLE ($1,000 a point) on quotes one second apart, marked at the
close of the engine's 1-second bars by the exact mid of the quote before the closing tick
(a bar's close, the mid floored to the tick grid, lay half a tick low on every one-tick
spread: each mark of a long was 10.00 too low here).
"""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from ec_core.model import NewOrder, OrderType, Quote, Side, Trade
from ec_core.plugins import PluginHost
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    AdvanceOn,
    OpSignal,
    OpStrategy,
    StrategyContext,
)
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_plan
from strategy_support import CLE_T0, SEC, cle_quote

QUOTES = [
    ("70.00", "70.01"),  # 0: buy 2 @ 70.01
    ("70.05", "70.06"),  # 1: sell 2 @ 70.05: +80
    ("70.10", "70.11"),  # 2: buy 2 @ 70.11
    ("70.03", "70.04"),  # 3: sell 2 @ 70.03: -160
    ("69.90", "69.91"),  # 4: buy 2 @ 69.91
    ("70.20", "70.21"),  # 5: sell 2 @ 70.20: +580
    ("70.20", "70.21"),
    ("70.30", "70.31"),
]


class RoundTrips(OpStrategy):
    """Buy 2 at market, sell them on the next tick; three times."""

    def __init__(self) -> None:
        super().__init__(symbols=["CLE"], max_signals=1)

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced >= 3:
            return None

        def market(side: Side) -> NewOrder:
            return NewOrder(
                account_id=ctx.account_id, symbol=symbol, side=side, qty=2, order_type=OrderType.MKT
            )

        out = ActionNode("Exit", [market(Side.SELL)], advance_on=AdvanceOn.FILLED)
        entry = ActionNode(
            "Entry",
            [market(Side.BUY)],
            transitions={"out": (lambda ctx: True, out)},
            advance_on=AdvanceOn.FILLED,
        )
        return OpSignal(ActionTree(entry), symbol=symbol)


@pytest.mark.anyio
async def test_the_drawdown_of_three_round_trips_is_the_one_computed_by_hand() -> None:
    ticks = [cle_quote(second, bid, ask) for second, (bid, ask) in enumerate(QUOTES)]
    with anyio.fail_after(10):
        report = await replay_plan(PluginHost.load(), StrategyPlan([RoundTrips()]), ticks)
    assert [(f.side, f.price) for f in report.fills] == [
        ("BUY", Decimal("70.01")),
        ("SELL", Decimal("70.05")),
        ("BUY", Decimal("70.11")),
        ("SELL", Decimal("70.03")),
        ("BUY", Decimal("69.91")),
        ("SELL", Decimal("70.20")),
    ]
    assert report.realized_pnl == Decimal("500.00")
    # equity: 0 at the first fill, -10 at the first bar's close (mid 70.005), 80 flat after
    # the first trip; the second buy is worth 80 at its own price and 70 at the next close
    # (70.105); -80 after the second trip; the third buy -80, then -90 at the close 69.905
    # before the tick that sells: the largest fall is 80 -> -90 (the floored closes 70.00,
    # 70.10 and 69.90 made it 180.00)
    assert report.max_drawdown == Decimal("170.00")
    assert report.stats is not None
    assert report.stats.max_drawdown == "170.00"
    assert [p.equity for p in report.equity][:6] == [0.0, -10.0, 80.0, 80.0, 80.0, 70.0]
    assert report.equity[-1].equity == float(report.net_pnl)


class SecondOfTwo(RoundTrips):
    """The same round trips on CLE, the second of its symbols: TYA, the first, is quiet."""

    def __init__(self) -> None:
        OpStrategy.__init__(self, symbols=["TYA", "CLE"], max_signals=1)

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return super().generate(ctx, symbol) if symbol == "CLE" else None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tya_quoted", "chart_symbol"),
    [(False, "CLE"), (True, "TYA")],
    ids=["first-never-quoted", "first-quoted-late"],
)
async def test_an_instrument_quoted_late_or_never_first_does_not_cut_the_equity_curve(
    tya_quoted: bool, chart_symbol: str
) -> None:
    """A point of the curve needs the chart symbol's price: with the first instrument never
    quoted no point was kept (max_drawdown 0 for a run that fell 180.00); quoted once after
    the CLE trips began, every point before its quote was dropped with the peak of 80."""
    ticks: list[Quote] = [cle_quote(second, bid, ask) for second, (bid, ask) in enumerate(QUOTES)]
    if tya_quoted:
        late = Quote(symbol="TYA", ts_ns=CLE_T0 + 3 * SEC + SEC // 2, bid=7040, ask=7041)
        ticks = sorted([*ticks, late], key=lambda q: q.ts_ns)
    with anyio.fail_after(10):
        report = await replay_plan(PluginHost.load(), StrategyPlan([SecondOfTwo()]), ticks)
    assert report.realized_pnl == Decimal("500.000")  # TYA's finer money places
    assert report.max_drawdown == Decimal("170.000")
    assert report.chart_symbol == chart_symbol
    assert [p.equity for p in report.equity][:6] == [0.0, -10.0, 80.0, 80.0, 80.0, 70.0]
    assert report.equity[-1].equity == float(report.net_pnl)


class Idle(OpStrategy):
    def __init__(self) -> None:
        super().__init__(symbols=["CLE"])


@pytest.mark.anyio
async def test_a_run_without_a_fill_is_flat_at_zero() -> None:
    ticks = [cle_quote(second, bid, ask) for second, (bid, ask) in enumerate(QUOTES)]
    with anyio.fail_after(10):
        report = await replay_plan(PluginHost.load(), StrategyPlan([Idle()]), ticks)
    assert report.fills == ()
    assert report.max_drawdown == Decimal("0.00")
    # a point at each 1-second bar's close (seven closed) and at the last tick's mid
    assert [p.equity for p in report.equity] == [0.0] * 8
    assert report.equity[-1].price == 70.305


class BuyAndHold(OpStrategy):
    """Buy 1 at market on the second quote and keep it."""

    def __init__(self) -> None:
        super().__init__(symbols=["CLE"], max_signals=1)

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced or ctx.now_ns < CLE_T0 + SEC:
            return None
        buy = NewOrder(
            account_id=ctx.account_id, symbol=symbol, side=Side.BUY, qty=1, order_type=OrderType.MKT
        )
        return OpSignal(ActionTree(ActionNode("Entry", [buy])), symbol=symbol)


@pytest.mark.anyio
async def test_the_open_position_is_valued_where_the_curve_ends_without_a_last_mid() -> None:
    """The last quote has no ask, so there is no last mid: net_pnl valued the position at
    the bar close before its fill (70.00 for a buy at 70.11: -110.00) while the curve ended
    at the fill's price (0.00)."""
    ticks = [
        cle_quote(0, "70.00", "70.01"),
        cle_quote(1, "70.10", "70.11"),  # closes the first bar (70.00); buy 1 @ 70.11
        Quote(symbol="CLE", ts_ns=CLE_T0 + SEC + SEC // 2, bid=7012, ask=None, bid_size=5),
    ]
    with anyio.fail_after(10):
        report = await replay_plan(PluginHost.load(), StrategyPlan([BuyAndHold()]), ticks)
    assert [(f.side, f.price) for f in report.fills] == [("BUY", Decimal("70.11"))]
    assert report.unrealized_pnl == Decimal("0.00")
    assert report.net_pnl == Decimal("0.00")
    assert report.equity[-1].equity == float(report.net_pnl)


@pytest.mark.anyio
async def test_each_mark_is_the_exact_mid_of_the_quote_the_bar_closed_on() -> None:
    """A bar closed by a quote after a print is marked at the quote before it (the print
    changes no mid); a bar closed by a print at the last quote; a one-tick spread's mid
    is half a tick, not the bar's close floored to the grid."""
    ticks: list[Quote | Trade] = [
        cle_quote(0, "70.00", "70.01"),
        Trade(symbol="CLE", ts_ns=CLE_T0 + SEC // 2, price=7001, size=1),
        cle_quote(1, "70.10", "70.11"),  # closes second 0: mark 70.005, not 70.00
        Trade(symbol="CLE", ts_ns=CLE_T0 + 2 * SEC, price=7011, size=1),  # closes second 1
        cle_quote(2.5, "70.20", "70.22"),
        cle_quote(3, "70.30", "70.31"),  # closes second 2: its last quote's mid is whole
    ]
    with anyio.fail_after(10):
        report = await replay_plan(PluginHost.load(), StrategyPlan([Idle()]), ticks)
    marks = [(p.ts_ns - CLE_T0, p.mid) for p in report.prices["CLE"]]
    assert marks == [
        (SEC - 1, 70.005),
        (2 * SEC - 1, 70.105),
        (3 * SEC - 1, 70.21),
        (3 * SEC, 70.305),  # the last tick's mid, where the run ended
    ]
