"""Warm-up from history: the warmed bars are the bars live ticks would have built, and the
seam neither loses nor doubles a tick."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from ec_core.clock import ManualClock
from ec_core.data import BarSource, FeedSet, TickBuffer
from ec_core.data.warmup import parse_lookback, seamed, warm_up
from ec_core.errors import ConfigError
from ec_core.history import SupportsHistory
from ec_core.model import Quote, Trade
from ec_core.plugins import PluginHost
from ec_mock.vendor import MarketDataChannel, MockVenue
from ec_mock.vendor.venue import SIM_START_NS

MINUTE = 60 * 10**9


@pytest.mark.anyio
async def test_warmed_and_live_bars_are_the_bars_of_the_whole_tape() -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=21, accounts=["W-1"])
    venue.step(12 * 600)  # twelve minutes of market before the strategy starts
    host = PluginHost.load()
    async with host.open_session("mock", {"venue": venue, "account_id": "W-1"}) as session:
        assert isinstance(session, SupportsHistory)
        instrument = await session.resolve("EP")
        feeds = FeedSet.of([instrument], timeframes=("1m", "5m"), source=BarSource.TRADE)
        async with session.market_data.stream([instrument]) as stream:
            assert isinstance(stream, MarketDataChannel)
            report = await warm_up(
                feeds, session.history, now_ns=venue.clock.now_ns(), lookback={"1m": 6, "5m": 1}
            )
            assert report.since_ns["EP"] == SIM_START_NS + 5 * MINUTE  # on a 5m boundary
            assert report.seams["EP"] == venue.clock.now_ns() + 1
            venue.step(3 * 600)  # live: three more minutes
            stream.close()
            live = [e async for e in seamed(stream, report.seams)]
        for event in live:
            feeds.on_event(event)
    reference = TickBuffer(instrument, timeframes=("1m", "5m"), source=BarSource.TRADE)
    tape = venue.tape.events("EP", report.since_ns["EP"], 2**62)
    for event in tape:
        reference.on_event(event)
    assert list(feeds["EP"].tick_buffer.bars("1m")) == list(reference.bars("1m"))
    assert list(feeds["EP"].tick_buffer.bars("5m")) == list(reference.bars("5m"))
    warmed_and_live = sum(
        e.size for e in [*tape[: report.ticks["EP"]], *live] if isinstance(e, Trade)
    )
    assert warmed_and_live == sum(e.size for e in tape if isinstance(e, Trade))


@pytest.mark.anyio
async def test_a_start_before_the_tape_is_moved_to_the_horizon() -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=3, accounts=["W-1"])
    venue.step(2 * 600)
    host = PluginHost.load()
    async with host.open_session("mock", {"venue": venue, "account_id": "W-1"}) as session:
        assert isinstance(session, SupportsHistory)
        instrument = await session.resolve("CLE")
        feeds = FeedSet.of([instrument], timeframes=("1m",))
        report = await warm_up(feeds, session.history, now_ns=venue.clock.now_ns())
        assert report.since_ns["CLE"] == SIM_START_NS  # 100 minutes asked, two exist
        assert report.ticks["CLE"] > 0
        # both minutes closed: the last step printed at 09:02:00.0, opening the third
        assert len(feeds["CLE"].tick_buffer.bars("1m")) == 2
        assert "CLE:" in report.describe()


def test_lookback_text() -> None:
    assert parse_lookback("1m=120, 5m=50") == {"1m": 120, "5m": 50}
    assert parse_lookback("") == {}
    for bad in ("1m", "1x=3", "1m=-1", "1m=a"):
        with pytest.raises(ConfigError):
            parse_lookback(bad)


@pytest.mark.anyio
async def test_a_live_tick_older_than_the_history_asked_for_is_not_taken_for_history() -> None:
    """A served venue whose clock is behind ours (``ec mock serve --start`` a past date):
    the warm-up asked history for our own last minutes, got none of the venue's, and its
    seam lies after every live tick. Only a tick inside the history's window is dropped."""

    async def live() -> AsyncIterator[Quote]:
        for ts in (100, 600, 999, 1_000, 700):
            yield Quote(symbol="CLE", ts_ns=ts, bid=7_000, ask=7_001, bid_size=1, ask_size=1)

    since, seam = {"CLE": 500}, {"CLE": 1_000}
    assert [e.ts_ns async for e in seamed(live(), seam, since)] == [100, 1_000, 700]
    assert [e.ts_ns async for e in seamed(live(), seam)] == [1_000, 700]  # the seam alone
