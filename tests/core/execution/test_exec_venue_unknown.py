"""An order the venue itself reports UNKNOWN while connected is asked about at once.

Over the real in-process mock venue: the venue's stream says an order's state is
UNKNOWN (as an adapter does for a status code it cannot map); the executor runs the
per-order status query the reconnect's resync runs, without a reconnect and without
anyone calling ``resolve_unknown``. An order the venue cannot tell about is retried
after a doubling backoff on the executor's clock, then given up: logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from ec_core.execution import NoTradeStreamError, Payload
from ec_core.model import ExecutionReport, OrderState, TradeEvent
from ec_core.streams import TradeChannel
from exec_rig import ACCOUNT, Rig, limit, rig
from unknown_support import Alarm, Relay, first_query_times_out, relayed, unknown

pytestmark = pytest.mark.anyio


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
        first_query_times_out(r, monkeypatch)
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


class VenueTime:
    """The executor's sleep in these tests: the venue's clock moves by what is slept."""

    def __init__(self) -> None:
        self.rig: Rig | None = None
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        assert self.rig is not None
        self.slept.append(seconds)
        self.rig.venue.advance(round(seconds * 1e9))
        await anyio.lowlevel.checkpoint()


@asynccontextmanager
async def quiet(time: VenueTime) -> AsyncIterator[tuple[Rig, Relay]]:
    async with relayed(sleep=time.sleep) as (r, relay):
        time.rig = r
        yield r, relay


async def test_on_a_quiet_stream_retries_run_on_the_clock_then_are_given_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No event after the UNKNOWN report (a night session, an idle account): the retries
    are asked when their backoff ends on the executor's clock, not at the next event."""
    time = VenueTime()
    async with quiet(time) as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        ghost = unknown(working, cl_order_id="GHOST", chain_id="GHOST")
        start = r.clock.now_ns()
        with caplog.at_level(logging.ERROR, logger="ec_core.execution.executor"):
            await relay.forward(ghost)  # then nothing more from the venue
        assert time.slept == [1.0, 2.0, 4.0, 8.0]  # the doubling backoff, slept on
        assert r.clock.now_ns() - start == 15_000_000_000
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_resolved, stats.unknown_unresolved) == (
            5,
            0,
            1,
        )
        assert stats.unknown_followed == ()
        assert any(
            "GHOST" in m and "still UNKNOWN after 5 status queries" in m for m in caplog.messages
        )
        order = r.tracker.order("GHOST")
        assert order is not None
        assert order.state is OrderState.UNKNOWN  # never dropped


async def test_on_a_quiet_stream_a_retry_after_the_backoff_reconciles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    time = VenueTime()
    async with quiet(time) as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        first_query_times_out(r, monkeypatch)
        await relay.forward(unknown(working))
        with anyio.fail_after(10):  # a guard: a follow-up that hangs fails, never waits on
            await r.executor.unknown_followed_up()
        assert time.slept == [1.0]
        order = r.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.WORKING
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_resolved, stats.unknown_followed) == (
            2,
            1,
            (),
        )


def tasks() -> set[asyncio.Task[Any]]:
    return set(asyncio.all_tasks())


@asynccontextmanager
async def ghost_stream(r: Rig, channel: TradeChannel) -> AsyncIterator[ExecutionReport]:
    """The executor runs over a plain stream of ``channel``'s events, H1 is placed and
    the venue then reports an order GHOST UNKNOWN (yielded); leaving ends the stream
    and waits for the executor's run to return."""
    send, receive = anyio.create_memory_object_stream[TradeEvent](100)
    with receive, anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(r.executor.run, receive)
            tg.start_soon(r.executor.execute, Payload(request=limit(cl_order_id="H1")))
            await r.settle()
            working = r.exchange.order_status(ACCOUNT, "H1")
            assert working is not None
            ghost = unknown(working, cl_order_id="GHOST", chain_id="GHOST")
            for event in [*channel.drain(), ghost]:
                await send.send(event)
            await r.settle()
            yield ghost
            send.close()  # the stream ends: run returns


