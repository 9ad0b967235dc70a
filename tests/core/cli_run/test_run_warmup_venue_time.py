"""``ec run --warmup`` against a venue whose clock is behind the wall's: ``ec mock serve
--dialect cqg --start 2024-...`` in another process, through ec's CQG client. The warm-up
asks history up to the venue's time (the server time CQG reports at logon), not the
wall's, so the strategy's first live tick already sees the minutes before it.

Every step waits on a line ``ec run`` prints; nothing sleeps to wait.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import EC, TIMEOUT
from mock_serve import serve_process
from reaping import reap, watchdog

USER, PASSWORD = "warmrun", "warmrun-password"
START = "2024-01-10T15:10:50Z"  # 09:10:50 in Chicago on a Wednesday: in session

STRATEGY = """
from ec_core.strategy import OpStrategy
from ec_core.strategy.loader import StrategyPlan


class Count(OpStrategy):
    \"\"\"Says how many 1-minute bars its feed holds at its first tick, then nothing.\"\"\"

    def __init__(self):
        super().__init__(symbols=["EP"])
        self.said = False

    def generate(self, ctx, symbol):
        if not self.said:
            self.said = True
            bars = ctx.feeds[symbol].tick_buffer.bars("1m")
            first = bars[0].start_ns if bars else 0
            print(f"strategy: warm bars {len(bars)} from {first}", flush=True)
        return None


def counting(info):
    return StrategyPlan([Count()], timeframes=("1m",))
"""


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    args = ("--dialect", "cqg", "--user", USER, "--seed", "5", "--start", START)
    with serve_process(*args, "--history", "6m", password=PASSWORD) as (_, __, url):
        (tmp_path / "count_strategy.py").write_text(STRATEGY, encoding="utf-8")
        (tmp_path / "limits.toml").write_text(
            'version = 1\n[defaults]\nmax_order_qty = 5\n[instruments.EP]\n[accounts."1001"]\n',
            encoding="utf-8",
        )
        (tmp_path / "ec.toml").write_text(
            'vendor = "cqg"\naccount_id = "1001"\nlimits_file = "limits.toml"\n'
            f'[vendors.cqg]\nurl = "{url}"\nuser = "{USER}"\npassword_env = "WARM_PW"\n',
            encoding="utf-8",
        )
        yield tmp_path


def test_ec_run_warms_up_from_the_venues_time_not_the_walls(folder: Path) -> None:
    environ = {**os.environ, "WARM_PW": PASSWORD}
    environ.pop("EC_SETTINGS", None)
    process = subprocess.Popen(
        [*EC, "run", "count_strategy.py:counting", "--config", "ec.toml", "--warmup", "1m=5"],
        cwd=folder, env=environ, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    guard = watchdog(process, TIMEOUT)  # never hangs the suite
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("strategy: warm bars"):
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        guard.cancel()
        reap(process)  # failed too: killed, waited for, its pipes closed
    output = "".join(lines) + out + err
    assert process.returncode == 0, output
    warmed = re.search(r"warmed up from history \(EP: (\d+) ticks\)", output)
    assert warmed is not None, output
    assert int(warmed.group(1)) > 0, output
    said = re.search(r"strategy: warm bars (\d+) from (\d+)", output)
    assert said is not None, output
    # five minutes asked of the six the venue backfilled: four or five closed at the seam,
    # all of them in 2024 (the venue's day), none of the wall's
    assert int(said.group(1)) >= 4, output
    assert said.group(2).startswith("17048"), output  # 2024-01-10 is 1_704_8xx_xxx s
