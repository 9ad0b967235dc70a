"""A restarted executor rebuilds its state from the journal and reconciles with the venue."""

from __future__ import annotations

from pathlib import Path

import pytest
from ec_core.errors import OrderDeniedError
from ec_core.execution import DifferenceKind, Executor, Payload
from ec_core.journal import Journal
from ec_core.model import OrderState, Side
from ec_core.tracking import OrderTracker
from exec_rig import ACCOUNT, SYMBOL, default_gate, limit, rig


@pytest.mark.anyio
async def test_restart_recovers_from_the_journal_then_reconciles(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    async with rig(journal_path=path, flush_interval=3600) as r:  # no timed flush
        payloads = [Payload(request=limit(qty=1, price=p)) for p in ("70.00", "69.00", "68.00")]
        for payload in payloads:
            await r.executor.execute(payload)
        await r.cross(Side.SELL, 1, "70.00")  # fills the first; the fill stays in the batch
        ids = [p.request.cl_order_id for p in payloads]

        # "Crash": a new process opens the journal; what was only buffered is gone.
        with Journal(path) as journal:
            tracker = OrderTracker(clock=r.clock)
            restarted = Executor(
                gateway=r.session.orders, checks=default_gate(), tracker=tracker,
                journal=journal, clock=r.clock, vendor="mock",
                instruments={SYMBOL: r.exchange.instrument(SYMBOL)},  # type: ignore[dict-item]
                monitor=r.session.trades,
            )  # fmt: skip
            recovery = restarted.recover()
            assert recovery is not None
            assert set(ids) <= set(recovery.open_orders) | {
                o.chain_id for o in tracker.orders() if o.state.is_final
            }
            report = await restarted.reconcile(ACCOUNT)
            kinds = sorted(d.kind for d in report.differences)
            # the last ack and the fill were only buffered: the third order came back
            # UNKNOWN, the first WORKING (it had filled), and the position flat
            assert kinds == [
                DifferenceKind.CLOSED_AT_VENUE,
                DifferenceKind.POSITION_MISMATCH,
                DifferenceKind.STATE_MISMATCH,
            ]
            for cl_order_id in ids:
                order = tracker.order(cl_order_id)
                venue = r.exchange.order_status(ACCOUNT, cl_order_id)
                assert order is not None
                assert venue is not None
                assert order.state is venue.state
            first = tracker.order(ids[0])
            assert first is not None
            assert first.state is OrderState.FILLED
            assert tracker.position(ACCOUNT, SYMBOL).qty == 1
            again = await restarted.reconcile(ACCOUNT)
            assert again.clean
            assert {d.id for d in report.differences}.isdisjoint({d.id for d in again.differences})
            with pytest.raises(OrderDeniedError) as caught:
                await restarted.execute(Payload(request=limit(cl_order_id=ids[1])))
            assert caught.value.codes == ("DUPLICATE_CL_ORDER_ID",)


@pytest.mark.anyio
async def test_difference_ids_are_deterministic(tmp_path: Path) -> None:
    async with rig() as r:
        await r.executor.execute(Payload(request=limit(qty=2)))
        await r.cross(Side.SELL, 2, "70.00")
        seen = []
        for _ in range(2):  # the same disagreement, twice, from two fresh trackers
            tracker = OrderTracker(clock=r.clock)
            executor = Executor(
                gateway=r.session.orders, checks=default_gate(), tracker=tracker, journal=None,
                clock=r.clock, vendor="mock", instruments={}, monitor=r.session.trades,
            )  # fmt: skip
            report = await executor.reconcile(ACCOUNT)
            assert [d.kind for d in report.differences] == [DifferenceKind.POSITION_MISMATCH]
            seen.append(report.differences[0].id)
        assert seen[0] == seen[1]
