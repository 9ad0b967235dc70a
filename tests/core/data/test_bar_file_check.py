"""``ec data check`` on OHLCV bar files: missing bars inside the trading sessions, session
coverage and bars outside the sessions, from the instrument's trading calendar."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from ec_core.calendar import Holiday, SessionHours, TradingCalendar
from ec_core.data.bar_gaps import infer_bar_length
from ec_core.data.ohlcv_file import read_bar_rows
from ec_core.data.tick_summary import summarize_ticks
from ec_core.data.ticks_csv import BAR_FIELDS
from ec_core.model import Instrument
from replay_support import run_ec

SEC = 1_000_000_000
MIN = 60 * SEC
DAY = 86_400 * SEC
GLOBEX = TradingCalendar(
    timezone="America/Chicago",
    sessions=(SessionHours(open=time(17), close=time(16)),),
    holidays=(Holiday(day=date(2024, 1, 1), name="New Year's Day"),),
)
CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000), calendar=GLOBEX)
ANYTIME = Instrument(symbol="ZN", tick_size=Decimal("0.01"), multiplier=Decimal(1000))  # no hours
TABLE = {"CLE": CLE, "ZN": ANYTIME}
HEADER = ",".join(BAR_FIELDS)


def chicago(y: int, m: int, d: int, hh: int, mm: int) -> int:
    from zoneinfo import ZoneInfo

    moment = datetime(y, m, d, hh, mm, tzinfo=ZoneInfo("America/Chicago"))
    return int(moment.astimezone(UTC).timestamp()) * SEC


WED_0901 = chicago(2024, 1, 10, 9, 1)


def write(tmp_path: Path, starts: list[int], symbol: str = "CLE", name: str = "bars.csv") -> Path:
    rows = [f"{ts},{symbol},70.00,70.02,69.99,70.01,10" for ts in starts]
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_missing_bars_inside_a_session_are_counted_in_gaps(tmp_path: Path) -> None:
    minutes = [0, 1, 2, 5, 6, 8, 9]  # 09:04, 09:05 and 09:08 have no bar
    path = write(tmp_path, [WED_0901 + m * MIN for m in minutes])
    summary = summarize_ticks(read_bar_rows(path, TABLE), bar_length_ns=MIN)
    (cle,) = summary.symbols
    assert (cle.bars, cle.missing_bars, cle.gaps) == (7, 3, 2)
    assert (cle.largest_gap_bars, cle.largest_gap_at_ns) == (2, WED_0901 + 5 * MIN)
    assert cle.coverage == 0.7
    assert summary.bar_length_ns == MIN
    assert summary.clean  # a minute without a trade has no bar: reported, not refused


def test_the_daily_break_a_weekend_and_a_holiday_are_no_gap(tmp_path: Path) -> None:
    starts = [
        chicago(2024, 1, 10, 15, 58),
        chicago(2024, 1, 10, 15, 59),
        chicago(2024, 1, 10, 17, 0),  # after the 16:00-17:00 break
        chicago(2024, 1, 12, 15, 59),  # Friday's close
        chicago(2024, 1, 14, 17, 0),  # Sunday's open
    ]
    path = write(tmp_path, starts)
    (cle,) = summarize_ticks(read_bar_rows(path, TABLE), bar_length_ns=MIN).symbols
    # Wednesday 17:01 to Friday 15:59 is open and has no bar: 2 days less 2 breaks
    assert cle.missing_bars == (2 * 24 - 2) * 60 - 2
    assert cle.gaps == 1
    days = [chicago(2023, 12, 28, 17, 0), chicago(2024, 1, 1, 17, 0), chicago(2024, 1, 3, 17, 0)]
    path = write(tmp_path, days, name="days.csv")  # Fri 29th, (Mon 1st closed), Tue 2nd, Thu 4th
    (cle,) = summarize_ticks(read_bar_rows(path, TABLE), bar_length_ns=DAY).symbols
    assert (cle.missing_bars, cle.gaps, cle.largest_gap_bars) == (1, 1, 1)  # Wednesday 3rd
    assert cle.outside_sessions == 0


def test_a_bar_in_the_daily_break_is_outside_the_sessions(tmp_path: Path) -> None:
    starts = [chicago(2024, 1, 10, 15, 59), chicago(2024, 1, 10, 16, 30)]
    path = write(tmp_path, starts)
    (cle,) = summarize_ticks(read_bar_rows(path, TABLE), bar_length_ns=MIN).symbols
    assert (cle.outside_sessions, cle.missing_bars) == (1, 0)
    hour = write(tmp_path, [chicago(2024, 1, 10, 16, 30)], name="hour.csv")
    (cle,) = summarize_ticks(read_bar_rows(hour, TABLE), bar_length_ns=60 * MIN).symbols
    assert cle.outside_sessions == 0  # 16:30-17:30 reaches into the 17:00 open


def test_without_a_calendar_every_minute_counts(tmp_path: Path) -> None:
    path = write(tmp_path, [WED_0901, WED_0901 + 10 * MIN], symbol="ZN")
    (zn,) = summarize_ticks(read_bar_rows(path, TABLE), bar_length_ns=MIN).symbols
    assert (zn.missing_bars, zn.gaps, zn.coverage) == (9, 1, 2 / 11)


def test_a_bar_closer_than_the_bar_length_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, [WED_0901, WED_0901 + MIN, WED_0901 + MIN, WED_0901 + 90 * SEC])
    summary = summarize_ticks(read_bar_rows(path, TABLE), bar_length_ns=MIN)
    assert not summary.clean
    assert summary.problems == {"overlapping_bar": 2}
    assert summary.examples[0] == (
        "bars.csv:4.ts_ns: starts 0s after the CLE bar before it, less than the bar"
        " length 60s: a duplicate, or the file's bars are not that long (--bar-length)"
    )


def test_the_bar_length_is_inferred_from_the_closest_two_bars(tmp_path: Path) -> None:
    starts = [WED_0901, WED_0901 + 10 * MIN, WED_0901 + 15 * MIN, WED_0901 + 15 * MIN]
    assert infer_bar_length(read_bar_rows(write(tmp_path, starts), TABLE)) == 5 * MIN
    assert infer_bar_length(read_bar_rows(write(tmp_path, starts[:1]), TABLE)) is None


def ec_data(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_ec("data", "check", str(path), *extra, cwd=path.parent, timeout=60)


def test_ec_data_check_reports_missing_bars_and_coverage(tmp_path: Path) -> None:
    minutes = [0, 5, 10, 20, 25]  # 5-minute bars of the built-in CLE; 09:16 has none
    path = write(tmp_path, [WED_0901 + m * MIN for m in minutes])
    done = ec_data(path)
    assert done.returncode == 0, done.stderr
    assert "bar length 5m (inferred: --bar-length sets it)" in done.stdout
    assert "1 bar(s) missing in the trading sessions in 1 gap(s)" in done.stdout
    assert "session coverage 83.3%" in done.stdout
    done = ec_data(path, "--bar-length", "1m", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bar_length_ns"] == MIN
    assert summary["symbols"][0]["missing_bars"] == 21
    done = ec_data(path, "--bar-length", "10m")
    assert done.returncode == 1
    assert "overlapping_bar" in done.stdout
