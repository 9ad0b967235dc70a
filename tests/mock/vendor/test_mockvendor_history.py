"""History of the mock vendor: the venue's tape is what the live stream showed."""

from __future__ import annotations

import pytest
from ec_core.clock import ManualClock
from ec_core.data import BarSource, TickBuffer
from ec_core.errors import HistoryTooFarBackError
from ec_core.history import SupportsHistory
from ec_core.model import MarketEvent, Trade
from ec_core.plugins import PluginHost
from ec_mock.vendor import MarketDataChannel, MockVenue
from ec_mock.vendor.tape import Tape
from ec_mock.vendor.venue import SIM_START_NS

MINUTE = 60 * 10**9


@pytest.mark.anyio
async def test_history_ticks_are_exactly_what_the_live_stream_showed(host: PluginHost) -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=5, accounts=["A"])
    async with host.open_session("mock", {"venue": venue, "account_id": "A"}) as session:
        assert isinstance(session, SupportsHistory)
        instrument = await session.resolve("CLE")
        live: list[MarketEvent] = []
        async with session.market_data.stream([instrument]) as events:
            assert isinstance(events, MarketDataChannel)
            for _ in range(3 * 60):  # three minutes of 100 ms steps, drained each second
                venue.step(10)
                live.extend(events.drain())
            assert events.dropped == 0
        history = await session.history.ticks(instrument, SIM_START_NS)
        assert history.up_to_ns == venue.clock.now_ns() + 1
        streamed = [e for e in live if e.ts_ns > SIM_START_NS]  # after the snapshot
        assert [e for e in history if e.ts_ns > SIM_START_NS] == streamed
        assert any(isinstance(e, Trade) for e in history)


@pytest.mark.anyio
async def test_history_bars_are_the_complete_bars_the_live_buffer_builds(
    host: PluginHost,
) -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=8, accounts=["A"])
    async with host.open_session("mock", {"venue": venue, "account_id": "A"}) as session:
        assert isinstance(session, SupportsHistory)
        instrument = await session.resolve("EP")
        venue.step(5 * 600 + 7)
        now = venue.clock.now_ns()
        bars = await session.history.bars(instrument, "1m", SIM_START_NS)
        assert bars.up_to_ns == now
        assert len(bars) == 5  # the sixth minute is not complete
        buffer = TickBuffer(instrument, timeframes=["1m"], source=BarSource.TRADE)
        for event in await session.history.ticks(instrument, SIM_START_NS):
            buffer.on_event(event)
        assert list(bars) == list(buffer.bars("1m"))
        middle = await session.history.bars(
            instrument, "1m", SIM_START_NS + MINUTE, SIM_START_NS + 3 * MINUTE
        )
        assert list(middle) == list(bars)[1:3]
        assert middle.up_to_ns == SIM_START_NS + 3 * MINUTE


@pytest.mark.anyio
async def test_before_the_tape_is_too_far_back_and_the_tape_survives_a_restart(
    host: PluginHost,
) -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=2, accounts=["A"])
    async with host.open_session("mock", {"venue": venue, "account_id": "A"}) as session:
        assert isinstance(session, SupportsHistory)
        instrument = await session.resolve("GCE")
        venue.step(100)
        with pytest.raises(HistoryTooFarBackError) as caught:
            await session.history.ticks(instrument, SIM_START_NS - 1)
        assert caught.value.horizon_ns == SIM_START_NS
        assert "ask for a later start" in str(caught.value)
        before = len(await session.history.ticks(instrument, SIM_START_NS))
        venue.restart(keep_state=False)
        assert len(await session.history.ticks(instrument, SIM_START_NS)) >= before > 0


def test_a_full_tape_drops_its_oldest_half_and_moves_the_horizon() -> None:
    tape = Tape(started_ns=0, capacity=4)
    for ts in range(1, 6):
        tape.record(Trade(symbol="X", ts_ns=ts * 10, price=1, size=1))
    assert [e.ts_ns for e in tape.events("X", 0, 100)] == [30, 40, 50]
    assert tape.horizon_ns("X") == 30
    assert tape.horizon_ns("Y") == 0
    tape.backfill("X", [Trade(symbol="X", ts_ns=5, price=1, size=1)])
    assert tape.horizon_ns("X") == 5
    with pytest.raises(ValueError, match="overlaps"):
        tape.backfill("X", [Trade(symbol="X", ts_ns=99, price=1, size=1)])
