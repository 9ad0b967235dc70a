"""Positions and P&L derived from fills, one book per tracker.

A fill moves the signed quantity; it closes open lots first-in first-out, realizing
``(exit - entry) * qty * multiplier`` for each, and the rest opens a new lot.
Everything is :class:`~decimal.Decimal`: P&L must add up to the cent after a day of fills.

The multiplier of a symbol comes from a :data:`MultiplierSource`, which may not know it
(a fill of an order placed from another terminal, of a symbol never traded here). Such
a fill is booked all the same, its realized P&L kept in price points, and its symbol
listed as *unpriced*: P&L in money then raises :class:`~ec_core.errors.PnlUnknownError`
naming it rather than add points to money. The source is asked again whenever P&L is
read or the symbol fills again: once it knows the instrument, the points are priced
(points x multiplier, exact) and the P&L answers, with no reconnect or replay.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeAlias, final

import msgspec

from ec_core.errors import PnlUnknownError
from ec_core.model import Fill, Instrument, Position

__all__ = ["MultiplierSource", "PositionBook", "multipliers"]

log = logging.getLogger("ec_core.tracking")

msgspec_replace = msgspec.structs.replace

MultiplierSource: TypeAlias = Callable[[str], Decimal | None]
"""A symbol's multiplier (money per point and contract), or ``None`` when not known."""

_ZERO = Decimal(0)
_ONE = Decimal(1)


def _points(symbol: str) -> Decimal:
    """No source given: every symbol counts 1 (a book in price points, by choice)."""
    return _ONE


def multipliers(instruments: Mapping[str, Instrument]) -> MultiplierSource:
    """The multipliers of ``instruments``, read as the mapping grows (a symbol it does
    not hold is unknown: its fills stay unpriced until it does)."""
    get = instruments.get

    def multiplier(symbol: str) -> Decimal | None:
        instrument = get(symbol)
        return None if instrument is None else instrument.multiplier

    return multiplier


