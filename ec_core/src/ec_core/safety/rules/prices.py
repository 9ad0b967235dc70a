"""Rules on prices: presence per order type, tick grid, lowest price, stop/limit relation,
price band."""

from __future__ import annotations

from decimal import Decimal
from typing import final

from ec_core.errors import PriceError, Violation
from ec_core.model import ModifyOrder, NewOrder, OrderRequest, OrderType, Side
from ec_core.safety.codes import Code
from ec_core.safety.rules._common import (
    PASS,
    is_price,
    reference_price,
    stale_market_rule,
    target_of,
)
from ec_core.validation import PreTradeContext

__all__ = ["PriceBand", "PriceFields", "PriceFloor", "StopLimitRelation", "TickGrid"]

_PRICED = (NewOrder, ModifyOrder)  # a tuple: `A | B` builds a union object per call

_HUNDRED = Decimal(100)


def _invalid(field: str, value: object) -> Violation:
    return Violation(
        code=Code.PRICE_INVALID, field=field, rule="must be a finite Decimal", value=value
    )


def _order_type(request: NewOrder | ModifyOrder, context: PreTradeContext) -> object:
    """The order type whose prices ``request`` sets: its own, or a modify's target's
    (``None`` when that order is not found)."""
    if isinstance(request, NewOrder):
        return request.order_type
    target = target_of(request, context)
    return None if target is None else target.order_type


def _used(
    request: NewOrder | ModifyOrder, context: PreTradeContext, limit: bool, stop: bool
) -> tuple[bool, bool]:
    """``limit`` and ``stop`` kept only where the order type sends that price (a MKT
    order's stray limit price is :class:`PriceFields`' ``PRICE_NOT_ALLOWED``, nothing
    else's); both kept when the type is unknown. Called once a price is found bad."""
    order_type = _order_type(request, context)
    if type(order_type) is OrderType:
        return limit and order_type.needs_limit_price, stop and order_type.needs_stop_price
    return limit, stop


def _each_price(
    code: str,
    rule: str,
    bound: object,
    limit: object,
    stop: object,
    limit_bad: bool,
    stop_bad: bool,
) -> tuple[Violation, ...]:
    """One violation of ``code`` per price field found bad, the limit price first."""
    return tuple(
        Violation(code=code, field=field, rule=rule, value=value, limit=bound)
        for field, value, bad in (("limit_price", limit, limit_bad), ("stop_price", stop, stop_bad))
        if bad
    )


@final
class PriceFields:
    """Limit price only for LMT/STL, stop price only for STP/STL, each a finite Decimal."""

    name = "price_fields"
    judges = _PRICED  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        order_type: OrderType | None
        if isinstance(request, NewOrder):  # _order_type inline: this runs on every order
            order_type = request.order_type
        elif isinstance(request, ModifyOrder):
            target = target_of(request, context)
            order_type = None if target is None else target.order_type
        else:
            return PASS
        limit, stop = request.limit_price, request.stop_price
        if type(order_type) is not OrderType:  # unknown type: only the value types can be judged
            found = []
            if limit is not None and not is_price(limit):
                found.append(_invalid("limit_price", limit))
            if stop is not None and not is_price(stop):
                found.append(_invalid("stop_price", stop))
            return tuple(found) if found else PASS
        is_new = isinstance(request, NewOrder)
        wants_limit = order_type is OrderType.LMT or order_type is OrderType.STL
        wants_stop = order_type is OrderType.STP or order_type is OrderType.STL
        if (
            (limit is None and not (wants_limit and is_new))
            or (limit is not None and wants_limit and is_price(limit))
        ) and (
            (stop is None and not (wants_stop and is_new))
            or (stop is not None and wants_stop and is_price(stop))
        ):
            return PASS
        found = []
        for field, value, wanted in (
            ("limit_price", limit, wants_limit),
            ("stop_price", stop, wants_stop),
        ):
            if value is None:
                if wanted and is_new:
                    found.append(
                        Violation(
                            code=Code.PRICE_MISSING,
                            field=field,
                            rule=f"required for {order_type.value} orders",
                        )
                    )
            elif not wanted:
                found.append(
                    Violation(
                        code=Code.PRICE_NOT_ALLOWED,
                        field=field,
                        rule=f"not allowed for {order_type.value} orders",
                        value=value,
                    )
                )
            elif not is_price(value):
                found.append(_invalid(field, value))
        return tuple(found)


@final
class TickGrid:
    """Every price is a whole number of ticks; the denial names the two nearest valid prices."""

    name = "price_tick"
    judges = _PRICED  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        if not isinstance(request, _PRICED):
            return PASS
        instrument = context.instrument
        if instrument is None:
            return PASS
        tick = instrument.tick_size
        limit, stop = request.limit_price, request.stop_price
        limit_bad: object
        stop_bad: object
        try:
            limit_bad = is_price(limit) and limit % tick  # type: ignore[operator]
            stop_bad = is_price(stop) and stop % tick  # type: ignore[operator]
        except ArithmeticError:  # too many digits for the context: judged one by one below
            limit_bad = stop_bad = True
        if not (limit_bad or stop_bad):
            return PASS
        found = []
        for field, value, bad in (
            ("limit_price", limit, limit_bad),
            ("stop_price", stop, stop_bad),
        ):
            if bad and is_price(value):
                assert isinstance(value, Decimal)
                try:
                    if instrument.is_on_grid(value):
                        continue
                    below, above = instrument.nearest_prices(value)
                except PriceError:
                    found.append(
                        Violation(
                            code=Code.PRICE_INVALID,
                            field=field,
                            rule=f"beyond the range of the tick grid of {instrument.symbol}",
                            value=value,
                            limit=tick,
                        )
                    )
                    continue
                found.append(
                    Violation(
                        code=Code.PRICE_OFF_TICK,
                        field=field,
                        rule=(
                            f"not on the tick grid of {instrument.symbol}"
                            f" (nearest valid prices {below} and {above})"
                        ),
                        value=value,
                        limit=tick,
                    )
                )
        return tuple(found)


