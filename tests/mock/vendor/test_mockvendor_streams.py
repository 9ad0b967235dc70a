"""Market data and trade streams: snapshot first, the seeded market, overflow policies."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from ec_core.clock import ManualClock
from ec_core.model import (
    ExecutionReport,
    NewOrder,
    OrderType,
    Quote,
    SessionEvent,
    SessionEventKind,
    SessionState,
    Side,
    SnapshotComplete,
    Trade,
)
from ec_core.plugins import PluginHost
from ec_core.vendor import Session
from ec_mock.vendor import (
    MarketDataChannel,
    MockVenue,
    TradeEventChannel,
)
from ec_mock.vendor.venue import SIM_START_NS
from mockvendor_support import ESX, HOUSE, TRADER, next_matching, quiet_venue


def _order(account: str, side: Side, price: str, cl: str, qty: int = 1) -> NewOrder:
    return NewOrder(
        account_id=account,
        symbol=ESX.symbol,
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl,
    )


@pytest.mark.anyio
async def test_quotes_snapshot_then_updates(trader: Session, house: Session) -> None:
    await house.orders.send(_order(HOUSE, Side.BUY, "4999.75", "b"))
    instrument = await trader.resolve(ESX.symbol)
    async with trader.market_data.stream([instrument]) as events:
        snapshot = await next_matching(events)
        assert isinstance(snapshot, Quote)
        assert (snapshot.bid, snapshot.ask) == (instrument.to_ticks(Decimal("4999.75")), None)
        await house.orders.send(_order(HOUSE, Side.SELL, "5000.25", "a"))
        update = await next_matching(events)
        assert isinstance(update, Quote)
        assert update.ask == instrument.to_ticks(Decimal("5000.25"))
        await trader.orders.send(_order(TRADER, Side.BUY, "5000.25", "lift"))
        trade = await next_matching(events, lambda e: isinstance(e, Trade))
        assert isinstance(trade, Trade)
        assert (trade.price, trade.size) == (instrument.to_ticks(Decimal("5000.25")), 1)


@pytest.mark.anyio
async def test_seeded_market_streams_quotes_and_trades(host: PluginHost) -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=11, accounts=["A"])
    async with host.open_session("mock", {"venue": venue, "account_id": "A"}) as session:
        instrument = await session.resolve("CLE")
        async with session.market_data.stream([instrument]) as events:
            venue.step(50)
            assert isinstance(events, MarketDataChannel)
            seen = events.drain()
    quotes = [e for e in seen if isinstance(e, Quote)]
    trades = [e for e in seen if isinstance(e, Trade)]
    assert quotes
    assert trades
    assert all(q.symbol == "CLE" for q in quotes)
    two_sided = [q for q in quotes if q.bid is not None and q.ask is not None]
    assert two_sided
    assert all(q.bid < q.ask for q in two_sided)  # type: ignore[operator]
    assert venue.steps == 50
    venue.check()


def _market_events(seed: int) -> list[object]:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=seed)
    seen: list[object] = []

    class Recorder:
        def on_trade_event(self, event: object) -> None: ...
        def on_market_event(self, event: object) -> None:
            seen.append(event)

        def on_time(self, now_ns: int) -> None: ...
        def on_restart(self, *, kept_state: bool) -> None: ...

    venue.attach(Recorder())
    venue.step(30)
    return seen


def test_same_seed_same_market() -> None:
    assert _market_events(5) == _market_events(5)
    assert _market_events(5) != _market_events(6)


@pytest.mark.anyio
async def test_private_venue_runs_its_own_market(host: PluginHost) -> None:
    settings = {"seed": 2, "clock": "simulated", "step_ms": 50}
    async with host.open_session("mock", settings) as session:
        instrument = await session.resolve("EP")
        async with session.market_data.stream([instrument]) as events:
            trades = 0
            with anyio.fail_after(5):
                async for event in events:
                    trades += isinstance(event, Trade)
                    if trades == 3:
                        break
    assert trades == 3


@pytest.mark.anyio
async def test_market_data_drops_oldest_and_counts(host: PluginHost) -> None:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=3, accounts=["A"])
    settings = {"venue": venue, "account_id": "A", "market_buffer": 4}
    async with host.open_session("mock", settings) as session:
        instrument = await session.resolve("GCE")
        async with session.market_data.stream([instrument]) as events:
            assert isinstance(events, MarketDataChannel)
            venue.step(40)
            kept = events.drain()
            assert len(kept) == 4
            assert events.dropped == events.delivered - 4
            assert events.dropped > 0
            newest = venue.exchange.best_quote("GCE")
            last_quote = [e for e in kept if isinstance(e, Quote)][-1]
            assert (last_quote.bid, last_quote.ask) == (newest.bid, newest.ask)  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_trade_overflow_is_a_gap_and_a_fresh_snapshot(host: PluginHost) -> None:
    """Bounded, visible, and the session goes on: what the consumer had not read is
    replaced by GAP, the account's snapshot and SnapshotComplete (as after a reconnect)."""
    venue = quiet_venue()
    settings = {"venue": venue, "account_id": TRADER, "trade_buffer": 5}
    async with (
        host.open_session("mock", settings) as session,
        session.trades.stream(TRADER) as events,
    ):
        assert isinstance(events, TradeEventChannel)
        for n in range(10):
            await session.orders.send(_order(TRADER, Side.BUY, "4990", f"o{n}"))
        assert events.overflows >= 1
        assert events.dropped > 0
        received = events.drain()
        gap = received[0]
        assert isinstance(gap, SessionEvent)
        assert gap.kind is SessionEventKind.GAP
        assert "TRADE_BUFFER_OVERFLOW" in gap.detail
        assert isinstance(received[-1], SnapshotComplete)
        listed = [e.cl_order_id for e in received if isinstance(e, ExecutionReport)]
        assert listed == [f"o{n}" for n in range(10)]  # the snapshot has every order
        assert session.state is SessionState.LOGGED_ON
        await session.orders.send(_order(TRADER, Side.BUY, "4990", "live"))
        (live,) = events.drain()  # live again, nothing lost since
        assert isinstance(live, ExecutionReport)
        assert live.cl_order_id == "live"


