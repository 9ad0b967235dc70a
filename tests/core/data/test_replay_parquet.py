"""``ec replay`` on a two-instrument Parquet file: the report's tables and the HTML report
come out (issue 13's done-when, run as a user runs it)."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import xml.dom.minidom
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.data import write_ticks
from ec_core.model import Instrument, Quote
from replay_support import swing_strategy

pytest.importorskip("pyarrow")
pytest.importorskip("plotly")

T0 = 1_704_898_800_000_000_000 + 1_000_000_000  # a Wednesday 09:00:01 in Chicago
CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
# the 10-year note: a tick is worth 15.625 USD, so its money has three decimals
TYA = Instrument(symbol="TYA", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))
MONEY = {"CLE": re.compile(r"^-?\d+\.\d\d$"), "TYA": re.compile(r"^-?\d+\.\d{3}$")}


def test_replay_of_a_two_instrument_parquet_file_writes_the_traders_tables(
    tmp_path: Path,
) -> None:
    rng = random.Random(3)
    ticks: list[Quote] = []
    ts, cle, tya = T0, 7000, 7040
    for i in range(800):
        ts += 50_000_000
        cle += rng.choice((-1, 0, 1))
        tya += rng.choice((-1, 0, 0, 1))
        symbol, mid = ("CLE", cle) if i % 2 else ("TYA", tya)
        ticks.append(Quote(symbol=symbol, ts_ns=ts, bid=mid, bid_size=5, ask=mid + 1, ask_size=5))
    write_ticks(tmp_path / "two.parquet", ticks, [CLE, TYA])
    (tmp_path / "swing.py").write_text(
        swing_strategy(symbols=("CLE", "TYA"), max_signals=2), encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "EC_SETTINGS"}
    done = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "replay",
         "swing.py:strategy", "--ticks", "two.parquet", "--out", "out", "--candles", "5m"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["ticks"] == 800
    trades = report["trades"]
    assert {t["symbol"] for t in trades} == {"CLE", "TYA"}, "both instruments round-trip"
    for trip in trades:  # money as strings with each instrument's decimals
        assert MONEY[trip["symbol"]].match(trip["pnl"]), trip
        assert MONEY[trip["symbol"]].match(trip["commission"]), trip
    stats = report["stats"]
    assert stats["trades"] == len(trades)
    for key in ("avg_win", "avg_loss", "expectancy", "max_drawdown", "commissions"):
        assert MONEY["TYA"].match(stats[key]), (key, stats[key])  # the finer of the two
    assert {row["outcome"] for row in report["orders"]} == {"FILLED"}
    assert len(report["orders"]) == 2 * len(trades)
    assert report["daily"]
    assert all(MONEY["TYA"].match(day["pnl"]) for day in report["daily"])
    assert sum(Decimal(day["pnl"]) for day in report["daily"]) == sum(
        Decimal(t["pnl"]) for t in trades
    )
    assert (out / "chart.svg").exists()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page
    assert "5m candles" in page  # --candles
    table = re.search(r"<table id='ec-stats'>(.*?)</table>", page, re.S)
    assert table is not None
    assert f"<th>trades</th><td>{len(trades)}</td>" in table.group(1)
    trips = re.search(r"<table id='ec-trades'>(.*?)</table>", page, re.S)
    assert trips is not None
    assert trips.group(1).count("<tr>") == len(trades) + 1  # the header and every trip
    # every instrument is drawn: a candle pane each, with its own fills, on one time axis
    start = page.index("[", page.index("Plotly.newPlot("))
    traces = {t["name"]: t for t in json.JSONDecoder().raw_decode(page, start)[0]}
    for symbol in ("CLE", "TYA"):
        assert traces[f"price {symbol}"]["type"] == "candlestick"
        assert traces[f"price {symbol}"]["open"], symbol
        fills = [f for f in report["fills"] if f["symbol"] == symbol]
        for side in ("BUY", "SELL"):
            drawn = traces[f"{side.lower()} {symbol}"]["y"]
            assert drawn == [float(f["price"]) for f in fills if f["side"] == side], symbol
    assert traces["price CLE"]["yaxis"] != traces["price TYA"]["yaxis"]
    svg = xml.dom.minidom.parse(str(out / "chart.svg"))
    panes = [g for g in svg.getElementsByTagName("g") if "price" in g.getAttribute("class")]
    assert [g.getAttribute("data-symbol") for g in panes] == ["CLE", "TYA"]
    for pane in panes:
        symbol = pane.getAttribute("data-symbol")
        fills = [f for f in report["fills"] if f["symbol"] == symbol]
        assert len(pane.getElementsByTagName("polygon")) == len(fills), symbol
