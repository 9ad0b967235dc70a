"""The tick reader's price and row parsing: the integer path reads exactly what Decimal reads.

:class:`~ec_core.data.tick_parser.PriceGrid` converts plain decimals with integers and
leaves everything else to ``Instrument.to_ticks(Decimal(text))``: for any price text
and tick size, the result (or the error, message included) is that of the Decimal read.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.data import TICK_FIELDS, read_symbols, read_ticks
from ec_core.data.tick_checks import TickChecks, parse_ts_ns
from ec_core.data.tick_parser import PriceGrid
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote
from hypothesis import given
from hypothesis import strategies as st

TICK_SIZES = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(min_value=1, max_value=99_999),
    st.integers(min_value=-9, max_value=2),
)
PLAIN = st.builds(
    lambda sign, whole, places: f"{sign}{whole}{'.' if places is not None else ''}{places or ''}",
    st.sampled_from(["", "-", "+"]),
    st.sampled_from(["", "0", "00"]) | st.integers(min_value=0, max_value=10**12).map(str),
    st.none() | st.text("0123456789", max_size=12),
)
ODD = st.sampled_from(
    [
        "",
        ".",
        "-",
        "+",
        "1e2",
        "1E-2",
        "-1.5e1",
        "NaN",
        "inf",
        "1_000",
        "1.2.3",
        "٣",
        "²",
        " 5",
        "1" * 40,
        "0." + "0" * 30 + "1",
        "--5",
        "+-5",
        "5.",
        ".5",
        "-.25",
        "12a",
    ]
)


def decimal_read(inst: Instrument, text: str) -> tuple[str, object]:
    try:
        return "ok", inst.to_ticks(Decimal(text))
    except Exception as exc:
        return type(exc).__name__, str(exc)


def grid_read(grid: PriceGrid, text: str) -> tuple[str, object]:
    try:
        return "ok", grid.ticks(text)
    except Exception as exc:
        return type(exc).__name__, str(exc)


@given(tick=TICK_SIZES, text=PLAIN | ODD)
def test_a_price_reads_as_decimal_and_to_ticks_read_it(tick: Decimal, text: str) -> None:
    inst = Instrument(symbol="X", tick_size=tick, multiplier=Decimal(1))
    grid = PriceGrid(inst)
    assert grid_read(grid, text) == decimal_read(inst, text)
    assert grid_read(grid, text) == decimal_read(inst, text)  # remembered: the same again


@given(
    tick=TICK_SIZES,
    ticks=st.integers(min_value=-(10**9), max_value=10**9),
    shift=st.integers(min_value=0, max_value=4),
)
def test_on_grid_prices_with_trailing_zeros_read_exactly(
    tick: Decimal, ticks: int, shift: int
) -> None:
    inst = Instrument(symbol="X", tick_size=tick, multiplier=Decimal(1))
    price = inst.to_price(ticks)
    text = f"{price:f}" + ("0" * shift if "." in f"{price:f}" else "")
    assert PriceGrid(inst).ticks(text) == ticks


CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))


def test_padded_cells_short_rows_and_blank_lines_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        ",".join(TICK_FIELDS)
        + "\n 1704898801000000000 , CLE , Quote ,,, 70.00 , 5 ,70.01,6\n\n"
        + "1704898801000000001,CLE,quote,,,70.02,1,70.03,2,\n"
    )
    assert list(read_ticks(path, {"CLE": CLE}, checks=TickChecks())) == [
        Quote(symbol="CLE", ts_ns=1704898801000000000, bid=7000, bid_size=5, ask=7001, ask_size=6),
        Quote(symbol="CLE", ts_ns=1704898801000000001, bid=7002, bid_size=1, ask=7003, ask_size=2),
    ]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (" 70.005 ", "t.csv:2.bid: bad price '70.005': CLE: price 70.005 is not a multiple"),
        ("7e1x", "t.csv:2.bid: bad price '7e1x': not a decimal number"),
    ],
)
def test_a_bad_price_names_its_cell_as_the_decimal_read_did(
    tmp_path: Path, cell: str, message: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        ",".join(TICK_FIELDS) + f"\n1704898801000000000,CLE,quote,,,{cell},5,70.01,6,\n"
    )
    with pytest.raises(ConfigError) as caught:
        list(read_ticks(path, {"CLE": CLE}))
    assert message in str(caught.value)


@pytest.mark.parametrize("cell", ["9223372036854775808", "²", "-5", "1_000", " 12x"])
def test_a_bad_time_is_refused_with_the_rule_of_parse_ts_ns(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(",".join(TICK_FIELDS) + f"\n{cell},CLE,quote,,,70.00,5,70.01,6,\n")
    with pytest.raises(ValueError, match=r"must|invalid") as rule:
        parse_ts_ns(cell)
    with pytest.raises(ConfigError) as caught:
        list(read_ticks(path, {"CLE": CLE}))
    assert f"t.csv:2.ts_ns: ts_ns {rule.value}" in str(caught.value)


def test_read_symbols_names_the_first_row_of_a_kind_missing_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "ts_ns,symbol,kind,price,size\n1,ZN,trade,1.5,1\n\n2,CLE,trade,70.00,1\n3,ES,quote,,\n"
    )
    with pytest.raises(ConfigError) as caught:
        read_symbols(path)
    assert "t.csv:5" in str(caught.value)
    assert "a quote row needs the column(s) bid, bid_size, ask, ask_size" in str(caught.value)


def test_read_symbols_reads_short_rows_and_blank_lines_in_order(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "ts_ns,kind,symbol,price,size\n1,trade,ZN,1.5,1\n\n2,trade\n3,trade, CLE ,70,1\n"
    )
    assert read_symbols(path) == ["ZN", "CLE"]


@pytest.mark.parametrize(
    ("bid", "message"),
    [
        (b"7" * 200_000, r"t\.csv:3: not a CSV row: field larger than"),  # csv's field limit
        (b"70.\xff", r"t\.csv: a tick file must be UTF-8 text: byte 0xff"),
    ],
)
def test_a_line_csv_cannot_read_is_refused_naming_the_file(
    tmp_path: Path, bid: bytes, message: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(
        (",".join(TICK_FIELDS) + "\n1704898801000000000,CLE,quote,,,70.00,5,70.01,6,\n").encode()
        + b"1704898801000000001,CLE,quote,,,"
        + bid
        + b",5,70.01,6,\n"
    )
    for read in (
        lambda: list(read_ticks(path, {"CLE": CLE}, checks=TickChecks())),
        lambda: read_symbols(path),
    ):
        with pytest.raises(ConfigError, match=message):
            read()


def test_a_csv_saved_with_a_byte_order_mark_reads_as_without_one(tmp_path: Path) -> None:
    # Spreadsheets write UTF-8 CSV with a BOM: it must not hide the ts_ns column.
    path = tmp_path / "t.csv"
    path.write_text(
        ",".join(TICK_FIELDS) + "\n1704898801000000000,CLE,quote,,,70.00,5,70.01,6,\n",
        encoding="utf-8-sig",
    )
    assert read_symbols(path) == ["CLE"]
    assert list(read_ticks(path, {"CLE": CLE}, checks=TickChecks())) == [
        Quote(symbol="CLE", ts_ns=1704898801000000000, bid=7000, bid_size=5, ask=7001, ask_size=6)
    ]


@pytest.mark.parametrize(
    ("cell", "rule"),
    [
        ("1_000", "not an integer: '1_000' (ASCII digits 0-9, an optional sign)"),
        ("٣", "not an integer: '٣' (ASCII digits 0-9, an optional sign)"),
        ("１２", "not an integer: '１２' (ASCII digits 0-9, an optional sign)"),
        ("9223372036854775808", "{column} must be at most 9223372036854775807, got 92233"),
    ],
)
def test_a_size_that_is_not_ascii_digits_or_past_64_bits_is_refused_naming_the_rule(
    tmp_path: Path, cell: str, rule: str
) -> None:
    # int() reads "1_000", Arabic-Indic and full-width digits; sizes had no bound.
    for row in (f"quote,,,70.00,{cell},70.01,6,", f"trade,70.00,{cell},,,,,"):
        path = tmp_path / "t.csv"
        path.write_text(",".join(TICK_FIELDS) + f"\n1704898801000000000,CLE,{row}\n")
        column = "bid_size" if row.startswith("quote") else "size"
        with pytest.raises(ConfigError) as caught:
            list(read_ticks(path, {"CLE": CLE}, checks=TickChecks()))
        assert f"t.csv:2.{column}: {rule.format(column=column)}" in str(caught.value)


def test_a_time_in_non_ascii_digits_is_refused_with_the_rule(tmp_path: Path) -> None:
    cell = "١٧٠٤٨٩٨٨٠١٠٠٠٠٠٠٠٠٠"  # Arabic-Indic digits: int() reads them
    with pytest.raises(ValueError, match="must be nanoseconds since the epoch"):
        parse_ts_ns(cell)
    path = tmp_path / "t.csv"
    path.write_text(",".join(TICK_FIELDS) + f"\n{cell},CLE,quote,,,70.00,5,70.01,6,\n")
    with pytest.raises(ConfigError, match=r"t\.csv:2\.ts_ns: ts_ns must be nanoseconds"):
        list(read_ticks(path, {"CLE": CLE}))
