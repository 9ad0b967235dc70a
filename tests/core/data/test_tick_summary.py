"""``summarize_ticks`` and ``ec data check``: what a tick file holds and what is wrong."""

from __future__ import annotations

import json
import subprocess
from datetime import time
from decimal import Decimal
from pathlib import Path

from ec_core.data.tick_summary import summarize_ticks
from ec_core.data.ticks_csv import TICK_FIELDS, read_tick_rows
from ec_core.model import Instrument, TradingHours
from replay_support import run_ec

CLE = Instrument(
    symbol="CLE",
    tick_size=Decimal("0.01"),
    multiplier=Decimal(1000),
    trading_hours=TradingHours(timezone="America/Chicago", open=time(17), close=time(16)),
)
ZN = Instrument(symbol="ZN", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))
TABLE = {"CLE": CLE, "ZN": ZN}
SEC = 1_000_000_000
T0 = 1_704_898_800 * SEC + SEC  # Wednesday 09:00:01 in Chicago: CLE trades
HEADER = ",".join(TICK_FIELDS)


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "ticks.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_clean_two_symbol_file_is_summarized_per_symbol(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{T0},CLE,quote,,,70.00,5,70.01,6,",
        f"{T0 + SEC},ZN,quote,,,110.015625,5,110.03125,5,",
        f"{T0 + 5 * SEC},CLE,trade,70.01,3,,,,,BUY",
        f"{T0 + 6 * SEC},CLE,quote,,,70.01,5,70.02,6,",
    )
    summary = summarize_ticks(read_tick_rows(path, TABLE))
    assert summary.clean
    assert summary.rows == 4
    cle, zn = summary.symbols
    assert (cle.symbol, cle.quotes, cle.trades, cle.largest_gap_ns) == ("CLE", 2, 1, 5 * SEC)
    assert cle.largest_gap_at_ns == T0 + 5 * SEC
    assert (zn.symbol, zn.quotes) == ("ZN", 1)


def test_problems_are_counted_with_examples_never_raised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{T0 + SEC},CLE,quote,,,70.00,5,70.01,6,",
        f"{T0},CLE,quote,,,70.02,5,70.01,6,",  # back in time, and crossed
        f"{T0 + 2 * SEC},CLE,quote,,,70.00,5,,,",  # one-sided
        f"{T0 + 27_000 * SEC},CLE,trade,70.00,0,,,,,",  # size 0, at 16:30: closed
    )
    summary = summarize_ticks(read_tick_rows(path, TABLE))
    assert not summary.clean
    assert summary.out_of_order == 1
    assert summary.problems == {"crossed_quote": 1, "one_sided_quote": 1, "bad_size": 1}
    assert summary.examples[0] == "ticks.csv:3.ts_ns: earlier than a row before it"
    assert summary.symbols[0].outside_sessions == 1


def ec_data(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_ec("data", "check", str(path), *extra, cwd=path.parent, timeout=60)


def test_ec_data_check_exits_0_on_a_clean_file_and_1_on_a_broken_one(tmp_path: Path) -> None:
    clean = write(tmp_path, f"{T0},CLE,quote,,,70.00,5,70.01,6,")
    done = ec_data(clean)
    assert done.returncode == 0, done.stderr
    assert "ticks.csv: 1 rows, 1 symbol(s)" in done.stdout
    assert "clean:" in done.stdout
    broken = write(tmp_path, f"{T0},CLE,quote,,,70.02,5,70.01,6,")
    done = ec_data(broken, "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["problems"] == {"crossed_quote": 1}
