"""The mock session exposes its venue's clock through core's SupportsClock protocol, and
its time through SupportsVenueTime."""

from __future__ import annotations

import pytest
from ec_core.clock import ManualClock, WallClock
from ec_core.front import venue_clock as _venue_clock
from ec_core.front import venue_now_ns
from ec_core.vendor import Session, SupportsClock, SupportsVenueTime
from ec_mock.vendor import MockVenue


@pytest.mark.anyio
async def test_session_clock_is_the_venues_simulated_clock(
    trader: Session, venue: MockVenue
) -> None:
    assert isinstance(trader, SupportsClock)
    before = trader.clock.now_ns()
    venue.advance(1_000_000)
    assert trader.clock.now_ns() == before + 1_000_000
    assert _venue_clock(trader) is venue.clock


def test_a_session_without_a_clock_runs_on_the_wall() -> None:
    assert isinstance(_venue_clock(object()), WallClock)


@pytest.mark.anyio
async def test_session_venue_time_is_the_venues_clock(trader: Session, venue: MockVenue) -> None:
    assert isinstance(trader, SupportsVenueTime)
    venue.advance(2_000_000)
    assert trader.venue_time_ns() == venue.clock.now_ns()
    assert venue_now_ns(trader, WallClock()) == venue.clock.now_ns()


class _Behind:
    """A session that says its venue's time, or None when it does not know it yet."""

    def __init__(self, told: int | None) -> None:
        self.told = told

    def venue_time_ns(self) -> int | None:
        return self.told


def test_venue_now_is_the_sessions_word_else_the_clocks() -> None:
    clock = ManualClock(5_000)
    assert venue_now_ns(_Behind(1_000), clock) == 1_000
    assert venue_now_ns(_Behind(None), clock) == 5_000  # not logged on yet: the clock's
    assert venue_now_ns(object(), clock) == 5_000
