"""A hostile CQG server overfills an order: the real client, the executor and the
tracker book it, keep the order's record with the position, and trip the kill switch.

The audit's reproduction of issue 11, item 9, over a real WebSocket on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import anyio
import pytest
from cqgclient_support import ACCOUNT, FakeCqgServer, fake_server, settings_for
from ec_core.execution import Executor, Payload
from ec_core.model import CancelOrder, NewOrder, OrderState, OrderType, Side
from ec_core.safety import KillSwitchState, Limits, PreTradeChecks, StaticLimits
from ec_core.tracking import FillAnomalyKind, OrderTracker
from ec_core.validation import ValidatorRegistry
from ec_cqg.client import CqgSession

pytestmark = pytest.mark.anyio

ACC = str(ACCOUNT)
LIMITS = '[instruments.EP]\n[accounts."*"]\n'


@asynccontextmanager
async def trading(
    server: FakeCqgServer,
) -> AsyncIterator[tuple[PreTradeChecks, OrderTracker, Executor]]:
    """The real client logged on to the hostile server, with the core executor (real
    pre-trade checks and their kill switch) consuming its trade stream."""
    async with CqgSession(settings_for(server)) as session:
        instrument = await session.resolve("EP")
        clock = session.clock
        checks = PreTradeChecks(
            ValidatorRegistry(), limits=StaticLimits(Limits.from_toml(LIMITS)), clock=clock
        )
        tracker = OrderTracker(clock=clock)
        executor = Executor(
            gateway=session.orders, checks=checks, tracker=tracker, journal=None, clock=clock,
            vendor="cqg", instruments={"EP": instrument}, monitor=session.trades,
        )  # fmt: skip
        async with session.trades.stream(ACC) as events, executor.consume(events):
            yield checks, tracker, executor


@pytest.fixture
async def server() -> AsyncIterator[FakeCqgServer]:
    async with fake_server() as srv:
        yield srv


async def test_an_overfill_from_the_venue_is_booked_and_trips_the_kill_switch(
    server: FakeCqgServer,
) -> None:
    async with trading(server) as (checks, tracker, executor):
        request = NewOrder(
            account_id=ACC, symbol="EP", side=Side.BUY, qty=1, order_type=OrderType.LMT,
            limit_price=Decimal("4499.75"), cl_order_id="H1",
        )  # fmt: skip
        order = await executor.execute(Payload(request=request))
        assert order is not None
        assert order.state is OrderState.WORKING

        await server.fill("H1", 5)  # one fill of 5 on a qty-1 order
        with anyio.fail_after(5):
            after = await tracker.wait_for("H1", lambda o: o.filled_qty >= 5)

        assert after.filled_qty == 5 == tracker.position(ACC, "EP").qty
        assert [a.kind for a in tracker.anomalies()] == [FillAnomalyKind.OVERFILL]
        assert tracker.stats().impossible_fills == 1
        assert checks.kill_switch.state is KillSwitchState.REDUCING
        assert "H1" in checks.kill_switch.reason


async def test_a_fill_after_a_cancel_is_booked_and_the_order_agrees(
    server: FakeCqgServer,
) -> None:
    async with trading(server) as (checks, tracker, executor):
        request = NewOrder(
            account_id=ACC, symbol="EP", side=Side.SELL, qty=2, order_type=OrderType.LMT,
            limit_price=Decimal("4500.25"), cl_order_id="H2",
        )  # fmt: skip
        await executor.execute(Payload(request=request))
        cancel = CancelOrder(account_id=ACC, symbol="EP", orig_cl_order_id="H2", cl_order_id="H3")
        cancelled = await executor.execute(Payload(request=cancel))
        assert cancelled is not None
        assert cancelled.state is OrderState.CANCELLED

        await server.fill("H2", 1)  # the venue fills what it said it cancelled
        with anyio.fail_after(5):
            after = await tracker.wait_for("H2", lambda o: o.filled_qty >= 1)

        assert after.filled_qty == 1 == -tracker.position(ACC, "EP").qty
        assert after.state is OrderState.FILLED  # the venue's last word, final
        assert [a.kind for a in tracker.anomalies()] == [FillAnomalyKind.FILL_AFTER_FINAL]
        assert checks.kill_switch.state is KillSwitchState.REDUCING
