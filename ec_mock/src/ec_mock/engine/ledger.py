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
from typing import final

from ec_core.model import Account, Instrument, Position

__all__ = ["AccountLedger", "PositionLedger"]


@final
class PositionLedger:
    __slots__ = (
        "buy_working",
        "cost",
        "instrument",
        "lots",
        "margin",
        "qty",
        "realized",
        "sell_working",
        "symbol",
        "volume",
    )

    def __init__(self, instrument: Instrument, margin: Decimal) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
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
        realized = 0
        qty = self.qty
        self.volume += abs(signed_qty)
        if qty == 0 or (qty > 0) == (signed_qty > 0):
            self.lots.append([signed_qty, price])
            self.cost += signed_qty * price
            self.qty = qty + signed_qty
            return 0
        remaining = signed_qty
        lots = self.lots
        while remaining and lots:
            lot = lots[0]
            lot_qty, lot_price = lot
            closing = min(abs(remaining), abs(lot_qty))
            sign = 1 if lot_qty > 0 else -1
            # closing a long at ``price``: (price - lot_price) per contract, short the reverse
            realized += sign * closing * (price - lot_price)
            self.cost -= sign * closing * lot_price
            if closing == abs(lot_qty):
                lots.popleft()
            else:
                lot[0] = lot_qty - sign * closing
            remaining += sign * closing
        if remaining:
            lots.append([remaining, price])
            self.cost += remaining * price
        self.qty = qty + signed_qty
        self.realized += realized
        return realized

    def unrealized_ticks(self, mark: int | None) -> int:
        if self.qty == 0 or mark is None:
            return 0
        return self.qty * mark - self.cost

    def exposure(self) -> int:
        return max(abs(self.qty + self.buy_working), abs(self.qty - self.sell_working))

    def exposure_with(self, side: int, qty: int) -> int:
        if side > 0:
            return max(abs(self.qty + self.buy_working + qty), abs(self.qty - self.sell_working))
        return max(abs(self.qty + self.buy_working), abs(self.qty - self.sell_working - qty))

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
            realized_pnl=self.realized * self.instrument.tick_value,
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
        "name",
        "positions",
        "unlimited",
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

    def position(self, instrument: Instrument, margin: Decimal) -> PositionLedger:
        pos = self.positions.get(instrument.symbol)
        if pos is None:
            pos = self.positions[instrument.symbol] = PositionLedger(instrument, margin)
        return pos

    def unrealized(self, marks: dict[str, int]) -> Decimal:
        total = Decimal(0)
        for symbol, pos in self.positions.items():
            if pos.qty:
                total += pos.unrealized_ticks(marks.get(symbol)) * pos.instrument.tick_value
        return total

    def margin_used(self) -> Decimal:
        total = Decimal(0)
        for pos in self.positions.values():
            exposure = pos.exposure()
            if exposure:
                total += pos.margin * exposure
        return total

    def buying_power(self, marks: dict[str, int]) -> Decimal:
        return self.cash + self.unrealized(marks) - self.margin_used()

    def to_account(self, marks: dict[str, int]) -> Account:
        return Account(
            account_id=self.account_id,
            name=self.name,
            currency=self.currency,
            balance=self.cash,
            buying_power=self.buying_power(marks),
        )
