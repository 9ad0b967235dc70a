"""Prints from outside the book: recorded trades fill resting orders, house sizes move.

The replay feeders (:mod:`ec_mock.market`) drive these: a recorded print fills the
resting orders the :class:`~ec_mock.engine.models.FillModel` says the real market
would have filled, with the house account on the other side.
"""

from __future__ import annotations

from ec_core.model import Side

from ec_mock.engine.core import _BUY, _R_MODIFIED, _SELL
from ec_mock.engine.matching import MatchingLayer
from ec_mock.engine.records import OrderRecord


class ExternalPrintsLayer(MatchingLayer):
    """Fills from prints outside the book and venue-side size changes of house orders."""

    # ------------------------------------------------------------------ external prints
    def apply_external_trade(
        self,
        symbol: str,
        price: int,
        size: int,
        *,
        counterparty: str,
        aggressor: Side | None = None,
    ) -> None:
        """A print that happened outside this book (recorded data): fill resting orders
        the way :attr:`fill_model` says the real market would have, with ``counterparty``
        (the house account) taking the other side, then publish the print."""
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        book = self._books[symbol]
        house = self._accounts[counterparty]
        instrument = self._instruments[symbol]
        model = self.fill_model
        sides = []
        if aggressor is not _BUY:
            sides.append(1)  # a seller hit: resting bids at or above the print
        if aggressor is not _SELL:
            sides.append(-1)
        for side in sides:
            fills: list[tuple[OrderRecord, int]] = []
            keys = book.bid_keys if side > 0 else book.ask_keys
            levels = book.bids if side > 0 else book.asks
            for key in reversed(keys):
                level_price = key if side > 0 else -key
                if (level_price < price) if side > 0 else (level_price > price):
                    break
                orders = levels[level_price].live()
                if level_price != price:
                    fills.extend(
                        (o, o.qty - o.filled) for o in orders if o.account_id != counterparty
                    )
                    continue
                if not model.fill_at_touch:
                    break
                left = size
                for o in orders:
                    remaining = o.qty - o.filled
                    if o.account_id == counterparty:
                        if model.queue_position:
                            left -= remaining
                        continue
                    if left <= 0:
                        break
                    take = min(left, remaining)
                    fills.append((o, take))
                    left -= take
            for o, qty in fills:
                fill_price = o.price
                assert fill_price is not None
                self._fill_resting(o, qty, fill_price, False)  # an outside print took it
                hpos = house.position(instrument, self.margin(symbol))
                hpos.fill(-o.side * qty, fill_price, self._marks.get(symbol), from_working=False)
                self._hold(hpos)
        self._print(symbol, price, size, aggressor)
        self._settle()
        self._flush()

    def set_resting_qty(self, account_id: str, cl_order_id: str, qty: int) -> None:
        """Venue-side size change that keeps queue priority, even when it grows.

        For house liquidity that stands for the recorded market (replay): a user
        order that joined behind it stays behind it. Not for user orders.
        """
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        order = self._ids[account_id][cl_order_id]
        if not order.resting or qty <= order.filled:
            raise ValueError(f"{cl_order_id!r} is not resting or qty {qty} <= filled")
        delta = qty - order.qty
        book = self._books[order.symbol]
        book.reduce_resting(order, -delta)
        order.pos.add_working(order.side, delta)
        order.qty = qty
        order.updated_ns = self._ts
        self._touched[order.symbol] = None
        if self._sinks:
            self._emit(self._report(_R_MODIFIED, order, self._ts))
        self._settle()
        self._flush()
