"""Two queued trade streams into one executor: a gap is its own stream's.

A session event names no account. When an executor consumes one plain (queued)
stream per account, the streams' events reach it interleaved however the event
loop runs the consumers; before the fix a ``DISCONNECTED`` or ``GAP`` marked every
account with open orders, so the second stream's gap re-marked an account whose
own snapshot had already resynced it: that mark waited for a snapshot that never
came (``gaps_pending`` kept the account for good) and a gap on one subscription
(an overflow) held every other account open the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal

import anyio
import pytest
from anyio.streams.memory import MemoryObjectSendStream
from ec_core.execution import Payload
from ec_core.model import (
    NewOrder,
    OrderType,
    SessionEvent,
    SessionEventKind,
    Side,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.streams import TradeChannel
from exec_rig import ACCOUNT, SYMBOL, Rig, limit, rig

OTHER = "ACC2"


def other(price: str) -> NewOrder:
    return NewOrder(
        account_id=OTHER, symbol=SYMBOL, side=Side.BUY, qty=1, order_type=OrderType.LMT,
        limit_price=Decimal(price),
    )  # fmt: skip


class Relay:
    """A venue stream handed to the executor as a plain async iterator, by hand: the
    test decides which stream's events the executor sees first."""

    def __init__(self, r: Rig, channel: TradeChannel, send: MemoryObjectSendStream[TradeEvent]):
        self.r = r
        self.channel = channel
        self.send = send

        self.held: list[TradeEvent] = []

    async def forward(self, count: int | None = None) -> list[TradeEvent]:
        """Hand the executor the next ``count`` events of the stream (all: ``None``)."""
        self.held.extend(self.channel.drain())
        n = len(self.held) if count is None else count
        events, self.held = self.held[:n], self.held[n:]
        for event in events:
            self.send.send_nowait(event)
        await self.r.settle()
        return events


@asynccontextmanager
async def relays(r: Rig) -> AsyncIterator[tuple[Relay, Relay]]:
    async with AsyncExitStack() as stack:
        pair: list[Relay] = []
        for account_id in (ACCOUNT, OTHER):
            channel = await stack.enter_async_context(r.session.trades.stream(account_id))
            assert isinstance(channel, TradeChannel)
            send, receive = anyio.create_memory_object_stream[TradeEvent](1_000)
            stack.enter_context(send)
            stack.enter_context(receive)
            await stack.enter_async_context(r.executor.consume(receive))
            pair.append(Relay(r, channel, send))
        yield pair[0], pair[1]


async def place(r: Rig, mine: Relay, theirs: Relay, *payloads: Payload) -> None:
    for payload in payloads:  # one after the other, each answered through its stream
        async with anyio.create_task_group() as tg:
            tg.start_soon(r.executor.execute, payload)
            await r.settle()
            await mine.forward()
            await theirs.forward()


def kinds(events: list[TradeEvent]) -> list[str]:
    return [
        e.kind if isinstance(e, SessionEvent) else type(e).__name__
        for e in events
        if isinstance(e, SessionEvent | SnapshotComplete)
    ]


@pytest.mark.anyio
async def test_the_second_streams_gap_does_not_mark_an_account_already_resynced() -> None:
    async with (
        rig(consume=False, accounts=(OTHER,)) as r,
        relays(r) as (mine, theirs),
    ):
        await place(r, mine, theirs, Payload(request=limit()), Payload(request=other("69.00")))
        assert len(r.tracker.open_orders()) == 2
        r.session.disconnect("the line dropped")
        r.session.reconnect()  # back: each stream has its DISCONNECTED, GAP, snapshot ...
        # ... and the executor sees the first stream's whole reconnect before the second's
        assert kinds(await mine.forward()) == [
            SessionEventKind.DISCONNECTED, SessionEventKind.GAP, "SnapshotComplete",
            SessionEventKind.RECONNECTED,
        ]  # fmt: skip
        assert r.executor.stats().gaps_pending == ()  # the first account is resynced
        assert kinds(await theirs.forward(1)) == [SessionEventKind.DISCONNECTED]
        assert r.executor.stats().gaps_pending == (OTHER,)  # its own account only
        await theirs.forward()
        assert r.executor.stats().gaps_pending == ()  # its own gap resynced it; nothing waits


@pytest.mark.anyio
async def test_an_overflow_of_one_subscription_marks_only_its_account() -> None:
    async with rig(consume=False, accounts=(OTHER,)) as r, relays(r) as (mine, theirs):
        await place(r, mine, theirs, Payload(request=limit()), Payload(request=other("69.00")))
        assert len(r.tracker.open_orders()) == 2
        # one subscription's consumer fell behind: its stream says GAP, then a snapshot
        mine.channel.push_many(
            [
                SessionEvent(kind=SessionEventKind.GAP, ts_ns=r.clock.now_ns()),
                SnapshotComplete(account_id=ACCOUNT, ts_ns=r.clock.now_ns()),
            ]
        )
        await mine.forward()
        assert r.executor.stats().gaps_pending == ()  # the other stream had no gap
