"""One status query per order at a time, whoever asks: a reconnect's resync, the UNKNOWN
follow-up's timer, resolve_unknown. The second asker waits for the first's answer and takes
it; if the first got none, the second asks. The venue's status query is held by the test
(events, a fake clock): no sleeps."""

from __future__ import annotations

import anyio
import pytest
from ec_core.errors import RequestTimeoutError
from ec_core.model import ExecutionReport, OrderState, SnapshotComplete
from exec_rig import ACCOUNT, Rig
from unknown_support import Alarm, first_query_times_out, relayed, unknown

pytestmark = pytest.mark.anyio


class Venue:
    """The venue's status query, counted per order; a query of ``slow`` waits for
    ``release`` (the venue thinks), every other answers at once."""

    def __init__(self, r: Rig, slow: str) -> None:
        self.answer = r.session.orders.order_status
        self.slow = slow
        self.asked: list[str] = []
        self.asking = anyio.Event()
        self.release = anyio.Event()

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        self.asked.append(cl_order_id)
        if cl_order_id == self.slow:
            self.asking.set()
            await self.release.wait()
        return await self.answer(account_id, cl_order_id)


@pytest.mark.parametrize("first", ["timer", "resync"])
async def test_a_resync_and_the_timer_ask_about_one_order_once(
    monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """A reconnect's resync asks about every UNKNOWN order; the follow-up's timer asks
    about the one it retries. Both at once about the same order: the venue is asked once,
    the second waits for the first's answer (counted as joined, not as a query)."""
    alarm = Alarm()
    async with relayed(sleep=alarm.sleep) as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        first_query_times_out(r, monkeypatch)
        await relay.forward(unknown(working))  # asked at once: no answer, retried in 1 s
        assert r.executor.stats().unknown_followed == ("H1",)
        venue = Venue(r, slow="H1")
        monkeypatch.setattr(r.session.orders, "order_status", venue.order_status)
        resync = SnapshotComplete(account_id=ACCOUNT)  # a reconnect's snapshot: it asks
        with anyio.fail_after(10):
            if first == "timer":
                r.clock.advance(1_000_000_000)
                alarm.ring()
                await venue.asking.wait()  # the timer's retry waits on the venue
                await relay.send.send(resync)
            else:
                await relay.send.send(resync)
                await venue.asking.wait()  # the resync's query waits on the venue
                r.clock.advance(1_000_000_000)
                alarm.ring()
            await r.settle()
            assert venue.asked == ["H1"]  # the other waits for that answer
            venue.release.set()
            await r.settle()
            await r.executor.unknown_followed_up()
        assert venue.asked == ["H1"]
        order = r.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.WORKING
        stats = r.executor.stats()
        assert (stats.unknown_followed, stats.status_queries_joined) == ((), 1)
        # the follow-up's own queries: the first (timed out), and the retry only if it asked
        assert stats.unknown_queries == (2 if first == "timer" else 1)


async def test_a_query_that_gets_no_answer_lets_the_one_waiting_for_it_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two resolve_unknown calls about one order: the first's query times out; the second,
    waiting for it, has no answer to take, so it asks the venue itself."""
    alarm = Alarm()  # never rung: the follow-up's retry stays asleep
    async with relayed(sleep=alarm.sleep) as (r, relay):
        working = r.exchange.order_status(ACCOUNT, "H1")
        assert working is not None
        first_query_times_out(r, monkeypatch)
        await relay.forward(unknown(working))  # H1 UNKNOWN, its retry in 1 s
        venue = Venue(r, slow="H1")

        async def first_times_out(account_id: str, cl_order_id: str) -> ExecutionReport | None:
            if not venue.asked:
                venue.asked.append(cl_order_id)
                venue.asking.set()
                await venue.release.wait()
                raise RequestTimeoutError(cl_order_id=cl_order_id, timeout=2.0)
            venue.asked.append(cl_order_id)
            return await venue.answer(account_id, cl_order_id)

        monkeypatch.setattr(r.session.orders, "order_status", first_times_out)
        results: dict[str, object] = {}

        async def resolve(name: str) -> None:
            try:
                results[name] = await r.executor.resolve_unknown(ACCOUNT)
            except RequestTimeoutError as exc:
                results[name] = exc

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(resolve, "first")
                await venue.asking.wait()
                tg.start_soon(resolve, "second")
                await r.settle()
                assert venue.asked == ["H1"]  # the second waits for the first's answer
                venue.release.set()
        assert isinstance(results["first"], RequestTimeoutError)
        assert results["second"] == []  # it asked: nothing left UNKNOWN
        assert venue.asked == ["H1", "H1"]
        assert r.executor.stats().status_queries_joined == 0
        order = r.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.WORKING
