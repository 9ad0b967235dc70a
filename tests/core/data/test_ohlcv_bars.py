"""OHLCV bar replay: the fixed intra-bar path, the bar rules, ``ec data check`` and
``ec replay --bars`` (docs/strategy/running.md, "Bar data")."""

from __future__ import annotations

import json
import random
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.data.ohlcv import RecordedBar, bar_path, bar_ticks
from ec_core.data.ohlcv_file import read_bar_rows, read_bar_ticks
from ec_core.data.tick_checks import TickChecks
from ec_core.data.ticks_csv import BAR_FIELDS, read_ticks
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Trade
from replay_support import run_ec, swing_strategy

SEC = 1_000_000_000
MIN = 60 * SEC
T0 = 1_704_898_800 * SEC + 60 * SEC  # a Wednesday 09:01 in Chicago
CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
EP = Instrument(symbol="EP", tick_size=Decimal("0.25"), multiplier=Decimal(50))
TABLE = {"CLE": CLE, "EP": EP}
HEADER = ",".join(BAR_FIELDS)
SWING = swing_strategy(max_signals=3, cooldown_ns=60 * SEC)


def bar(
    o: int, h: int, lo: int, c: int, *, ts: int = T0, volume: int = 8, symbol: str = "CLE"
) -> RecordedBar:
    return RecordedBar(symbol=symbol, ts_ns=ts, open=o, high=h, low=lo, close=c, volume=volume)


