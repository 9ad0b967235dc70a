"""The EC_API port of the seed README replays to completion with a clear outcome.

``docs/strategy/examples/ec_api_port.py`` keeps what EC_API code does: a module-level
account, activation windows from ``datetime.now(timezone.utc) + timedelta(minutes=5)``,
fixed client ids, the seed's branch order; ``Asset_A`` becomes the listed ``CLE``.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.plugins import PluginHost
from ec_core.strategy.replay import replay_plan

EXAMPLE = Path(__file__).parents[3] / "docs" / "strategy" / "examples" / "ec_api_port.py"
EC = [sys.executable, "-c", "from ec_core.cli.main import main; main()"]
# A subprocess that starts Python and imports ec: ~1.5 s of CPU, far more wall clock on a
# loaded machine (15-18 s seen at a load of 10 on 2 cores); the limit only stops a hang.
TIMEOUT = 120
SEC = 1_000_000_000
T0 = 1_704_898_800_000_000_000 + SEC  # 2024-01-10 09:00:01 in Chicago: CLE trades
TAPE = [  # (second, bid, ask)
    (0, "70.90", "70.91"),
    (1, "71.00", "71.01"),  # Close >= A: the entry sells 2 @ 71.00 into the bid
    (2, "70.90", "70.91"),
    (3, "70.55", "70.56"),  # both the take-profit and the modify band hold: TP1 wins
    (4, "70.55", "70.56"),
]


def write_ticks(path: Path) -> Path:
    rows = ["ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor"]
    rows += [f"{T0 + s * SEC},CLE,quote,,,{bid},10,{ask},10," for s, bid, ask in TAPE]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_port_replays_with_its_wall_clock_windows_to_a_clear_outcome(tmp_path: Path) -> None:
    """Recorded data from 2024, windows from now: every payload is held, the report says why."""
    ticks = write_ticks(tmp_path / "cle.csv")
    result = subprocess.run(
        [*EC, "replay", f"{EXAMPLE}:strategy", "--ticks", str(ticks), "--account", "1000",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=tmp_path,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    assert "fills 0" in out, out
    assert "held, never sent (activation window not reached by the data):" in out, out
    [held] = [line for line in out.splitlines() if "EXPIRED: activation window" in line]
    assert " TargetEntry " in held
    assert "never opened within the replayed data" in held
    assert "errors:" not in out
    [entry] = json.loads((tmp_path / "out" / "report.json").read_text())["held"]
    assert entry["status"] == "EXPIRED"
    assert entry["start_time"].endswith("-06:00")  # exchange time (CLE: Chicago) beside start_ns


@pytest.mark.anyio
async def test_the_port_with_windows_from_the_datas_start_trades_the_seed_path() -> None:
    module = runpy.run_path(str(EXAMPLE), run_name="ec_api_port")
    start = datetime.fromtimestamp(T0 / 1e9, UTC) - timedelta(minutes=5)
    plan = module["build"](start)  # start_time = now + 5 min = the first tick
    from ec_core.model import Quote

    tape = [
        Quote(
            symbol="CLE", ts_ns=T0 + s * SEC, bid=int(Decimal(b) * 100), bid_size=10,
            ask=int(Decimal(a) * 100), ask_size=10,
        )
        for s, b, a in TAPE
    ]  # fmt: skip
    with anyio.fail_after(10):
        report = await replay_plan(PluginHost.load(), plan, tape, account_id="1000")
    assert report.errors == ()
    assert report.held == ()
    assert [(t.side, t.qty, t.price) for t in report.fills] == [
        ("SELL", 2, Decimal("71.00")),
        ("BUY", 2, Decimal("70.56")),
    ]
    assert report.positions == {"CLE": 0}
    assert report.realized_pnl == Decimal("880.00")
    [path] = report.signal_paths
    assert path.path == ("TargetEntry", "TakeProfit1")
    [warning] = report.warnings  # the seed lists the wide take-profit band first
    assert "'ModifyTargetEntry'" in warning
    assert "'TakeProfit1'" in warning
