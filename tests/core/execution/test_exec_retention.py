"""Retention on the order path: a long run keeps the executor's and tracker's maps bounded.

Before, every final order stayed in the tracker for good, and a cancel-all whose
answer never came stayed in the executor's in-flight map for good (it is no
order, so nothing ever settled it).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import OrderDeniedError, RequestTimeoutError
from ec_core.execution import ClientOrderIds, Payload, PayloadStatus
from ec_core.model import CancelAll, NewOrder, OrderState, OrderType, Side
from ec_mock.faults import FaultPlan
from exec_rig import ACCOUNT, COUNTERPARTY, SYMBOL, limit, rig

P = PayloadStatus
S = OrderState
DAY_NS = 86_400 * 10**9


@pytest.mark.anyio
async def test_a_long_run_on_the_mock_keeps_every_map_bounded_and_the_book_exact() -> None:
    retain = {"retain_final": 20, "retired_window": 100, "history_limit": 4}
    async with rig(tracker_options=retain) as r:
        peak = 0
        for n in range(3_000):
            side = Side.SELL if n % 2 else Side.BUY  # the position stays small
            price = "70.00" if n % 2 else "70.01"
            order = await r.executor.execute(Payload(request=limit(price=price, side=side)))
            assert order is not None
            if n % 5:  # most trade with the counterparty; every fifth is cancelled
                await r.cp.orders.send(
                    NewOrder(
                        account_id=COUNTERPARTY, symbol=SYMBOL, side=side.opposite, qty=1,
                        order_type=OrderType.LMT, limit_price=Decimal(price),
                    )
                )  # fmt: skip
            else:
                await r.executor.execute(
                    Payload(request=CancelAll(account_id=ACCOUNT, symbol=SYMBOL))
                )
            sizes = r.tracker.sizes()
            peak = max(peak, sizes["chains"], sizes["client_ids"], sizes["outcomes"])
        await r.settle()
        assert peak <= 20 + 1 + 2  # retained, the one just ended, the one in flight
        sizes = r.tracker.sizes()
        assert sizes["retired"] <= 100
        assert sizes["events"] <= 4 * (20 + 2)
        assert sizes["bulk"] <= 20
        assert r.executor.stats().in_flight == 0
        assert r.executor.stats().bulk_unknown == ()
        assert r.executor.stats().reserved == 0
        assert r.tracker.open_orders() == []
        venue = {p.symbol: p.qty for p in r.exchange.positions(ACCOUNT)}
        assert r.tracker.position(ACCOUNT, SYMBOL).qty == venue.get(SYMBOL, 0)
        assert (await r.executor.reconcile(ACCOUNT)).clean
        assert r.tracker.stats().retired > 2_900


@pytest.mark.anyio
async def test_a_cancel_all_that_timed_out_is_forgotten_after_its_ttl() -> None:
    # the order's ack, then the cancel the cancel-all made (its only answer), are lost
    async with rig(faults=FaultPlan(drop_acks=2), ack_timeout=0.05, unknown_bulk_ttl=60) as r:
        working = Payload(request=limit(price="69.00"))
        with pytest.raises(RequestTimeoutError):
            await r.executor.execute(working)
        assert await r.executor.resolve_unknown() == []  # WORKING, says the venue
        cancel_all = Payload(request=CancelAll(account_id=ACCOUNT, symbol=SYMBOL))
        with pytest.raises(RequestTimeoutError):
            await r.executor.execute(cancel_all)
        assert cancel_all.status is P.UNKNOWN
        # only the working order's payload is in flight: the bulk request has no order
        assert r.executor.stats().in_flight == 1
        assert r.executor.stats().bulk_unknown == (cancel_all.request.cl_order_id,)
        report = await r.executor.reconcile(ACCOUNT)  # the order was cancelled at the venue
        assert [d.kind.value for d in report.differences] == ["CLOSED_AT_VENUE"]
        assert r.executor.stats().in_flight == 0
        r.clock.advance(59 * 10**9)
        await r.executor.execute(Payload(request=limit(price="68.00")))  # a later event
        assert r.executor.stats().bulk_unknown == (cancel_all.request.cl_order_id,)
        r.clock.advance(2 * 10**9)
        await r.executor.execute(Payload(request=limit(price="67.00")))
        assert r.executor.stats().bulk_unknown == ()
        assert cancel_all.status is P.UNKNOWN  # never assumed: only forgotten


def test_client_order_ids_are_remembered_for_two_days_then_forgotten() -> None:
    clock = ManualClock(1_700_000_000 * 10**9)
    ids = ClientOrderIds(clock, token="t")
    assert ids.reserve("mine")
    generated = {ids.next() for _ in range(100)}
    assert len(generated) == 100
    for hour in range(1, 61):  # two and a half days, one id an hour
        clock.advance(3_600 * 10**9)
        ids.reserve(f"h{hour}")
        assert ids.is_used("mine") is (hour <= 48), hour  # remembered for two days
    assert not ids.is_used("h1")
    assert ids.is_used("h60")
    assert len(ids) == 49  # the last 48 hours, both ends: bounded by the window, not the run
    assert ids.reserve("mine")  # forgotten: a given id may be used again
    assert ids.next() not in generated  # a new day: a new series


def test_the_id_window_must_cover_a_trading_day() -> None:
    with pytest.raises(ValueError, match="one day"):
        ClientOrderIds(ManualClock(), retain_ns=DAY_NS - 1)


@pytest.mark.anyio
async def test_an_id_the_tracker_still_knows_is_refused_even_when_the_id_window_forgot_it() -> None:
    async with rig() as r:
        assert await r.executor.execute(Payload(request=limit(cl_order_id="A"))) is not None
        r.executor.ids = ClientOrderIds(r.clock)  # as if "A" had aged out of the window
        with pytest.raises(OrderDeniedError) as caught:
            await r.executor.execute(Payload(request=limit(cl_order_id="A")))
        assert caught.value.codes == ("DUPLICATE_CL_ORDER_ID",)
        assert r.received() == ["A"]
