"""What a user's request takes from the recorded market, and that touch shown to the exchange.

The replay venue's exchange book holds only the user's orders. When a request takes
liquidity (a market order, a limit crossing the recorded touch, a fired stop, a
flatten), the venue shows the recorded touch as house orders just for that request
and withdraws what is left. This module holds that step: :func:`taking_of` says what
a request would take, :class:`HouseTouch` places the touch (``market = "walk"``: level
after level of the recorded size) and withdraws it. Kept apart from
:mod:`ec_mock.market.recorded`, which decides *when* (per record, per request).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import final

from ec_core.model import (
    Duration,
    Instrument,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
    Quote,
    Side,
)

from ec_mock.engine import Exchange
from ec_mock.market.recorded_model import RecordedFillModel

__all__ = ["HouseTouch", "taking_of"]

_BUY = Side.BUY
_SELL = Side.SELL
_MKT = OrderType.MKT
_MTL = OrderType.MTL
_STOPS = (OrderType.STP, OrderType.STL)
_WALK_LEVELS = 64  # at most this many synthetic levels when walking recorded sizes


def taking_of(
    request: OrderRequest, exchange: Exchange
) -> tuple[Side, int, int | None, bool] | None:
    """``(side, qty, limit ticks, is market)`` of a request that takes liquidity now.

    A limit is read in ticks as the exchange's order entry reads it (its cached
    conversion); one the exchange will refuse (off the grid, unknown symbol) shows nothing.
    """
    kind = type(request)
    if kind is NewOrder:
        assert isinstance(request, NewOrder)
        order_type = request.order_type
        if order_type is _MKT or order_type is _MTL:
            return request.side, request.qty, None, True  # MTL: the exchange keeps the best
        if order_type in _STOPS or request.limit_price is None:
            return None
        limit = exchange.ticks_of(request.symbol, request.limit_price)
        if limit is None:
            return None
        return request.side, request.qty, limit, False
    if kind is ModifyOrder:
        assert isinstance(request, ModifyOrder)
        if request.limit_price is None:
            return None
        status = exchange.order_status(request.account_id, request.orig_cl_order_id)
        limit = exchange.ticks_of(request.symbol, request.limit_price)
        if status is None or status.side is None or limit is None:
            return None
        if status.order_type in _STOPS:
            return None
        return status.side, request.qty or status.qty, limit, False
    return None


@final
class HouseTouch:
    """Places the recorded touch as the house's orders for one request, then withdraws it."""

    def __init__(
        self,
        exchange: Exchange,
        house: str,
        model: RecordedFillModel,
        instrument: Callable[[str], Instrument | None],
    ) -> None:
        self.exchange = exchange
        self.house = house
        self._model = model
        self._instrument = instrument
        self._jit = itertools.count(1)

    def show(
        self,
        symbol: str,
        quote: Quote | None,
        taker: Side,
        qty: int,
        *,
        market: bool,
        limit: int | None = None,
    ) -> list[str]:
        """Place the recorded touch ``quote`` a taker would meet as house orders; their ids."""
        if quote is None:
            return []
        if taker is _BUY:
            price, size, step, maker = quote.ask, quote.ask_size, 1, _SELL
        else:
            price, size, step, maker = quote.bid, quote.bid_size, -1, _BUY
        if price is None:
            return []
        if market:
            price += step * self._model.slippage_ticks
        if limit is not None and (price - limit) * step > 0:
            return []  # does not cross: the order rests
        instrument = self._instrument(symbol)
        cap = instrument.max_order_qty if instrument is not None else qty
        size = min(size, cap)  # the house obeys the instrument's order size limit too
        levels: list[tuple[int, int]]
        if self._model.market == "walk" and size > 0:
            levels = []
            left = qty
            while left > 0 and len(levels) < _WALK_LEVELS:
                if limit is not None and (price - limit) * step > 0:
                    break
                levels.append((price, size))
                left -= size
                price += step
        else:
            levels = [(price, min(max(size, qty), cap))]
        shown = []
        for level_price, level_size in levels:
            cl = f"J{next(self._jit)}"
            self.exchange.place(
                self.house,
                symbol,
                maker,
                level_size,
                OrderType.LMT,
                price=level_price,
                duration=Duration.GTC,
                cl_order_id=cl,
            )
            shown.append(cl)
        return shown

    def withdraw(self, shown: list[str]) -> None:
        """Cancel what is left of the house orders :meth:`show` placed."""
        exchange = self.exchange
        for cl in shown:
            if exchange.remaining_qty(self.house, cl):
                exchange.cancel(self.house, cl)
