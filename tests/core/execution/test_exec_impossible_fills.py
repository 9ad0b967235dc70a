"""Impossible fills through the executor: booked, the kill switch acts, nothing raises.

A venue that overfills an order, or fills one it rejected, is believed about the
money (the position moves) and the executor's gate escalates the kill switch to
the limits file's ``[kill_switch] on_impossible_fill`` (REDUCING by default).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal

import anyio
import msgspec
import pytest
from ec_core.clock import ManualClock
from ec_core.execution import EventSink, Executor, Payload, PayloadStatus
from ec_core.model import (
    ExecutionReport,
    Fill,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    ReportKind,
    Side,
    TradeEvent,
)
from ec_core.safety import KillSwitchState, Limits, PreTradeChecks, StaticLimits
from ec_core.safety.rules import builtin_validators
from ec_core.tracking import OrderTracker
from ec_core.validation import ValidatorRegistry
from ec_mock.instruments import builtin_instruments
from ec_mock.vendor.venue import SIM_START_NS
from exec_rig import ACCOUNT, SYMBOL, limit, rig

S = OrderState
K = ReportKind

LIMITS = """
[defaults]
max_order_qty = 20

[instruments.CLE]

[accounts."*"]
"""


def make_checks(clock: ManualClock, policy: str = "") -> PreTradeChecks:
    registry = ValidatorRegistry()
    for validator in builtin_validators():
        registry.add(validator)
    text = LIMITS + (f'\n[kill_switch]\non_impossible_fill = "{policy}"\n' if policy else "")
    return PreTradeChecks(
        registry, limits=StaticLimits(Limits.from_toml(text, source="limits.toml")), clock=clock
    )


def overfill(cl_order_id: str, venue_order_id: str) -> ExecutionReport:
    return ExecutionReport(
        kind=K.FILL, account_id=ACCOUNT, symbol=SYMBOL, cl_order_id=cl_order_id,
        state=S.FILLED, side=Side.BUY, order_type=OrderType.LMT, qty=1, filled_qty=5,
        limit_price=Decimal("70.00"), avg_fill_price=Decimal("70.00"),
        venue_order_id=venue_order_id,
        fill=Fill(
            fill_id="HOSTILE-1", account_id=ACCOUNT, symbol=SYMBOL, side=Side.BUY, qty=5,
            price=Decimal("70.00"), ts_ns=1, cl_order_id=cl_order_id,
        ),
    )  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("", KillSwitchState.REDUCING),
        ("HALTED", KillSwitchState.HALTED),
        ("ACTIVE", KillSwitchState.ACTIVE),
    ],
)
async def test_an_overfill_is_booked_and_trips_the_kill_switch(
    policy: str, expected: KillSwitchState
) -> None:
    async with rig(checks_factory=lambda clock: make_checks(clock, policy)) as r:
        order = await r.executor.execute(Payload(request=limit(qty=1)))
        assert order is not None
        assert order.state is S.WORKING
        r.executor.on_event(overfill(order.cl_order_id, order.venue_order_id))  # no raise
        checks = r.executor.checks
        assert isinstance(checks, PreTradeChecks)
        assert checks.kill_switch.state is expected
        if expected is not KillSwitchState.ACTIVE:
            assert order.chain_id in checks.kill_switch.reason
            assert checks.kill_switch.record.source == "impossible-fill"
        after = r.tracker.order(order.chain_id)
        assert after is not None
        assert after.filled_qty == 5 == r.tracker.position(ACCOUNT, SYMBOL).qty
        assert r.tracker.stats().impossible_fills == 1


class RejectThenFill:
    """A hostile venue: every new order is rejected, then filled. A gateway and a
    direct feed, so both reports reach the executor during the send, in order."""

    def __init__(self) -> None:
        self._sink: EventSink | None = None

    def set_sink(self, sink: EventSink | None) -> None:
        self._sink = sink

    async def send(self, request: OrderRequest) -> None:
        assert isinstance(request, NewOrder)
        assert self._sink is not None
        rejected = ExecutionReport(
            kind=K.REJECTED, state=S.REJECTED, account_id=ACCOUNT, symbol=SYMBOL,
            cl_order_id=request.cl_order_id, side=request.side, order_type=request.order_type,
            qty=request.qty, limit_price=request.limit_price,
        )  # fmt: skip
        assert self._sink(rejected)
        fill = Fill(
            fill_id="LATE-1", account_id=ACCOUNT, symbol=SYMBOL, side=request.side,
            qty=request.qty, price=Decimal("70.00"), ts_ns=2, cl_order_id=request.cl_order_id,
        )  # fmt: skip
        filled = msgspec.structs.replace(
            rejected, kind=K.FILL, state=S.FILLED, filled_qty=request.qty, fill=fill
        )
        assert self._sink(filled)

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        return None

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        return ()

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        return ()

    def __aiter__(self) -> AsyncIterator[TradeEvent]:
        return self

    async def __anext__(self) -> TradeEvent:
        await anyio.sleep_forever()
        raise StopAsyncIteration  # pragma: no cover


@pytest.mark.anyio
async def test_a_fill_after_a_reject_is_the_callers_order_not_an_exception() -> None:
    clock = ManualClock(SIM_START_NS)  # a weekday inside CLE's session
    venue = RejectThenFill()
    checks = make_checks(clock)
    tracker = OrderTracker(clock=clock)
    executor = Executor(
        gateway=venue, checks=checks, tracker=tracker, journal=None, clock=clock,
        vendor="hostile", instruments={i.symbol: i for i in builtin_instruments()},
    )  # fmt: skip
    async with executor.consume(venue):
        await anyio.wait_all_tasks_blocked()  # the consumer has installed its sink
        payload = Payload(request=limit(qty=1))
        order = await executor.execute(payload)  # no OrderRejectedError: it filled
    assert order is not None
    assert (order.state, order.filled_qty) == (S.FILLED, 1)
    assert tracker.position(ACCOUNT, SYMBOL).qty == 1
    assert payload.status is PayloadStatus.DONE
    assert checks.kill_switch.state is KillSwitchState.REDUCING
    assert tracker.stats().impossible_fills == 1
