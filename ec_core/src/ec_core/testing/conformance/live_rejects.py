"""Kit tests of a rejected modify or cancel of a *live* order: the order stays live.

The venue refuses the request, not the order: the reject reports the order's unchanged
state (``WORKING``), never ``REJECTED``, and the order can still be cancelled. The
:class:`TradeJournal` flags a ``REJECTED`` state as ``LIVE_ORDER_REPORTED_REJECTED``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ec_core.errors import OrderDeniedError, SymbolNotFoundError
from ec_core.model import (
    CancelOrder,
    ExecutionReport,
    Instrument,
    ModifyOrder,
    OrderRequest,
    OrderState,
    ReportKind,
    RequestType,
    Side,
)
from ec_core.testing.conformance.base import ConformanceBase, KitOrders
from ec_core.testing.conformance.events import TradeReader
from ec_core.testing.conformance.journal import TradeJournal
from ec_core.testing.conformance.requirements import requires
from ec_core.vendor import Capability, Session

__all__ = ["LiveRejectConformance"]

# The symbol a refused cancel names: no venue lists it, so the cancel cannot be carried out.
BOGUS_SYMBOL = "NO_SUCH_SYMBOL_EC_KIT"


class LiveRejectConformance(ConformanceBase, kit=True):
    """A request on a live order that the venue refuses leaves the order as it was."""

    @requires(Capability.ORDERS, Capability.MODIFY)
    @pytest.mark.anyio
    async def test_rejected_modify_of_a_live_order_keeps_it_working(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        """A modify to more than ``Instrument.max_order_qty`` is refused."""
        live, modify = kit_orders.new_id(), kit_orders.new_id("m")
        request = ModifyOrder(
            account_id=account_id,
            symbol=instrument.symbol,
            orig_cl_order_id=live,
            cl_order_id=modify,
            qty=instrument.max_order_qty + 1,
        )
        await self._refused_request_leaves_the_order_live(
            vendor_session,
            account_id=account_id,
            instrument=instrument,
            price=self.price(instrument, reference_price),
            live=live,
            request=request,
            kit_orders=kit_orders,
            trade_journal=trade_journal,
        )

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_rejected_cancel_of_a_live_order_keeps_it_working(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        """A cancel naming an instrument that is not the order's (one no venue lists)."""
        live, cancel = kit_orders.new_id(), kit_orders.new_id("c")
        request = CancelOrder(
            account_id=account_id, symbol=BOGUS_SYMBOL, orig_cl_order_id=live, cl_order_id=cancel
        )
        await self._refused_request_leaves_the_order_live(
            vendor_session,
            account_id=account_id,
            instrument=instrument,
            price=self.price(instrument, reference_price),
            live=live,
            request=request,
            kit_orders=kit_orders,
            trade_journal=trade_journal,
        )

    async def _refused_request_leaves_the_order_live(
        self,
        session: Session,
        *,
        account_id: str,
        instrument: Instrument,
        price: Decimal,
        live: str,
        request: ModifyOrder | CancelOrder,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        kind = RequestType.MODIFY if isinstance(request, ModifyOrder) else RequestType.CANCEL
        rule = f"a rejected {kind} of a live order leaves it live (state unchanged, not REJECTED)"
        async with self.trade_stream(session, account_id, trade_journal) as reader:
            await self.rest_limit(
                session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=live,
                side=Side.BUY,
                qty=1,
                price=price,
            )
            if await self._sent(session, request):
                reject = await self._answer(reader, request, live)
                assert reject.kind is ReportKind.REJECTED, (
                    f"{rule}: the venue must refuse this {kind} ({request}), got {reject}"
                )
                assert reject.state is not OrderState.REJECTED, f"{rule}: {reject}"
                assert reject.state is OrderState.WORKING, f"{rule}: {reject}"
                assert reject.request_type is kind, f"a reject names its request_type: {reject}"
                assert reject.reject_code, f"a reject carries a reject_code: {reject}"
            await self.cancel_still_working(
                session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=live,
                orders=kit_orders,
                rule=rule,
            )

    async def _sent(self, session: Session, request: OrderRequest) -> bool:
        """False if the client refused the request itself (nothing sent, the order untouched)."""
        try:
            await session.orders.send(request)
        except (OrderDeniedError, SymbolNotFoundError):
            return False
        return True

    async def _answer(
        self, reader: TradeReader, request: ModifyOrder | CancelOrder, live: str
    ) -> ExecutionReport:
        event = await reader.next_matching(
            lambda e: (
                isinstance(e, ExecutionReport)
                and e.kind is not ReportKind.STATUS
                and (e.cl_order_id == request.cl_order_id or e.orig_cl_order_id == live)
            ),
            f"answer to {type(request).__name__} {request.cl_order_id!r} of live order {live!r}",
        )
        assert isinstance(event, ExecutionReport), (
            f"the answer to a request is an ExecutionReport, not {event!r}"
        )
        return event
