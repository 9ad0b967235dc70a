"""``ec replay`` on a two-instrument Parquet file: the report's tables come out."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.data import write_ticks
from ec_core.model import Instrument, Quote
from replay_support import swing_strategy

pytest.importorskip("pyarrow")

T0 = 1_704_898_800_000_000_000 + 1_000_000_000  # a Wednesday 09:00:01 in Chicago
CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
EP = Instrument(symbol="EP", tick_size=Decimal("0.25"), multiplier=Decimal(50))


def test_replay_of_a_two_instrument_parquet_file_writes_the_traders_tables(
    tmp_path: Path,
) -> None:
    rng = random.Random(3)
    ticks: list[Quote] = []
    ts, cle, ep = T0, 7000, 19000
    for i in range(600):
        ts += 50_000_000
        cle += rng.choice((-1, 0, 1))
        ep += rng.choice((-1, 0, 0, 1))
        symbol, mid = ("CLE", cle) if i % 2 else ("EP", ep)
        ticks.append(Quote(symbol=symbol, ts_ns=ts, bid=mid, bid_size=5, ask=mid + 1, ask_size=5))
    write_ticks(tmp_path / "two.parquet", ticks, [CLE, EP])
    (tmp_path / "swing.py").write_text(swing_strategy(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "EC_SETTINGS"}
    done = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "replay",
         "swing.py:strategy", "--ticks", "two.parquet", "--out", "out"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["ticks"] == 600
    assert report["trades"], "the swing strategy round-trips on this tape"
    assert {t["symbol"] for t in report["trades"]} == {"CLE"}
    assert report["stats"]["trades"] == len(report["trades"])
    assert {row["outcome"] for row in report["orders"]} == {"FILLED"}
    assert report["daily"]
    assert (tmp_path / "out" / "chart.svg").exists()
