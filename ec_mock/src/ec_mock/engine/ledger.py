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

The account's running money totals (cash, unrealized P&L, margin in use) change
on nearly every order and print, so they are kept as integers in units of
``10**scale`` (the finest exponent of any amount that went in; a finer one
rescales) rather than as Decimals. Each total also remembers the exponent the
plain Decimal sum would have (the smallest of the terms added, Decimal's rule for
exact sums), so :attr:`AccountLedger.cash` and the others read back exactly the
Decimal, digits and exponent, that summing Decimals would have given.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, final

from ec_core.model import Account, ExecutionReport, Instrument, Position

if TYPE_CHECKING:
    from ec_mock.engine.records import OrderRecord
    from ec_mock.engine.smp import SelfMatchPrevention

__all__ = ["AccountLedger", "PositionLedger", "average_price", "check_amount", "to_units"]


def _exponent(value: Decimal, what: str) -> int:
    exponent = Decimal(value).as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"{what} must be a finite Decimal, got {value!r}")
    return exponent


def average_price(cost: int, qty: int, tick_size: Decimal) -> Decimal:
    """The average of fills costing ``cost`` ticks over ``qty`` contracts, as a price.

    The one rounding rule for an order's and a position's average: exact when ``qty``
    divides ``cost``, else a single rounding (the Decimal context's 28 digits) of the
    exact quotient. Multiplying by the tick before dividing is what keeps it to one.
    """
    return Decimal(cost) * tick_size / qty


def check_amount(value: Decimal, what: str) -> None:
    """Refuse a money amount the ledger cannot hold (not a finite number)."""
    _exponent(value, what)


def to_units(value: Decimal, scale: int) -> int:
    """``value`` as an integer count of ``10**scale`` (exact: ``value``'s exponent >= scale)."""
    sign, digits, exponent = Decimal(value).as_tuple()
    coefficient = int("".join(map(str, digits))) if digits else 0
    assert isinstance(exponent, int)
    assert exponent >= scale
    units: int = coefficient * 10 ** (exponent - scale)
    return -units if sign else units


_ONES: dict[int, Decimal] = {}  # exponent -> Decimal 1 written with it (1E-2, 1E+3, ...)


def _decimal(units: int, scale: int, exponent: int) -> Decimal:
    """The Decimal worth ``units * 10**scale`` written with ``exponent`` (>= scale).

    ``Decimal(n) * 1E<exponent>`` has exactly that exponent and n as coefficient
    (the product of exact operands), and costs one C call less than ``scaleb``.
    """
    if exponent != scale:
        units //= 10 ** (exponent - scale)  # exact: every term was a multiple of it
    one = _ONES.get(exponent)
    if one is None:
        one = _ONES[exponent] = Decimal((0, (1,), exponent))
    return Decimal(units) * one


