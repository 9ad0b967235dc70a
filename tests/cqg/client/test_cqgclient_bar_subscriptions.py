"""Time bar subscriptions over a real socket: the history, then each live bar once
complete, the same bars the venue's tape cuts; dropped on exit; ended by a lost line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from cqgclient_support import cqg_session_on
from ec_core.clock import ManualClock
from ec_core.data.bars import cut_bars
from ec_core.data.timeframe import Timeframe
from ec_core.errors import ConnectionLostError
from ec_core.model import Bar
from ec_cqg.server.core import CqgServerCore
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

USER, PASSWORD = "bars", "bars-password"
MINUTE = 60 * 10**9


@pytest.fixture
def venue() -> MockVenue:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=21, accounts=["B-1"])
    venue.step(4 * 600 + 150)  # four minutes and fifteen seconds
    return venue


@pytest.fixture
async def session(venue: MockVenue) -> AsyncIterator[Any]:
    async with cqg_session_on(venue, USER, PASSWORD) as cqg:
        yield cqg


def _tape_bars(venue: MockVenue) -> list[Bar]:
    events = venue.tape.events("EP", SIM_START_NS, 2**62)
    return cut_bars(events, Timeframe.parse("1m"), symbol="EP")


def _server(venue: MockVenue) -> CqgServerCore:
    (server,) = [link for link in venue.links if isinstance(link, CqgServerCore)]
    return server


async def _take(stream: AsyncIterator[Bar], count: int) -> list[Bar]:
    out: list[Bar] = []
    with anyio.fail_after(10):
        async for bar in stream:
            out.append(bar)
            if len(out) == count:
                break
    return out


@pytest.mark.anyio
async def test_history_then_live_bars_are_the_tapes_bars_without_a_seam(
    session: Any, venue: MockVenue
) -> None:
    instrument = await session.resolve("EP")
    async with session.history.subscribe_bars(instrument, "1m", SIM_START_NS) as stream:
        history = await _take(stream, 4)
        assert history == _tape_bars(venue)[:4]
        venue.step(3 * 600)  # three more minutes: the fifth, sixth and seventh complete
        live = await _take(stream, 3)
        tape = _tape_bars(venue)
        assert history + live == tape[:7]  # the fifth began before the seam: counted once
        # the bar in progress is the eighth as it stands: a round trip after the updates
        # (frames arrive in order) is the barrier
        await session.accounts()
        assert stream.current == tape[7]
        assert tape[7].end_ns > venue.clock.now_ns()
        assert len(_server(venue).history.feeds) == 1
    assert not _server(venue).history.feeds  # dropped on exit, answered DROPPED
    assert session.stats().get("bar_updates_stale", 0) == 0


@pytest.mark.anyio
async def test_a_lost_line_ends_the_stream_with_a_clear_error(
    session: Any, venue: MockVenue
) -> None:
    instrument = await session.resolve("EP")
    async with session.history.subscribe_bars(instrument, "1m", SIM_START_NS) as stream:
        await _take(stream, 4)
        await session.drop_line()
        with anyio.fail_after(10), pytest.raises(ConnectionLostError, match="subscribe again"):
            await _take(stream, 1)
