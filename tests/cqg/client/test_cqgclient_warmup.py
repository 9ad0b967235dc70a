"""A strategy warms its 1-minute bars from history over the CQG dialect, then trades live.

The CQG-dialect server (what ``ec mock serve --dialect cqg`` runs) serves a simulated
venue with six minutes of market behind it on a real loopback socket; ec's cqg client
warms the strategy's feeds from time and sales, joins the live stream at the seam, and
the strategy trades once a live minute closes, on the side its close takes against the
warmed average. Its bars are the
venue tape's bars, to the tick.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from cqgclient_support import cqg_session_on
from ec_core.clock import ManualClock
from ec_core.data import BarSource, FeedSet
from ec_core.data.bars import cut_bars
from ec_core.data.timeframe import Timeframe
from ec_core.data.warmup import seamed, warm_up
from ec_core.history import HistoryFeed
from ec_core.model import ExecutionReport, NewOrder, OrderType, ReportKind, Side
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

USER, PASSWORD = "warm", "warm-password"
ACCOUNT = "S-1"
MINUTE = 60 * 10**9


@pytest.fixture
def venue() -> MockVenue:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=31, accounts=[ACCOUNT])
    venue.step(6 * 600 + 1)  # six minutes of history
    return venue


@pytest.fixture
async def session(venue: MockVenue) -> AsyncIterator[Any]:
    async with cqg_session_on(venue, USER, PASSWORD) as cqg:
        yield cqg


@pytest.mark.anyio
async def test_a_strategy_warms_its_minute_bars_over_cqg_and_trades_live(
    session: Any, venue: MockVenue
) -> None:
    assert isinstance(session.history, HistoryFeed)
    instrument = await session.resolve("EP")
    account = next(a.account_id for a in await session.accounts() if a.name == ACCOUNT)
    feeds = FeedSet.of([instrument], timeframes=("1m",), source=BarSource.TRADE)
    buffer = feeds["EP"].tick_buffer
    async with (
        session.trades.stream(account) as trades,
        session.market_data.stream([instrument]) as stream,
    ):
        report = await warm_up(
            feeds, session.history, now_ns=venue.clock.now_ns(), lookback={"1m": 5}
        )
        warmed = list(buffer.bars("1m"))
        # minutes 1..4 are closed; the fifth is open until a print after it arrives
        assert len(warmed) >= 4
        assert report.since_ns["EP"] == SIM_START_NS + MINUTE  # a whole-minute start
        tape = venue.tape.events("EP", report.since_ns["EP"], 2**62)
        expected = cut_bars(tape, Timeframe.parse("1m"), symbol="EP")
        assert warmed == expected[: len(warmed)]  # exact prices over the wire
        average = sum(b.close for b in warmed) / len(warmed)

        live = seamed(stream, report.seams)
        order: NewOrder | None = None
        for _minute in range(5):
            venue.step(600)
            target = venue.clock.now_ns() - 10**9  # the last second surely printed
            with anyio.fail_after(10):
                async for event in live:
                    feeds.on_event(event)
                    if event.ts_ns >= target:
                        break
            bars = buffer.bars("1m")
            if len(bars) > len(warmed):  # a live minute closed: the strategy decides
                last = bars[-1]
                side = Side.BUY if last.close >= average else Side.SELL
                away = 40 if side is Side.BUY else -40  # marketable: it takes the book
                order = NewOrder(
                    account_id=account,
                    symbol="EP",
                    side=side,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=instrument.to_price(last.close + away),
                    cl_order_id="warm-1",
                )
                await session.orders.send(order)
                break
        assert order is not None, "the strategy never traded"
        venue.step(5)
        with anyio.fail_after(10):
            async for event in trades:
                if isinstance(event, ExecutionReport) and event.kind is ReportKind.FILL:
                    assert event.cl_order_id == "warm-1"
                    assert event.filled_qty == 1
                    break
    all_bars = cut_bars(
        venue.tape.events("EP", report.since_ns["EP"], 2**62), Timeframe.parse("1m"), symbol="EP"
    )
    live_built = list(buffer.bars("1m"))
    assert live_built == all_bars[: len(live_built)]  # warmed + live = the tape, no seam
