"""Accounts: cash, positions (FIFO lots in ticks), P&L, commissions and a margin model.

P&L is kept in integer ticks per instrument and turned into money with the
instrument's tick value only at the edge, so it reconciles exactly: for every
instrument, ``realized + unrealized == sum(-side * qty * price over fills) +
position * mark`` (all in ticks). Lots close first-in first-out, as futures
clearing does; ``avg_price`` is the average of the open lots.

Margin is a flat initial margin per contract. An account's exposure in an
instrument is the larger of ``|position + working buys|`` and ``|position -
working sells|``; buying power is ``cash + unrealized - margin * exposure``
summed over instruments. An order that raises exposure needs buying power for
the extra contracts.

Daily settlement (CME Rule 814) moves each position's open P&L against the
settlement price into the cash balance: the position's open lots keep their trade
prices (its ``avg_price`` and ``realized_pnl`` stay the trade's own), and
``variation`` remembers, in ticks, what was paid for the lots that were open at the
last settlement (``pre_qty`` contracts at the front of the FIFO queue, referenced at
``settle_price``). Cash is therefore the clearing balance, unrealized P&L is counted
from the reference prices (``qty * mark - cost - variation``), and a lot closed after a
settlement takes back the part of its profit the settlement already paid.

The account's running money totals are integers with their Decimal exponent
(``engine/money.py``), so they read back exactly the Decimal a sum would give.

:class:`AccountLedger` (here) holds an account's cash, running totals and orders;
:class:`~ec_mock.engine.position_ledger.PositionLedger` (one instrument of one
account: its lots, P&L and exposure) has its own module and is re-exported here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar, final

from ec_core.model import Account, ExecutionReport, Instrument

from ec_mock.engine.money import (
    average_price,
    check_amount,
    exponent_of,
    to_units,
    units_to_decimal,
)
from ec_mock.engine.position_ledger import PositionLedger

if TYPE_CHECKING:
    from ec_mock.engine.records import OrderRecord
    from ec_mock.engine.settlement import VariationMargin
    from ec_mock.engine.smp import SelfMatchPrevention

__all__ = [
    "AccountLedger",
    "PositionLedger",
    "average_price",
    "check_amount",
    "keep_last",
    "to_units",
]

_K = TypeVar("_K")
_V = TypeVar("_V")


def keep_last(kept: dict[_K, _V], key: _K, value: _V, bound: int) -> _V | None:
    """Keep ``value`` under ``key`` in ``kept``, which holds the last ``bound`` entries,
    oldest first: the entry dropped to stay within the bound, else ``None``. A key
    already kept keeps its value and its place (so keeping twice is harmless).

    The one "keep the last N" of the mock: an account's finished orders
    (``ExchangeCore._retire``) and its rejected new orders (``_reject_new``).
    """
    kept.setdefault(key, value)
    if len(kept) <= bound:
        return None
    return kept.pop(next(iter(kept)))


@final
class AccountLedger:
    __slots__ = (
        "account_id",
        "cash_exp",
        "cash_memo",
        "cash_units",
        "commission_exp",
        "commission_per_contract",
        "commission_per_order",
        "commission_units",
        "commissions",
        "currency",
        "final_kept",
        "initial_balance",
        "keep_final",
        "liquidate_on_margin_call",
        "margin_exp",
        "margin_units",
        "name",
        "open_orders",
        "order_fee_exp",
        "order_fee_units",
        "orders_by_cl",
        "positions",
        "rejected",
        "retire_final",
        "scale",
        "smp",
        "unlimited",
        "unrealized_exp",
        "unrealized_units",
        "variation_log",
    )

    def __init__(
        self,
        account_id: str,
        *,
        balance: Decimal,
        commission_per_contract: Decimal,
        commission_per_order: Decimal = Decimal(0),
        name: str = "",
        currency: str = "USD",
        unlimited: bool = False,
    ) -> None:
        self.account_id = account_id
        self.name = name
        self.currency = currency
        self.initial_balance = balance
        balance_exp = exponent_of(balance, "balance")
        commission_exp = exponent_of(commission_per_contract, "commission_per_contract")
        order_fee_exp = exponent_of(commission_per_order, "commission_per_order")
        # Money totals in integer units of 10**scale (see the module docstring).
        self.scale = min(0, balance_exp, commission_exp, order_fee_exp)
        self.cash_units = to_units(balance, self.scale)  # balance + realized - commissions
        self.cash_exp = balance_exp
        self.cash_memo = (self.cash_units, self.cash_exp, self.scale, balance)
        self.unrealized_units = 0  # running sum of unrealized P&L at the marks
        self.unrealized_exp = 0
        self.margin_units = 0  # running sum of margin * exposure
        self.margin_exp = 0
        self.commission_per_contract = commission_per_contract
        self.commission_units = to_units(commission_per_contract, self.scale)
        self.commission_per_order = commission_per_order
        self.order_fee_units = to_units(commission_per_order, self.scale)
        self.order_fee_exp = order_fee_exp
        self.commission_exp = commission_exp
        self.commissions = Decimal(0)
        self.unlimited = unlimited  # the house: never short of buying power
        self.smp: SelfMatchPrevention | None = None
        self.liquidate_on_margin_call = False
        self.variation_log: list[VariationMargin] = []  # one entry per settlement it took part in
        self.positions: dict[str, PositionLedger] = {}
        # The account's orders, held here so the hot path reaches them without a
        # dict-of-dicts lookup: every client id of every chain, open orders by oid,
        # and the rejects of new orders by client id (kept for status queries).
        self.orders_by_cl: dict[str, OrderRecord] = {}
        self.open_orders: dict[int, OrderRecord] = {}
        self.rejected: dict[str, ExecutionReport] = {}
        # An account nobody queries (the simulated market's house) keeps only its open
        # orders: a finished one is forgotten as it ends (ExchangeCore._retire). A user's
        # account on a paper venue keeps its last ``keep_final`` finished orders (and
        # rejects), for status queries, and forgets older ones.
        self.retire_final = False
        self.keep_final = 0
        self.final_kept: dict[int, OrderRecord] = {}  # oid -> finished order, oldest first

    def keep_reject(self, cl_order_id: str, report: ExecutionReport) -> None:
        """Keep the reject of a new order for status queries: always, or the last
        ``keep_final`` of them on an account that retires finished orders (none if 0)."""
        if not self.retire_final:
            self.rejected.setdefault(cl_order_id, report)
        elif self.keep_final:
            keep_last(self.rejected, cl_order_id, report, self.keep_final)

    # -- the running totals as Decimals ------------------------------------------------
    @property
    def cash(self) -> Decimal:
        """Balance: the opening balance plus realized P&L and variation margin minus
        commissions."""
        units, exponent, scale, value = self.cash_memo  # it changes on closing fills only
        if units != self.cash_units or exponent != self.cash_exp or scale != self.scale:
            value = units_to_decimal(self.cash_units, self.scale, self.cash_exp)
            self.cash_memo = (self.cash_units, self.cash_exp, self.scale, value)
        return value

    @cash.setter
    def cash(self, value: Decimal) -> None:
        exponent = exponent_of(value, "cash")
        self._rescale(exponent)
        self.cash_units = to_units(value, self.scale)
        self.cash_exp = exponent
        self.cash_memo = (self.cash_units, exponent, self.scale, value)

    @property
    def unrealized_value(self) -> Decimal:
        """Running unrealized P&L at the marks (``unrealized`` recomputes it)."""
        return units_to_decimal(self.unrealized_units, self.scale, self.unrealized_exp)

    @unrealized_value.setter
    def unrealized_value(self, value: Decimal) -> None:
        exponent = exponent_of(value, "unrealized P&L")
        self._rescale(exponent)
        self.unrealized_units = to_units(value, self.scale)
        self.unrealized_exp = exponent

    @property
    def margin_value(self) -> Decimal:
        """Running margin in use (``margin_used`` recomputes it)."""
        return units_to_decimal(self.margin_units, self.scale, self.margin_exp)

    @margin_value.setter
    def margin_value(self, value: Decimal) -> None:
        exponent = exponent_of(value, "margin")
        self._rescale(exponent)
        self.margin_units = to_units(value, self.scale)
        self.margin_exp = exponent

    def buying_power_units(self) -> int:
        return self.cash_units + self.unrealized_units - self.margin_units

    def _rescale(self, exponent: int) -> None:
        """Make the unit fine enough for an amount with ``exponent``."""
        if exponent >= self.scale:
            return
        factor = 10 ** (self.scale - exponent)
        self.scale = exponent
        self.cash_units *= factor
        self.unrealized_units *= factor
        self.margin_units *= factor
        self.commission_units *= factor
        self.order_fee_units *= factor
        for pos in self.positions.values():
            pos.margin_units *= factor
            pos.tick_value_units *= factor

    def position(self, instrument: Instrument, margin: Decimal) -> PositionLedger:
        pos = self.positions.get(instrument.symbol)
        if pos is None:
            pos = PositionLedger(instrument, margin, self)
            self._rescale(min(pos.margin_exp, pos.tick_value_exp))
            pos.margin_units = to_units(margin, self.scale)
            pos.tick_value_units = to_units(pos.tick_value, self.scale)
            self.positions[instrument.symbol] = pos
        return pos

    def charge_commission(self, qty: int, *, first: bool = False) -> Decimal:
        """Take the commission on a fill of ``qty`` contracts (a non-zero rate), plus the
        per-order commission on an order's ``first`` fill; returns it."""
        commission = self.commission_per_contract * qty
        self.cash_units -= self.commission_units * qty
        if first and self.commission_per_order:
            commission += self.commission_per_order
            self.cash_units -= self.order_fee_units
            if self.order_fee_exp < self.cash_exp:
                self.cash_exp = self.order_fee_exp
        if self.commission_exp < self.cash_exp:
            self.cash_exp = self.commission_exp
        self.commissions += commission
        return commission

    def recompute(self, marks: dict[str, int]) -> None:
        """Rebuild the running totals from the positions (after a restore)."""
        self.unrealized_value = self.unrealized(marks)
        self.margin_value = self.margin_used()

    def unrealized(self, marks: dict[str, int]) -> Decimal:
        """Unrealized P&L computed from scratch (the running total is ``unrealized_value``)."""
        total = Decimal(0)
        for symbol, pos in self.positions.items():
            if pos.qty:
                total += pos.unrealized_ticks(marks.get(symbol)) * pos.tick_value
        return total

    def margin_used(self) -> Decimal:
        """Margin in use computed from scratch (the running total is ``margin_value``)."""
        total = Decimal(0)
        for pos in self.positions.values():
            exposure = pos.exposure()
            if exposure:
                total += pos.margin * exposure
        return total

    def buying_power(self, marks: dict[str, int]) -> Decimal:
        """Cash plus unrealized P&L minus margin in use, as the Decimal sum of the three."""
        exponent = self.cash_exp  # the finest of the three (compares: every report asks)
        if self.unrealized_exp < exponent:
            exponent = self.unrealized_exp
        if self.margin_exp < exponent:
            exponent = self.margin_exp
        return units_to_decimal(self.buying_power_units(), self.scale, exponent)

    def to_account(self, marks: dict[str, int]) -> Account:
        return Account(
            account_id=self.account_id,
            name=self.name,
            currency=self.currency,
            balance=self.cash,
            buying_power=self.buying_power(marks),
        )
