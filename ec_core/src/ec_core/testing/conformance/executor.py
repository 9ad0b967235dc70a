"""Kit tests through the Executor, the single choke point users send orders through.

The other kit tests talk to ``session.orders`` and ``session.trades`` directly, so they
judge the vendor's wire mapping alone. These build the order path ``ec run`` and
``ec_core.connect`` use (:func:`ec_core.strategy.rig.order_path`): the host's parts of the
session (``host.order_gateway(session)``, ``host.trade_monitor(session)``, with every
plugin's wrappers) and the host's validators, the plugin's own included. A validator of
the plugin that denies a plain kit order, or a wrapper that loses an answer, fails here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import anyio
import pytest

from ec_core.errors import OrderDeniedError
from ec_core.execution import Payload, ValidatorGate
from ec_core.front import venue_clock
from ec_core.model import (
    CancelOrder,
    Instrument,
    ModifyOrder,
    Order,
    OrderRequest,
    OrderState,
    Side,
)
from ec_core.plugins import PluginHost
from ec_core.strategy.rig import OrderPath, order_path
from ec_core.testing.conformance.base import ConformanceBase, KitOrders, limit_order
from ec_core.testing.conformance.control import MarketControl
from ec_core.testing.conformance.requirements import MARKET_CONTROL, requires
from ec_core.vendor import Capability, Session

__all__ = ["EXECUTOR_RULE", "ExecutorConformance"]

EXECUTOR_RULE = (
    "an order sent through the Executor (the host's gateway and monitor, the host's"
    " validators) is answered and tracked to its end"
)


class ExecutorConformance(ConformanceBase, kit=True):
    """Orders through ``Executor.execute``, as every user's orders go."""

    @requires(Capability.ORDERS)
    @pytest.mark.anyio
    async def test_executor_tracks_an_order_from_new_to_cancelled(
        self,
        host: PluginHost,
        vendor_session: Session,
        vendor_capabilities: frozenset[Capability],
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        kit_orders: KitOrders,
    ) -> None:
        cl = kit_orders.new_id()
        price = self.price(instrument, reference_price)
        async with self.executor_path(host, vendor_session, account_id, instrument) as path:
            order = await self._execute(
                path, limit_order(account_id, instrument.symbol, cl, Side.BUY, 2, price)
            )
            assert order is not None, f"{EXECUTOR_RULE}: execute returned no order"
            assert order.state is OrderState.WORKING, f"{EXECUTOR_RULE}: {order}"
            assert (order.qty, order.limit_price) == (2, price), f"{EXECUTOR_RULE}: {order}"
            last = cl
            if Capability.MODIFY in vendor_capabilities:
                last = kit_orders.new_id("m")
                lower = self.price(instrument, reference_price, ticks_below=1)
                modify = ModifyOrder(
                    account_id=account_id,
                    symbol=instrument.symbol,
                    orig_cl_order_id=cl,
                    cl_order_id=last,
                    qty=3,
                    limit_price=lower,
                )
                modified = await self._execute(path, modify)
                assert modified is not None, f"{EXECUTOR_RULE}: the modify got no answer"
                assert (modified.state, modified.qty, modified.limit_price) == (
                    OrderState.WORKING,
                    3,
                    lower,
                ), f"{EXECUTOR_RULE}: the tracker after the modify: {modified}"
            cancel = CancelOrder(
                account_id=account_id,
                symbol=instrument.symbol,
                orig_cl_order_id=last,
                cl_order_id=kit_orders.new_id("c"),
            )
            await self._execute(path, cancel)
            final = await self._wait(path, order, lambda o: o.state.is_final, "final")
        assert final.state is OrderState.CANCELLED, f"{EXECUTOR_RULE}: {final}"
        assert path.tracker.open_orders(account_id, instrument.symbol) == [], (
            f"{EXECUTOR_RULE}: the tracker still lists an open order"
        )

    @requires(Capability.ORDERS, MARKET_CONTROL)
    @pytest.mark.anyio
    async def test_executor_books_fills_into_order_and_position(
        self,
        host: PluginHost,
        vendor_session: Session,
        account_id: str,
        instrument: Instrument,
        reference_price: Decimal,
        market_control: MarketControl,
        kit_orders: KitOrders,
    ) -> None:
        cl = kit_orders.new_id()
        price = self.price(instrument, reference_price)
        async with self.executor_path(host, vendor_session, account_id, instrument) as path:
            before = path.tracker.position(account_id, instrument.symbol).qty
            order = await self._execute(
                path, limit_order(account_id, instrument.symbol, cl, Side.BUY, 2, price)
            )
            assert order is not None, f"{EXECUTOR_RULE}: execute returned no order"
            await market_control.place(instrument, Side.SELL, price, 1)
            partial = await self._wait(path, order, lambda o: o.filled_qty >= 1, "a fill")
            assert (partial.state, partial.filled_qty) == (OrderState.PARTIALLY_FILLED, 1), (
                f"{EXECUTOR_RULE}: a partial fill's state is PARTIALLY_FILLED: {partial}"
            )
            await market_control.place(instrument, Side.SELL, price, 1)
            filled = await self._wait(path, order, lambda o: o.state.is_final, "final")
            position = path.tracker.position(account_id, instrument.symbol)
            assert (filled.state, filled.filled_qty) == (OrderState.FILLED, 2), (
                f"{EXECUTOR_RULE}: {filled}"
            )
            assert position.qty == before + 2, (
                f"{EXECUTOR_RULE}: the tracker's position moved {before} -> {position.qty}"
            )
            # Sell it back through the executor: the account ends as it began.
            back = limit_order(
                account_id, instrument.symbol, kit_orders.new_id("s"), Side.SELL, 2, price
            )
            sold = await self._execute(path, back)
            assert sold is not None, f"{EXECUTOR_RULE}: execute returned no order"
            await market_control.place(instrument, Side.BUY, price, 2)
            await self._wait(path, sold, lambda o: o.state.is_final, "final")
            after = path.tracker.position(account_id, instrument.symbol).qty
        assert after == before, (
            f"{EXECUTOR_RULE}: position {after} after selling back, not {before}"
        )

    # -- helpers -------------------------------------------------------------------

    @asynccontextmanager
    async def executor_path(
        self, host: PluginHost, session: Session, account_id: str, instrument: Instrument
    ) -> AsyncIterator[OrderPath]:
        """The order path of ``ec run`` over ``session``, with the host's validators."""
        async with order_path(
            host,
            session,
            account_id=account_id,
            clock=venue_clock(session),
            instruments={instrument.symbol: instrument},
            checks=ValidatorGate(host.validators()),
            ack_timeout=self.timeout,
        ) as path:
            yield path

    async def _wait(
        self, path: OrderPath, order: Order, done: Callable[[Order], bool], what: str
    ) -> Order:
        try:
            with anyio.fail_after(self.timeout):
                return await path.tracker.wait_for(order.chain_id, done)
        except TimeoutError:
            now = path.tracker.order(order.chain_id)
            raise AssertionError(
                f"{EXECUTOR_RULE}: the tracker saw no {what} of {order.chain_id!r} within"
                f" {self.timeout}s; it shows {now}"
            ) from None

    @staticmethod
    async def _execute(path: OrderPath, request: OrderRequest) -> Order | None:
        try:
            return await path.executor.execute(Payload(request=request))
        except OrderDeniedError as denied:
            codes = ", ".join(str(v.code) for v in denied.violations)
            raise AssertionError(
                f"{EXECUTOR_RULE}: the host's validators (the plugin's included) must pass a"
                f" plain kit order, denied {codes}: {denied}"
            ) from denied