@final
class PositionLedger:
    """One instrument of one account. Changes go through methods that keep the
    account's running margin and unrealized totals exact, so a buying-power check
    costs O(1) however many instruments the account holds."""

    __slots__ = (
        "account",
        "buy_working",
        "cost",
        "instrument",
        "lots",
        "margin",
        "margin_exp",
        "margin_units",
        "qty",
        "realized",
        "realized_memo",
        "sell_working",
        "symbol",
        "tick_value",
        "tick_value_exp",
        "tick_value_units",
        "volume",
    )

    def __init__(self, instrument: Instrument, margin: Decimal, account: AccountLedger) -> None:
        self.account = account
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.tick_value = instrument.tick_value  # a computed property: read it once
        self.margin = margin
        # The same amounts in the account's integer units (set by ``account.position``).
        self.margin_exp = _exponent(margin, f"{self.symbol} margin")
        self.tick_value_exp = _exponent(self.tick_value, f"{self.symbol} tick value")
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

    # Exposure is max(|qty + buys|, |qty - sells|). With a = qty + buys >= c = qty - sells
    # that is ``a if a + c >= 0 else -c``: the methods below inline it, it is the hot path.

    def add_working(self, side: int, delta: int) -> None:
        """Open orders on ``side`` grew (or shrank, negative ``delta``) by ``delta`` contracts.

        ``Exchange._new`` and ``Exchange._finish`` inline this: keep them alike.
        """
        qty = self.qty
        high = qty + self.buy_working
        low = qty - self.sell_working
        before = high if high + low >= 0 else -low
        if side > 0:
            self.buy_working += delta
            high += delta
        else:
            self.sell_working += delta
            low -= delta
        after = high if high + low >= 0 else -low
        if after != before:
            account = self.account
            account.margin_units += (after - before) * self.margin_units
            if self.margin_exp < account.margin_exp:
                account.margin_exp = self.margin_exp

    def fill(self, signed_qty: int, price: int, mark: int | None, from_working: bool) -> int:
        """Book a fill (of an open order if ``from_working``); returns the P&L in ticks
        it realized.

        Lots close first-in first-out: closing a long by selling at ``price`` realizes
        ``price - lot price`` per contract, a short the reverse. The unrealized P&L at
        ``mark`` moves by ``signed_qty * (mark - price) - realized``: a fill changes
        the position's mark-to-market value by what it cost against the mark, and the
        part it realized leaves the unrealized total.
        """
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

    def remark(self, old: int | None, new: int) -> None:
        """The instrument's mark moved: carry the change into the account's unrealized P&L."""
        qty = self.qty
        if not qty:
            return
        change = qty * (new - old) if old is not None else qty * new - self.cost
        if change:
            account = self.account
            account.unrealized_units += change * self.tick_value_units
            if self.tick_value_exp < account.unrealized_exp:
                account.unrealized_exp = self.tick_value_exp

    def unrealized_ticks(self, mark: int | None) -> int:
        if self.qty == 0 or mark is None:
            return 0
        return self.qty * mark - self.cost

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
        "commission_units",
        "commissions",
        "currency",
        "initial_balance",
        "margin_exp",
        "margin_units",
        "name",
        "open_orders",
        "orders_by_cl",
        "positions",
        "rejected",
        "scale",
        "smp",
        "unlimited",
        "unrealized_exp",
        "unrealized_units",
    )

    def __init__(
        self,
        account_id: str,
        *,
        balance: Decimal,
        commission_per_contract: Decimal,
        name: str = "",
        currency: str = "USD",
        unlimited: bool = False,
    ) -> None:
        self.account_id = account_id
        self.name = name
        self.currency = currency
        self.initial_balance = balance
        balance_exp = _exponent(balance, "balance")
        commission_exp = _exponent(commission_per_contract, "commission_per_contract")
        # Money totals in integer units of 10**scale (see the module docstring).
        self.scale = min(0, balance_exp, commission_exp)
        self.cash_units = to_units(balance, self.scale)  # balance + realized - commissions
        self.cash_exp = balance_exp
        self.cash_memo = (self.cash_units, self.cash_exp, self.scale, balance)
        self.unrealized_units = 0  # running sum of unrealized P&L at the marks
        self.unrealized_exp = 0
        self.margin_units = 0  # running sum of margin * exposure
        self.margin_exp = 0
        self.commission_per_contract = commission_per_contract
        self.commission_units = to_units(commission_per_contract, self.scale)
        self.commission_exp = commission_exp
        self.commissions = Decimal(0)
        self.unlimited = unlimited  # the house: never short of buying power
        self.smp: SelfMatchPrevention | None = None
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
        """Balance: the opening balance plus realized P&L minus commissions."""
        units, exponent, scale, value = self.cash_memo  # it changes on closing fills only
        if units != self.cash_units or exponent != self.cash_exp or scale != self.scale:
            value = _decimal(self.cash_units, self.scale, self.cash_exp)
            self.cash_memo = (self.cash_units, self.cash_exp, self.scale, value)
        return value

    @cash.setter
    def cash(self, value: Decimal) -> None:
        exponent = _exponent(value, "cash")
        self._rescale(exponent)
        self.cash_units = to_units(value, self.scale)
        self.cash_exp = exponent
        self.cash_memo = (self.cash_units, exponent, self.scale, value)

    @property
    def unrealized_value(self) -> Decimal:
        """Running unrealized P&L at the marks (``unrealized`` recomputes it)."""
        return _decimal(self.unrealized_units, self.scale, self.unrealized_exp)

    @unrealized_value.setter
    def unrealized_value(self, value: Decimal) -> None:
        exponent = _exponent(value, "unrealized P&L")
        self._rescale(exponent)
        self.unrealized_units = to_units(value, self.scale)
        self.unrealized_exp = exponent

    @property
    def margin_value(self) -> Decimal:
        """Running margin in use (``margin_used`` recomputes it)."""
        return _decimal(self.margin_units, self.scale, self.margin_exp)

    @margin_value.setter
    def margin_value(self, value: Decimal) -> None:
        exponent = _exponent(value, "margin")
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

    def charge_commission(self, qty: int) -> Decimal:
        """Take the commission on a fill of ``qty`` contracts (a non-zero rate); returns it."""
        commission = self.commission_per_contract * qty
        self.cash_units -= self.commission_units * qty
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
        exponent = min(self.cash_exp, self.unrealized_exp, self.margin_exp)
        return _decimal(self.buying_power_units(), self.scale, exponent)

    def to_account(self, marks: dict[str, int]) -> Account:
        exponent = self.cash_exp  # buying_power, inlined
        if self.unrealized_exp < exponent:
            exponent = self.unrealized_exp
        if self.margin_exp < exponent:
            exponent = self.margin_exp
        return Account(
            account_id=self.account_id,
            name=self.name,
            currency=self.currency,
            balance=self.cash,
            buying_power=_decimal(
                self.cash_units + self.unrealized_units - self.margin_units, self.scale, exponent
            ),
        )
