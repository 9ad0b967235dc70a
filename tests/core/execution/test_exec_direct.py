"""Direct delivery from the in-process venue, and baskets (``execute_many``)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from ec_core.errors import OrderDeniedError, OrderRejectedError
from ec_core.execution import DirectFeed, Payload, PayloadStatus
from ec_core.journal import IntentRecorded, RequestSent
from ec_core.model import NewOrder, Order, OrderRequest, OrderState, Side
from ec_core.tracking import OrderEventKind
from ec_mock.faults import FaultPlan
from ec_mock.vendor import TradeEventChannel
from exec_rig import ACCOUNT, limit, rig

P = PayloadStatus


@pytest.mark.anyio
async def test_the_answer_is_applied_inside_the_send_in_order() -> None:
    async with rig() as r, r.session.trades.stream(ACCOUNT) as watcher:
        assert isinstance(watcher, TradeEventChannel)
        watcher.drain()
        order = await r.executor.execute(Payload(request=limit()))
        assert order is not None
        assert order.state is OrderState.WORKING
        # tracked first, then the venue's report: never adopted as a stranger
        kinds = [e.kind for e in r.tracker.history(order.chain_id)]
        assert kinds == [OrderEventKind.TRACKED, OrderEventKind.REPORT]
        assert r.tracker.stats().adopted == 0
        # another subscriber of the account still gets the event on its stream
        assert [e.cl_order_id for e in watcher.drain() if hasattr(e, "cl_order_id")] == [
            order.cl_order_id
        ]


@pytest.mark.anyio
async def test_fills_from_another_session_reach_the_tracker_without_a_loop_turn() -> None:
    async with rig() as r:
        order = await r.executor.execute(Payload(request=limit(qty=2, price="70.00")))
        assert order is not None
        await r.cp.orders.send(
            NewOrder(
                account_id="CP", symbol="CLE", side=Side.SELL, qty=2,
                order_type=order.order_type, limit_price=order.limit_price,
            )
        )  # fmt: skip
        filled = r.tracker.order(order.chain_id)  # no settle(): delivered synchronously
        assert filled is not None
        assert filled.state is OrderState.FILLED
        assert r.tracker.position(ACCOUNT, "CLE").qty == 2


@pytest.mark.anyio
async def test_a_stream_that_is_not_direct_still_works() -> None:
    """A plain async iterator (a real vendor's stream) goes through the consumer."""
    async with rig(consume=False) as r, r.session.trades.stream(ACCOUNT) as events:
        assert isinstance(events, DirectFeed)

        async def plain() -> object:
            async for event in events:
                yield event

        async with r.executor.consume(plain()):  # type: ignore[arg-type]
            order = await r.executor.execute(Payload(request=limit()))
        assert order is not None
        assert order.state is OrderState.WORKING
        assert events.direct == 0


@pytest.mark.anyio
async def test_basket_shares_one_commit_before_any_send(tmp_path: Path) -> None:
    async with rig(journal_path=tmp_path / "j.sqlite") as r:
        journal = r.journal
        assert journal is not None
        committed_at_send: list[list[str]] = []
        send = r.executor.gateway.send

        async def spying_send(request: OrderRequest) -> None:
            records = [rec for _, rec in journal.records()]
            committed_at_send.append(
                [rec.request.cl_order_id for rec in records if isinstance(rec, IntentRecorded)]
            )
            await send(request)

        r.executor.gateway.send = spying_send  # type: ignore[method-assign]
        payloads = [
            Payload(request=limit(price="69.00")),
            Payload(request=limit(qty=0)),  # denied by the qty rule
            Payload(request=limit(price="69.01")),
        ]
        commits = journal.commits
        results = await r.executor.execute_many(payloads)
        assert journal.commits == commits + 1
        assert isinstance(results[0], Order)
        assert isinstance(results[1], OrderDeniedError)
        assert isinstance(results[2], Order)
        assert [p.status for p in payloads] == [P.ACKNOWLEDGED, P.DENIED, P.ACKNOWLEDGED]
        sent_ids = [payloads[0].request.cl_order_id, payloads[2].request.cl_order_id]
        assert committed_at_send == [sent_ids, sent_ids]  # both intents before the first send
        assert r.received() == sent_ids
        r.executor.flush()
        kinds = [type(rec) for _, rec in journal.records()]
        assert kinds.count(RequestSent) == 2


@pytest.mark.anyio
async def test_basket_checks_count_the_orders_before_them() -> None:
    from test_exec_safety import LIMITS, make_checks

    limits = LIMITS.replace("max_position = 1000", "max_position = 3")
    async with rig(checks_factory=lambda c: make_checks(c, limits)) as r:
        results = await r.executor.execute_many(
            [Payload(request=limit(qty=2, price="60.00")) for _ in range(3)]
        )
        assert isinstance(results[0], Order)
        assert all(isinstance(x, OrderDeniedError) for x in results[1:])
        assert len(r.received()) == 1


@pytest.mark.anyio
async def test_basket_reports_a_venue_reject_and_goes_on() -> None:
    async with rig(faults=FaultPlan(reject_next=1, reject_code="NO_MARGIN")) as r:
        payloads = [Payload(request=limit(price="69.00")), Payload(request=limit(price="68.00"))]
        results = await r.executor.execute_many(payloads)
        assert isinstance(results[0], OrderRejectedError)
        assert results[0].code == "NO_MARGIN"
        assert isinstance(results[1], Order)
        assert [p.status for p in payloads] == [P.REJECTED, P.ACKNOWLEDGED]


@pytest.mark.anyio
async def test_basket_cancelled_before_the_commit_sends_nothing(tmp_path: Path) -> None:
    async with rig(journal_path=tmp_path / "j.sqlite") as r:
        payloads = [Payload(request=limit(price="69.00")), Payload(request=limit(price="68.00"))]
        with anyio.CancelScope() as scope:
            scope.cancel()
            await r.executor.execute_many(payloads)
        assert [p.status for p in payloads] == [P.FAILED, P.FAILED]
        assert r.received() == []
        assert r.executor.stats().reserved == 0
        # nothing open is left behind for later checks
        assert await r.executor.execute(Payload(request=limit(price="67.00"))) is not None


@pytest.mark.anyio
async def test_after_the_consumer_ends_events_queue_on_the_stream_again() -> None:
    """The direct adapter lives only as long as ``run``: once the consumer ends, the
    venue's events wait on the stream instead of reaching the tracker behind its back."""
    async with rig(consume=False) as r, r.session.trades.stream(ACCOUNT) as events:
        assert isinstance(events, TradeEventChannel)
        async with r.executor.consume(events):
            order = await r.executor.execute(Payload(request=limit(qty=1, price="70.00")))
        assert order is not None
        events.drain()
        await r.cross(Side.SELL, 1, "70.00")
        still = r.tracker.order(order.chain_id)
        assert still is not None
        assert still.state is OrderState.WORKING  # not applied: nobody consumes
        assert any(getattr(e, "cl_order_id", None) == order.cl_order_id for e in events.drain())
