"""The mock session exposes its venue's clock through core's SupportsClock protocol."""

from __future__ import annotations

import pytest
from ec_core.clock import WallClock
from ec_core.front import venue_clock as _venue_clock
from ec_core.vendor import Session, SupportsClock
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
