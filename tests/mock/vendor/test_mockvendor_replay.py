"""The mock vendor's replay capability: ``session.replay`` is the core's ``ReplayFeed``.

Recorded ticks go in through the core protocol only; what they cause is read from
the trader's trade stream, as ``ec replay`` reads it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.model import NewOrder, OrderType, Quote, ReportKind, Side, Trade
from ec_core.plugins import PluginHost
from ec_core.vendor import ReplayFeed, Session, SupportsReplay
from ec_mock.market import RecordedVenue, ReplayFeeder
from ec_mock.vendor import MockVenue
from mockvendor_support import ESX, START_NS, TRADER, next_report, quiet_venue

BID, ASK = 19999, 20001  # 4999.75 and 5000.25 in ticks of 0.25


def recorded_quote(dt: int = 1, *, bid: int = BID, ask: int = ASK, size: int = 10) -> Quote:
    return Quote(
        symbol=ESX.symbol, ts_ns=START_NS + dt, bid=bid, bid_size=size, ask=ask, ask_size=size
    )


def limit(side: Side, qty: int, price: str, cl: str) -> NewOrder:
    return NewOrder(
        account_id=TRADER,
        symbol=ESX.symbol,
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl,
    )


def feed_of(session: Session) -> ReplayFeed:
    assert isinstance(session, SupportsReplay)
    feed = session.replay
    assert isinstance(feed, ReplayFeed)
    return feed


@pytest.mark.anyio
async def test_a_quiet_simulated_venue_offers_replay_on_its_own_clock(
    trader: Session, venue: MockVenue
) -> None:
    feed = feed_of(trader)
    assert feed.clock is venue.clock
    assert feed_of(trader) is feed  # one feeder per session, not one per access
    feed.feed(recorded_quote(dt=7_000))
    assert venue.clock.now_ns() == START_NS + 7_000
    assert isinstance(feed, RecordedVenue)  # the default: the recorded touch is the market
    best = venue.exchange.best_quote(ESX.symbol)
    assert best is not None
    assert (best.bid, best.ask) == (None, None)  # kept by the venue, not shown as orders


@pytest.mark.anyio
async def test_the_full_book_replay_stays_selectable(host: PluginHost) -> None:
    """``[vendors.mock.replay] venue = "book"``: recorded quotes become house orders."""
    venue = quiet_venue()
    settings = {"venue": venue, "account_id": TRADER, "replay": {"venue": "book"}}
    async with host.open_session("mock", settings) as session:
        feed = feed_of(session)
        assert isinstance(feed, ReplayFeeder)
        feed.feed(recorded_quote())
        best = venue.exchange.best_quote(ESX.symbol)
        assert best is not None
        assert (best.bid, best.ask) == (BID, ASK)
    venue.check()


@pytest.mark.anyio
async def test_recorded_quotes_are_liquidity_and_recorded_prints_fill_resting_orders(
    trader: Session,
) -> None:
    feed = feed_of(trader)
    feed.feed(recorded_quote())
    async with trader.trades.stream(TRADER) as events:
        await trader.orders.send(limit(Side.BUY, 2, "5000.25", "take"))
        taken = await next_report(events, "take", ReportKind.FILL)
        assert (taken.filled_qty, taken.avg_fill_price) == (2, Decimal("5000.25"))
        await trader.orders.send(limit(Side.BUY, 3, "5000.00", "inside"))
        await next_report(events, "inside", ReportKind.ACCEPTED)
        # a print through our price fills the order that improved the recorded bid
        feed.feed(Trade(symbol=ESX.symbol, ts_ns=START_NS + 2, price=BID, size=1))
        filled = await next_report(events, "inside", ReportKind.FILL)
        assert (filled.filled_qty, filled.avg_fill_price) == (3, Decimal("5000.00"))


@pytest.mark.anyio
async def test_no_replay_beside_a_simulated_market_or_on_a_wall_clock(host: PluginHost) -> None:
    with_market = MockVenue.create(
        clock=ManualClock(START_NS), instruments=[ESX], accounts=[TRADER], market=True,
        market_options={"start_prices": {ESX.symbol: Decimal("5000")}},
    )  # fmt: skip
    wall = MockVenue.create(pace="wall", instruments=[ESX], accounts=[TRADER], market=False)
    for venue in (with_market, wall):
        async with host.open_session("mock", {"venue": venue, "account_id": TRADER}) as session:
            assert isinstance(session, SupportsReplay)
            assert session.replay is None


@pytest.mark.anyio
async def test_after_a_venue_restart_replay_feeds_the_new_exchange(host: PluginHost) -> None:
    venue = quiet_venue()
    async with host.open_session("mock", {"venue": venue, "account_id": TRADER}) as session:
        before = feed_of(session)
        venue.restart(keep_state=False)
        after = feed_of(session)
        assert after is not before
        assert isinstance(after, RecordedVenue)
        assert after.exchange is venue.exchange
    venue.check()


@pytest.mark.anyio
async def test_after_a_venue_restart_orders_go_to_the_new_exchange_at_once(
    host: PluginHost,
) -> None:
    """The session drops its recorded venue when the exchange restarts: an order sent
    before ``replay`` is read again reaches the new exchange, never the old one's venue."""
    venue = quiet_venue()
    async with host.open_session("mock", {"venue": venue, "account_id": TRADER}) as session:
        before = feed_of(session)
        assert isinstance(before, RecordedVenue)
        old = venue.exchange
        venue.restart(keep_state=False)
        await session.orders.send(limit(Side.BUY, 1, "4990.00", "after-restart"))
        assert venue.exchange.order_status(TRADER, "after-restart") is not None
        assert old.order_status(TRADER, "after-restart") is None
        assert feed_of(session) is not before  # a fresh venue for the new exchange
    venue.check()
