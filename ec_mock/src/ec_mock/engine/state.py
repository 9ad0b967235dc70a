"""A serialisable picture of a whole exchange, for restarts that keep state.

``msgspec.json.encode(exchange.snapshot())`` is a complete save file;
``Exchange.restore(msgspec.json.decode(data, type=ExchangeState), clock=...)``
carries on from it. In-flight (latency-delayed) requests are not part of it: a
restart loses them, as a real one would.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
from ec_core.model import Duration, ExecutionReport, Instrument, OrderState, OrderType, Trade

from ec_mock.engine.settlement import Settlement, VariationMargin
from ec_mock.engine.smp import SelfMatchPrevention

__all__ = ["AccountSnapshot", "ExchangeState", "OrderSnapshot", "PositionSnapshot"]


class OrderSnapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    oid: int
    account_id: str
    symbol: str
    side: int
    qty: int
    filled: int
    cost: int
    order_type: OrderType
    price: int | None
    stop: int | None
    duration: Duration
    gtd: date | None
    aon: bool
    exec_instructions: tuple[str, ...]
    cl_order_id: str
    orig_cl_order_id: str
    chain_id: str
    state: OrderState
    seq: int
    resting: bool
    triggered: bool
    waiting_aon: bool
    expire_ns: int
    created_ns: int
    updated_ns: int
    cl_ids: tuple[str, ...]
    display: int = 0  # an iceberg's display quantity (0: none)
    shown: int = 0  # what is left of its slice on display
    min_qty: int = 0
    smp: SelfMatchPrevention | None = None


class PositionSnapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    symbol: str
    lots: tuple[tuple[int, int], ...]  # (signed qty, price ticks), oldest first
    realized: int  # ticks
    volume: int = 0
    # daily settlement (see engine/ledger.py), in ticks
    settle_price: int | None = None
    pre_qty: int = 0
    variation: int = 0
    banked: int = 0


class AccountSnapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    account_id: str
    name: str
    currency: str
    initial_balance: Decimal
    cash: Decimal
    commission_per_contract: Decimal
    commissions: Decimal
    commission_per_order: Decimal = Decimal(0)
    unlimited: bool
    positions: tuple[PositionSnapshot, ...]
    rejected: tuple[ExecutionReport, ...] = ()
    liquidate_on_margin_call: bool = False
    variation_log: tuple[VariationMargin, ...] = ()
    smp: SelfMatchPrevention | None = None  # the account's self-match prevention
    retire_final_orders: bool = False  # keeps open orders only (the simulated market's house)
    keep_final_orders: int = 0  # ... and its last N finished orders (a user on a paper venue)


class ExchangeState(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ts_ns: int
    seed: int
    instruments: tuple[Instrument, ...]
    margins: dict[str, Decimal]
    accounts: tuple[AccountSnapshot, ...]
    orders: tuple[OrderSnapshot, ...]
    marks: dict[str, int]
    last_trades: tuple[Trade, ...]
    next_oid: int
    next_seq: int
    next_fill: int
    next_cl: int
    rng_state: tuple[int, tuple[int, ...], float | None]
    maintenance_margins: dict[str, Decimal] = {}
    settlements: tuple[Settlement, ...] = ()
    feed_settlements: dict[str, int] = {}
    closing_ranges: dict[str, tuple[int, int, int]] = {}  # symbol -> (start, value, volume)
    liquidations: dict[str, dict[str, date]] = {}  # symbol -> account -> the call's day