@final
class PositionBook:
    """Net positions by (account, symbol), built only from accepted (deduplicated) fills.

    Open lots are kept first-in first-out with their exact prices, so realized and
    unrealized P&L are exact; ``avg_price`` is the lots' average, for display. The
    open quantity and cost are kept as running sums, so a fill costs the lots it
    closes, not every lot of a position built from many small fills.

    ``multiplier``: see the module docstring (none given: every symbol counts 1).
    ``on_unpriced`` hears a symbol once, at its first fill booked without a multiplier
    (sync and cheap: a gateway worker queues a look-up of its instrument).
    """

    def __init__(
        self,
        multiplier: MultiplierSource | None = None,
        *,
        on_unpriced: Callable[[str], None] | None = None,
    ) -> None:
        self._multiplier: MultiplierSource = _points if multiplier is None else multiplier
        self._on_unpriced = on_unpriced
        self._positions: dict[tuple[str, str], Position] = {}
        self._flat: dict[tuple[str, str], Position] = {}
        self._lots: dict[tuple[str, str], deque[list[Any]]] = {}  # [signed qty, price]
        self._open: dict[tuple[str, str], tuple[int, Decimal]] = {}  # (qty, cost) of the lots
        # realized P&L in price points of the positions whose multiplier is not known;
        # their Position.realized_pnl holds only the money booked before (adopted)
        self._unpriced: dict[tuple[str, str], Decimal] = {}

    def get(self, account_id: str, symbol: str) -> Position:
        key = (account_id, symbol)
        if self._unpriced:
            self._price_known()
        found = self._positions.get(key)
        if found is None:  # a flat position, made once per key (frozen: safe to share)
            found = self._flat.get(key)
            if found is None:
                found = self._flat[key] = Position(account_id=account_id, symbol=symbol)
        return found

    def all(self, account_id: str | None = None) -> list[Position]:
        if self._unpriced:
            self._price_known()
        return [
            p
            for (account, _), p in sorted(self._positions.items())
            if account_id is None or account == account_id
        ]

    def apply(self, fill: Fill) -> Position:
        """Book one fill; return the position after it."""
        key = (fill.account_id, fill.symbol)
        multiplier = self._multiplier(fill.symbol)
        unpriced = self._unpriced
        if unpriced and key in unpriced:
            if multiplier is None:
                return self._apply_in_points(key, fill)
            self._price(key, multiplier)  # learnt since: this fill books in money
        elif multiplier is None:
            return self._apply_in_points(key, fill)
        position = self._positions.get(key)
        realized = _ZERO if position is None else position.realized_pnl
        updated = self._book(key, fill, realized, multiplier)
        self._positions[key] = updated
        return updated

    def _apply_in_points(self, key: tuple[str, str], fill: Fill) -> Position:
        """Book a fill whose multiplier is not known: its realized P&L in points, aside."""
        unpriced = self._unpriced
        if not any(symbol == key[1] for _, symbol in unpriced):
            log.error(
                "a fill of %s (account %s), whose instrument is not known here: its P&L is"
                " kept in price points and P&L in money refuses (PnlUnknownError) until"
                " the instrument is known",
                key[1],
                key[0],
            )
            if self._on_unpriced is not None:
                self._on_unpriced(key[1])
        position = self._positions.get(key)
        money = _ZERO if position is None else position.realized_pnl
        points = self._book(key, fill, unpriced.get(key, _ZERO), _ONE)
        unpriced[key] = points.realized_pnl
        updated = self._positions[key] = msgspec_replace(points, realized_pnl=money)
        return updated

    def _book(
        self, key: tuple[str, str], fill: Fill, realized: Decimal, multiplier: Decimal
    ) -> Position:
        """Close lots first in, first out, open the rest; the position after, ``realized``
        grown by what the fill closed (at ``multiplier``)."""
        lots = self._lots.get(key)
        if lots is None:
            lots = self._lots[key] = deque()
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
        return self._position(key, qty, cost, realized)

    def set(self, position: Position, *, keep_realized: bool = False) -> None:
        """Adopt a position (e.g. the venue's, after reconciliation) as one lot.

        Whole (a gateway's snapshot): its ``realized_pnl`` is the money realized, points
        booked before are dropped. ``keep_realized`` (reconciliation, which adopts the
        venue's quantity): what this book realized stays, in money and in points."""
        key = (position.account_id, position.symbol)
        if keep_realized:
            held = self._positions.get(key)
            realized = _ZERO if held is None else held.realized_pnl
            position = msgspec_replace(position, realized_pnl=realized)
        else:
            self._unpriced.pop(key, None)
        self._lots[key] = deque([[position.qty, position.avg_price]] if position.qty else [])
        self._open[key] = (position.qty, position.qty * position.avg_price)
        self._positions[key] = position

    # -- P&L -------------------------------------------------------------------

    def unpriced(self, account_id: str | None = None) -> tuple[str, ...]:
        """The symbols (of ``account_id``, or any) with fills booked in points: their
        instrument is still not known."""
        if self._unpriced:
            self._price_known()
        return tuple(
            sorted({s for a, s in self._unpriced if account_id is None or a == account_id})
        )

    def realized_points(self, account_id: str, symbol: str) -> Decimal:
        """Realized P&L in price points booked while the symbol's instrument was not known
        (0 once it is priced: it is money then)."""
        if self._unpriced:
            self._price_known()
        return self._unpriced.get((account_id, symbol), _ZERO)

    def realized_pnl(
        self, account_id: str, symbol: str | None = None, *, priced_only: bool = False
    ) -> Decimal:
        """Realized P&L in money of the account (or of one of its symbols).

        Raises :class:`~ec_core.errors.PnlUnknownError` naming the symbols booked in
        points; ``priced_only``: the money of the others alone (the daily loss limit
        judges what it can)."""
        if self._unpriced:
            self._price_known()
            if not priced_only:
                self._refuse_unpriced(account_id, symbol)
        if symbol is not None:
            found = self._positions.get((account_id, symbol))
            return _ZERO if found is None else found.realized_pnl
        # per fill (the daily loss limit): neither all()'s sort nor a second pricing pass
        return sum(
            (p.realized_pnl for (a, _), p in self._positions.items() if a == account_id), _ZERO
        )

    def unrealized_pnl(self, account_id: str, symbol: str, mark: Decimal) -> Decimal:
        """Open P&L of one position valued at ``mark`` (a price, not ticks). Exact.
        Raises :class:`~ec_core.errors.PnlUnknownError` when the symbol's multiplier is
        not known and a position is open."""
        lots = self._lots.get((account_id, symbol))
        if not lots:
            return _ZERO
        multiplier = self._multiplier(symbol)
        if multiplier is None:
            raise PnlUnknownError([symbol])
        return sum(((mark - price) * qty * multiplier for qty, price in lots), _ZERO)

    def _refuse_unpriced(self, account_id: str, symbol: str | None) -> None:
        symbols = {
            s for a, s in self._unpriced if a == account_id and (symbol is None or s == symbol)
        }
        if symbols:
            raise PnlUnknownError(symbols)

    def _price_known(self) -> None:
        """Price the points of every position whose multiplier is known by now."""
        for key in list(self._unpriced):
            multiplier = self._multiplier(key[1])
            if multiplier is not None:
                self._price(key, multiplier)

    def _price(self, key: tuple[str, str], multiplier: Decimal) -> None:
        """The points booked for ``key`` become money: points x multiplier, exact."""
        points = self._unpriced.pop(key)
        position = self._positions[key]
        realized = position.realized_pnl + points * multiplier
        self._positions[key] = msgspec_replace(position, realized_pnl=realized)
        log.info(
            "%s (account %s) priced: its instrument is known now, %s points x %s = %s",
            key[1],
            key[0],
            points,
            multiplier,
            points * multiplier,
        )

    @staticmethod
    def _position(key: tuple[str, str], qty: int, cost: Decimal, realized: Decimal) -> Position:
        return Position(
            account_id=key[0],
            symbol=key[1],
            qty=qty,
            avg_price=cost / qty if qty else _ZERO,
            realized_pnl=realized,
        )
