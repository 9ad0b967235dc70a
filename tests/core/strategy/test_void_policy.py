"""A ghost order (WORKING in our journal, unknown at the venue) is VOIDED, never kept forever.

``ec run --leave-working`` leaves an order working; after a restart on the same
journal against a venue that no longer has it (here: a fresh mock venue), the
reconciliation at start finds it MISSING_AT_VENUE. The policy: the venue's
snapshot is complete and its order-status query answers "not found", and the order
had no fills, so it is closed as VOIDED with a journal record. Its limits are
released, and the next restart replays the void.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.errors import EcError
from ec_core.execution import DifferenceKind, Payload
from ec_core.journal import Journal, OrderVoided
from ec_core.model import NewOrder, OrderState, OrderType, Side
from ec_core.plugins import PluginHost
from ec_core.strategy import OpSignal, OpStrategy, StrategyContext
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.rig import TradingRig, trading_rig

ACCOUNT = "VOID-1"


class Watch(OpStrategy):
    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return None


def bid(cl_order_id: str) -> Payload:
    return Payload(
        request=NewOrder(
            account_id=ACCOUNT,
            symbol="CLE",
            side=Side.BUY,
            qty=1,
            order_type=OrderType.LMT,
            limit_price=Decimal("60.00"),
            cl_order_id=cl_order_id,
        )
    )


async def with_rig(journal_path: Path, body: object) -> TradingRig:
    """Open a fresh mock venue (it knows nothing of earlier runs) and a rig on the journal."""
    host = PluginHost.load()
    settings = {"clock": "simulated", "market": False, "account_id": ACCOUNT}
    with anyio.fail_after(10):
        async with host.open_session("mock", settings) as session:
            with Journal(journal_path) as journal:
                async with trading_rig(
                    host,
                    session,
                    StrategyPlan([Watch(symbols=["CLE"])]),
                    account_id=ACCOUNT,
                    clock=session.clock,  # type: ignore[attr-defined]
                    engine_clock=None,
                    journal=journal,
                    reconcile=True,
                ) as rig:
                    if callable(body):
                        await body(rig)
                    rig.executor.flush()
                    return rig
    raise AssertionError("unreachable")  # pragma: no cover


@pytest.mark.anyio
async def test_a_ghost_working_order_is_voided_at_start_with_a_journal_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"

    async def leave_working(rig: TradingRig) -> None:
        order = await rig.executor.execute(bid("ghost-1"))
        assert order is not None
        assert order.state is OrderState.WORKING

    await with_rig(path, leave_working)  # the run ends, the order left working

    restarted = await with_rig(path, None)  # the venue no longer has it
    assert restarted.reconciled is not None
    [difference] = restarted.reconciled.differences
    assert difference.kind is DifferenceKind.MISSING_AT_VENUE
    assert restarted.reconciled.voided == ("ghost-1",)
    voided = restarted.tracker.order("ghost-1")
    assert voided is not None
    assert voided.state is OrderState.VOIDED
    assert restarted.tracker.open_orders(ACCOUNT) == []  # nothing counts against limits
    with Journal(path) as journal:
        [record] = [r for _, r in journal.records() if isinstance(r, OrderVoided)]
    assert record.chain_id == "ghost-1"
    assert "not found" in record.reason
    assert record.by == "reconcile"

    again = await with_rig(path, None)  # the void is replayed: nothing to reconcile
    assert again.reconciled is not None
    assert again.reconciled.clean
    assert again.tracker.open_orders(ACCOUNT) == []


@pytest.mark.anyio
async def test_the_operator_voids_what_reconciliation_may_not(tmp_path: Path) -> None:
    """An order with fills is not voided automatically; the operator can, with a reason."""
    path = tmp_path / "journal.sqlite"

    async def place(rig: TradingRig) -> None:
        await rig.executor.execute(bid("o-1"))
        with pytest.raises(EcError, match="not an open order"):
            rig.executor.void("nope", reason="typo")
        order = rig.executor.void("o-1", reason="venue support confirmed it is gone")
        assert order.state is OrderState.VOIDED
        assert rig.tracker.open_orders(ACCOUNT) == []
        with pytest.raises(EcError, match="not an open order"):
            rig.executor.void("o-1", reason="twice")

    await with_rig(path, place)
    with Journal(path) as journal:
        [record] = [r for _, r in journal.records() if isinstance(r, OrderVoided)]
    assert (record.chain_id, record.by) == ("o-1", "operator")


@pytest.mark.anyio
async def test_an_unknown_order_missing_at_the_venue_is_left_to_the_operator(
    tmp_path: Path,
) -> None:
    """An intent without a send record may still be on its way: never voided automatically."""
    from ec_core.journal import IntentRecorded

    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        journal.write_ahead(IntentRecorded(request=bid("maybe-1").request))
    restarted = await with_rig(path, None)
    assert restarted.reconciled is not None
    assert restarted.reconciled.voided == ()
    assert restarted.reconciled.still_unknown == ("maybe-1",)
    assert [o.chain_id for o in restarted.tracker.open_orders(ACCOUNT)] == ["maybe-1"]
