"""Core's bounded channels: market data drops the oldest, trade overflow is a gap."""

from __future__ import annotations

import anyio
import pytest
from ec_core.errors import SessionError
from ec_core.model import (
    Account,
    AccountReport,
    ExecutionReport,
    MarketEvent,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    SessionEvent,
    SessionEventKind,
    Side,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.streams import MarketChannel, TradeChannel
from hypothesis import given
from hypothesis import strategies as st


def quote(n: int) -> Quote:
    return Quote(symbol="ESZ5", ts_ns=n, bid=n, bid_size=1, ask=n + 1, ask_size=1)


def report(n: int) -> ExecutionReport:
    return ExecutionReport(
        kind=ReportKind.ACCEPTED, account_id="A", symbol="ESZ5", cl_order_id=f"o{n}",
        state=OrderState.WORKING, side=Side.BUY, order_type=OrderType.LMT, qty=1, ts_ns=n,
    )  # fmt: skip


def snapshot() -> list[TradeEvent]:
    return [AccountReport(account=Account(account_id="A")), SnapshotComplete(account_id="A")]


@given(st.integers(1, 20), st.integers(0, 60))
def test_market_channel_keeps_the_newest_and_counts_the_rest(capacity: int, pushed: int) -> None:
    channel: MarketChannel[MarketEvent] = MarketChannel(capacity)
    for n in range(pushed):
        channel.push(quote(n))
    kept = channel.drain()
    assert [q.ts_ns for q in kept] == list(range(max(0, pushed - capacity), pushed))
    assert channel.dropped == max(0, pushed - capacity)
    assert channel.delivered == pushed


def test_push_many_drops_the_oldest_of_a_burst_too() -> None:
    channel: MarketChannel[MarketEvent] = MarketChannel(3)
    channel.push_many(quote(n) for n in range(5))
    assert [q.ts_ns for q in channel.drain()] == [2, 3, 4]
    assert channel.dropped == 2


def test_trade_overflow_replaces_the_backlog_with_a_gap_and_a_snapshot() -> None:
    channel = TradeChannel("A", 3, snapshot=snapshot)
    for n in range(4):
        channel.push(report(n))
    events = channel.drain()
    gap = events[0]
    assert isinstance(gap, SessionEvent)
    assert gap.kind is SessionEventKind.GAP
    assert "TRADE_BUFFER_OVERFLOW" in gap.detail
    assert gap.ts_ns == 3  # the time of the event that did not fit
    assert events[1:] == snapshot()
    assert (channel.overflows, channel.dropped) == (1, 4)
    channel.push(report(9))
    assert channel.drain() == [report(9)]  # live again


@given(st.integers(1, 10), st.integers(0, 80))
def test_a_trade_channel_never_holds_more_than_capacity_plus_a_snapshot(
    capacity: int, pushed: int
) -> None:
    channel = TradeChannel("A", capacity, snapshot=snapshot)
    for n in range(pushed):
        channel.push(report(n))
        assert len(channel) <= 2 * capacity + 1 + len(snapshot())
    assert channel.delivered + channel.dropped >= pushed


@pytest.mark.anyio
async def test_iteration_ends_after_close_once_drained() -> None:
    channel = TradeChannel("A", 10, snapshot=snapshot)
    channel.push(report(1))
    channel.close()
    channel.push(report(2))  # closed: ignored
    assert [e async for e in channel] == [report(1)]


@pytest.mark.anyio
async def test_a_waiting_consumer_is_woken_by_a_push() -> None:
    channel = TradeChannel("A", 10, snapshot=snapshot)
    got: list[TradeEvent] = []

    async def consume() -> None:
        async for event in channel:
            got.append(event)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await anyio.wait_all_tasks_blocked()
        channel.push_many([report(1), report(2)])
        channel.close()
    assert got == [report(1), report(2)]


@pytest.mark.anyio
async def test_a_sink_error_reaches_the_consumer_after_what_was_queued() -> None:
    channel = TradeChannel("A", 10, snapshot=snapshot)
    channel.push(report(1))

    def sink(event: TradeEvent) -> bool:
        raise RuntimeError("sink broke")

    channel.set_sink(sink)
    channel.push(report(2))  # queued behind report(1): the sink is not asked
    assert channel.drain() == [report(1), report(2)]
    channel.push(report(3))
    assert channel.closed
    with pytest.raises(RuntimeError, match="sink broke"):
        await anext(aiter(channel))


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        TradeChannel("A", 0, snapshot=snapshot)
    with pytest.raises(ValueError, match="capacity"):
        MarketChannel(0)


@pytest.mark.anyio
async def test_an_overflow_whose_snapshot_fails_ends_the_subscription_not_the_reader() -> None:
    def broken() -> list[TradeEvent]:
        raise RuntimeError("vendor state unavailable")

    channel = TradeChannel("A", 2, snapshot=broken)
    for n in range(3):
        channel.push(report(n))  # the vendor's reader goes on: push never raises
    channel.push(report(9))  # ignored: the subscription has ended
    got: list[TradeEvent] = []

    async def consume() -> None:
        async for event in channel:
            got.append(event)

    with pytest.raises(SessionError, match=r"TRADE_BUFFER_OVERFLOW.*resubscribe"):
        await consume()
    assert len(got) == 1
    assert isinstance(got[0], SessionEvent)
    assert got[0].kind is SessionEventKind.GAP
    assert channel.overflows == 1
