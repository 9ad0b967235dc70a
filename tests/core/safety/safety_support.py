"""Builders shared by the safety tests: instruments, a limits file, contexts, checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from ec_core.clock import ManualClock
from ec_core.model import (
    Instrument,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Position,
    Side,
    TradingHours,
)
from ec_core.safety import KillSwitch, Limits, PreTradeChecks, StaticLimits
from ec_core.safety.activation import datetime_ns
from ec_core.safety.rules import builtin_validators
from ec_core.validation import PreTradeContext, ValidatorRegistry

# Tuesday 2023-11-14 09:00 in Chicago: the CME session is open.
NOW_NS = datetime_ns(datetime(2023, 11, 14, 15, 0, tzinfo=UTC))
ACCOUNT = "ACC1"

CL = Instrument(
    symbol="F.US.CLEZ23",
    tick_size=Decimal("0.01"),
    multiplier=Decimal(1000),
    max_order_qty=100,
)
ES = Instrument(
    symbol="F.US.EPZ23",
    tick_size=Decimal("0.25"),
    multiplier=Decimal(50),
    max_order_qty=500,
    trading_hours=TradingHours(
        timezone="America/Chicago", open=time(17, 0), close=time(16, 0), weekdays=(0, 1, 2, 3, 4)
    ),
)
GC = Instrument(symbol="F.US.GCEZ23", tick_size=Decimal("0.1"), multiplier=Decimal(100))

LIMITS_TOML = """
[aliases]
CL = "F.US.CLE*"
ES = ["F.US.EP*", "F.US.ES*"]

[defaults]
max_order_qty = 50
max_position = 20
max_order_notional = 10_000_000
max_open_orders = 10
price_band_ticks = 100

[instruments.CL]
max_order_qty = 15

[instruments.ES]
price_band_pct = 2.5

[accounts."*"]
max_open_orders = 25
orders_per_second = 5
orders_per_minute = 50
modifies_per_second = 5
cancels_per_second = 10
daily_loss_reduce_at = 2000
daily_loss_halt_at = 5000
"""


def limits() -> Limits:
    return Limits.from_toml(LIMITS_TOML, source="limits.toml")


def new(**overrides: Any) -> NewOrder:
    fields: dict[str, Any] = {
        "account_id": ACCOUNT,
        "symbol": CL.symbol,
        "side": Side.BUY,
        "qty": 1,
        "order_type": OrderType.LMT,
        "limit_price": Decimal("75.00"),
        "cl_order_id": "c1",
    }
    fields.update(overrides)
    return NewOrder(**fields)


def order(**overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "chain_id": "o1",
        "cl_order_id": "o1",
        "account_id": ACCOUNT,
        "symbol": CL.symbol,
        "side": Side.BUY,
        "order_type": OrderType.LMT,
        "qty": 5,
        "state": OrderState.WORKING,
        "limit_price": Decimal("74.50"),
    }
    fields.update(overrides)
    return Order(**fields)


def context(
    *,
    instrument: Instrument | None = CL,
    position: int = 0,
    open_orders: Sequence[Order] = (),
    last_price: Decimal | None = Decimal("75.00"),
    **overrides: Any,
) -> PreTradeContext:
    symbol = instrument.symbol if instrument is not None else "?"
    fields: dict[str, Any] = {
        "now_ns": NOW_NS,
        "instrument": instrument,
        "position": Position(account_id=ACCOUNT, symbol=symbol, qty=position),
        "open_orders": tuple(open_orders),
        "last_price": last_price,
    }
    fields.update(overrides)
    return PreTradeContext(**fields)


def registry() -> ValidatorRegistry:
    validators = ValidatorRegistry()
    for validator in builtin_validators():
        validators.add(validator)
    return validators


def checks(
    *,
    clock: ManualClock | None = None,
    limits_obj: Limits | None = None,
    kill_switch: KillSwitch | None = None,
) -> PreTradeChecks:
    clock = clock or ManualClock(NOW_NS)
    return PreTradeChecks(
        registry(),
        limits=StaticLimits(limits_obj or limits()),
        clock=clock,
        kill_switch=kill_switch,
    )


def codes(violations: Sequence[Any]) -> set[str]:
    return {str(v.code) for v in violations}