async def test_the_timer_ends_with_its_stream_while_a_retry_waits() -> None:
    """A retry due in an hour does not hold the consumer: the stream ends, the executor's
    run returns and its timer with it; closing a consume block leaves no task behind."""
    slept: list[float] = []

    async def long_sleep(seconds: float) -> None:
        slept.append(seconds)
        await anyio.sleep_forever()  # the executor's clock never gets there

    before = tasks()
    async with rig(consume=False, sleep=long_sleep) as r, r.session.trades.stream(ACCOUNT) as ch:
        assert isinstance(ch, TradeChannel)
        async with ghost_stream(r, ch) as ghost:
            assert slept == [1.0]  # the timer waits for the retry
            assert r.executor.stats().unknown_followed == ("GHOST",)
        # the stream ended: run returned, the timer is not left behind
        assert tasks() <= before | {asyncio.current_task()}
        more, events = anyio.create_memory_object_stream[TradeEvent](100)
        with more, events, anyio.fail_after(10):
            async with r.executor.consume(events):
                await more.send(ghost)  # queued already: no second entry
                await r.settle()
                assert slept == [1.0, 1.0]  # this stream's timer waits for the same retry
                assert r.executor.stats().unknown_followed == ("GHOST",)
        assert tasks() <= before | {asyncio.current_task()}


async def test_without_the_timer_retries_wait_for_events() -> None:
    """unknown_timer=False (a replay: its clock moves only with its events): the executor
    never sleeps; a retry is asked when an event comes after its backoff."""

    async def refuse(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}")

    async with relayed(sleep=refuse, unknown_timer=False) as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        await relay.forward(unknown(working, cl_order_id="GHOST", chain_id="GHOST"))
        r.clock.advance(1_000_000_000)
        await r.settle()
        assert r.executor.stats().unknown_queries == 1  # quiet: nothing asked
        await relay.forward(working)
        assert r.executor.stats().unknown_queries == 2


@asynccontextmanager
async def two_streams(
    alarm: Alarm,
) -> AsyncIterator[tuple[Rig, TradeChannel, TradeChannel, ExecutionReport]]:
    """One executor consuming two accounts' streams (ACC1's, ACC2's), each with its
    timer sleeping on ``alarm``; H1 placed on ACC1 (its venue report yielded)."""
    async with (
        rig(consume=False, accounts=("ACC2",), sleep=alarm.sleep) as r,
        r.session.trades.stream(ACCOUNT) as first,
        r.session.trades.stream("ACC2") as second,
        r.executor.consume(first),
        r.executor.consume(second),
    ):
        assert isinstance(first, TradeChannel)
        assert isinstance(second, TradeChannel)
        await r.executor.execute(Payload(request=limit(cl_order_id="H1")))
        await r.settle()
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        yield r, first, second, working


async def test_one_executor_over_two_streams_asks_once_per_retry() -> None:
    """Each stream's consumer has its timer; both wake for the same retry, one asks."""
    alarm = Alarm()
    async with two_streams(alarm) as (r, first, _second, working):
        first.push(unknown(working, cl_order_id="GHOST", chain_id="GHOST"))
        await r.settle()
        assert r.executor.stats().unknown_queries == 1  # at once, by the consumer
        assert alarm.slept == [1.0, 1.0]  # both timers wait for the retry
        for wait_s, queries in ((1, 2), (2, 3)):
            r.clock.advance(wait_s * 1_000_000_000)
            alarm.ring()
            await r.settle()
            assert r.executor.stats().unknown_queries == queries  # asked once, not twice
        assert alarm.slept == [1.0, 1.0, 2.0, 2.0, 4.0, 4.0]


async def test_a_retry_cut_off_by_the_end_of_its_stream_stays_queued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stream ends while its timer's status query waits on the venue: the query is
    cancelled with the timer, and the order stays queued (not dropped from the follow-up
    with nothing counted), so the next stream's consumer asks about it."""
    alarm = Alarm()
    async with rig(consume=False, sleep=alarm.sleep) as r, r.session.trades.stream(ACCOUNT) as ch:
        assert isinstance(ch, TradeChannel)
        asking = anyio.Event()
        answer = r.session.orders.order_status

        async def never_answers(account_id: str, cl_order_id: str) -> ExecutionReport | None:
            asking.set()
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        async with ghost_stream(r, ch):
            assert r.executor.stats().unknown_queries == 1  # at once, by the consumer
            monkeypatch.setattr(r.session.orders, "order_status", never_answers)
            r.clock.advance(1_000_000_000)
            alarm.ring()
            await asking.wait()  # the timer's retry waits on the venue
        # the stream ended: its timer was cancelled mid-query
        stats = r.executor.stats()
        assert (stats.unknown_queries, stats.unknown_unresolved) == (2, 0)
        assert stats.unknown_followed == ("GHOST",)  # still queued, due at once
        monkeypatch.setattr(r.session.orders, "order_status", answer)
        more, events = anyio.create_memory_object_stream[TradeEvent](100)
        with more, events, anyio.fail_after(10):
            async with r.executor.consume(events):
                await r.settle()
                assert r.executor.stats().unknown_queries == 3  # the next stream's timer asks


