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
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, final

from ec_core.model import Account, ExecutionReport, Instrument, Position

from ec_mock.engine.money import (
    average_price,
    check_amount,
    exponent_of,
    to_units,
    units_to_decimal,
)

if TYPE_CHECKING:
    from ec_mock.engine.records import OrderRecord
    from ec_mock.engine.settlement import VariationMargin
    from ec_mock.engine.smp import SelfMatchPrevention

__all__ = ["AccountLedger", "PositionLedger", "average_price", "check_amount", "to_units"]


@final
class PositionLedger:
    """One instrument of one account. Changes go through methods that keep the
    account's running margin and unrealized totals exact, so a buying-power check
    costs O(1) however many instruments the account holds."""

    __slots__ = (
        "account",
        "banked",
        "buy_working",
        "cost",
        "instrument",
        "lots",
        "margin",
        "margin_exp",
        "margin_units",
        "pre_qty",
        "qty",
        "realized",
        "realized_memo",
        "sell_working",
        "settle_price",
        "symbol",
        "tick_value",
        "tick_value_exp",
        "tick_value_units",
        "variation",
        "volume",
    )

    def __init__(self, instrument: Instrument, margin: Decimal, account: AccountLedger) -> None:
        self.account = account
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.tick_value = instrument.tick_value  # a computed property: read it once
        self.margin = margin
        # The same amounts in the account's integer units (set by ``account.position``).
        self.margin_exp = exponent_of(margin, f"{self.symbol} margin")
        self.tick_value_exp = exponent_of(self.tick_value, f"{self.symbol} tick value")
        self.margin_units = 0
        self.tick_value_units = 0
        self.qty = 0  # signed
        self.lots: deque[list[int]] = deque()  # [signed qty, price ticks], all one sign
        self.cost = 0  # sum of signed lot qty * price over open lots
        self.realized = 0  # realized P&L in ticks (per contract-tick)
        # (ticks, money) of the last realized_pnl(): reports repeat it between closing fills
        self.realized_memo = (0, 0 * self.tick_value)
        self.buy_working = 0  # remaining qty of open buy orders
        self.sell_working = 0
        self.volume = 0  # contracts traded, both sides
        # Daily settlement (see the module docstring), all in ticks.
        self.settle_price: int | None = None  # the last settlement applied
        self.pre_qty = 0  # signed contracts, at the front of ``lots``, open at it
        self.variation = 0  # paid for those contracts: sum of qty * (settle - trade price)
        self.banked = 0  # realized + variation at the last settlement

    # Exposure is max(|qty + buys|, |qty - sells|). With a = qty + buys >= c = qty - sells
    # that is ``a if a + c >= 0 else -c``, computed in place: it is the hot path.

    def add_working(self, side: int, delta: int, covered_only: bool = False) -> int:
        """Open orders on ``side`` grew (or shrank, negative ``delta``) by ``delta``
        contracts: the account's margin in use follows the exposure. Returns 0.

        ``covered_only`` (a new order's buying-power check): when the exposure grows
        by more than the account's buying power covers, nothing is booked and the
        exposure it would have added is returned. Every new order and every end of
        one comes through here.
        """
        qty = self.qty
        high = qty + self.buy_working
        low = qty - self.sell_working
        before = high if high + low >= 0 else -low
        if side > 0:
            high += delta
        else:
            low -= delta
        added = (high if high + low >= 0 else -low) - before
        if (
            covered_only
            and added > 0
            and added * self.margin_units > self.account.buying_power_units()
        ):
            return added
        if side > 0:
            self.buy_working += delta
        else:
            self.sell_working += delta
        if added:
            account = self.account
            account.margin_units += added * self.margin_units
            if self.margin_exp < account.margin_exp:
                account.margin_exp = self.margin_exp
        return 0

    def fill(self, signed_qty: int, price: int, mark: int | None, from_working: bool) -> int:
        """Book a fill (of an open order if ``from_working``); returns the P&L in ticks
        it realized.

        Lots close first-in first-out: closing a long by selling at ``price`` realizes
        ``price - lot price`` per contract, a short the reverse. The unrealized P&L at
        ``mark`` moves by ``signed_qty * (mark - price) - realized``: a fill changes
        the position's mark-to-market value by what it cost against the mark, and the
        part it realized leaves the unrealized total.
        """
        if self.pre_qty and (self.pre_qty > 0) != (signed_qty > 0):
            self._release(signed_qty, mark is not None)
        qty = self.qty
        buys = self.buy_working
        sells = self.sell_working
        high = qty + buys
        low = qty - sells
        before = high if high + low >= 0 else -low
        if from_working:
            if signed_qty > 0:
                buys -= signed_qty
                self.buy_working = buys
            else:
                sells += signed_qty
                self.sell_working = sells
        realized = 0
        if signed_qty > 0:
            self.volume += signed_qty
        else:
            self.volume -= signed_qty
        if qty == 0 or (qty > 0) == (signed_qty > 0):  # opening (or adding to) a position
            self.lots.append([signed_qty, price])
            self.cost += signed_qty * price
        else:
            cost = self.cost
            remaining = signed_qty
            lots = self.lots
            while remaining and lots:
                lot = lots[0]
                lot_qty, lot_price = lot
                if lot_qty > 0:  # remaining < 0
                    closing = -remaining if -remaining < lot_qty else lot_qty
                    realized += closing * (price - lot_price)
                    cost -= closing * lot_price
                    if closing == lot_qty:
                        lots.popleft()
                    else:
                        lot[0] = lot_qty - closing
                    remaining += closing
                else:  # remaining > 0
                    closing = remaining if remaining < -lot_qty else -lot_qty
                    realized -= closing * (price - lot_price)
                    cost += closing * lot_price
                    if closing == -lot_qty:
                        lots.popleft()
                    else:
                        lot[0] = lot_qty + closing
                    remaining -= closing
            if remaining:  # through flat: the rest opens the other way
                lots.append([remaining, price])
                cost += remaining * price
            self.cost = cost
            self.realized += realized
        qty += signed_qty
        self.qty = qty
        high = qty + buys
        low = qty - sells
        after = high if high + low >= 0 else -low
        account = self.account
        if after != before:
            account.margin_units += (after - before) * self.margin_units
            if self.margin_exp < account.margin_exp:
                account.margin_exp = self.margin_exp
        if mark is not None:
            change = signed_qty * (mark - price) - realized
            if change:
                account.unrealized_units += change * self.tick_value_units
                if self.tick_value_exp < account.unrealized_exp:
                    account.unrealized_exp = self.tick_value_exp
        if realized:
            account.cash_units += realized * self.tick_value_units
            if self.tick_value_exp < account.cash_exp:
                account.cash_exp = self.tick_value_exp
        return realized

    def _release(self, signed_qty: int, marked: bool) -> None:
        """A fill closes contracts that were open at the last settlement (the front of
        the queue): what the settlement paid for them leaves the balance again, since
        the fill realizes their whole profit from the trade price."""
        pre = self.pre_qty
        sign = 1 if pre > 0 else -1
        closing = min(abs(signed_qty), sign * pre)
        left = closing
        cost = 0
        for lot_qty, lot_price in self.lots:
            take = min(left, sign * lot_qty)
            cost += take * lot_price
            left -= take
            if not left:
                break
        paid = sign * (closing * self.settle_price - cost)  # type: ignore[operator]
        self.pre_qty = pre - sign * closing
        self.variation -= paid
        if paid:
            account = self.account
            units = paid * self.tick_value_units
            account.cash_units -= units
            if self.tick_value_exp < account.cash_exp:
                account.cash_exp = self.tick_value_exp
            if marked:
                account.unrealized_units += units
                if self.tick_value_exp < account.unrealized_exp:
                    account.unrealized_exp = self.tick_value_exp

    def settle(self, price: int, marked: bool) -> int:
        """Mark the position to the settlement ``price`` (ticks): the open P&L against the
        reference prices moves into the cash balance, every open lot is referenced at
        ``price`` from now on. Returns the day's variation in ticks (what the balance
        gained from this position since the last settlement). ``marked``: the account's
        running unrealized total holds this position (its instrument has a mark)."""
        qty = self.qty
        variation = qty * price - self.cost if qty else 0
        paid = variation - self.variation
        if paid:
            account = self.account
            units = paid * self.tick_value_units
            account.cash_units += units
            if self.tick_value_exp < account.cash_exp:
                account.cash_exp = self.tick_value_exp
            if marked:
                account.unrealized_units -= units
                if self.tick_value_exp < account.unrealized_exp:
                    account.unrealized_exp = self.tick_value_exp
        self.variation = variation
        self.pre_qty = qty
        self.settle_price = price
        day = self.realized + variation - self.banked
        self.banked = self.realized + variation
        return day

    def remark(self, old: int | None, new: int) -> None:
        """The instrument's mark moved: carry the change into the account's unrealized P&L."""
        qty = self.qty
        if not qty:
            return
        change = qty * (new - old) if old is not None else qty * new - self.cost - self.variation
        if change:
            account = self.account
            account.unrealized_units += change * self.tick_value_units
            if self.tick_value_exp < account.unrealized_exp:
                account.unrealized_exp = self.tick_value_exp

    def unrealized_ticks(self, mark: int | None) -> int:
        if self.qty == 0 or mark is None:
            return 0
        return self.qty * mark - self.cost - self.variation

    def exposure(self) -> int:
        high = self.qty + self.buy_working
        low = self.qty - self.sell_working
        return high if high + low >= 0 else -low

    def exposure_with(self, side: int, qty: int) -> int:
        """The exposure if an order of ``qty`` on ``side`` were added."""
        high = self.qty + self.buy_working
        low = self.qty - self.sell_working
        if side > 0:
            high += qty
        else:
            low -= qty
        return high if high + low >= 0 else -low

    def avg_price(self) -> Decimal:
        if self.qty == 0:
            return Decimal(0)
        return average_price(self.cost, self.qty, self.instrument.tick_size)

    def realized_pnl(self) -> Decimal:
        """Realized P&L in money (``realized * tick_value``, remembered until it changes)."""
        ticks, money = self.realized_memo
        if ticks != self.realized:
            money = self.realized * self.tick_value
            self.realized_memo = (self.realized, money)
        return money

    def to_position(self, account_id: str) -> Position:
        return Position(
            account_id=account_id,
            symbol=self.symbol,
            qty=self.qty,
            avg_price=self.avg_price(),
            realized_pnl=self.realized_pnl(),
        )


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
        "initial_balance",
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
