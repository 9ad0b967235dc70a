"""Faults the real CQG-dialect server cannot produce, against the scripted server: a request
left unanswered (it fails on a drop, or times out), a silent peer (heartbeat), orders held
while reconnecting, giving up after the last attempt. The faults it can produce (line
dropped mid-order, restart, stalled acks, malformed frames) are tested against it in
``test_cqgclient_real_server.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import anyio
import pytest
from cqgclient_support import ACCOUNT, FakeCqgServer, fake_server, settings_for
from ec_core.errors import ConnectionLostError, RequestTimeoutError
from ec_core.model import (
    ExecutionReport,
    NewOrder,
    OrderType,
    SessionEvent,
    SessionEventKind,
    SessionState,
    Side,
    SnapshotComplete,
    TradeEvent,
)
from ec_cqg.client import CqgSession

pytestmark = pytest.mark.anyio
ACC = str(ACCOUNT)


@pytest.fixture
async def server() -> AsyncIterator[FakeCqgServer]:
    async with fake_server() as srv:
        yield srv


def limit(cl: str, price: str = "4400") -> NewOrder:
    return NewOrder(
        account_id=ACC,
        symbol="EP",
        side=Side.BUY,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl,
    )


async def collect_until(events: Any, kind: SessionEventKind) -> list[TradeEvent]:
    got: list[TradeEvent] = []
    with anyio.fail_after(10):
        async for event in events:
            got.append(event)
            if isinstance(event, SessionEvent) and event.kind is kind:
                return got
    raise AssertionError(f"stream ended before {kind}: {got}")


async def skip_snapshot(events: Any) -> None:
    with anyio.fail_after(5):
        async for event in events:
            if isinstance(event, SnapshotComplete):
                return


async def test_pending_request_fails_with_connection_lost(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        server.stall_orders = True

        async def status() -> None:
            await session.orders.historical_orders(ACC, datetime(2025, 1, 1), datetime(2025, 1, 2))

        # an information request the server never answers: stall it by swallowing it
        original = server.answer
        server.answer = lambda msg: None if msg.information_requests else original(msg)  # type: ignore[method-assign]
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.drop_all)
            with pytest.raises(ConnectionLostError):
                await status()
        server.answer = original  # type: ignore[method-assign]
        await session.wait_ready(5)


async def test_unanswered_request_times_out(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server, request_timeout=0.2)) as session:
        original = server.answer
        server.answer = lambda msg: None if msg.information_requests else original(msg)  # type: ignore[method-assign]
        with pytest.raises(RequestTimeoutError):
            await session.accounts()
        assert session.correlator.pending == ()


async def test_silent_server_is_detected_by_the_heartbeat(server: FakeCqgServer) -> None:
    settings = settings_for(server, heartbeat_interval=0.05, heartbeat_timeout=0.2)
    async with CqgSession(settings) as session:
        async with session.trades.stream(ACC) as events:
            await skip_snapshot(events)
            server.answer_pings = False
            got = await collect_until(events, SessionEventKind.RECONCILED)
            assert any(
                isinstance(e, SessionEvent) and e.kind is SessionEventKind.DISCONNECTED for e in got
            )
            server.answer_pings = True
        assert session.stats()["heartbeat_timeouts"] >= 1
        assert session.stats()["pings_sent"] >= 1


async def test_orders_are_held_while_reconnecting(server: FakeCqgServer) -> None:
    async with CqgSession(settings_for(server)) as session:
        await session.resolve("EP")
        async with session.trades.stream(ACC) as events:
            await skip_snapshot(events)
            await server.drop_all()
            with anyio.fail_after(5):
                async for event in events:
                    if isinstance(event, SessionEvent):
                        assert event.kind is SessionEventKind.DISCONNECTED
                        break
            await session.orders.send(limit("H1"))  # waits for the reconcile, then goes
            got = await collect_until(events, SessionEventKind.RECONCILED)
            del got
            with anyio.fail_after(5):
                async for event in events:
                    if isinstance(event, ExecutionReport):
                        assert event.cl_order_id == "H1"
                        break


async def test_gives_up_after_max_attempts(server: FakeCqgServer) -> None:
    settings = settings_for(server, max_reconnect_attempts=1, logon_timeout=0.3)
    session = CqgSession(settings)
    async with session:
        async with session.trades.stream(ACC) as events:
            await skip_snapshot(events)
            server.answer = lambda msg: None  # type: ignore[method-assign]
            await server.drop_all()
            with anyio.fail_after(10):
                await session.lifecycle.wait_for(SessionState.CLOSED)
            rest = [e async for e in events]  # the stream ends: no hang
            first = rest[0]
            assert isinstance(first, SessionEvent)
            assert first.kind is SessionEventKind.DISCONNECTED
        with pytest.raises(ConnectionLostError):
            await session.orders.send(limit("X"))
