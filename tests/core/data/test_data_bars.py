"""History bars: cut on epoch multiples like the live TickBuffer, daily bars on trading days."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from ec_core.calendar import SessionHours, TradingCalendar
from ec_core.data import BarSource, TickBuffer, Timeframe
from ec_core.data.bars import BarBuilder, bar_window, cut_bars
from ec_core.errors import HistoryRequestError
from ec_core.history import HistoryResult, history_range, history_timeframe, moment_ns
from ec_core.model import Instrument, MarketEvent, Quote, Trade
from hypothesis import given, settings
from hypothesis import strategies as st

CHICAGO = ZoneInfo("America/Chicago")
GLOBEX = TradingCalendar(
    timezone="America/Chicago", sessions=(SessionHours(open=time(17), close=time(16)),)
)
EP = Instrument(symbol="EP", tick_size=Decimal("0.25"), calendar=GLOBEX)
YEAR_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) * 10**9
YEAR_NS = 366 * 86_400 * 10**9
MINUTE = 60 * 10**9

trades = st.lists(
    st.tuples(st.integers(0, 10 * 3_600 * 10**9), st.integers(1_000, 1_100), st.integers(1, 9)),
    max_size=200,
).map(
    lambda rows: [
        Trade(symbol="EP", ts_ns=YEAR_START + ts, price=p, size=q) for ts, p, q in sorted(rows)
    ]
)


@settings(max_examples=200, deadline=None)
@given(trades, st.sampled_from(["1s", "1m", "5m", "1h"]))
def test_history_bars_equal_the_live_tick_buffer_bars(tape: list[Trade], name: str) -> None:
    frame = Timeframe.parse(name)
    buffer = TickBuffer(EP, timeframes=[name], source=BarSource.TRADE, bar_capacity=10_000)
    for trade in tape:
        buffer.on_trade(trade)
    cut = cut_bars(tape, frame, symbol="EP", calendar=GLOBEX)
    closed = list(buffer.bars(name))
    assert cut[: len(closed)] == closed  # the live buffer's last bar is still open
    assert len(cut) == len(closed) + (1 if tape else 0)
    assert sum(b.volume for b in cut) == sum(t.size for t in tape)


def test_quotes_make_no_bars_and_empty_intervals_have_none() -> None:
    tape: list[MarketEvent] = [
        Quote(symbol="EP", ts_ns=YEAR_START, bid=1, ask=2),
        Trade(symbol="EP", ts_ns=YEAR_START + 5, price=7, size=1),
        Trade(symbol="EP", ts_ns=YEAR_START + 3 * MINUTE, price=9, size=2),
    ]
    bars = cut_bars(tape, Timeframe.parse("1m"), symbol="EP")
    assert [(b.start_ns - YEAR_START, b.close, b.volume) for b in bars] == [
        (0, 7, 1),
        (3 * MINUTE, 9, 2),
    ]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, YEAR_NS), min_size=1, max_size=400))
def test_daily_bars_cut_at_the_trading_day_across_a_year_and_both_dst_switches(
    offsets: list[int],
) -> None:
    moments = sorted({YEAR_START + o for o in offsets})
    tape = [Trade(symbol="EP", ts_ns=t, price=100 + i % 7, size=1) for i, t in enumerate(moments)]
    bars = cut_bars(tape, Timeframe.parse("1d"), symbol="EP", calendar=GLOBEX)
    expected: dict[object, int] = defaultdict(int)
    for t in moments:
        expected[GLOBEX.trading_day(t)] += 1
    assert [b.count for b in bars] == list(expected.values())
    for bar, day in zip(bars, expected, strict=True):
        opened = datetime.fromtimestamp(bar.start_ns / 1e9, CHICAGO)
        closed = datetime.fromtimestamp(bar.end_ns / 1e9, CHICAGO)
        assert (opened.time(), closed.time(), closed.date()) == (time(17), time(16), day)


def test_a_daily_bar_is_23_hours_in_chicago_in_summer_and_winter() -> None:
    winter = int(datetime(2024, 1, 10, 12, tzinfo=CHICAGO).timestamp()) * 10**9
    summer = int(datetime(2024, 7, 10, 12, tzinfo=CHICAGO).timestamp()) * 10**9
    for ts in (winter, summer):
        start, end = bar_window(ts, Timeframe.parse("1d"), GLOBEX)
        assert end - start == 23 * 3_600 * 10**9
    assert bar_window(winter, Timeframe.parse("1d"), None)[1] % (86_400 * 10**9) == 0


def test_history_arguments_are_checked_naming_the_field() -> None:
    assert moment_ns(datetime(2024, 1, 1, tzinfo=UTC), symbol="EP", field="start") == YEAR_START
    with pytest.raises(HistoryRequestError) as naive:
        moment_ns(datetime(2024, 1, 1), symbol="EP", field="start")
    assert naive.value.field == "start"
    with pytest.raises(HistoryRequestError):
        moment_ns(1.5, symbol="EP", field="end")  # type: ignore[arg-type]
    assert history_range("EP", 5, None, default_end_ns=9) == (5, 9)
    with pytest.raises(HistoryRequestError) as backwards:
        history_range("EP", 5, 4, default_end_ns=9)
    assert backwards.value.field == "end"
    for bad in ("100t", "500v", "2d", "1x"):
        with pytest.raises(HistoryRequestError) as frame:
            history_timeframe("EP", bad)
        assert frame.value.field == "timeframe"
    assert history_timeframe("EP", "1d").name == "1d"


def test_a_history_result_is_a_sequence_with_its_seam() -> None:
    result = HistoryResult([1, 2, 3], up_to_ns=10)
    assert list(result) == [1, 2, 3]
    assert result[1] == 2
    assert len(result) == 3
    assert result.up_to_ns == 10
    assert result == HistoryResult((1, 2, 3), up_to_ns=10)
    assert result != HistoryResult((1, 2, 3), up_to_ns=11)


@settings(max_examples=200, deadline=None)
@given(trades, st.sampled_from(["1s", "1m", "1h", "1d"]))
def test_the_bar_builder_fed_trade_by_trade_gives_the_history_bars(
    tape: list[Trade], name: str
) -> None:
    """One fold: a live feed's builder closes each bar as ``cut_bars`` cuts it, and its
    bar in progress is the last one."""
    frame = Timeframe.parse(name)
    builder = BarBuilder(frame, symbol="EP", calendar=GLOBEX)
    closed = [bar for trade in tape if (bar := builder.add(trade)) is not None]
    current = builder.current()
    assert closed + ([current] if current is not None else []) == cut_bars(
        tape, frame, symbol="EP", calendar=GLOBEX
    )
    assert (current is None) == (not tape)


def test_the_bar_builder_counts_a_late_trade_in_the_bar_in_progress() -> None:
    builder = BarBuilder(Timeframe.parse("1m"), symbol="EP")
    assert builder.current() is None
    assert builder.add(Trade(symbol="EP", ts_ns=YEAR_START + 5 * MINUTE, price=10, size=2)) is None
    assert builder.add(Trade(symbol="EP", ts_ns=YEAR_START + 4 * MINUTE, price=8, size=1)) is None
    bar = builder.current()
    assert bar is not None
    assert (bar.start_ns, bar.end_ns) == (YEAR_START + 5 * MINUTE, YEAR_START + 6 * MINUTE)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.count) == (10, 10, 8, 8, 3, 2)
    done = builder.add(Trade(symbol="EP", ts_ns=YEAR_START + 6 * MINUTE, price=11, size=1))
    assert done == bar
    assert (builder.start_ns, builder.end_ns) == (YEAR_START + 6 * MINUTE, YEAR_START + 7 * MINUTE)
