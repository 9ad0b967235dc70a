"""A trading process to be killed: it sends orders forever through an executor with a journal.

Run as ``python journal_child.py <journal path>``. It prints ``SENT <client order id>
<state>`` after each order is acknowledged, flushing stdout, so the parent knows what
left; every third order is filled by a counterparty. The parent kills it with SIGKILL
at a moment of its choosing and recovers the orders from the journal.
"""

from __future__ import annotations

import itertools
import sys
from decimal import Decimal

import anyio
from ec_core.clock import ManualClock
from ec_core.execution import Executor, Payload, ValidatorGate
from ec_core.journal import Journal
from ec_core.model import NewOrder, OrderType, Side
from ec_core.tracking import OrderTracker
from ec_mock.engine import Exchange
from ec_mock.instruments import builtin_instruments
from ec_mock.vendor import MockVendorFactory, MockVenue
from ec_mock.vendor.venue import SIM_START_NS


def _order(account_id: str, side: Side, qty: int) -> NewOrder:
    return NewOrder(
        account_id=account_id, symbol="CLE", side=side, qty=qty, order_type=OrderType.LMT,
        limit_price=Decimal("70.00"),
    )  # fmt: skip


async def main(path: str) -> None:
    clock = ManualClock(SIM_START_NS)
    instruments = list(builtin_instruments())
    exchange = Exchange(instruments=instruments, clock=clock, seed=0)
    for account in ("ACC1", "CP"):
        # Unlimited: the child may run far ahead of the parent's kill (the pipe buffers
        # its lines), and a margin reject is not what this test is about.
        exchange.open_account(account, unlimited=True)
    venue = MockVenue(exchange, clock, seed=0, market=False)
    factory = MockVendorFactory()
    async with (
        factory.open({"venue": venue, "account_id": "ACC1"}) as session,
        factory.open({"venue": venue, "account_id": "CP"}) as cp,
    ):
        journal = Journal(path, batch_size=64)
        tracker = OrderTracker(clock=clock)
        executor = Executor(
            gateway=session.orders, checks=ValidatorGate([]), tracker=tracker, journal=journal,
            clock=clock, vendor="mock", instruments={i.symbol: i for i in instruments},
        )  # fmt: skip
        async with session.trades.stream("ACC1") as events, executor.consume(events):
            for i in itertools.count():
                payload = Payload(request=_order("ACC1", Side.BUY, 1), request_id=i)
                order = await executor.execute(payload)
                assert order is not None
                print("SENT", order.cl_order_id, order.state.value, flush=True)
                if i % 3 == 2:
                    await cp.orders.send(_order("CP", Side.SELL, 1))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
