"""The explicit rounding policy of the limits file, applied before the checks.

The checks never round: an off-tick price is denied with the two nearest valid
prices. A limits section may set ``price_rounding`` so that
:meth:`~ec_core.safety.PreTradeChecks.apply_rounding` moves prices onto the
grid first; the executor calls it and sends (and journals) the rounded request.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from ec_core.errors import PriceError
from ec_core.model import Instrument, ModifyOrder, NewOrder, Order, OrderRequest, Rounding, Side
from ec_core.safety.limits import PriceRounding

__all__ = ["round_price", "round_request"]

_FIXED = {
    PriceRounding.NEAREST: Rounding.NEAREST,
    PriceRounding.DOWN: Rounding.DOWN,
    PriceRounding.UP: Rounding.UP,
}


def round_price(
    price: Decimal, instrument: Instrument, policy: PriceRounding, *, side: Side | None, stop: bool
) -> Decimal:
    """``price`` on the tick grid by ``policy``; unchanged if on grid, REFUSE, or undecidable."""
    if policy is PriceRounding.REFUSE or not isinstance(price, Decimal) or not price.is_finite():
        return price
    if instrument.is_on_grid(price):
        return price
    if policy is PriceRounding.PASSIVE:
        if not isinstance(side, Side):
            return price
        # A passive limit buys lower / sells higher; a passive stop triggers later.
        down = (side is Side.BUY) is not stop
        rounding = Rounding.DOWN if down else Rounding.UP
    else:
        rounding = _FIXED[policy]
    try:
        return instrument.to_price(instrument.to_ticks(price, rounding))
    except PriceError:  # beyond the grid's exact range: nothing to round to; the checks deny it
        return price


def round_request(
    request: OrderRequest,
    instrument: Instrument,
    policy: PriceRounding,
    target: Order | None = None,
) -> OrderRequest:
    """``request`` with its prices rounded by ``policy`` (the same object if nothing changes)."""
    if policy is PriceRounding.REFUSE:
        return request
    if isinstance(request, NewOrder):
        side: Side | None = request.side
    elif isinstance(request, ModifyOrder):
        side = None if target is None else target.side
    else:
        return request
    limit, stop = request.limit_price, request.stop_price
    new_limit = (
        None if limit is None else round_price(limit, instrument, policy, side=side, stop=False)
    )
    new_stop = None if stop is None else round_price(stop, instrument, policy, side=side, stop=True)
    if new_limit is limit and new_stop is stop:
        return request
    return msgspec.structs.replace(request, limit_price=new_limit, stop_price=new_stop)