@final
class PriceFloor:
    """No limit or stop price under the instrument's lowest price (``min_price``).

    A price of zero on an E-mini is a typo, not a market: the venue rejects it, so it is
    denied before it is sent. An instrument without a lowest price (crude oil) passes.
    Only the prices the order type uses are judged: a price it does not use (a MKT
    order's limit price) is :class:`PriceFields`' one denial (``PRICE_NOT_ALLOWED``).
    """

    name = "price_floor"
    judges = _PRICED  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        instrument = context.instrument
        if instrument is None or instrument.min_price is None or not isinstance(request, _PRICED):
            return PASS
        floor = instrument.min_price
        limit, stop = request.limit_price, request.stop_price
        limit_low = is_price(limit) and limit < floor  # type: ignore[operator]
        stop_low = is_price(stop) and stop < floor  # type: ignore[operator]
        if not (limit_low or stop_low):
            return PASS
        limit_low, stop_low = _used(request, context, limit_low, stop_low)
        if not (limit_low or stop_low):
            return PASS
        symbol = instrument.symbol
        rule = (
            f"at or above the lowest price of {symbol} ({floor}): the venue rejects a lower"
            f" one; if {symbol} trades lower, lower its min_price (ec-cqg: list its product"
            " in [vendors.cqg] negative_prices; the mock: rules.min_price)"
        )
        return _each_price(Code.PRICE_BELOW_MINIMUM, rule, floor, limit, stop, limit_low, stop_low)


@final
class StopLimitRelation:
    """A stop-limit buy has limit >= stop; a stop-limit sell has limit <= stop."""

    name = "stop_limit"
    judges = _PRICED  # passes every other request type
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        if isinstance(request, NewOrder):
            if request.order_type is not OrderType.STL:
                return PASS
            side, limit, stop = request.side, request.limit_price, request.stop_price
        elif isinstance(request, ModifyOrder):
            if request.limit_price is None and request.stop_price is None:
                return PASS
            target = target_of(request, context)
            if target is None or target.order_type is not OrderType.STL:
                return PASS
            side = target.side
            limit = target.limit_price if request.limit_price is None else request.limit_price
            stop = target.stop_price if request.stop_price is None else request.stop_price
        else:
            return PASS
        if not (is_price(limit) and is_price(stop)):
            return PASS
        assert limit is not None
        assert stop is not None
        if side is Side.BUY and limit < stop:
            rule = "a stop-limit buy needs limit_price >= stop_price"
        elif side is Side.SELL and limit > stop:
            rule = "a stop-limit sell needs limit_price <= stop_price"
        else:
            return PASS
        return (
            Violation(
                code=Code.STOP_LIMIT_RELATION,
                field="limit_price",
                rule=rule,
                value=limit,
                limit=stop,
            ),
        )


@final
class PriceBand:
    """Prices stay within a band (ticks or percent) around the last trade or the reference.

    Only the prices the order type sends are judged, as :class:`PriceFloor` does; the
    order type is looked up only once a price is out (or there is no reference).
    """

    name = "price_band"
    judges = _PRICED  # passes every other request type
    needs_limits = True  # passes every request when no limits are resolved
    __slots__ = ()

    def validate(self, request: OrderRequest, context: PreTradeContext) -> tuple[Violation, ...]:
        limits = context.limits
        if limits is None or not isinstance(request, _PRICED):
            return PASS
        ticks, pct = limits.price_band_ticks, limits.price_band_pct
        if ticks is None and pct is None:
            return PASS
        limit, stop = request.limit_price, request.stop_price
        has_limit, has_stop = is_price(limit), is_price(stop)
        if not (has_limit or has_stop):
            return PASS
        reference = reference_price(context)
        if reference is None:
            # Without a reference the band cannot be checked: deny, unless the limits
            # file chose to skip it (price_band_without_reference = "allow").
            if limits.price_band_without_reference == "allow":
                return PASS
            has_limit, has_stop = _used(request, context, has_limit, has_stop)
            if not (has_limit or has_stop):
                return PASS
            return (
                Violation(
                    code=Code.NO_REFERENCE_PRICE,
                    field="limit_price" if has_limit else "stop_price",
                    rule=(
                        f"price band: {stale_market_rule(context, request)}"
                        if context.stale_market is not None
                        else "price band needs a last trade, reference or two-sided quote of"
                        " the symbol: subscribe to its quotes and wait for the first"
                        ' (price_band_without_reference = "allow" skips the band)'
                    ),
                ),
            )
        if ticks is not None:
            instrument = context.instrument
            if instrument is None:
                return PASS
            width = instrument.tick_size * ticks
        else:
            assert pct is not None
            width = abs(reference) * pct / _HUNDRED
        low, high = reference - width, reference + width
        limit_out = has_limit and not low <= limit <= high  # type: ignore[operator]
        stop_out = has_stop and not low <= stop <= high  # type: ignore[operator]
        if not (limit_out or stop_out):
            return PASS  # the pass path formats nothing
        limit_out, stop_out = _used(request, context, limit_out, stop_out)
        if not (limit_out or stop_out):
            return PASS
        band = f"{ticks} ticks" if ticks is not None else f"{pct}%"
        return _each_price(
            Code.PRICE_OUTSIDE_BAND,
            f"outside the band of {band} around {reference}",
            f"[{low}, {high}]",
            limit,
            stop,
            limit_out,
            stop_out,
        )
