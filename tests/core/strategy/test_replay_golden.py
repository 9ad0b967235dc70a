"""A seeded ``ec replay`` against reports kept in the repository: any change to what a
replay reports shows here.

The replay's own determinism tests run the same code twice; this one holds today's
code to the reports it wrote when the golden files were made, so a speed change that
alters a fill, a price, a statistic or a line of the report fails (the speed work's
rule: reports stay byte-identical). Two instruments (CLE and TYA) from one CSV, market
entries and exits, resting limits that fill or are cancelled by a tree's timeout, stop
orders. If a report is *meant* to change, regenerate the files and say why in the
commit: ``EC_UPDATE_GOLDEN=1 uv run pytest tests/core/strategy/test_replay_golden.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.data import write_ticks
from ec_core.plugins import PluginHost
from file_modules import load_file_module

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("EC_UPDATE_GOLDEN") == "1"


def _screenshots_module() -> ModuleType:
    """docs/gen/report_screenshots.py: its seeded two-instrument tape (CLE, TYA) is this
    test's market too, one generator for both."""
    path = Path(__file__).resolve().parents[3] / "docs" / "gen" / "report_screenshots.py"
    return load_file_module("report_screenshots", path)


SHOTS = _screenshots_module()

STRATEGY = """
from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy


class Swing(OpStrategy):
    '''In at market, alternately long and short; out at market once the mid moved 5 ticks,
    or by a stop 4 ticks against the entry placed with it.'''

    def __init__(self, account):
        super().__init__(symbols=["CLE", "TYA"], max_signals=2, cooldown_ns=90_000_000_000)
        self.account = account
        self.count = 0

    def generate(self, ctx, symbol):
        tb = ctx.feeds[symbol].tick_buffer
        start = tb.close_ticks
        self.count += 1
        side = Side.BUY if self.count % 2 else Side.SELL
        back = Side.SELL if side is Side.BUY else Side.BUY
        away = -4 if side is Side.BUY else 4
        entry = NewOrder(account_id=self.account, symbol=symbol, side=side, qty=1,
                         order_type=OrderType.MKT)
        stop = NewOrder(account_id=self.account, symbol=symbol, side=back, qty=1,
                        order_type=OrderType.STP, stop_price=tb.to_price(start + away))
        out = NewOrder(account_id=self.account, symbol=symbol, side=back, qty=1,
                       order_type=OrderType.MKT)
        moved = lambda ctx: abs(tb.close_ticks - start) >= 5
        root = ActionNode("In", [entry, stop],
                          transitions={"out": (moved, ActionNode("Out", [out]))})
        return OpSignal(ActionTree(root), symbol=symbol)


class Bid(OpStrategy):
    '''A bid 2 ticks under the market on CLE; the tree's timeout cancels it after 40 s.'''

    def __init__(self, account):
        super().__init__(symbols=["CLE"], max_signals=1, cooldown_ns=60_000_000_000)
        self.account = account

    def generate(self, ctx, symbol):
        tb = ctx.feeds[symbol].tick_buffer
        bid = NewOrder(account_id=self.account, symbol=symbol, side=Side.BUY, qty=2,
                       order_type=OrderType.LMT, limit_price=tb.to_price(tb.close_ticks - 2))
        never = lambda ctx: False
        root = ActionNode("Bid", [bid], transitions={"never": (never, ActionNode("X", []))})
        tree = ActionTree(root, overtime_node=ActionNode("Late", []), timeout_ns=40_000_000_000)
        return OpSignal(tree, symbol=symbol)


def strategy(info):
    return [Swing(info.account_id), Bid(info.account_id)]
"""


def _masked_text(text: str) -> str:
    return re.sub(r"replayed in [0-9.]+s", "replayed in <wall>s", text)


def _keyed(report: dict[str, object]) -> dict[str, object]:
    """Each key of report.json: its value when short (a diff shows it), else a digest of it
    (report.json whole is ~400 KB: the digest says which table changed)."""
    keyed: dict[str, object] = {}
    for key, value in report.items():
        text = json.dumps(value, sort_keys=True)
        keyed[key] = value if len(text) <= 2_000 else "sha256:" + _digest(text.encode())
    return keyed


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _replayed(tmp_path: Path) -> dict[str, str]:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "golden_strategy.py").write_text(STRATEGY, encoding="utf-8")
    write_ticks(tmp_path / "ticks.csv", SHOTS.tape(seed=5, minutes=40), [SHOTS.CLE, SHOTS.TYA])
    out = tmp_path / "out"
    done = CliRunner().invoke(
        build_cli(PluginHost.load()),
        ["replay", f"{tmp_path / 'golden_strategy.py'}:strategy", "--ticks",
         str(tmp_path / "ticks.csv"), "--seed", "3", "--out", str(out)],
        catch_exceptions=False,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report.pop("wall_s")
    return {
        "report.json": json.dumps(report, indent=1, sort_keys=True) + "\n",
        "report.keys.json": json.dumps(_keyed(report), indent=1, sort_keys=True) + "\n",
        "report.txt": _masked_text((out / "report.txt").read_text(encoding="utf-8")),
        "chart.svg.sha256": _digest((out / "chart.svg").read_bytes()) + "\n",
    }


def test_a_seeded_replay_reports_what_the_golden_files_hold(tmp_path: Path) -> None:
    made = _replayed(tmp_path)
    report = json.loads(made["report.json"])
    # the replay exercises what the golden files are meant to pin
    outcomes = {row["outcome"] for row in report["orders"]}
    assert {"FILLED", "CANCELLED", "DENIED"} <= outcomes, outcomes
    assert {row["symbol"] for row in report["orders"]} == {"CLE", "TYA"}
    assert report["order_outcomes"]["denied"] == sum(
        row["outcome"] == "DENIED" for row in report["orders"]
    ), "every denied action has its row in the orders table"
    assert report["trades"], "no round trip: the golden files would pin nothing of P&L"
    made.pop("report.json")
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        for name, text in made.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
        pytest.fail("golden files rewritten (EC_UPDATE_GOLDEN=1): review the diff, commit, rerun")
    for name, text in made.items():
        kept = (GOLDEN / name).read_text(encoding="utf-8")
        assert text == kept, (
            f"{name} differs from tests/core/strategy/golden/{name}: the replay's report changed."
            " If that is intended, regenerate with EC_UPDATE_GOLDEN=1 and say why in the commit."
        )


def test_a_replay_reports_the_same_after_another_in_the_same_process(tmp_path: Path) -> None:
    """A sweep's worker runs several replays in one process: each numbers its signals from
    sig1 (they came from one process-wide counter, so a second run's ids differed)."""
    first = _replayed(tmp_path / "a")
    again = _replayed(tmp_path / "b")
    assert '"sig1"' in first["report.json"]
    assert first == again
