"""Recorded tick files are checked before a replay trusts them (issue: wrong P&L from bad files).

Each broken file ends in one error naming ``file:line.field`` and the rule; ``lenient``
skips and counts the rows recorded data really has; ``sort`` sorts, saying how many rows
were out of order. Nothing is silent and no message shows Python internals.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import chain
from pathlib import Path

import pytest
from ec_core.data import TICK_FIELDS, read_ticks
from ec_core.data.tick_checks import TickChecks, parse_ts_ns
from ec_core.data.ticks_csv import read_tick_chunks
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Trade
from hypothesis import given
from hypothesis import strategies as st

CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
TABLE = {"CLE": CLE}
T0 = 1_704_898_801_000_000_000
HEADER = ",".join(TICK_FIELDS)


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "t.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def error(path: Path, checks: TickChecks | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        list(read_ticks(path, TABLE, checks=checks if checks is not None else TickChecks()))
    return caught.value


def quote_row(ts: int, bid: str = "70.00", bid_size: str = "5", ask: str = "70.01") -> str:
    return f"{ts},CLE,quote,,,{bid},{bid_size},{ask},5,"


def test_a_row_earlier_than_the_one_before_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, quote_row(T0), quote_row(T0 + 2), quote_row(T0 + 1))
    found = error(path)
    assert found.path == "t.csv:4.ts_ns"
    assert "earlier than line 3" in str(found)
    assert "pass --sort" in str(found)


def test_sort_orders_the_rows_and_counts_those_out_of_order(tmp_path: Path) -> None:
    path = write(tmp_path, quote_row(T0 + 3), quote_row(T0 + 1), quote_row(T0 + 2))
    checks = TickChecks(sort=True)
    ticks = list(read_ticks(path, TABLE, checks=checks))
    assert [t.ts_ns for t in ticks] == [T0 + 1, T0 + 2, T0 + 3]
    assert checks.reordered == 2


def test_a_missing_column_of_the_rows_kind_is_named(tmp_path: Path) -> None:
    header = "ts_ns,symbol,kind,price,size,bid,ask,ask_size,aggressor"
    path = write(tmp_path, f"{T0},CLE,quote,,,70.00,70.01,5,", header=header)
    found = error(path)
    assert found.path == "t.csv:2"
    assert "a quote row needs the column(s) bid_size, missing from the header" in str(found)
    # without the checks too: the format itself refuses, it never reads a zero size
    with pytest.raises(ConfigError, match="bid_size"):
        list(read_ticks(path, TABLE))


def test_a_trade_only_file_needs_no_quote_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path, f"{T0},CLE,trade,70.00,3,", header="ts_ns,symbol,kind,price,size,aggressor"
    )
    assert list(read_ticks(path, TABLE, checks=TickChecks())) == [
        Trade(symbol="CLE", ts_ns=T0, price=7000, size=3)
    ]


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        (quote_row(T0, bid=""), "t.csv:2.bid", "a quote needs a bid and an ask; the bid is empty"),
        (quote_row(T0, ask=""), "t.csv:2.ask", "the ask is empty"),
        (quote_row(T0, bid="70.02"), "t.csv:2.ask", "crossed quote: bid 70.02 is above ask 70.01"),
        (quote_row(T0, bid_size="0"), "t.csv:2.bid_size", "bid_size must be > 0, got 0"),
        (quote_row(T0, bid_size=""), "t.csv:2.bid_size", "bid_size must be > 0, got 0"),
        (f"{T0},CLE,trade,70.00,-1,,,,,", "t.csv:2.size", "a trade's size must be > 0, got -1"),
    ],
)
def test_a_broken_row_is_an_error_naming_it(
    tmp_path: Path, row: str, where: str, message: str
) -> None:
    found = error(write(tmp_path, row))
    assert found.path == where
    assert message in str(found)
    assert "--lenient" in str(found)


def test_lenient_skips_counts_and_keeps_examples(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        quote_row(T0),
        quote_row(T0 + 1, bid=""),
        quote_row(T0 + 2, bid="70.05"),
        quote_row(T0 + 3, bid=""),
        quote_row(T0 + 4),
    )
    checks = TickChecks(lenient=True, keep_examples=2)
    ticks = list(read_ticks(path, TABLE, checks=checks))
    assert [t.ts_ns for t in ticks] == [T0, T0 + 4]
    assert checks.problems == {"one_sided_quote": 2, "crossed_quote": 1}
    assert checks.skipped == 3
    assert checks.examples == [
        "t.csv:3.bid: a quote needs a bid and an ask; the bid is empty",
        "t.csv:4.ask: crossed quote: bid 70.05 is above ask 70.01",
    ]


def test_messages_name_the_rule_not_python_internals(tmp_path: Path) -> None:
    found = error(write(tmp_path, quote_row(T0, bid="7o.00")))
    assert str(found) == "t.csv:2.bid: bad price '7o.00': not a decimal number"
    found = error(write(tmp_path, "yesterday,CLE,quote,,,70.00,5,70.01,5,"))
    assert found.path == "t.csv:2.ts_ns"
    assert "nanoseconds since the epoch" in str(found)
    assert "<class" not in str(found)


def test_an_unknown_symbol_names_its_row(tmp_path: Path) -> None:
    found = error(write(tmp_path, quote_row(T0), f"{T0 + 1},XYZ,quote,,,1,1,2,1,"))
    assert found.path == "t.csv:3.symbol"
    assert "unknown instrument 'XYZ'" in str(found)


def test_iso_timestamps_with_a_zone_are_read_exactly(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "2024-01-10T15:00:01Z,CLE,quote,,,70.00,5,70.01,5,",
        "2024-01-10T16:00:01.000000007+01:00,CLE,quote,,,70.00,5,70.01,5,",
    )
    ticks = list(read_ticks(path, TABLE, checks=TickChecks()))
    assert [t.ts_ns for t in ticks] == [T0, T0 + 7]
    found = error(write(tmp_path, "2024-01-10T15:00:01,CLE,quote,,,70.00,5,70.01,5,"))
    assert "needs a zone" in str(found)


@given(st.integers(0, 2**62))
def test_nanoseconds_read_as_given(ts: int) -> None:
    assert parse_ts_ns(str(ts)) == ts


def test_an_iso_time_reads_to_the_nanosecond_on_both_sides_of_1970() -> None:
    assert parse_ts_ns("1970-01-01T00:00:01.000000007Z") == 1_000_000_007
    assert parse_ts_ns("1969-12-31T23:59:59.5Z") == -500_000_000
    assert parse_ts_ns("1970-01-01T01:00:00.25+01:00") == 250_000_000


@given(st.lists(st.integers(T0, T0 + 10**9), max_size=30))
def test_sorted_output_is_the_input_sorted_whatever_the_order(stamps: list[int]) -> None:
    rows = [
        (f"t.csv:{i + 2}", Quote(symbol="CLE", ts_ns=ts, bid=1, ask=2, bid_size=1, ask_size=1), CLE)
        for i, ts in enumerate(stamps)
    ]
    checks = TickChecks(sort=True)
    assert [t.ts_ns for t in checks.apply(rows)] == sorted(stamps)
    assert checks.reordered == sum(1 for i, ts in enumerate(stamps) if ts < max(stamps[: i + 1]))


def test_a_time_past_64_bit_nanoseconds_is_refused_naming_the_rule() -> None:
    # a stamp beyond int64 ns (2262-04-11) used to hang `ec replay` instead of an error
    assert parse_ts_ns(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(ValueError, match="64-bit"):
        parse_ts_ns(str(2**63))
    with pytest.raises(ValueError, match="64-bit"):
        parse_ts_ns("99999999999999999999999")


def test_chunks_are_the_ticks_in_lists_and_a_bad_row_comes_after_those_before_it(
    tmp_path: Path,
) -> None:
    """``ec replay`` takes the checked ticks a chunk at a time (read_tick_chunks): the same
    ticks as read_ticks, in lists; a broken row still ends the read after every tick
    before it was given (a row path chunk is cut there), with the row path's message."""
    rows = [quote_row(T0 + i) for i in range(600)]
    path = write(tmp_path, *rows)
    chunks = list(read_tick_chunks(path, TABLE, checks=TickChecks()))
    assert all(type(chunk) is list and chunk for chunk in chunks)
    assert [t for chunk in chunks for t in chunk] == list(
        read_ticks(path, TABLE, checks=TickChecks())
    )
    broken = write(tmp_path, *rows[:300], quote_row(T0 + 300, bid="70.02"), *rows[301:])
    given: list[Quote | Trade] = []
    chunks_read = read_tick_chunks(broken, TABLE, checks=TickChecks())
    with pytest.raises(ConfigError) as caught:
        given.extend(chain.from_iterable(chunks_read))  # what came before the error stays
    assert caught.value.path == "t.csv:302.ask"
    assert [t.ts_ns for t in given] == [T0 + i for i in range(300)]
