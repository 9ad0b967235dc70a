"""Kit tests of single orders: accept, modify, cancel, reject, fills, and the venue's queries.

Every report read here also passes through the test's :class:`TradeJournal`, so each
state change is checked against :func:`ec_core.model.can_transition` as it arrives.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ec_core.errors import EcError, OrderDeniedError
from ec_core.model import (
    CancelOrder,
    ExecutionReport,
    Instrument,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    RequestType,
    Side,
    can_transition,
)
from ec_core.testing.conformance.base import ConformanceBase, KitOrders
from ec_core.testing.conformance.control import MarketControl
from ec_core.testing.conformance.events import TradeReader
from ec_core.testing.conformance.journal import TradeJournal
from ec_core.testing.conformance.requirements import MARKET_CONTROL, requires
from ec_core.vendor import Capability, Session

__all__ = ["OrderConformance", "assert_legal_sequence"]


def assert_legal_sequence(states: list[OrderState], *, cl_order_id: str) -> None:
    """Fail unless ``states`` is a path through the transition table from PENDING_NEW."""
    previous = OrderState.PENDING_NEW
    for state in states:
        assert can_transition(previous, state), (
            f"{cl_order_id}: {previous} -> {state} is illegal (sequence {[str(s) for s in states]})"
        )
        previous = state


async def _fill_until(reader: TradeReader, cl_order_id: str, filled: int) -> list[ExecutionReport]:
    """Read the chain's FILL reports until ``filled_qty`` reaches ``filled``."""
    journal = reader.journal
    chain = journal.chain_key(cl_order_id)
    fills: list[ExecutionReport] = []
    while not fills or fills[-1].filled_qty < filled:
        event = await reader.next_matching(
            lambda e: (
                isinstance(e, ExecutionReport)
                and e.kind is ReportKind.FILL
                and journal.chain_key(e.cl_order_id) == chain
            ),
            f"fills of {cl_order_id} up to {filled}",
        )
        assert isinstance(event, ExecutionReport), (
            f"a fill is reported as an ExecutionReport, not {event!r}"
        )
        fills.append(event)
    return fills


