"""``ec replay --param``: a parameter grid across processes, ranked, every report kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ec_core.cli.sweep import parse_params
from ec_core.errors import ConfigError

T0 = 1_704_898_800_000_000_000 + 1_000_000_000

STRATEGY = """
from decimal import Decimal

from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy


class Scalp(OpStrategy):
    def __init__(self, account, take):
        super().__init__(symbols=["CLE"], max_signals=1)
        self.account = account
        self.take = Decimal(take) / 100

    def generate(self, ctx, symbol):
        if ctx.open_orders(symbol) or ctx.position(symbol).qty:
            return None
        tb = ctx.feeds[symbol].tick_buffer
        entry = tb.to_price(tb.quote.ask)
        buy = NewOrder(account_id=self.account, symbol=symbol, side=Side.BUY, qty=1,
                       order_type=OrderType.LMT, limit_price=entry)
        sell = NewOrder(account_id=self.account, symbol=symbol, side=Side.SELL, qty=1,
                        order_type=OrderType.LMT, limit_price=entry + self.take)
        up = lambda ctx: tb.close >= entry + self.take - Decimal("0.01")
        root = ActionNode("Entry", [buy], transitions={"tp": (up, ActionNode("TP", [sell], up))})
        return OpSignal(ActionTree(root), symbol=symbol)


def strategy(info):
    return Scalp(info.account_id, info.params.get("take", "5"))
"""


def test_the_grid_is_every_combination_in_order() -> None:
    assert parse_params(["a=1,2", "b=x,y"]) == [
        {"a": "1", "b": "x"}, {"a": "1", "b": "y"}, {"a": "2", "b": "x"}, {"a": "2", "b": "y"},
    ]  # fmt: skip
    for bad in (["a"], ["=1"], ["a="], ["a=1", "a=2"]):
        with pytest.raises(ConfigError, match="--param"):
            parse_params(bad)


def test_a_sweep_runs_each_point_keeps_its_report_and_ranks_them(tmp_path: Path) -> None:
    import random

    (tmp_path / "scalp.py").write_text(STRATEGY, encoding="utf-8")
    rng = random.Random(1)
    rows = ["ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor"]
    ts, mid = T0, 7000
    for _ in range(300):
        ts += 100_000_000
        mid += rng.choice((-1, 0, 1))
        rows.append(f"{ts},CLE,quote,,,{mid / 100:.2f},5,{(mid + 1) / 100:.2f},5,")
    (tmp_path / "ticks.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "EC_SETTINGS"}
    done = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "replay",
         "scalp.py:strategy", "--ticks", "ticks.csv", "--out", "out", "--param", "take=2,4,8",
         "--jobs", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sweep: 3 run(s)" in done.stdout
    assert done.stdout.count("/3] run-") == 3  # one progress line per finished run
    assert "ranked by net_pnl:" in done.stdout
    summary = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert sorted(run["params"]["take"] for run in summary) == ["2", "4", "8"]
    nets = [float(run["net_pnl"]) for run in summary]
    assert nets == sorted(nets, reverse=True)
    for index in (1, 2, 3):
        report = json.loads((tmp_path / "out" / f"run-00{index}" / "report.json").read_text())
        assert "stats" in report


def test_a_sweep_starts_no_more_processes_than_runs() -> None:
    from ec_core.cli.sweep import processes

    assert processes(1000, 3) == 3
    assert processes(2, 3) == 2
    assert processes(4, 0) == 1


def test_a_param_no_run_reads_is_an_error_naming_it(tmp_path: Path) -> None:
    """A misspelt --param gave N identical runs and exit 0: the user ranked noise."""
    (tmp_path / "scalp.py").write_text(STRATEGY, encoding="utf-8")
    rows = ["ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor"]
    rows += [f"{T0 + i * 100_000_000},CLE,quote,,,70.00,5,70.01,5," for i in range(5)]
    (tmp_path / "ticks.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "EC_SETTINGS"}
    done = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "replay",
         "scalp.py:strategy", "--ticks", "ticks.csv", "--out", "out", "--param", "tkae=2,4",
         "--param", "take=3", "--jobs", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ranked by net_pnl:" in done.stdout  # the runs were made and ranked
    assert "--param tkae: no run's strategy read info.params['tkae']" in done.stderr
    assert "convert a copy, dict(info.params)" in done.stderr  # msgspec.convert's reads
    assert "take" not in done.stderr  # read by the factory: not named
    summary = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert [run["unread"] for run in summary] == [["tkae"], ["tkae"]]


def test_read_params_counts_every_way_a_factory_reads_a_name() -> None:
    from ec_core.cli.sweep import ReadParams

    params = ReadParams({"a": "1", "b": "2", "c": "3", "d": "4"})
    assert params.unread() == ["a", "b", "c", "d"]
    assert params["a"] == "1"
    assert params.get("b") == "2"
    assert "c" in params
    assert params.unread() == ["d"]
    assert params.setdefault("d", "5") == "4"  # a default for a name is a read of it
    assert params.unread() == []
    params.read.discard("d")
    assert dict(params) == {"a": "1", "b": "2", "c": "3", "d": "4"}  # a copy reads them all
    assert params.unread() == []
