"""Recorded ticks: the core's CSV format, and how a replay finds a venue to show them to."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.data import TICK_FIELDS, read_symbols, read_ticks, write_ticks
from ec_core.errors import ConfigError
from ec_core.model import Instrument, MarketEvent, Quote, Side, Trade
from ec_core.plugins import PluginHost
from ec_core.strategy.replay import replay_feed
from hypothesis import given, settings
from hypothesis import strategies as st

CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
ZN = Instrument(symbol="ZN", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))
TABLE = {i.symbol: i for i in (CLE, ZN)}
T0 = 1_704_898_801_000_000_000
HEADER = ",".join(TICK_FIELDS)

prices = st.one_of(st.none(), st.integers(-10_000, 1_000_000))
quotes = st.builds(
    Quote,
    symbol=st.sampled_from(sorted(TABLE)),
    ts_ns=st.integers(0, 2**62),
    bid=prices,
    bid_size=st.integers(0, 10_000),
    ask=prices,
    ask_size=st.integers(0, 10_000),
)
trades = st.builds(
    Trade,
    symbol=st.sampled_from(sorted(TABLE)),
    ts_ns=st.integers(0, 2**62),
    price=st.integers(-10_000, 1_000_000),
    size=st.integers(0, 10_000),
    aggressor=st.sampled_from([None, Side.BUY, Side.SELL]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(quotes, trades), max_size=20))
def test_written_ticks_read_back_exactly(ticks: list[Quote | Trade]) -> None:
    """Any ticks, negative prices and 1/64 grids included, survive the CSV round trip."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ticks.csv"
        assert write_ticks(path, ticks, TABLE.values()) == len(ticks)
        assert list(read_ticks(path, TABLE)) == ticks
        assert read_symbols(path) == list(dict.fromkeys(t.symbol for t in ticks))


def test_a_lookup_function_works_as_well_as_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        f"{HEADER}\n{T0},CLE,quote,,,70.00,5,70.01,6,\n{T0 + 1},CLE,trade,70.01,3,,,,,BUY\n"
    )
    assert list(read_ticks(path, TABLE.get)) == [
        Quote(symbol="CLE", ts_ns=T0, bid=7000, bid_size=5, ask=7001, ask_size=6),
        Trade(symbol="CLE", ts_ns=T0 + 1, price=7001, size=3, aggressor=Side.BUY),
    ]


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        ("CLE,quote,,,70.005,5,70.01,5,", "t.csv:2.bid", "bad price '70.005'"),
        ("XX,quote,,,70.00,5,70.01,5,", "t.csv:2.symbol", "unknown instrument 'XX'"),
        ("CLE,trade,,3,,,,,BUY", "t.csv:2.price", "a trade needs a price"),
        ("CLE,trade,70.00,3,,,,,UP", "t.csv:2.aggressor", "aggressor must be BUY, SELL"),
        ("CLE,quote,,,70.00,five,70.01,5,", "t.csv:2.bid_size", "not an integer: 'five'"),
        ("CLE,depth,,,,,,,", "t.csv:2.kind", "kind must be 'quote' or 'trade'"),
    ],
)
def test_a_bad_row_is_an_error_naming_row_and_column(
    tmp_path: Path, row: str, where: str, message: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"{HEADER}\n{T0},{row}\n")
    with pytest.raises(ConfigError, match=message) as info:
        list(read_ticks(path, TABLE))
    assert info.value.path == where


def test_missing_columns_and_files_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("ts_ns,price\n1,70.00\n")
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['kind', 'symbol'\]"):
        list(read_ticks(path, TABLE))
    with pytest.raises(ConfigError, match="tick file not found"):
        read_symbols(tmp_path / "nope.csv")


def test_writing_a_tick_of_an_unknown_instrument_is_an_error(tmp_path: Path) -> None:
    tick = Trade(symbol="GC", ts_ns=T0, price=1, size=1)
    with pytest.raises(ConfigError, match="unknown instrument 'GC'"):
        write_ticks(tmp_path / "t.csv", [tick], [CLE])


# -- the replay capability ------------------------------------------------------------------


class NoReplay:
    vendor = "plain"


@pytest.mark.anyio
async def test_replay_needs_a_session_with_the_replay_capability() -> None:
    with pytest.raises(ConfigError, match="REPLAY_UNSUPPORTED: vendor 'plain'"):
        replay_feed(NoReplay())
    host = PluginHost.load()
    busy = {"clock": "simulated", "market": True, "seed": 1}
    async with host.open_session("mock", busy) as session:
        with pytest.raises(ConfigError, match="REPLAY_UNSUPPORTED: vendor 'mock'"):
            replay_feed(session)
    async with host.open_session("mock", {"clock": "simulated", "market": False}) as session:
        feed = replay_feed(session)
        assert isinstance(feed.clock, ManualClock)
        start = feed.clock.now_ns()
        tick: MarketEvent = Quote(symbol="CLE", ts_ns=start + 5, bid=7000, bid_size=1, ask=7001)
        feed.feed(tick)
        assert feed.clock.now_ns() == start + 5