class OrderConformance(ConformanceBase, kit=True):
    """One order at a time through its life, as the venue reports it."""

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_new_limit_order_is_accepted_and_working(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        cl = kit_orders.new_id()
        price = self.price(instrument, reference_price)
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            accepted = await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=2,
                price=price,
            )
        assert accepted.cl_order_id == cl, (
            f"the accepted report carries the order's own cl_order_id {cl!r}: {accepted}"
        )
        assert accepted.state is OrderState.WORKING, (
            f"an accepted resting limit order is WORKING, not {accepted.state}: {accepted}"
        )
        assert (accepted.account_id, accepted.symbol) == (account_id, instrument.symbol), (
            f"a report names the order's account and symbol: {accepted}"
        )
        assert (accepted.side, accepted.order_type) == (Side.BUY, OrderType.LMT), (
            f"a report carries the order's side and type (BUY LMT): {accepted}"
        )
        assert (accepted.qty, accepted.filled_qty) == (2, 0), (
            f"an accepted order reports its qty (2) and nothing filled: {accepted}"
        )
        assert accepted.limit_price == price, (
            f"the accepted report carries the limit price {price}, not {accepted.limit_price}"
        )
        assert accepted.fill is None, f"a report without a fill carries no fill: {accepted}"
        assert trade_journal.states(cl)[-1] is OrderState.WORKING, (
            f"the last state reported for {cl!r} is WORKING: {trade_journal.states(cl)}"
        )

    @requires(Capability.ORDERS, Capability.MODIFY)
    @pytest.mark.anyio
    async def test_modify_gives_a_new_id_on_the_same_chain(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        first, second = kit_orders.new_id(), kit_orders.new_id("m")
        price = self.price(instrument, reference_price)
        lower = self.price(instrument, reference_price, ticks_below=1)
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            accepted = await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=first,
                side=Side.BUY,
                qty=1,
                price=price,
            )
            await vendor_session.orders.send(
                ModifyOrder(
                    account_id=account_id,
                    symbol=instrument.symbol,
                    orig_cl_order_id=first,
                    cl_order_id=second,
                    qty=3,
                    limit_price=lower,
                )
            )
            modified = await self.report(reader, second, ReportKind.MODIFIED)
            status = await vendor_session.orders.order_status(account_id, second)
        assert modified.cl_order_id == second, (
            f"the MODIFIED report carries the new cl_order_id {second!r}: {modified}"
        )
        assert modified.state is OrderState.WORKING, (
            f"a modified resting order stays WORKING, not {modified.state}: {modified}"
        )
        assert (modified.qty, modified.limit_price) == (3, lower), (
            f"the MODIFIED report carries the new qty 3 and price {lower}: {modified}"
        )
        linked = modified.orig_cl_order_id == first or (
            modified.chain_id != "" and modified.chain_id == (accepted.chain_id or first)
        )
        assert linked, f"MODIFIED report does not link back to {first!r}: {modified}"
        assert trade_journal.chain_key(second) == trade_journal.chain_key(first), (
            f"a modify keeps the order on its chain: {first!r} and {second!r} differ"
        )
        assert status is not None, f"order_status does not know the modified order {second!r}"
        assert (status.state, status.qty, status.limit_price) == (OrderState.WORKING, 3, lower), (
            f"order_status of the modified order is WORKING with qty 3 at {lower}: {status}"
        )

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_cancel_ends_the_order(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
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
            cancelled = await self.cancel(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                orders=kit_orders,
            )
        assert cancelled.state is OrderState.CANCELLED, (
            f"a cancel ends the order CANCELLED, not {cancelled.state}: {cancelled}"
        )
        assert cancelled.filled_qty == 0, (
            f"an order cancelled before any fill has filled_qty 0: {cancelled}"
        )
        chain = trade_journal.chain_key(cl)
        still_open = [
            r
            for r in await vendor_session.orders.open_orders(account_id)
            if trade_journal.chain_key(r.cl_order_id) == chain
        ]
        assert still_open == [], f"open_orders still lists the cancelled order: {still_open}"
        status = await vendor_session.orders.order_status(account_id, cancelled.cl_order_id)
        assert status is None or status.state is OrderState.CANCELLED, (
            f"order_status of a cancelled order is CANCELLED (or None once forgotten): {status}"
        )

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_cancel_of_an_unknown_order_is_rejected_with_a_code(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        """Rejected by the venue (a REJECTED report with a code), or denied before sending
        (:class:`~ec_core.errors.OrderDeniedError`, whose violations carry codes)."""
        unknown, cancel = kit_orders.new_id("u"), kit_orders.new_id("c")
        denied: OrderDeniedError | None = None
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            try:
                await vendor_session.orders.send(
                    CancelOrder(
                        account_id=account_id,
                        symbol=instrument.symbol,
                        orig_cl_order_id=unknown,
                        cl_order_id=cancel,
                    )
                )
            except OrderDeniedError as refused:  # the client knew better than to send it
                denied = refused
            else:
                reject = await reader.next_matching(
                    lambda e: (
                        isinstance(e, ExecutionReport)
                        and (e.cl_order_id == cancel or e.orig_cl_order_id == unknown)
                    ),
                    f"answer to a cancel of unknown order {unknown!r}",
                )
        if denied is not None:
            assert denied.codes, f"the denial carries no code: {denied}"
            assert any(v.value == unknown for v in denied.violations), (
                f"the denial names the unknown order {unknown!r}: {denied.violations}"
            )
            return
        assert isinstance(reject, ExecutionReport), (
            f"the answer to a cancel of an unknown order is an ExecutionReport, not {reject!r}"
        )
        assert reject.kind is ReportKind.REJECTED, (
            f"the answer to a cancel of an unknown order is a REJECTED report: {reject}"
        )
        assert reject.request_type is RequestType.CANCEL, (
            f"the reject names the request it answers (request_type CANCEL): {reject}"
        )
        assert reject.reject_code, f"the reject carries no code: {reject}"
        assert reject.account_id == account_id, (
            f"a reject names the account of the request ({account_id!r}): {reject}"
        )

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_off_grid_limit_price_is_refused(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        """Refused before sending (an EcError such as PriceError) or rejected with a code."""
        cl = kit_orders.new_id()
        off_grid = self.price(instrument, reference_price) + instrument.tick_size / 2
        assert not instrument.is_on_grid(off_grid), (
            f"the kit's price {off_grid} should be off the tick grid of {instrument.symbol}"
        )
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            try:
                await vendor_session.orders.send(
                    NewOrder(
                        account_id=account_id,
                        symbol=instrument.symbol,
                        side=Side.BUY,
                        qty=1,
                        order_type=OrderType.LMT,
                        limit_price=off_grid,
                        cl_order_id=cl,
                    )
                )
            except EcError as refused:
                if type(refused) is EcError:
                    raise AssertionError("raise a specific subclass of EcError") from refused
                return
            reject = await self.report(reader, cl, ReportKind.REJECTED)
        assert reject.state is OrderState.REJECTED, (
            f"a rejected new order's state is REJECTED, not {reject.state}: {reject}"
        )
        assert reject.reject_code, f"a reject carries the venue's code: {reject}"
        assert all(
            r.cl_order_id != cl for r in await vendor_session.orders.open_orders(account_id)
        ), f"open_orders lists the rejected order {cl!r}"

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_order_status_and_open_orders_agree_with_the_stream(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        cl = kit_orders.new_id()
        orders = vendor_session.orders
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            accepted = await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=2,
                price=self.price(instrument, reference_price),
            )
            status = await orders.order_status(account_id, cl)
            listed = [r for r in await orders.open_orders(account_id) if r.cl_order_id == cl]
            cancelled = await self.cancel(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                orders=kit_orders,
            )
        assert status is not None, f"order_status does not know working order {cl!r}"
        assert (status.cl_order_id, status.state, status.qty, status.limit_price) == (
            cl,
            accepted.state,
            accepted.qty,
            accepted.limit_price,
        ), f"order_status of a working order matches what was accepted: {status}"
        assert len(listed) == 1, f"open_orders lists {cl!r} {len(listed)} times"
        assert (listed[0].state, listed[0].qty) == (OrderState.WORKING, 2), (
            f"open_orders lists {cl!r} WORKING with qty 2: {listed[0]}"
        )
        ids = {r.cl_order_id for r in await orders.open_orders(account_id)}
        assert cl not in ids, f"open_orders still lists the cancelled order {cl!r}"
        assert cancelled.cl_order_id not in ids, (
            f"open_orders still lists the cancelled order {cancelled.cl_order_id!r}"
        )
        assert await orders.order_status(account_id, kit_orders.new_id("never")) is None, (
            "order_status of an id the venue never saw is None, not a report or an error"
        )

    @requires(Capability.ORDERS, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_fills_have_unique_ids_and_conserve_qty(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        market_control: MarketControl,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        cl = kit_orders.new_id()
        price = self.price(instrument, reference_price)
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=3,
                price=price,
            )
            await market_control.place(instrument, Side.SELL, price, 1)
            partial = await _fill_until(reader, cl, 1)
            await market_control.place(instrument, Side.SELL, price, 2)
            rest = await _fill_until(reader, cl, 3)
        fills = partial + rest
        assert partial[-1].state is OrderState.PARTIALLY_FILLED, (
            f"a partial fill's state is PARTIALLY_FILLED: {partial[-1]}"
        )
        assert fills[-1].state is OrderState.FILLED, (
            f"the fill that completes the order leaves it FILLED: {fills[-1]}"
        )
        pieces = [r.fill for r in fills if r.fill is not None]
        assert len(pieces) == len(fills), f"every FILL report carries its fill: {fills}"
        assert len({f.fill_id for f in pieces}) == len(pieces), "fill_ids repeat"
        assert sum(f.qty for f in pieces) == fills[-1].filled_qty == 3, (
            f"the fills' quantities sum to filled_qty, 3 for a qty-3 order filled whole: {pieces}"
        )
        for fill in pieces:
            assert (fill.price, fill.side, fill.symbol) == (price, Side.BUY, instrument.symbol), (
                f"a fill carries the order's price {price}, side BUY and symbol: {fill}"
            )
            assert fill.account_id == account_id, (
                f"a fill names the order's account {account_id!r}: {fill}"
            )
        assert fills[-1].avg_fill_price == price, (
            f"avg_fill_price of fills all at {price} is {price}: {fills[-1]}"
        )
        chain = trade_journal.chain_key(cl)
        open_ids = [r.cl_order_id for r in await vendor_session.orders.open_orders(account_id)]
        assert all(trade_journal.chain_key(i) != chain for i in open_ids), (
            f"open_orders still lists the filled order {cl!r}: {open_ids}"
        )

    @requires(Capability.ORDERS, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_partial_fill_then_cancel_keeps_the_filled_qty(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        market_control: MarketControl,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        cl = kit_orders.new_id()
        price = self.price(instrument, reference_price)
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=3,
                price=price,
            )
            await market_control.place(instrument, Side.SELL, price, 1)
            await _fill_until(reader, cl, 1)
            status = await vendor_session.orders.order_status(account_id, cl)
            cancelled = await self.cancel(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                orders=kit_orders,
            )
        assert status is not None, f"order_status knows the partly filled order {cl!r}"
        assert (status.state, status.filled_qty) == (OrderState.PARTIALLY_FILLED, 1), (
            f"order_status of an order filled 1 of 3 is PARTIALLY_FILLED, filled_qty 1: {status}"
        )
        assert (cancelled.state, cancelled.filled_qty, cancelled.qty) == (
            OrderState.CANCELLED,
            1,
            3,
        ), f"a cancel after a partial fill ends CANCELLED, filled_qty 1 of qty 3: {cancelled}"
        assert_legal_sequence(trade_journal.states(cl), cl_order_id=cl)

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_every_state_change_follows_the_transition_table(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        vendor_capabilities: frozenset[Capability],
        market_control: MarketControl | None,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        """New, then modify and a partial fill where the backend can, then cancel."""
        cl = kit_orders.new_id()
        price = self.price(instrument, reference_price)
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=cl,
                side=Side.BUY,
                qty=2,
                price=price,
            )
            last = cl
            if Capability.MODIFY in vendor_capabilities:
                last = kit_orders.new_id("m")
                await vendor_session.orders.send(
                    ModifyOrder(
                        account_id=account_id,
                        symbol=instrument.symbol,
                        orig_cl_order_id=cl,
                        cl_order_id=last,
                        qty=3,
                    )
                )
                await self.report(reader, last, ReportKind.MODIFIED)
            if market_control is not None:
                await market_control.place(instrument, Side.SELL, price, 1)
                await _fill_until(reader, cl, 1)
            final = await self.cancel(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=last,
                orders=kit_orders,
            )
        states = trade_journal.states(cl)
        assert_legal_sequence(states, cl_order_id=cl)
        assert states[-1] is final.state is OrderState.CANCELLED, (
            f"the chain ends CANCELLED and the cancel's answer says so: {states}, {final}"
        )
        assert len(states) >= 2, f"the chain reports at least its accept and its end: {states}"
