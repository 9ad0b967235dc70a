"""Kit test of ``Capability.RECONNECT``: a dropped line comes back by itself, and the
trade stream says so (GAP, the snapshot again, SnapshotComplete, RECONNECTED).

The kit cannot cut a vendor's line on its own: the plugin author provides a
:class:`~ec_core.testing.conformance.ConnectionControl` from the ``connection_control``
fixture (as ``market_control`` makes the market trade). Without one the test is skipped,
naming ``connection_control``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ec_core.model import (
    ExecutionReport,
    Instrument,
    OrderState,
    SessionEvent,
    SessionEventKind,
    SessionState,
    Side,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.testing.conformance.base import ConformanceBase, KitOrders
from ec_core.testing.conformance.control import ConnectionControl
from ec_core.testing.conformance.journal import TradeJournal
from ec_core.testing.conformance.requirements import CONNECTION_CONTROL, requires
from ec_core.vendor import Capability, Session

__all__ = ["RECONNECT_RULE", "ReconnectConformance"]

RECONNECT_RULE = (
    "after a dropped line the session reconnects by itself and each trade subscription gets"
    " SessionEvent(GAP), then the snapshot and SnapshotComplete, then SessionEvent(RECONNECTED);"
    " working orders stay working"
)


class ReconnectConformance(ConformanceBase, kit=True):
    """A vendor declaring ``reconnect`` survives a dropped line without the user's help."""

    @requires(Capability.RECONNECT, Capability.ORDERS, CONNECTION_CONTROL)
    @pytest.mark.anyio
    async def test_reconnect_resyncs_the_trade_stream_and_keeps_working_orders(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        connection_control: ConnectionControl,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        cl = kit_orders.new_id()
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=1,
                price=self.price(instrument, reference_price),
            )
            before = len(reader.seen)
            await connection_control.interrupt()

            def is_gap(event: TradeEvent) -> bool:
                return isinstance(event, SessionEvent) and event.kind is SessionEventKind.GAP

            await reader.next_matching(is_gap, f"SessionEvent(GAP) ({RECONNECT_RULE})")
            early = [e for e in reader.seen[before:] if isinstance(e, SnapshotComplete)]
            assert not early, f"{RECONNECT_RULE}: SnapshotComplete came before GAP: {early}"
            await reader.next_matching(
                lambda e: isinstance(e, SnapshotComplete) and e.account_id == account_id,
                f"SnapshotComplete for {account_id} after GAP ({RECONNECT_RULE})",
            )
            await reader.next_matching(
                lambda e: isinstance(e, SessionEvent) and e.kind is SessionEventKind.RECONNECTED,
                f"SessionEvent(RECONNECTED) after SnapshotComplete ({RECONNECT_RULE})",
            )
            assert vendor_session.state is SessionState.LOGGED_ON, (
                f"{RECONNECT_RULE}: the session is {vendor_session.state} after RECONNECTED"
            )
            replayed = [
                e
                for e in reader.seen[before:]
                if isinstance(e, ExecutionReport)
                and trade_journal.chain_key(e.cl_order_id) == trade_journal.chain_key(cl)
            ]
            assert all(r.state is OrderState.WORKING for r in replayed), (
                f"{RECONNECT_RULE}: the resting order came back as {replayed}"
            )
            await self.cancel_still_working(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                orders=kit_orders,
                rule=RECONNECT_RULE,
            )
