"""A real in-process ``mock`` venue with our executor on top, for the execution tests.

The venue has no market simulator (``market=False``), so nothing trades unless a
test makes it: the counterparty session ``cp`` on the same venue sends the other
side. Orders the engine received are counted from the engine's own records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
from ec_core.clock import ManualClock
from ec_core.errors import Violation
from ec_core.execution import Executor, PreTradeGate, ValidatorGate
from ec_core.journal import Journal
from ec_core.model import NewOrder, OrderRequest, OrderType, Side
from ec_core.plugins import PluginHost
from ec_core.safety import Limits, PreTradeChecks, StaticLimits
from ec_core.safety.rules import builtin_validators
from ec_core.tracking import OrderTracker, multipliers
from ec_core.validation import PreTradeContext, Validator, ValidatorRegistry
from ec_mock.engine import Exchange
from ec_mock.faults import FaultPlan
from ec_mock.instruments import builtin_instruments
from ec_mock.vendor import MockSession, MockVendorFactory, MockVenue
from ec_mock.vendor.venue import SIM_START_NS

ACCOUNT = "ACC1"
COUNTERPARTY = "CP"
SYMBOL = "CLE"
END_NS = 2**62


@dataclass
class Rig:
    clock: ManualClock
    exchange: Exchange
    venue: MockVenue
    session: MockSession
    cp: MockSession
    tracker: OrderTracker
    executor: Executor
    journal: Journal | None

    def received(self, account_id: str = ACCOUNT) -> list[str]:
        """Client order ids of every order the engine received for the account."""
        return [r.cl_order_id for r in self.exchange.historical_orders(account_id, 0, END_NS)]

    async def settle(self) -> None:
        """Let the executor's consumer apply everything the venue has sent."""
        await anyio.wait_all_tasks_blocked()

    async def cross(self, side: Side, qty: int, price: str) -> None:
        """The counterparty sends a limit order at ``price`` (it trades with ours if it crosses)."""
        await self.cp.orders.send(
            NewOrder(
                account_id=COUNTERPARTY, symbol=SYMBOL, side=side, qty=qty,
                order_type=OrderType.LMT, limit_price=Decimal(price),
            )
        )  # fmt: skip
        await self.settle()


def limit(qty: int = 1, price: str = "70.00", side: Side = Side.BUY, **kw: Any) -> NewOrder:
    return NewOrder(
        account_id=ACCOUNT, symbol=SYMBOL, side=side, qty=qty, order_type=OrderType.LMT,
        limit_price=Decimal(price), **kw,
    )  # fmt: skip


class Rule:
    """A small validator for tests: ``check(request)`` returns a violation or None."""

    def __init__(self, name: str, code: str, bad: Any) -> None:
        self.name = name
        self.code = code
        self.bad = bad

    def validate(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        if self.bad(request, context):
            return [Violation(code=self.code, field="request", rule=self.name)]
        return []


def _qty_not_positive(request: OrderRequest, context: PreTradeContext) -> bool:
    qty = getattr(request, "qty", None)
    return qty is not None and qty <= 0


def qty_rule() -> Validator:
    return Rule("qty positive", "QTY_NOT_POSITIVE", _qty_not_positive)


def tick_rule() -> Validator:
    def off_grid(request: OrderRequest, context: PreTradeContext) -> bool:
        price = getattr(request, "limit_price", None)
        return (
            price is not None
            and context.instrument is not None
            and not context.instrument.is_on_grid(price)
        )

    return Rule("price on tick grid", "PRICE_OFF_TICK", off_grid)


def instrument_rule() -> Validator:
    return Rule(
        "instrument allowed", "INSTRUMENT_NOT_ALLOWED",
        lambda r, c: getattr(r, "symbol", None) is not None and c.instrument is None,
    )  # fmt: skip


def builtin_checks(clock: ManualClock, limits_toml: str) -> PreTradeChecks:
    """The real pre-trade checks: every built-in validator under ``limits_toml``."""
    registry = ValidatorRegistry()
    for validator in builtin_validators():
        registry.add(validator)
    return PreTradeChecks(
        registry,
        limits=StaticLimits(Limits.from_toml(limits_toml, source="limits.toml")),
        clock=clock,
    )


def default_gate(extra: Iterable[Validator] = ()) -> ValidatorGate:
    return ValidatorGate(
        [qty_rule(), tick_rule(), instrument_rule(), *extra], mandatory=["instrument allowed"]
    )


@asynccontextmanager
async def rig(
    *,
    faults: FaultPlan | None = None,
    journal_path: Path | None = None,
    gate: PreTradeGate | None = None,
    host: PluginHost | None = None,
    ack_timeout: float = 2.0,
    consume: bool = True,
    checks_factory: Callable[[ManualClock], PreTradeGate] | None = None,
    accounts: tuple[str, ...] = (),
    tracker_options: dict[str, Any] | None = None,
    **executor_options: Any,
) -> AsyncIterator[Rig]:
    """The rig; the journal's timed flush is off unless ``flush_interval`` is given, since
    ``anyio.wait_all_tasks_blocked`` (``Rig.settle``) polls while a timer task is due.

    ``accounts``: more accounts the session trades, each with its own trade stream
    consumed by the same executor (as an application trading several accounts does)."""
    executor_options.setdefault("flush_interval", 3600.0)
    clock = ManualClock(SIM_START_NS)
    instruments = list(builtin_instruments())
    exchange = Exchange(instruments=instruments, clock=clock, seed=0)
    exchange.open_account(ACCOUNT)
    exchange.open_account(COUNTERPARTY)
    for account_id in accounts:
        exchange.open_account(account_id)
    venue = MockVenue(exchange, clock, seed=0, market=False)
    factory = MockVendorFactory()
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(
            factory.open(
                {"venue": venue, "account_id": ACCOUNT, "accounts": accounts, "faults": faults}
            )
        )
        cp = await stack.enter_async_context(
            factory.open({"venue": venue, "account_id": COUNTERPARTY})
        )
        journal = stack.enter_context(Journal(journal_path)) if journal_path else None
        by_symbol = {i.symbol: i for i in instruments}
        tracker = OrderTracker(
            clock=clock,
            host=host,
            **{"multiplier": multipliers(by_symbol), **(tracker_options or {})},
        )
        executor = Executor(
            gateway=session.orders,
            checks=(
                checks_factory(clock)
                if checks_factory is not None
                else gate
                if gate is not None
                else default_gate()
            ),
            tracker=tracker,
            journal=journal,
            clock=clock,
            vendor="mock",
            instruments=by_symbol,
            ack_timeout=ack_timeout,
            host=host,
            monitor=session.trades,
            **executor_options,
        )
        if consume:
            for account_id in (ACCOUNT, *accounts):
                events = await stack.enter_async_context(session.trades.stream(account_id))
                await stack.enter_async_context(executor.consume(events))
        yield Rig(clock, exchange, venue, session, cp, tracker, executor, journal)
    venue.check()
