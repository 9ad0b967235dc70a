"""TickBuffer bars against a straightforward reference aggregation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.data import BarSource, NoDataError, TickBuffer, Timeframe
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Trade
from hypothesis import given, settings
from hypothesis import strategies as st

SEC = 1_000_000_000
T0 = 1_700_000_000 * SEC
INST = Instrument(symbol="ESZ5", tick_size=Decimal("0.25"))


def quote(ts: int, mid: int) -> Quote:
    return Quote(symbol="ESZ5", ts_ns=ts, bid=mid, ask=mid + 1, bid_size=1, ask_size=1)


def reference_time_bars(
    ticks: list[tuple[int, int, int]], size: int
) -> list[tuple[int, int, int, int, int, int, int]]:
    """(start, open, high, low, close, volume, count) per non-empty bucket, oldest first."""
    bars: dict[int, list[tuple[int, int]]] = {}
    for ts, price, vol in ticks:
        bars.setdefault(ts - ts % size, []).append((price, vol))
    return [
        (
            start,
            rows[0][0],
            max(p for p, _ in rows),
            min(p for p, _ in rows),
            rows[-1][0],
            sum(v for _, v in rows),
            len(rows),
        )
        for start, rows in sorted(bars.items())
    ]


tick_lists = st.lists(
    st.tuples(st.integers(0, 3 * SEC), st.integers(1, 400), st.integers(0, 5)),
    min_size=1,
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(steps=tick_lists)
def test_time_bars_match_reference(steps: list[tuple[int, int, int]]) -> None:
    tb = TickBuffer(INST, timeframes=("1s", "2s", "10s"), tick_capacity=50, source=BarSource.TRADE)
    ts = T0
    ticks = []
    for gap, price, size in steps:
        ts += gap
        ticks.append((ts, price, size))
        tb.on_trade(Trade(symbol="ESZ5", ts_ns=ts, price=price, size=size))
    for name, size in (("1s", SEC), ("2s", 2 * SEC), ("10s", 10 * SEC)):
        expected = reference_time_bars(ticks, size)
        closed = [
            (b.start_ns, b.open, b.high, b.low, b.close, b.volume, b.count) for b in tb.bars(name)
        ]
        assert closed == expected[:-1], name
        assert tb.ohlc_ticks(name) == expected[-1], name
        assert all(b.end_ns == b.start_ns + size for b in tb.bars(name))
    assert len(tb.ticks) == min(len(steps), 50)


@settings(max_examples=40, deadline=None)
@given(steps=tick_lists, every=st.integers(1, 7), volume=st.integers(1, 12))
def test_tick_and_volume_bars_match_reference(
    steps: list[tuple[int, int, int]], every: int, volume: int
) -> None:
    tb = TickBuffer(INST, timeframes=(f"{every}t", f"{volume}v"), source=BarSource.TRADE)
    ts = T0
    ticks = []
    for gap, price, size in steps:
        ts += gap
        ticks.append((price, size))
        tb.on_trade(Trade(symbol="ESZ5", ts_ns=ts, price=price, size=size))
    by_count = [ticks[i : i + every] for i in range(0, len(ticks) - len(ticks) % every, every)]
    assert [(b.open, b.high, b.low, b.close, b.count) for b in tb.bars(f"{every}t")] == [
        (g[0][0], max(p for p, _ in g), min(p for p, _ in g), g[-1][0], len(g)) for g in by_count
    ]
    groups, current, acc = [], [], 0
    for price, size in ticks:
        current.append((price, size))
        acc += size
        if acc >= volume:
            groups.append(current)
            current, acc = [], 0
    assert [(b.open, b.close, b.volume, b.count) for b in tb.bars(f"{volume}v")] == [
        (g[0][0], g[-1][0], sum(s for _, s in g), len(g)) for g in groups
    ]


def test_ohlc_is_decimal_at_the_edge_and_ticks_inside() -> None:
    tb = TickBuffer(INST, timeframes=("1m",))
    for i, mid in enumerate((400, 404, 398, 401)):
        tb.on_quote(quote(T0 + i * SEC, mid))
    bar = tb.ohlc()
    assert bar["Open"] == Decimal("100.00")
    assert bar["High"] == Decimal("101.00")
    assert bar["Low"] == Decimal("99.50")
    assert bar["Close"] == Decimal("100.25")
    assert bar["Volume"] == Decimal(0)
    assert bar.close_ticks == 401
    assert dict(bar) == {k: bar[k] for k in ("Open", "High", "Low", "Close", "Volume")}
    assert tb.close == Decimal("100.25")
    assert tb.bid == Decimal("100.25")
    assert tb.ask == Decimal("100.50")
    with pytest.raises(KeyError):
        bar["Vwap"]


def test_mid_is_rounded_down_and_one_sided_quotes_do_not_draw_bars() -> None:
    tb = TickBuffer(INST, timeframes=("1s",))
    tb.on_quote(Quote(symbol="ESZ5", ts_ns=T0, bid=100, ask=103))
    tb.on_quote(Quote(symbol="ESZ5", ts_ns=T0 + 1, bid=None, ask=90))
    assert tb.ohlc_ticks() == (T0, 101, 101, 101, 101, 0, 1)
    assert tb.bid is None
    assert tb.ask == Decimal("22.50")


def test_trades_add_volume_to_quote_drawn_bars() -> None:
    tb = TickBuffer(INST, timeframes=("1s", "1m"))
    tb.on_quote(quote(T0, 400))
    tb.on_trade(Trade(symbol="ESZ5", ts_ns=T0 + 1, price=401, size=3))
    tb.on_quote(quote(T0 + 2 * SEC, 402))
    assert tb.ohlc()["Volume"] == 0
    assert tb.ohlc("1m")["Volume"] == 3
    assert tb.last == Decimal("100.25")
    assert tb.stats("1s").vwap == pytest.approx(401.0)


def test_no_data_and_configuration_errors() -> None:
    tb = TickBuffer(INST, timeframes=("1s", "5t"))
    with pytest.raises(NoDataError) as info:
        tb.ohlc()
    assert info.value.symbol == "ESZ5"
    with pytest.raises(NoDataError):
        tb.ohlc("5t")
    with pytest.raises(NoDataError) as info:
        tb.ohlc("1h")
    assert info.value.timeframe == "1h"
    with pytest.raises(ConfigError):
        TickBuffer(INST, timeframes=("2s", "3s"))
    with pytest.raises(ConfigError):
        TickBuffer(INST, timeframes=("1s", "1s"))
    with pytest.raises(ConfigError):
        TickBuffer(INST, timeframes=())
    with pytest.raises(ConfigError):
        Timeframe.parse("1x")


def test_tick_bars_report_last_closed_bar_between_bars() -> None:
    tb = TickBuffer(INST, timeframes=("2t",), source=BarSource.BID)
    for i, price in enumerate((10, 12)):
        tb.on_quote(Quote(symbol="ESZ5", ts_ns=T0 + i, bid=price, ask=price + 1))
    assert tb.ohlc_ticks("2t") == (T0, 10, 12, 10, 12, 0, 2)
    assert len(tb.bars("2t")) == 1


def test_memory_is_bounded() -> None:
    tb = TickBuffer(INST, timeframes=("1s",), bar_capacity=5, tick_capacity=7)
    for i in range(100):
        tb.on_quote(quote(T0 + i * SEC, 400 + i))
    assert len(tb.ticks) == 7
    assert len(tb.bars("1s")) == 5
    assert tb.bars("1s")[-1].close == 498


def test_bar_listener_sees_every_closed_bar() -> None:
    tb = TickBuffer(INST, timeframes=("1s", "2s"))
    seen: list[str] = []
    tb.add_bar_listener(lambda bar: seen.append(f"{bar.timeframe}@{(bar.start_ns - T0) // SEC}"))
    for i in range(5):
        tb.on_quote(quote(T0 + i * SEC, 400))
    assert seen == ["1s@0", "1s@1", "2s@0", "1s@2", "1s@3", "2s@2"]


def test_timeframe_parse() -> None:
    assert Timeframe.parse("5m").size == 300 * SEC
    assert Timeframe.parse("100t").kind == "TICKS"
    assert Timeframe.parse(" 500v ").name == "500v"