@pytest.mark.anyio
async def test_trade_sink_takes_events_in_order_and_queues_what_it_declines(
    trader: Session,
) -> None:
    taken: list[str] = []
    declined = {"o1"}

    def sink(event: object) -> bool:
        cl_order_id = getattr(event, "cl_order_id", "")
        if cl_order_id in declined:
            return False
        taken.append(cl_order_id)
        return True

    async with trader.trades.stream(TRADER) as events:
        assert isinstance(events, TradeEventChannel)
        snapshot = events.drain()  # queued before the sink was set
        assert snapshot
        events.set_sink(sink)
        await trader.orders.send(_order(TRADER, Side.BUY, "4990", "o0"))
        assert taken == ["o0"]  # synchronously, inside the send
        await trader.orders.send(_order(TRADER, Side.BUY, "4990", "o1"))
        await trader.orders.send(_order(TRADER, Side.BUY, "4990", "o2"))
        # o1 was declined, so o2 queues behind it: the consumer sees both, in order
        assert taken == ["o0"]
        assert [getattr(e, "cl_order_id", "") for e in events.drain()] == ["o1", "o2"]
        await trader.orders.send(_order(TRADER, Side.BUY, "4990", "o3"))
        assert taken == ["o0", "o3"]  # nothing queued any more: direct again
        assert events.direct == 2
        events.set_sink(None)
        await trader.orders.send(_order(TRADER, Side.BUY, "4990", "o4"))
        assert [getattr(e, "cl_order_id", "") for e in events.drain()] == ["o4"]


@pytest.mark.anyio
async def test_trade_sink_error_ends_the_stream_for_the_consumer(trader: Session) -> None:
    def sink(event: object) -> bool:
        raise RuntimeError("sink broke")

    async with trader.trades.stream(TRADER) as events:
        assert isinstance(events, TradeEventChannel)
        buffered = len(events.drain())
        assert buffered
        events.set_sink(sink)
        await trader.orders.send(_order(TRADER, Side.BUY, "4990", "o0"))
        await trader.orders.send(_order(TRADER, Side.BUY, "4990", "o1"))  # not delivered
        assert events.closed
        with pytest.raises(RuntimeError, match="sink broke"):
            await anext(aiter(events))


def test_channel_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        MarketDataChannel(0)
