"""Kit tests of account-wide requests and views: cancel-all, liquidate, go flat, positions,
historical orders. Each runs only if the vendor declares the capability it needs.

Use a dedicated test account: cancel-all and liquidation act on the whole account
(or the whole instrument), not only on what the kit placed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ec_core.model import (
    CancelAll,
    ExecutionReport,
    GoFlat,
    Instrument,
    LiquidateAll,
    OrderRequest,
    OrderState,
    PositionReport,
    ReportKind,
    Side,
)
from ec_core.testing.conformance.base import ConformanceBase, KitOrders
from ec_core.testing.conformance.control import MarketControl
from ec_core.testing.conformance.events import TradeReader
from ec_core.testing.conformance.journal import TradeJournal
from ec_core.testing.conformance.requirements import MARKET_CONTROL, requires
from ec_core.vendor import Capability, Session

__all__ = ["AccountConformance"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(ts_ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ts_ns // 1_000)


async def _position_qty(session: Session, account_id: str, symbol: str) -> int:
    return sum(
        p.qty
        for p in await session.trades.positions(account_id)
        if p.symbol == symbol and p.account_id == account_id
    )


def _reported_qtys(reader: TradeReader, symbol: str) -> list[int]:
    return [
        e.position.qty
        for e in reader.seen
        if isinstance(e, PositionReport) and e.position.symbol == symbol
    ]


class AccountConformance(ConformanceBase, kit=True):
    """Requests that act on many orders at once, and what the account then shows."""

    async def _buy_filled(
        self,
        session: Session,
        reader: TradeReader,
        control: MarketControl,
        *,
        account_id: str,
        instrument: Instrument,
        price: Decimal,
        qty: int,
        orders: KitOrders,
    ) -> ExecutionReport:
        """Go long ``qty``: rest a buy at ``price``, have the counterparty sell into it."""
        cl = orders.new_id("b")
        await self.rest_limit(
            session,
            reader,
            account_id=account_id,
            instrument=instrument,
            cl_order_id=cl,
            side=Side.BUY,
            qty=qty,
            price=price,
        )
        await control.place(instrument, Side.SELL, price, qty)
        return await self.report(reader, cl, ReportKind.FILL, what=f"the fill of {cl}")

    async def _flatten_fill(
        self,
        reader: TradeReader,
        *,
        instrument: Instrument,
        orders: KitOrders,
        qty: int,
    ) -> list[ExecutionReport]:
        """The sell fills of an order the venue made (not one of the kit's) totalling ``qty``."""
        fills: list[ExecutionReport] = []
        while sum(r.fill.qty for r in fills if r.fill is not None) < qty:
            event = await reader.next_matching(
                lambda e: (
                    isinstance(e, ExecutionReport)
                    and e.kind is ReportKind.FILL
                    and e.symbol == instrument.symbol
                    and e.side is Side.SELL
                    and e.cl_order_id not in orders
                ),
                f"the venue's flattening sell of {qty} {instrument.symbol}",
            )
            assert isinstance(event, ExecutionReport), (
                f"the flattening sell is an ExecutionReport, not {event!r}"
            )
            fills.append(event)
        return fills

    async def _liquidation(
        self,
        request: OrderRequest,
        *,
        session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        control: MarketControl,
        capabilities: frozenset[Capability],
        orders: KitOrders,
        journal: TradeJournal,
    ) -> None:
        price = self.price(instrument, reference_price)
        async with self.trade_stream(session, account_id, journal) as reader:
            before = (
                await _position_qty(session, account_id, instrument.symbol)
                if Capability.POSITIONS in capabilities
                else 0
            )
            assert before == 0, f"the test account must start flat in {instrument.symbol}"
            await self._buy_filled(
                session,
                reader,
                control,
                account_id=account_id,
                instrument=instrument,
                price=price,
                qty=1,
                orders=orders,
            )
            working = orders.new_id("w")
            await self.rest_limit(
                session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=working,
                side=Side.BUY,
                qty=1,
                price=self.price(instrument, reference_price, ticks_below=5),
            )
            # liquidity for the venue's flattening sell, above the kit's resting buy
            liquidity = instrument.to_price(instrument.to_ticks(price) - 1)
            await control.place(instrument, Side.BUY, liquidity, 1)
            await session.orders.send(request)
            cancelled = await self.chain_report(reader, working, ReportKind.CANCELLED)
            sells = await self._flatten_fill(reader, instrument=instrument, orders=orders, qty=1)
        assert cancelled.state is OrderState.CANCELLED, (
            f"a cancel-all ends the working order CANCELLED, not {cancelled.state}: {cancelled}"
        )
        assert sum(r.fill.qty for r in sells if r.fill is not None) == 1, (
            f"a liquidation sells exactly the one lot held, the fills sum to 1: {sells}"
        )
        assert sells[-1].state is OrderState.FILLED, (
            f"the flattening sell fills the lot whole: its last report is FILLED: {sells[-1]}"
        )
        if Capability.POSITIONS in capabilities:
            after = await _position_qty(session, account_id, instrument.symbol)
            assert after == 0, f"{request.request_type} left a position of {after}"

    @requires(Capability.ORDERS, Capability.CANCEL_ALL)
    @pytest.mark.anyio
    async def test_cancel_all_cancels_every_working_order(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        ids = [kit_orders.new_id(), kit_orders.new_id()]
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            for offset, cl in enumerate(ids):
                await self.rest_limit(
                    vendor_session,
                    reader,
                    account_id=account_id,
                    instrument=instrument,
                    cl_order_id=cl,
                    side=Side.BUY,
                    qty=1,
                    price=self.price(instrument, reference_price, ticks_below=offset),
                )
            await vendor_session.orders.send(
                CancelAll(
                    account_id=account_id,
                    symbol=instrument.symbol,
                    cl_order_id=kit_orders.new_id("a"),
                )
            )
            cancelled = [await self.chain_report(reader, cl, ReportKind.CANCELLED) for cl in ids]
        assert all(r.state is OrderState.CANCELLED for r in cancelled), (
            f"a cancel-all ends every working order of the account CANCELLED: {cancelled}"
        )
        chains = {trade_journal.chain_key(cl) for cl in ids}
        left = [
            r
            for r in await vendor_session.orders.open_orders(account_id)
            if trade_journal.chain_key(r.cl_order_id) in chains
        ]
        assert left == [], f"open after CANCEL_ALL: {left}"

    @requires(Capability.ORDERS, Capability.LIQUIDATE, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_liquidate_all_cancels_and_flattens(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        market_control: MarketControl,
        vendor_capabilities: frozenset[Capability],
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        request = LiquidateAll(
            account_id=account_id, symbol=instrument.symbol, cl_order_id=kit_orders.new_id("l")
        )
        await self._liquidation(
            request,
            session=vendor_session,
            account_id=account_id,
            instrument=instrument,
            reference_price=reference_price,
            control=market_control,
            capabilities=vendor_capabilities,
            orders=kit_orders,
            journal=trade_journal,
        )

    @requires(Capability.ORDERS, Capability.LIQUIDATE, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_go_flat_cancels_and_flattens(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        market_control: MarketControl,
        vendor_capabilities: frozenset[Capability],
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        request = GoFlat(account_id=account_id, cl_order_id=kit_orders.new_id("g"))
        await self._liquidation(
            request,
            session=vendor_session,
            account_id=account_id,
            instrument=instrument,
            reference_price=reference_price,
            control=market_control,
            capabilities=vendor_capabilities,
            orders=kit_orders,
            journal=trade_journal,
        )

    @requires(Capability.POSITIONS, Capability.ORDERS, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_positions_agree_with_fills(
        self,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        market_control: MarketControl,
        kit_orders: KitOrders,
        trade_journal: TradeJournal,
    ) -> None:
        price = self.price(instrument, reference_price)
        below = self.price(instrument, reference_price, ticks_below=2)
        before = await _position_qty(vendor_session, account_id, instrument.symbol)
        async with self.trade_stream(vendor_session, account_id, trade_journal) as reader:
            bought = await self._buy_filled(
                vendor_session,
                reader,
                market_control,
                account_id=account_id,
                instrument=instrument,
                price=price,
                qty=2,
                orders=kit_orders,
            )
            long = await _position_qty(vendor_session, account_id, instrument.symbol)
            # back to where it started: the counterparty bids, the kit sells into it
            await market_control.place(instrument, Side.BUY, below, 2)
            sell = kit_orders.new_id("s")
            await self.rest_limit(
                vendor_session,
                reader,
                account_id=account_id,
                instrument=instrument,
                cl_order_id=sell,
                side=Side.SELL,
                qty=2,
                price=below,
            )
            await self.report(reader, sell, ReportKind.FILL, what=f"the fill of {sell}")
            after = await _position_qty(vendor_session, account_id, instrument.symbol)
            reported = _reported_qtys(reader, instrument.symbol)
            if reported and reported[-1] != after:
                # a vendor that streams positions must come to agree with its own fills
                await reader.next_matching(
                    lambda e: (
                        isinstance(e, PositionReport)
                        and e.position.symbol == instrument.symbol
                        and e.position.qty == after
                    ),
                    f"a PositionReport of {instrument.symbol} showing {after}",
                )
                reported = _reported_qtys(reader, instrument.symbol)
        assert (bought.filled_qty, bought.state) == (2, OrderState.FILLED), (
            f"a market buy of 2 against enough liquidity ends FILLED with filled_qty 2: {bought}"
        )
        assert long == before + 2, f"positions show {long} after buying 2 from {before}"
        assert after == before, f"positions show {after} after selling back to {before}"
        if reported:
            assert before + 2 in reported, f"no PositionReport showed the long: {reported}"

    @requires(Capability.HISTORICAL_ORDERS, Capability.ORDERS)
    @pytest.mark.anyio
    async def test_historical_orders_include_a_cancelled_order(
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
            accepted = await self.rest_limit(
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
        if accepted.ts_ns and cancelled.ts_ns:  # the venue's clock, which may not be ours
            start = _moment(accepted.ts_ns) - timedelta(hours=1)
            end = _moment(cancelled.ts_ns) + timedelta(hours=1)
        else:
            start = datetime.now(UTC) - timedelta(days=1)
            end = datetime.now(UTC) + timedelta(days=1)
        history = await vendor_session.orders.historical_orders(account_id, start, end)
        chain = trade_journal.chain_key(cl)
        ours = [r for r in history if trade_journal.chain_key(r.cl_order_id) == chain]
        assert ours, f"historical_orders({start:%Y-%m-%d %H:%M}, {end:%H:%M}) misses {cl!r}"
        assert ours[-1].state is OrderState.CANCELLED, (
            f"historical_orders shows the cancelled order's last state CANCELLED: {ours[-1]}"
        )
        assert all(r.account_id == account_id for r in history), (
            f"historical_orders lists only the asked account {account_id!r}: {history}"
        )
