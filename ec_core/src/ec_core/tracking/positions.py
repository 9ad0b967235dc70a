"""Positions and P&L derived from fills, one book per tracker.

A fill moves the signed quantity; it closes open lots first-in first-out, realizing
``(exit - entry) * qty * multiplier`` for each, and the rest opens a new lot.
Everything is :class:`~decimal.Decimal`: P&L must add up to the cent after a day of fills.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any, final

from ec_core.model import Fill, Position

__all__ = ["PositionBook"]

_ZERO = Decimal(0)


@final
class PositionBook:
    """Net positions by (account, symbol), built only from accepted (deduplicated) fills.

    Open lots are kept first-in first-out with their exact prices, so realized and
    unrealized P&L are exact; ``avg_price`` is the lots' average, for display. The
    open quantity and cost are kept as running sums, so a fill costs the lots it
    closes, not every lot of a position built from many small fills.
    """

    def __init__(self, multiplier: Callable[[str], Decimal] | None = None) -> None:
        self._multiplier = multiplier
        self._positions: dict[tuple[str, str], Position] = {}
        self._flat: dict[tuple[str, str], Position] = {}
        self._lots: dict[tuple[str, str], deque[list[Any]]] = {}  # [signed qty, price]
        self._open: dict[tuple[str, str], tuple[int, Decimal]] = {}  # (qty, cost) of the lots

    def get(self, account_id: str, symbol: str) -> Position:
        key = (account_id, symbol)
        found = self._positions.get(key)
        if found is None:  # a flat position, made once per key (frozen: safe to share)
            found = self._flat.get(key)
            if found is None:
                found = self._flat[key] = Position(account_id=account_id, symbol=symbol)
        return found

    def all(self, account_id: str | None = None) -> list[Position]:
        return [
            p
            for (account, _), p in sorted(self._positions.items())
            if account_id is None or account == account_id
        ]

    def apply(self, fill: Fill) -> Position:
        """Book one fill; return the position after it."""
        key = (fill.account_id, fill.symbol)
        multiplier = self._multiplier_of(fill.symbol)
        lots = self._lots.setdefault(key, deque())
        position = self.get(*key)
        realized = position.realized_pnl
        qty, cost = self._open.get(key, (0, _ZERO))
        remaining = fill.qty * fill.side.sign
        while remaining and lots and (lots[0][0] > 0) != (remaining > 0):
            lot = lots[0]
            closed = min(abs(lot[0]), abs(remaining))
            direction = 1 if lot[0] > 0 else -1
            realized += (fill.price - lot[1]) * closed * direction * multiplier
            lot[0] -= closed * direction
            qty -= closed * direction
            cost -= lot[1] * closed * direction
            remaining += closed * direction
            if lot[0] == 0:
                lots.popleft()
        if remaining:
            lots.append([remaining, fill.price])
            qty += remaining
            cost += remaining * fill.price
        self._open[key] = (qty, cost)
        updated = self._position(key, qty, cost, realized)
        self._positions[key] = updated
        return updated

    def set(self, position: Position) -> None:
        """Adopt a position (e.g. the venue's, after reconciliation) as one lot."""
        key = (position.account_id, position.symbol)
        self._lots[key] = deque([[position.qty, position.avg_price]] if position.qty else [])
        self._open[key] = (position.qty, position.qty * position.avg_price)
        self._positions[key] = position

    def realized_pnl(self, account_id: str) -> Decimal:
        return sum((p.realized_pnl for p in self.all(account_id)), _ZERO)

    def unrealized_pnl(self, account_id: str, symbol: str, mark: Decimal) -> Decimal:
        """Open P&L of one position valued at ``mark`` (a price, not ticks). Exact."""
        lots = self._lots.get((account_id, symbol), ())
        multiplier = self._multiplier_of(symbol)
        return sum(((mark - price) * qty * multiplier for qty, price in lots), _ZERO)

    def _multiplier_of(self, symbol: str) -> Decimal:
        return self._multiplier(symbol) if self._multiplier is not None else Decimal(1)

    @staticmethod
    def _position(key: tuple[str, str], qty: int, cost: Decimal, realized: Decimal) -> Position:
        return Position(
            account_id=key[0],
            symbol=key[1],
            qty=qty,
            avg_price=cost / qty if qty else _ZERO,
            realized_pnl=realized,
        )