def write(tmp_path: Path, *rows: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_path_visits_the_extreme_nearer_the_open_first() -> None:
    assert [p for _, p, _ in bar_path(bar(100, 102, 95, 97), MIN)] == [100, 102, 95, 97]
    assert [p for _, p, _ in bar_path(bar(100, 105, 99, 103), MIN)] == [100, 99, 105, 103]


def test_a_tie_goes_to_the_high_first() -> None:
    assert [p for _, p, _ in bar_path(bar(100, 103, 97, 100), MIN)] == [100, 103, 97, 100]


def test_the_points_span_the_bar_and_share_the_volume() -> None:
    points = bar_path(bar(100, 102, 95, 97, volume=10), MIN)
    assert [t - T0 for t, _, _ in points] == [0, MIN // 3, 2 * MIN // 3, MIN - 1]
    assert [s for _, _, s in points] == [2, 2, 2, 4]
    assert [s for _, _, s in bar_path(bar(100, 102, 95, 97, volume=0), MIN)] == [1, 1, 1, 1]


def test_each_point_is_a_locked_quote_then_a_trade_at_its_price() -> None:
    ticks = list(bar_ticks([bar(100, 102, 95, 97)], MIN))
    assert len(ticks) == 8
    quote, trade = ticks[0], ticks[1]
    assert isinstance(quote, Quote)
    assert (quote.bid, quote.ask) == (100, 100)
    assert isinstance(trade, Trade)
    assert (trade.price, trade.ts_ns) == (100, T0)


def test_two_symbols_interleave_in_time_order() -> None:
    bars = [
        bar(100, 101, 99, 100, ts=T0),
        bar(400, 401, 399, 400, ts=T0, symbol="EP"),
        bar(100, 101, 99, 100, ts=T0 + MIN),
    ]
    ticks = list(bar_ticks(bars, MIN))
    times = [t.ts_ns for t in ticks]
    assert times == sorted(times)
    assert [t.symbol for t in ticks[:4]] == ["CLE", "CLE", "EP", "EP"]
    assert {t.symbol for t in ticks} == {"CLE", "EP"}


def test_a_strategys_bars_of_the_same_length_rebuild_the_recorded_ones() -> None:
    points = bar_path(bar(100, 102, 95, 97), MIN)
    assert all(T0 <= t < T0 + MIN for t, _, _ in points)


def test_a_clean_bar_file_is_read_with_decimal_prices_and_iso_times(tmp_path: Path) -> None:
    path = write(tmp_path, "2024-01-10T15:01:00Z,CLE,70.00,70.05,69.98,70.03,412")
    [(where, got, inst)] = list(read_bar_rows(path, TABLE))
    assert where == "bars.csv:2"
    assert inst is CLE
    assert got == bar(7000, 7005, 6998, 7003, volume=412)


@pytest.mark.parametrize(
    ("row", "field", "rule"),
    [
        ("70.00,69.99,69.98,70.00,5", "high", "below max(open, close) 70.00"),
        ("70.00,70.05,70.01,70.03,5", "low", "above min(open, close) 70.00"),
        ("70.00,70.05,69.98,70.03,-1", "volume", "volume must be >= 0"),
        ("70.00,70.05,69.98,70.003,5", "close", "bad price"),
    ],
)
def test_each_bar_rule_names_file_line_field(
    tmp_path: Path, row: str, field: str, rule: str
) -> None:
    path = write(tmp_path, f"{T0},CLE,70.00,70.01,70.00,70.01,1", f"{T0 + MIN},CLE,{row}")
    with pytest.raises(ConfigError, match=re.escape(rule)) as caught:
        list(read_bar_ticks(path, TABLE, length_ns=MIN))
    assert f"bars.csv:3.{field}" in str(caught.value)


def test_bars_out_of_time_order_are_refused_or_sorted(tmp_path: Path) -> None:
    path = write(
        tmp_path, f"{T0 + MIN},CLE,70.00,70.01,70.00,70.01,1", f"{T0},CLE,70.00,70.01,70.00,70.01,1"
    )
    with pytest.raises(ConfigError, match="time order") as caught:
        list(read_bar_ticks(path, TABLE, length_ns=MIN))
    assert "bars.csv:3.ts_ns" in str(caught.value)
    ticks = list(read_bar_ticks(path, TABLE, length_ns=MIN, checks=TickChecks(sort=True)))
    assert [t.ts_ns for t in ticks] == sorted(t.ts_ns for t in ticks)


def test_lenient_skips_and_counts_a_broken_bar(tmp_path: Path) -> None:
    path = write(
        tmp_path, f"{T0},CLE,70.00,69.99,69.98,70.00,5", f"{T0 + MIN},CLE,70.00,70.01,70.00,70.01,1"
    )
    checks = TickChecks(lenient=True)
    assert len(list(read_bar_ticks(path, TABLE, length_ns=MIN, checks=checks))) == 8
    assert checks.problems == {"bad_high": 1}


def test_a_bar_file_given_as_ticks_says_to_use_bars(tmp_path: Path) -> None:
    path = write(tmp_path, f"{T0},CLE,70.00,70.01,70.00,70.01,1")
    with pytest.raises(ConfigError, match="--bars"):
        list(read_ticks(path, TABLE))


def test_a_bar_file_needs_every_column(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(f"ts_ns,symbol,open,high,low,close\n{T0},CLE,1,1,1,1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="volume"):
        list(read_bar_rows(path, TABLE))


def test_a_parquet_bar_file_reads_like_the_csv(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"ts_ns": [T0], "symbol": ["CLE"], "open": ["70.00"], "high": ["70.05"],
                      "low": ["69.98"], "close": ["70.03"], "volume": [412]})  # fmt: skip
    pq.write_table(table, str(tmp_path / "bars.parquet"))
    [(_, got, _)] = list(read_bar_rows(tmp_path / "bars.parquet", TABLE))
    assert got == bar(7000, 7005, 6998, 7003, volume=412)


# --- through the command line -------------------------------------------------------------


def ec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_ec(*args, cwd=cwd)


def two_symbol_bars(tmp_path: Path) -> Path:
    rng = random.Random(5)
    rows, cle, ep = [], 7000, 19000
    for i in range(60):
        for symbol, tick, price in (("CLE", CLE, cle), ("EP", EP, ep)):
            o = price
            c = o + rng.randint(-4, 4)
            h, lo = max(o, c) + rng.randint(0, 3), min(o, c) - rng.randint(0, 3)
            p = [str(tick.to_price(x)) for x in (o, h, lo, c)]
            rows.append(f"{T0 + i * MIN},{symbol},{','.join(p)},{rng.randint(0, 500)}")
            if symbol == "CLE":
                cle = c
            else:
                ep = c
    return write(tmp_path, *rows)


def test_ec_data_check_summarizes_a_bar_file_and_fails_on_a_broken_bar(tmp_path: Path) -> None:
    path = two_symbol_bars(tmp_path)
    done = ec("data", "check", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CLE: 60 bars" in done.stdout
    assert "EP: 60 bars" in done.stdout
    broken = write(
        tmp_path,
        f"{T0},CLE,70.00,69.99,69.98,70.00,5",
        f"{T0 - MIN},CLE,70.00,70.01,70.02,70.01,-3",
        name="broken.csv",
    )  # fmt: skip
    done = ec("data", "check", str(broken), "--json", cwd=tmp_path)
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    assert summary["out_of_order"] == 1
    assert summary["problems"] == {"bad_high": 1, "bad_low": 1}
    assert any(e.startswith("broken.csv:2.high") for e in summary["examples"])
    assert any(e.startswith("broken.csv:3.low") for e in summary["examples"])


def test_ec_replay_bars_trades_and_is_byte_identical_per_seed(tmp_path: Path) -> None:
    path = two_symbol_bars(tmp_path)
    (tmp_path / "swing.py").write_text(SWING, encoding="utf-8")
    outputs = []
    for name in ("a", "b"):
        done = ec("replay", "swing.py:strategy", "--bars", str(path), "--bar-length", "1m",
                  "--seed", "7", "--out", name, cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        text = (tmp_path / name / "report.json").read_text()
        outputs.append(
            (re.sub(r'"wall_s": [0-9.e-]+', "", text), (tmp_path / name / "chart.svg").read_bytes())
        )
    assert outputs[0] == outputs[1]
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["ticks"] == 2 * 60 * 8
    assert report["trades"], "the swing strategy round-trips on these bars"
    assert {row["outcome"] for row in report["orders"]} == {"FILLED"}


def test_ec_replay_wants_exactly_one_of_ticks_and_bars(tmp_path: Path) -> None:
    (tmp_path / "swing.py").write_text(SWING, encoding="utf-8")
    done = ec("replay", "swing.py:strategy", cwd=tmp_path)
    assert done.returncode != 0
    assert "exactly one of --ticks FILE and --bars FILE" in done.stderr
    done = ec(
        "replay", "swing.py:strategy", "--bars", "x.csv", "--bar-length", "100t", cwd=tmp_path
    )
    assert "--bar-length must be a time" in done.stderr


def test_a_sweep_replays_the_bars_in_every_run(tmp_path: Path) -> None:
    path = two_symbol_bars(tmp_path)
    # a factory that reads the point (a --param no run reads is an error)
    swept = "\n\ndef swept(info):\n    assert info.params['x'] in '12'\n    return strategy(info)\n"
    (tmp_path / "swing.py").write_text(SWING + swept, encoding="utf-8")
    done = ec("replay", "swing.py:swept", "--bars", str(path), "--out", "sw",
              "--param", "x=1,2", "--jobs", "1", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for run in ("run-001", "run-002"):
        report = json.loads((tmp_path / "sw" / run / "report.json").read_text())
        assert report["ticks"] == 2 * 60 * 8
