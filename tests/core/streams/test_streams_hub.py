"""TradeHub: snapshot, SnapshotComplete, live events per subscriber; disconnects; close."""

from __future__ import annotations

from collections.abc import Iterable

import anyio
import pytest
from ec_core.model import (
    Account,
    AccountReport,
    ExecutionReport,
    OrderState,
    OrderType,
    ReportKind,
    SessionEvent,
    Side,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.streams import TradeHub


def report(account_id: str, n: int) -> ExecutionReport:
    return ExecutionReport(
        kind=ReportKind.ACCEPTED, account_id=account_id, symbol="ESZ5", cl_order_id=f"o{n}",
        state=OrderState.WORKING, side=Side.BUY, order_type=OrderType.LMT, qty=1, ts_ns=n,
    )  # fmt: skip


def account_snapshot(account_id: str, now_ns: int) -> Iterable[TradeEvent]:
    return [AccountReport(account=Account(account_id=account_id), ts_ns=now_ns)]


def kinds(events: list[TradeEvent]) -> list[str]:
    return [
        e.kind.value if isinstance(e, SessionEvent | ExecutionReport) else type(e).__name__
        for e in events
    ]


@pytest.mark.anyio
async def test_snapshot_then_complete_then_live_events_of_that_account_only() -> None:
    hub = TradeHub(account_snapshot)
    async with hub.stream("A", lambda: 5) as a, hub.stream("B", lambda: 6) as b:
        hub.publish(report("A", 7))
        hub.publish(report("B", 8))
        assert kinds(a.drain()) == ["AccountReport", "SnapshotComplete", "ACCEPTED"]
        assert [getattr(e, "cl_order_id", "") for e in b.drain()][-1] == "o8"
        assert hub.subscribed_accounts() == ["A", "B"]
    assert hub.sinks() == []  # removed on exit
    assert a.closed


@pytest.mark.anyio
async def test_stream_waits_for_its_gate_before_the_snapshot() -> None:
    hub = TradeHub(account_snapshot)
    gate = anyio.Event()
    entered = anyio.Event()

    async def subscriber() -> None:
        async with hub.stream("A", lambda: 1, ready=gate.wait) as events:
            assert kinds(events.drain()) == ["AccountReport", "SnapshotComplete"]
            entered.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(subscriber)
        await anyio.wait_all_tasks_blocked()
        assert hub.sinks() == []  # not subscribed before the gate opens
        gate.set()
        await entered.wait()


def test_disconnect_and_reconnect_reach_every_subscriber() -> None:
    hub = TradeHub(account_snapshot)
    a = hub.open("A", 1)
    b = hub.open("B", 1)
    a.drain()
    b.drain()
    hub.disconnected("socket closed", 2)
    hub.reconnected(3)
    for channel in (a, b):
        events = channel.drain()
        assert kinds(events) == [
            "DISCONNECTED", "GAP", "AccountReport", "SnapshotComplete", "RECONNECTED"
        ]  # fmt: skip
        first = events[0]
        assert isinstance(first, SessionEvent)
        assert first.detail == "socket closed"
    assert isinstance(events[3], SnapshotComplete)
    assert events[3].ts_ns == 3


@pytest.mark.anyio
async def test_close_ends_every_subscribers_iteration() -> None:
    hub = TradeHub(account_snapshot)
    channel = hub.open("A", 1)
    hub.publish(report("A", 2))
    hub.close()
    assert kinds([e async for e in channel]) == ["AccountReport", "SnapshotComplete", "ACCEPTED"]


def test_an_overflowing_subscriber_gets_the_hubs_snapshot_at_the_latest_time() -> None:
    hub = TradeHub(account_snapshot, capacity=2)
    channel = hub.open("A", 1)
    for n in range(10, 13):
        hub.publish(report("A", n))
    events = channel.drain()
    assert kinds(events) == ["GAP", "AccountReport", "SnapshotComplete", "ACCEPTED", "ACCEPTED"]
    assert events[2].ts_ns == 10  # the snapshot at the latest time the hub saw
    assert channel.overflows == 1  # the resync does not count against the live room
