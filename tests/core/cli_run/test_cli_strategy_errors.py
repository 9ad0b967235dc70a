"""``ec replay`` and ``ec run`` on a strategy file that cannot load: one ``Error:`` line.

The line names the user's file and line; the traceback appears only under ``ec -v``.
Real subprocesses, as a user runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EC = [sys.executable, "-c", "from ec_core.cli.main import main; main()"]
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


def ec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("EC_SETTINGS", None)
    return subprocess.run(
        [*EC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


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
