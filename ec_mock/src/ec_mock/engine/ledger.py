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
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, final

from ec_core.model import Account, ExecutionReport, Instrument, Position

if TYPE_CHECKING:
    from ec_mock.engine.records import OrderRecord

__all__ = ["AccountLedger", "PositionLedger"]


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
        "qty",
        "realized",
        "sell_working",
        "symbol",
        "tick_value",
        "volume",
    )

    def __init__(self, instrument: Instrument, margin: Decimal, account: AccountLedger) -> None:
        self.account = account
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.tick_value = instrument.tick_value  # a computed property: read it once
        self.margin = margin
        self.qty = 0  # signed
        self.lots: deque[list[int]] = deque()  # [signed qty, price ticks], all one sign
        self.cost = 0  # sum of signed lot qty * price over open lots
        self.realized = 0  # realized P&L in ticks (per contract-tick)
        self.buy_working = 0  # remaining qty of open buy orders
        self.sell_working = 0
        self.volume = 0  # contracts traded, both sides

    def apply_fill(self, signed_qty: int, price: int) -> int:
        """Book a fill; returns the P&L in ticks it realized."""
        qty = self.qty
        self.volume += signed_qty if signed_qty > 0 else -signed_qty
        if qty == 0 or (qty > 0) == (signed_qty > 0):
            self.lots.append([signed_qty, price])
            self.cost += signed_qty * price
            self.qty = qty + signed_qty
            return 0
        # Closing first-in first-out: a long is closed by selling at ``price``, which
        # realizes (price - lot_price) per contract; a short the reverse.
        realized = 0
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
        if remaining:
            lots.append([remaining, price])
            cost += remaining * price
        self.cost = cost
        self.qty = qty + signed_qty
        self.realized += realized
        return realized

    # Exposure is max(|qty + buys|, |qty - sells|). With a = qty + buys >= c = qty - sells
    # that is ``a if a + c >= 0 else -c``: the methods below inline it, it is the hot path.

    def add_working(self, side: int, delta: int) -> None:
        """Open orders on ``side`` grew (or shrank, negative ``delta``) by ``delta`` contracts."""
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
            self.account.margin_value += (after - before) * self.margin

    def fill(self, signed_qty: int, price: int, mark: int | None, *, from_working: bool) -> int:
        """Book a fill (of an open order if ``from_working``); returns realized ticks."""
        qty = self.qty
        buys = self.buy_working
        sells = self.sell_working
        high = qty + buys
        low = qty - sells
        before_exposure = high if high + low >= 0 else -low
        before_unrealized = qty * mark - self.cost if qty and mark is not None else 0
        if from_working:
            if signed_qty > 0:
                buys -= signed_qty
                self.buy_working = buys
            else:
                sells += signed_qty
                self.sell_working = sells
        if qty == 0 or (qty > 0) == (signed_qty > 0):  # opening: apply_fill's first case
            self.volume += signed_qty if signed_qty > 0 else -signed_qty
            self.lots.append([signed_qty, price])
            self.cost += signed_qty * price
            qty += signed_qty
            self.qty = qty
            realized = 0
        else:
            realized = self.apply_fill(signed_qty, price)
            qty = self.qty
        high = qty + buys
        low = qty - sells
        after_exposure = high if high + low >= 0 else -low
        account = self.account
        if after_exposure != before_exposure:
            account.margin_value += (after_exposure - before_exposure) * self.margin
        after_unrealized = qty * mark - self.cost if qty and mark is not None else 0
        if after_unrealized != before_unrealized:
            account.unrealized_value += (after_unrealized - before_unrealized) * self.tick_value
        if realized:
            account.cash += realized * self.tick_value
        return realized

    def remark(self, old: int | None, new: int) -> None:
        """The instrument's mark moved: carry the change into the account's unrealized P&L."""
        qty = self.qty
        if not qty:
            return
        change = qty * (new - old) if old is not None else qty * new - self.cost
        if change:
            self.account.unrealized_value += change * self.tick_value

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
        return Decimal(self.cost) / Decimal(self.qty) * self.instrument.tick_size

    def to_position(self, account_id: str) -> Position:
        return Position(
            account_id=account_id,
            symbol=self.symbol,
            qty=self.qty,
            avg_price=self.avg_price(),
            realized_pnl=self.realized * self.tick_value,
        )


@final
class AccountLedger:
    __slots__ = (
        "account_id",
        "cash",
        "commission_per_contract",
        "commissions",
        "currency",
        "initial_balance",
        "margin_value",
        "name",
        "open_orders",
        "orders_by_cl",
        "positions",
        "rejected",
        "unlimited",
        "unrealized_value",
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
        self.cash = balance  # balance + realized - commissions
        self.commission_per_contract = commission_per_contract
        self.commissions = Decimal(0)
        self.unlimited = unlimited  # the house: never short of buying power
        self.positions: dict[str, PositionLedger] = {}
        self.margin_value = Decimal(0)  # running sum of margin * exposure
        self.unrealized_value = Decimal(0)  # running sum of unrealized P&L at the marks
        # The account's orders, held here so the hot path reaches them without a
        # dict-of-dicts lookup: every client id of every chain, open orders by oid,
        # and the rejects of new orders by client id (kept for status queries).
        self.orders_by_cl: dict[str, OrderRecord] = {}
        self.open_orders: dict[int, OrderRecord] = {}
        self.rejected: dict[str, ExecutionReport] = {}

    def position(self, instrument: Instrument, margin: Decimal) -> PositionLedger:
        pos = self.positions.get(instrument.symbol)
        if pos is None:
            pos = self.positions[instrument.symbol] = PositionLedger(instrument, margin, self)
        return pos

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
        return self.cash + self.unrealized_value - self.margin_value

    def to_account(self, marks: dict[str, int]) -> Account:
        return Account(
            account_id=self.account_id,
            name=self.name,
            currency=self.currency,
            balance=self.cash,
            buying_power=self.buying_power(marks),
        )
