"""An order the venue itself reports UNKNOWN while connected is asked about at once.

Over the real in-process mock venue: the venue's stream says an order's state is
UNKNOWN (as an adapter does for a status code it cannot map); the executor runs the
per-order status query the reconnect's resync runs, without a reconnect and without
anyone calling ``resolve_unknown``. An order the venue cannot tell about is retried
after a doubling backoff on the executor's clock, then given up: logged and counted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import msgspec
import pytest
from ec_core.errors import RequestTimeoutError
from ec_core.execution import Payload
from ec_core.model import ExecutionReport, OrderState, ReportKind, TradeEvent
from ec_core.streams import TradeChannel
from exec_rig import ACCOUNT, Rig, limit, rig

pytestmark = pytest.mark.anyio


class Relay:
    """The account's venue stream handed to the executor by hand (a plain iterator)."""

    def __init__(self, r: Rig, channel: TradeChannel, send: anyio.abc.ObjectSendStream[TradeEvent]):
        self.r = r
        self.channel = channel
        self.send = send

    async def forward(self, *more: TradeEvent) -> None:
        """Hand the executor what the venue sent, then ``more``, and let it act."""
        for event in [*self.channel.drain(), *more]:
            await self.send.send(event)
        await self.r.settle()


@asynccontextmanager
async def relayed() -> AsyncIterator[tuple[Rig, Relay]]:
    async with rig(consume=False) as r, r.session.trades.stream(ACCOUNT) as channel:
        assert isinstance(channel, TradeChannel)
        send, receive = anyio.create_memory_object_stream[TradeEvent](1_000)
        with send, receive:
            async with r.executor.consume(receive):
                relay = Relay(r, channel, send)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(r.executor.execute, Payload(request=limit(cl_order_id="H1")))
                    await r.settle()
                    await relay.forward()
                yield r, relay


def unknown(report: ExecutionReport, **changes: object) -> ExecutionReport:
    """The venue's word that it cannot tell the order's state."""
    return msgspec.structs.replace(
        report, kind=ReportKind.STATUS, state=OrderState.UNKNOWN, **changes
    )


async def test_a_venue_report_of_unknown_is_followed_by_a_status_query() -> None:
    async with relayed() as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        assert working.state is OrderState.WORKING
        await relay.forward(unknown(working))
        order = r.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.WORKING  # the venue's answer, no reconnect
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_resolved, stats.unknown_unresolved) == (
            1,
            1,
            0,
        )
        assert stats.unknown_followed == ()


async def test_the_query_takes_the_venues_real_state() -> None:
    async with relayed() as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        r.exchange.cancel(ACCOUNT, "H1")  # the venue moved on; its report is not read yet
        relay.channel.drain()  # ... and never will be: only the query can tell
        await relay.forward(unknown(working))
        order = r.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.CANCELLED


async def test_an_order_the_venue_cannot_tell_about_is_retried_then_given_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with relayed() as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        # the venue reports an order of ours it then has no status for
        ghost = unknown(working, cl_order_id="GHOST", chain_id="GHOST")
        await relay.forward(ghost)
        assert r.tracker.order("GHOST") is not None
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_followed) == (1, ("GHOST",))
        waits = []
        for wait_s in (1, 2, 4, 8):  # doubling backoff on the executor's clock
            r.clock.advance(wait_s * 1_000_000_000 - 1)
            await relay.forward(working)  # any event: the consumer checks what is due
            waits.append(r.executor.stats().unknown_queries)  # not due yet
            r.clock.advance(1)
            with caplog.at_level(logging.ERROR, logger="ec_core.execution.executor"):
                await relay.forward(working)
        assert waits == [1, 2, 3, 4]
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_resolved, stats.unknown_unresolved) == (
            5,
            0,
            1,
        )
        assert stats.unknown_followed == ()  # given up: no more queries
        assert any(
            "GHOST" in m and "still UNKNOWN after 5 status queries" in m for m in caplog.messages
        )
        order = r.tracker.order("GHOST")
        assert order is not None
        assert order.state is OrderState.UNKNOWN  # never dropped


async def test_on_the_direct_path_the_consumer_runs_the_query() -> None:
    """An in-process venue hands events to the executor synchronously; an UNKNOWN report
    is declined there and comes through the stream, whose consumer asks about it."""
    async with rig(consume=False) as r, r.session.trades.stream(ACCOUNT) as channel:
        assert isinstance(channel, TradeChannel)
        async with r.executor.consume(channel):
            await r.executor.execute(Payload(request=limit(cl_order_id="H1")))
            await r.settle()
            working = r.exchange.order_status(ACCOUNT, "H1")
            assert working is not None
            channel.push(unknown(working))
            await r.settle()
            order = r.tracker.order("H1")
            assert order is not None
            assert order.state is OrderState.WORKING
            assert r.executor.stats().unknown_resolved == 1


async def test_a_failed_status_query_is_retried_not_the_end_of_the_stream(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A query the venue does not answer (a timeout, a session error) counts as one
    attempt and is retried after the backoff: the stream's consumer keeps running."""
    async with relayed() as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        answer = r.session.orders.order_status

        async def times_out_once(account_id: str, cl_order_id: str) -> ExecutionReport | None:
            monkeypatch.setattr(r.session.orders, "order_status", answer)
            raise RequestTimeoutError(cl_order_id=cl_order_id, timeout=2.0)

        monkeypatch.setattr(r.session.orders, "order_status", times_out_once)
        with caplog.at_level(logging.WARNING, logger="ec_core.execution.executor"):
            await relay.forward(unknown(working))
        assert any("H1" in m and "no answer" in m for m in caplog.messages)
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_followed) == (1, ("H1",))
        r.clock.advance(1_000_000_000)
        await relay.forward(unknown(working))  # the consumer is alive: it retries
        order = r.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.WORKING
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_resolved) == (2, 1)
