"""``ec replay`` and ``ec run`` on a strategy file that cannot load: one ``Error:`` line.

The line names the user's file and line; the traceback appears only under ``ec -v``.
Real subprocesses, as a user runs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import ec

TICKS = "ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor\n"
BROKEN = {
    "syntax": ("def strategy(info):\n    x = (\n", 2, "syntax error: '(' was never closed"),
    "import": (
        "import os\nimport no_such_module_xyz\n",
        2,
        "importing the strategy file raised ModuleNotFoundError: No module named",
    ),
    "raises": (
        "def strategy(info):\n    raise RuntimeError('boom')\n",
        2,
        "the strategy factory 'strategy' raised RuntimeError: boom",
    ),
    "class": (
        "from ec_core.strategy import OpStrategy\n\nclass strategy(OpStrategy):\n    pass\n",
        3,
        "STRATEGY must be a factory `def strategy(info) -> StrategyPlan`",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_replay_prints_one_error_line_naming_the_users_file_and_line(
    tmp_path: Path, case: str
) -> None:
    body, line, message = BROKEN[case]
    (tmp_path / "ticks.csv").write_text(TICKS)
    (tmp_path / "strat.py").write_text(body)
    done = ec("replay", "strat.py", "--ticks", "ticks.csv", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"Error: strat.py:{line}: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_run_says_the_same_and_verbose_adds_the_traceback(tmp_path: Path) -> None:
    body, line, message = BROKEN["raises"]
    (tmp_path / "strat.py").write_text(body)
    quiet = ec("run", "strat.py", "--vendor", "mock", cwd=tmp_path)
    assert quiet.returncode == 1
    assert quiet.stderr.strip() == f"Error: strat.py:{line}: {message}"
    verbose = ec("-v", "run", "strat.py", "--vendor", "mock", cwd=tmp_path)
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "RuntimeError: boom" in verbose.stderr
    assert verbose.stderr.strip().endswith(f"Error: strat.py:{line}: {message}")


FAILING = """from ec_core.strategy import OpStrategy
from ec_core.strategy.loader import StrategyPlan

class Bad(OpStrategy):
    def generate(self, ctx, symbol):
        return 1 / 0

def strategy(info):
    return StrategyPlan([Bad(symbols=["CLE"])], max_consecutive_failures=4)
"""


def test_a_failing_strategy_is_logged_once_disabled_and_exits_3(tmp_path: Path) -> None:
    rows = [TICKS.strip()]
    rows += [
        f"{1_704_898_801_000_000_000 + i * 10**8},CLE,quote,,,70.00,5,70.01,5," for i in range(200)
    ]
    (tmp_path / "ticks.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "strat.py").write_text(FAILING)
    done = ec("replay", "strat.py", "--ticks", "ticks.csv", "--out", "out", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    logged = done.stderr.strip().splitlines()
    assert len(logged) == 2, logged
    assert "Bad failed in generate at strat.py:6" in logged[0]
    assert "ZeroDivisionError: division by zero" in logged[0]
    assert "strategy Bad disabled after 4 consecutive failures" in logged[1]
    assert "generate Bad - at strat.py:6: ZeroDivisionError: division by zero (4 times)" in (
        done.stdout
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (error,) = report["errors"]
    assert (error["count"], error["at"]) == (4, "strat.py:6")
    assert report["disabled"] == {
        "Bad": "4 consecutive failures, last: ZeroDivisionError: division by zero"
    }


GOOD = """from ec_core.strategy import OpStrategy

def strategy(info):
    return OpStrategy(symbols=["CLE"])
"""
T0 = 1_704_898_801_000_000_000


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [f"{T0 + 5},CLE,quote,,,70.00,5,70.01,5,", f"{T0},CLE,quote,,,70.00,5,70.01,5,"],
            "Error: ticks.csv:3.ts_ns: earlier than line 2",
        ),
        ([f"{T0},CLE,quote,,,70.02,5,70.01,5,"], "Error: ticks.csv:2.ask: crossed quote"),
        ([f"{T0},XYZ,quote,,,70.00,5,70.01,5,"], "Error: ticks.csv:2.symbol: unknown instrument"),
        (
            ["2024-01-10 15:00,CLE,quote,,,70.00,5,70.01,5,"],
            "nanoseconds since the epoch",
        ),
    ],
)
def test_a_bad_tick_file_is_one_error_line(tmp_path: Path, rows: list[str], message: str) -> None:
    (tmp_path / "ticks.csv").write_text("\n".join([TICKS.strip(), *rows]) + "\n")
    (tmp_path / "strat.py").write_text(GOOD)
    done = ec("replay", "strat.py", "--ticks", "ticks.csv", cwd=tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr


def test_sort_and_lenient_say_what_they_did_in_the_report(tmp_path: Path) -> None:
    rows = [
        f"{T0 + 5},CLE,quote,,,70.00,5,70.01,5,",
        f"{T0},CLE,quote,,,70.00,5,70.01,5,",
        f"{T0 + 6},CLE,quote,,,70.02,5,70.01,5,",
    ]
    (tmp_path / "ticks.csv").write_text("\n".join([TICKS.strip(), *rows]) + "\n")
    (tmp_path / "strat.py").write_text(GOOD)
    done = ec(
        "replay", "strat.py", "--ticks", "ticks.csv", "--sort", "--lenient", "--out", "out",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "tick file: 1 rows out of time order were sorted (--sort)" in done.stdout
    assert "tick file: 1 rows skipped (--lenient): crossed_quote 1" in done.stdout
    assert "ticks.csv:4.ask: crossed quote: bid 70.02 is above ask 70.01" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["tick_checks"]["skipped"] == {"crossed_quote": 1}
    assert report["tick_checks"]["reordered"] == 1
