"""Replay report arithmetic, the strategy loader, and which signals a tick steps."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.data import FeedSet
from ec_core.errors import ConfigError
from ec_core.model import Fill, Instrument, Quote, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy, StrategyContext
from ec_core.strategy import StrategyEngine as Engine
from ec_core.strategy.loader import RunInfo, load_plan
from ec_core.strategy.report import ReplayReport, build_report, render_svg, render_text
from strategy_support import SEC, T0

CL = Instrument(symbol="CL", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
INFO = RunInfo(account_id="A", vendor="mock", mode="replay")


def fill(ts: int, side: Side, qty: int, price: str, commission: str = "0") -> Fill:
    return Fill(
        fill_id=f"f{ts}", account_id="A", symbol="CL", side=side, qty=qty,
        price=Decimal(price), ts_ns=ts, commission=Decimal(commission),
    )  # fmt: skip


def report(fills: list[Fill], marks: list[tuple[int, str, Decimal]]) -> ReplayReport:
    return build_report(
        fills=fills, marks=marks, instruments={"CL": CL}, signals=[], errors=[],
        ticks=len(marks), first_ns=T0, last_ns=T0 + 10 * SEC, wall_s=0.0, orders_sent=len(fills),
    )  # fmt: skip


def test_average_cost_pnl_with_partial_close_flip_and_commission() -> None:
    fills = [
        fill(T0 + 1, Side.BUY, 2, "70.00"),
        fill(T0 + 2, Side.BUY, 2, "70.10"),  # long 4 @ 70.05
        fill(T0 + 3, Side.SELL, 1, "70.25", commission="2.5"),  # +0.20 x 1 x 1000 - 2.5
        fill(T0 + 4, Side.SELL, 5, "70.00"),  # closes 3 (-0.05 x 3 x 1000), short 2 @ 70.00
    ]
    marks = [(T0 + 5, "CL", Decimal("69.90"))]
    r = report(fills, marks)
    assert [t.realized for t in r.fills] == [
        Decimal(0),
        Decimal(0),
        Decimal("197.5"),
        Decimal("-150.00"),
    ]
    assert r.realized_pnl == Decimal("47.50")
    assert r.unrealized_pnl == Decimal("200.00")  # short 2 from 70.00, mark 69.90
    assert r.net_pnl == Decimal("247.50")
    assert r.positions == {"CL": -2}
    assert r.commissions == Decimal("2.5")


def test_drawdown_is_the_largest_fall_from_a_peak() -> None:
    fills = [fill(T0, Side.BUY, 1, "70.00")]
    prices = ["70.00", "70.50", "70.10", "70.40", "69.90", "70.20"]  # equity 0,500,100,400,-100,200
    marks = [(T0 + (i + 1) * SEC, "CL", Decimal(p)) for i, p in enumerate(prices)]
    r = report(fills, marks)
    assert [p.equity for p in r.equity][-6:] == [0.0, 500.0, 100.0, 400.0, -100.0, 200.0]
    assert r.max_drawdown == Decimal("600.0")
    text = render_text(r)
    assert "max drawdown 600.00" in text
    assert "BUY     1 @ 70.00" in text
    assert render_svg(r).count("<polyline") == 2


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "strat_mod.py"
    path.write_text(
        "from ec_core.strategy import OpStrategy\n"
        "from ec_core.strategy.loader import StrategyPlan\n" + body,
        encoding="utf-8",
    )
    return path


def test_loader_accepts_a_strategy_a_list_a_plan_and_a_module_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "def one(info):\n    return OpStrategy(symbols=['CL'], name=info.account_id)\n"
        "def many():\n    return [OpStrategy(symbols=['CL']), OpStrategy(symbols=['ES', 'CL'])]\n"
        "def plan():\n    return StrategyPlan([OpStrategy(symbols=['NQ'])], timeframes=('1m',))\n"
        "def strategy():\n    return OpStrategy(symbols=['GC'])\n"
        "def bad():\n    return 42\n",
    )
    assert load_plan(f"{path}:one", INFO).strategies[0].name == "A"
    assert load_plan(f"{path}:many", INFO).symbols == ["CL", "ES"]
    assert load_plan(f"{path}:plan", INFO).timeframes == ("1m",)
    assert load_plan(str(path), INFO).symbols == ["GC"]  # default factory name
    with pytest.raises(ConfigError, match="got int"):
        load_plan(f"{path}:bad", INFO)
    with pytest.raises(ConfigError, match="not found"):
        load_plan(f"{tmp_path / 'missing.py'}:one", INFO)
    sys.path.insert(0, str(tmp_path))
    try:
        assert load_plan("strat_mod:many", INFO).symbols == ["CL", "ES"]
        with pytest.raises(ConfigError, match="cannot import"):
            load_plan("no_such_module_here:x", INFO)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("strat_mod", None)


class Once(OpStrategy):
    def __init__(self, watch: tuple[str, ...] = ()) -> None:
        super().__init__(symbols=["CL"])
        self.watch = watch
        self.calls: list[str] = []

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None

        def seen(ctx: StrategyContext) -> bool:
            assert ctx.signal is not None
            self.calls.append(ctx.signal.symbol)
            return False

        return OpSignal(ActionTree(ActionNode("Wait", [], seen)), symbol=symbol, watch=self.watch)


@pytest.mark.parametrize(("watch", "steps"), [((), 2), (("ES",), 4)])
def test_a_signal_is_stepped_only_on_the_ticks_of_symbols_it_watches(
    watch: tuple[str, ...], steps: int
) -> None:
    es = Instrument(symbol="ES", tick_size=Decimal("0.25"))
    strategy = Once(watch)
    engine = Engine(FeedSet.of([CL, es], timeframes=("1s",)), [strategy])
    for i, symbol in enumerate(["CL", "ES", "CL", "ES", "CL"]):
        engine.on_event(Quote(symbol=symbol, ts_ns=T0 + i, bid=100, ask=101))
    assert len(strategy.calls) == 1 + steps  # created on the first CL tick, stepped after


def test_repr_is_a_summary_whatever_the_report_holds() -> None:
    """asyncio formats a finished task's result when ``anyio.run`` returns: a report of a
    long replay must not be printed in full (tens of ms per run, growing with its orders)."""
    fills = [fill(T0 + i, Side.BUY if i % 2 else Side.SELL, 1, "70.00") for i in range(2_000)]
    marks = [(T0 + i, "CL", Decimal("70.01")) for i in range(2_000)]
    r = report(fills, marks)
    text = repr(r)
    assert len(text) < 400, text
    for part in ("ReplayReport(", "ticks=2000", "orders_sent=2000", f"net_pnl={r.net_pnl}"):
        assert part in text, (part, text)
