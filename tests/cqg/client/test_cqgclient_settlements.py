"""The ec CQG client and settlements: core has no settlement event, so the client reads the
settlement quotes and market values the server sends (levels 1 to 4 carry them) and
yields nothing for them; the stream goes on (docs/cqg/client.md)."""

from __future__ import annotations

from typing import Any

import pytest
from cqgclient_real import next_event, served, settings
from ec_core.model import Quote, Trade
from ec_cqg.client import CqgSession

pytestmark = pytest.mark.anyio

HOUR = 3_600_000_000_000


async def test_a_settlement_reaches_the_client_and_is_not_taken_for_a_trade() -> None:
    async with served() as srv, CqgSession(settings(srv.url)) as session:
        instrument = await session.resolve("EP")
        async with session.market_data.stream([instrument]) as events:
            seen: list[Any] = []
            await next_event(events, lambda e: isinstance(e, Quote), seen)
            srv.venue.advance(7 * HOUR)  # 16:00 CT: EP settles, the server sends it
            settlement = srv.venue.exchange.settlement("EP")
            assert settlement is not None
            srv.venue.advance(HOUR)  # 17:00 CT: the next session opens
            srv.venue.step(20)  # and trades: these come after the settlement on the line
            opened = settlement.ts_ns + HOUR
            await next_event(events, lambda e: isinstance(e, Trade) and e.ts_ns > opened, seen)
            at_close = [e for e in seen if isinstance(e, Trade) and e.ts_ns == settlement.ts_ns]
            assert at_close == []
            assert events.dropped == 0
        assert session.stats().get("bad_items", 0) == 0
