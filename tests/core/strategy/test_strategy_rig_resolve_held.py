"""The order path prices what the account holds at start (``_resolve_held``), best effort:
a symbol the venue cannot resolve now (a timeout, a server error) stays in price points
with a warning, and the start goes on; it never stops ``connect()`` or ``ec run``."""

from __future__ import annotations

import logging
from typing import cast

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import ProtocolError, RequestTimeoutError, SymbolNotFoundError
from ec_core.model import Instrument, Position
from ec_core.plugins import SessionParts
from ec_core.strategy.rig import _resolve_held
from ec_core.tracking import OrderTracker, multipliers

pytestmark = pytest.mark.anyio

FOUND = cast(Instrument, object())  # the test only checks where it is stored


class _Venue:
    """Resolves CLE; EP times out, ZB is a server error, XX is not listed."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(self, symbol: str) -> Instrument:
        self.asked.append(symbol)
        if symbol == "EP":
            raise RequestTimeoutError(timeout=5.0)
        if symbol == "ZB":
            raise ProtocolError("the server failed the request")
        if symbol == "XX":
            raise SymbolNotFoundError(symbol)
        return FOUND


async def test_a_held_symbol_the_venue_cannot_resolve_now_leaves_the_start_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    instruments: dict[str, Instrument] = {}
    tracker = OrderTracker(clock=ManualClock(0), multiplier=multipliers(instruments))
    for symbol in ("CLE", "EP", "XX", "ZB"):
        tracker.adopt_position(Position(account_id="A1", symbol=symbol, qty=1))
    venue = _Venue()
    with caplog.at_level(logging.WARNING, logger="ec_core.strategy.rig"):
        await _resolve_held(cast(SessionParts, venue), tracker, "A1", instruments)
    assert venue.asked == ["CLE", "EP", "XX", "ZB"]
    assert instruments == {"CLE": FOUND}
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 2
    assert warned[0].startswith("EP held on A1: its instrument could not be resolved")
    assert "trader.instrument('ZB')" in warned[1]
