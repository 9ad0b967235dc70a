"""One instrument of one account: FIFO lots in ticks, P&L, exposure and settlement.

The model (P&L in integer ticks, FIFO lots, flat margin per contract, daily
settlement's ``variation``) is described in :mod:`ec_mock.engine.ledger`, whose
:class:`~ec_mock.engine.ledger.AccountLedger` owns the positions. This class has its
own module because it is the per-fill arithmetic: every fill, working-order change
and mark goes through it, keeping the account's running margin and unrealized
totals exact.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, final

from ec_core.model import Instrument, Position

from ec_mock.engine.money import (
    average_price,
    exponent_of,
)

if TYPE_CHECKING:
    from ec_mock.engine.ledger import AccountLedger

__all__ = ["PositionLedger"]


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
