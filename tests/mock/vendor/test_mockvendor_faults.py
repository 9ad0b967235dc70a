"""Each fault scenario of a plan, observed from the client side of a ``mock`` session.

On the quiet venue a resting limit order produces exactly two outbound messages:
its ACCEPTED report, then the quote it changed. Message indexes below count those.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from ec_core.errors import ConnectionLostError
from ec_core.model import (
    CancelAll,
    ExecutionReport,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    SessionEvent,
    SessionEventKind,
    SessionState,
    Side,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.plugins import PluginHost
from ec_mock.vendor import MockSession, MockVenue, TradeEventChannel
from mockvendor_support import ESX, TRADER, next_matching, next_report, quiet_venue

SECOND = 1_000_000_000


def rest(cl: str, price: str = "4990") -> NewOrder:
    return NewOrder(
        account_id=TRADER,
        symbol=ESX.symbol,
        side=Side.BUY,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl,
    )


@asynccontextmanager
async def faulty(
    host: PluginHost, venue: MockVenue, **plan: Any
) -> AsyncIterator[tuple[MockSession, TradeEventChannel]]:
    settings = {"venue": venue, "account_id": TRADER, "faults": plan}
    async with host.open_session("mock", settings) as session:
        assert isinstance(session, MockSession)
        async with session.trades.stream(TRADER) as events:
            assert isinstance(events, TradeEventChannel)
            await next_matching(events, lambda e: isinstance(e, SnapshotComplete))
            yield session, events
        assert session.gate is not None
        assert session.gate.unfired() == []


def kinds_of(events: list[TradeEvent]) -> list[str]:
    return [
        f"{e.cl_order_id}:{e.kind.value}" if isinstance(e, ExecutionReport) else type(e).__name__
        for e in events
    ]


@pytest.mark.anyio
async def test_drop_acks(host: PluginHost, venue: MockVenue) -> None:
    async with faulty(host, venue, drop_acks=1) as (session, events):
        await session.orders.send(rest("a"))
        await session.orders.send(rest("b"))
        assert kinds_of(events.drain()) == ["b:ACCEPTED"]
        status = await session.orders.order_status(TRADER, "a")
        assert status is not None
        assert status.state is OrderState.WORKING  # the venue has it; only the ack was lost


@pytest.mark.anyio
async def test_delay_holds_an_event_until_the_clock_reaches_it(
    host: PluginHost, venue: MockVenue
) -> None:
    async with faulty(host, venue, delay_indices=[0], delay_ns=2 * SECOND) as (session, events):
        await session.orders.send(rest("a"))
        assert events.drain() == []
        venue.advance(SECOND)
        assert events.drain() == []
        venue.advance(SECOND)
        assert kinds_of(events.drain()) == ["a:ACCEPTED"]


@pytest.mark.anyio
async def test_duplicate(host: PluginHost, venue: MockVenue) -> None:
    async with faulty(host, venue, duplicate_indices=[0]) as (session, events):
        await session.orders.send(rest("a"))
        assert kinds_of(events.drain()) == ["a:ACCEPTED", "a:ACCEPTED"]


@pytest.mark.anyio
async def test_reorder(host: PluginHost, venue: MockVenue) -> None:
    # messages: 0 a ACCEPTED, 1 quote, 2 b ACCEPTED (behind a: no new quote),
    # then cancel-all: 3 a CANCELLED, 4 b CANCELLED, 5 quote
    async with faulty(host, venue, reorder_indices=[3]) as (session, events):
        await session.orders.send(rest("a"))
        await session.orders.send(rest("b", "4989"))
        await session.orders.send(CancelAll(account_id=TRADER, cl_order_id="all"))
        seen = [k for k in kinds_of(events.drain()) if k.endswith("CANCELLED")]
    assert seen == ["b:CANCELLED", "a:CANCELLED"]


@pytest.mark.anyio
async def test_reject_next_orders(host: PluginHost, venue: MockVenue) -> None:
    async with faulty(host, venue, reject_next=2, reject_code="FAULT_INJECTED") as (s, events):
        for cl in ("a", "b", "c"):
            await s.orders.send(rest(cl))
        first = await next_report(events, "a", ReportKind.REJECTED)
        second = await next_report(events, "b", ReportKind.REJECTED)
        third = await next_report(events, "c")
    assert (first.reject_code, second.reject_code) == ("FAULT_INJECTED", "FAULT_INJECTED")
    assert third.kind is ReportKind.ACCEPTED
    assert venue.exchange.faults is None  # uninstalled when the session closed


@pytest.mark.anyio
async def test_stalled_acks_wait_until_released(host: PluginHost, venue: MockVenue) -> None:
    async with faulty(host, venue, stall_acks=1) as (session, events):
        await session.orders.send(rest("a"))
        await session.orders.send(rest("b"))
        assert kinds_of(events.drain()) == ["b:ACCEPTED"]
        assert session.gate is not None
        assert session.gate.release_stalled() == 1
        assert kinds_of(events.drain()) == ["a:ACCEPTED"]


@pytest.mark.anyio
async def test_disconnect_after_n_messages_then_gap_and_snapshot(
    host: PluginHost, venue: MockVenue
) -> None:
    async with faulty(host, venue, disconnect_after=2) as (session, events):
        await session.orders.send(rest("a"))  # ACCEPTED + quote: the line drops
        assert session.state is SessionState.RECONNECTING
        with pytest.raises(ConnectionLostError):
            await session.orders.send(rest("lost"))
        venue.advance(1)  # the next clock move brings the line back
        assert session.state.value == "LOGGED_ON"  # read again: advance() moved it
        seen = events.drain()
    assert kinds_of(seen) == [
        "a:ACCEPTED",
        "SessionEvent",  # DISCONNECTED
        "SessionEvent",  # GAP
        "a:STATUS",  # the snapshot again
        "AccountReport",
        "SnapshotComplete",
        "SessionEvent",  # RECONNECTED
    ]
    session_events = [e.kind for e in seen if isinstance(e, SessionEvent)]
    assert session_events == [
        SessionEventKind.DISCONNECTED,
        SessionEventKind.GAP,
        SessionEventKind.RECONNECTED,
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("keep_state", [True, False])
async def test_restart_keeping_or_losing_state(
    host: PluginHost, venue: MockVenue, keep_state: bool
) -> None:
    plan = {"restart_after": 2, "restart_keep_state": keep_state}
    async with faulty(host, venue, **plan) as (session, events):
        old_exchange = venue.exchange
        await session.orders.send(rest("a"))
        venue.advance(1)  # restarts happen on a clock move, never inside a callback
        assert venue.exchange is not old_exchange
        seen = events.drain()
        assert session.state is SessionState.LOGGED_ON
        open_orders = await session.orders.open_orders(TRADER)
    snapshot = kinds_of(seen)[kinds_of(seen).index("SessionEvent") :]
    if keep_state:
        assert "a:STATUS" in snapshot
        assert [r.cl_order_id for r in open_orders] == ["a"]
    else:
        assert "a:STATUS" not in snapshot
        assert open_orders == []
    assert "SnapshotComplete" in snapshot


@pytest.mark.anyio
async def test_unfired_faults_are_reported() -> None:
    from ec_mock.vendor import MockVendorFactory

    venue = quiet_venue()
    settings = {"venue": venue, "account_id": TRADER, "faults": {"reject_next": 1}}
    async with MockVendorFactory().open(settings) as session:
        pass
    assert session.gate is not None
    assert session.gate.unfired() == ["reject_next (0 of 1)"]