async def test_followed_up_waits_for_a_query_another_stream_has_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two accounts' consumers each ask about an order: the second's query ends first.
    unknown_followed_up() returns only once the first's, still in flight, has too."""
    alarm = Alarm()  # never rung: the timers stay asleep
    async with two_streams(alarm) as (r, first, second, working):
        answer = r.session.orders.order_status
        asking, release = anyio.Event(), anyio.Event()

        async def slow_for_ghost1(account_id: str, cl_order_id: str) -> ExecutionReport | None:
            if cl_order_id == "GHOST1":
                asking.set()
                await release.wait()
            return await answer(account_id, cl_order_id)

        monkeypatch.setattr(r.session.orders, "order_status", slow_for_ghost1)
        followed_up = anyio.Event()

        async def wait_followed_up() -> None:
            await r.executor.unknown_followed_up()
            followed_up.set()

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                first.push(unknown(working, cl_order_id="GHOST1", chain_id="GHOST1"))
                await asking.wait()  # the first consumer's query waits on the venue
                tg.start_soon(wait_followed_up)
                second.push(
                    unknown(working, cl_order_id="GHOST2", chain_id="GHOST2", account_id="ACC2")
                )
                await r.settle()
                assert r.executor.stats().unknown_queries == 2
                assert not followed_up.is_set()  # GHOST1's query is still in flight
                release.set()
                await followed_up.wait()
        assert r.executor.stats().unknown_queries == 2


async def test_followed_up_with_no_trade_stream_consumed_fails_at_once() -> None:
    """An order waits for a status query and no stream is consumed, so no consumer or
    timer will ever ask: unknown_followed_up() raises, naming the order and what to do,
    instead of waiting forever."""

    async def never(seconds: float) -> None:
        await anyio.sleep_forever()

    async with rig(consume=False, sleep=never) as r, r.session.trades.stream(ACCOUNT) as ch:
        assert isinstance(ch, TradeChannel)
        async with ghost_stream(r, ch):
            pass  # the stream ends with GHOST's retry queued
        r.clock.advance(1_000_000_000)  # ... and due
        with anyio.fail_after(10), pytest.raises(NoTradeStreamError) as caught:
            await r.executor.unknown_followed_up()
        assert caught.value.pending == ("GHOST",)
        assert "GHOST" in str(caught.value)
        assert "executor.consume" in str(caught.value)
        assert "resolve_unknown" in str(caught.value)
        more, events = anyio.create_memory_object_stream[TradeEvent](100)
        with more, events, anyio.fail_after(10):
            async with r.executor.consume(events):  # what the error says: a consumer asks
                await r.executor.unknown_followed_up()
                assert r.executor.stats().unknown_queries == 2


async def test_followed_up_fails_when_the_last_stream_ends_while_it_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A waiter for a query in flight: the stream ends, the query is cut off and its order
    requeued with no consumer left to ask. The waiter is told, not left waiting."""
    alarm = Alarm()
    async with rig(consume=False, sleep=alarm.sleep) as r, r.session.trades.stream(ACCOUNT) as ch:
        assert isinstance(ch, TradeChannel)
        asking = anyio.Event()

        async def never_answers(account_id: str, cl_order_id: str) -> ExecutionReport | None:
            asking.set()
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        outcome: list[BaseException] = []

        async def wait_followed_up() -> None:
            try:
                await r.executor.unknown_followed_up()
            except NoTradeStreamError as exc:
                outcome.append(exc)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg, ghost_stream(r, ch):
                monkeypatch.setattr(r.session.orders, "order_status", never_answers)
                r.clock.advance(1_000_000_000)
                alarm.ring()
                await asking.wait()  # the timer's retry waits on the venue
                tg.start_soon(wait_followed_up)
                await r.settle()
                assert not outcome  # waiting for the query in flight
        assert [type(e) for e in outcome] == [NoTradeStreamError]
