"""Parquet and Arrow IPC tick files: the CSV's columns, the same parser and checks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.data import read_symbols, read_ticks, write_ticks
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Side, Trade

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
ZN = Instrument(symbol="ZN", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))
TABLE = {i.symbol: i for i in (CLE, ZN)}
T0 = 1_704_898_801_000_000_000
TICKS: list[Quote | Trade] = [
    Quote(symbol="CLE", ts_ns=T0, bid=7000, bid_size=5, ask=7001, ask_size=6),
    Quote(symbol="ZN", ts_ns=T0 + 1, bid=7041, bid_size=3, ask=7042, ask_size=4),
    Trade(symbol="CLE", ts_ns=T0 + 2, price=7001, size=2, aggressor=Side.BUY),
]


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_two_instruments_round_trip_through_parquet_and_arrow(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"ticks{suffix}"
    assert write_ticks(path, TICKS, TABLE.values()) == 3
    assert list(read_ticks(path, TABLE)) == TICKS
    assert read_symbols(path) == ["CLE", "ZN"]


@pytest.mark.parametrize(
    ("name", "ts_ns", "price", "refused"),
    [
        pytest.param(
            "floats.parquet",
            [T0, T0 + 1],
            [70.01, 70.005],
            r"floats\.parquet:row 2\.price",
            id="float-prices-on-the-grid-read-exactly-off-grid-refused",
        ),
        pytest.param(
            "late.parquet",
            pa.array([T0, 2**64 - 1], pa.uint64()),
            ["70.01", "70.01"],
            r"late\.parquet:row 2\.ts_ns: ts_ns must fit in 64-bit",
            id="unsigned-ts-ns-past-64-bit-refused-as-in-a-csv",
        ),
    ],
)
def test_a_second_row_is_refused_after_the_first_is_read(
    tmp_path: Path, name: str, ts_ns: object, price: list[object], refused: str
) -> None:
    path = tmp_path / name
    table = pa.table(
        {
            "ts_ns": ts_ns,
            "symbol": ["CLE", "CLE"],
            "kind": ["trade", "trade"],
            "price": price,
            "size": [1, 1],
        }
    )
    pq.write_table(table, str(path))
    ticks = read_ticks(path, TABLE)
    assert next(ticks) == Trade(symbol="CLE", ts_ns=T0, price=7001, size=1)
    with pytest.raises(ConfigError, match=refused):
        next(ticks)


def test_a_quote_column_missing_from_the_schema_is_named(tmp_path: Path) -> None:
    path = tmp_path / "short.parquet"
    pq.write_table(
        pa.table({"ts_ns": [T0], "symbol": ["CLE"], "kind": ["quote"], "bid": ["70.00"]}),
        str(path),
    )
    with pytest.raises(ConfigError, match="bid_size"):
        list(read_ticks(path, TABLE))


def test_ec_data_convert_writes_parquet_that_replays_the_same(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    source = tmp_path / "ticks.csv"
    write_ticks(source, TICKS[:1] + TICKS[2:], TABLE.values())  # CLE only: a mock symbol
    target = tmp_path / "ticks.parquet"
    env = {k: v for k, v in os.environ.items() if k != "EC_SETTINGS"}
    done = subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", "data", "convert",
         str(source), str(target)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 rows written" in done.stdout
    assert list(read_ticks(target, TABLE)) == list(read_ticks(source, TABLE))


def test_ec_data_convert_without_pyarrow_names_the_target_and_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It named the hidden name the target is written under (.ticks.partial.parquet)."""
    import sys

    from click.testing import CliRunner
    from ec_core.cli.main import build_cli
    from ec_core.plugins import PluginHost

    source = tmp_path / "ticks.csv"
    write_ticks(source, TICKS[:1] + TICKS[2:], TABLE.values())
    target = tmp_path / "ticks.parquet"
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    result = CliRunner().invoke(
        build_cli(PluginHost.load()), ["data", "convert", str(source), str(target)]
    )
    assert result.exit_code == 1, result.output
    assert f"Error: {target}: reading or writing Parquet" in result.output
    assert "pip install 'ec-core[parquet]'" in result.output
    assert "partial" not in result.output
    assert not list(tmp_path.glob(".*"))


@pytest.mark.parametrize(("suffix", "kind"), [(".parquet", "Parquet"), (".arrow", "Arrow IPC")])
def test_a_file_that_is_not_parquet_or_arrow_is_refused_naming_it(
    tmp_path: Path, suffix: str, kind: str
) -> None:
    path = tmp_path / f"ticks{suffix}"
    path.write_bytes(b"ts_ns,symbol,kind\n" * 10)
    for read in (lambda: list(read_ticks(path, TABLE)), lambda: read_symbols(path)):
        with pytest.raises(ConfigError, match=rf"ticks\{suffix}: not a readable {kind} file: "):
            read()


def test_a_size_past_64_bits_in_an_unsigned_column_is_refused_as_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    table = pa.table(
        {
            "ts_ns": [T0, T0 + 1],
            "symbol": ["CLE", "CLE"],
            "kind": ["trade", "trade"],
            "price": ["70.01", "70.01"],
            "size": pa.array([1, 2**63], pa.uint64()),
        }
    )
    pq.write_table(table, str(path))
    ticks = read_ticks(path, TABLE)
    assert next(ticks) == Trade(symbol="CLE", ts_ns=T0, price=7001, size=1)
    with pytest.raises(ConfigError, match=r"big\.parquet:row 2\.size: size must be at most 9223"):
        next(ticks)


@pytest.mark.parametrize(("suffix", "kind"), [(".parquet", "Parquet"), (".arrow", "Arrow IPC")])
def test_a_file_damaged_after_its_first_batch_is_refused_naming_it(
    tmp_path: Path, suffix: str, kind: str
) -> None:
    # The footer is intact, so the file opens; a later batch's bytes are not data.
    path = tmp_path / f"ticks{suffix}"
    n = 30_000
    table = pa.table(
        {
            "ts_ns": pa.array(range(T0, T0 + n), pa.int64()),
            "symbol": ["CLE"] * n,
            "kind": ["trade"] * n,
            "price": [f"70.{i % 100:02d}" for i in range(n)],
            "size": pa.array(range(1, n + 1), pa.int64()),
        }
    )
    if suffix == ".parquet":
        pq.write_table(table, str(path), row_group_size=10_000)
    else:
        with pa.ipc.new_file(str(path), table.schema) as writer:
            for batch in table.to_batches(max_chunksize=10_000):
                writer.write_batch(batch)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match=rf"ticks\{suffix}: not a readable {kind} file"):
        list(read_ticks(path, TABLE))
