"""Modify rules: the checks a modify passes before it changes an order.

The same idea as :mod:`ec_mock.engine.rules` for new orders: each rule a small
function with its codes, listed in :data:`MODIFY_RULES` in the order they run; the
engine keeps per instrument, for each mask of fields a modify sets, the tuple of
checks that apply. Modify checks only read: the change is applied after every check
passed (buying power last, in ``AmendLayer._modify``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Final, NamedTuple

from ec_core.model import Duration, Instrument

from ec_mock.engine.codes import RejectCode
from ec_mock.engine.core import _GTD, _IOC_FOK, Reject
from ec_mock.engine.entry_checks import (
    check_band,
    check_min_price,
    check_stop_side,
    gtd_expiry,
)
from ec_mock.engine.products import ProductLimits
from ec_mock.engine.records import OrderRecord

if TYPE_CHECKING:
    from ec_mock.engine.orders import OrderEntryLayer

__all__ = [
    "ANY",
    "MODIFY_RULES",
    "PRICE",
    "QTY",
    "STOP",
    "TIME",
    "Listing",
    "ModifyAsk",
    "ModifyCheck",
    "ModifyRule",
    "modify_plans",
]


class ModifyAsk(NamedTuple):
    """The fields a modify sets (``None``: unchanged)."""

    qty: int | None
    price: int | None
    stop: int | None
    duration: Duration | None
    gtd: date | None


ModifyCheck = Callable[["OrderEntryLayer", OrderRecord, ModifyAsk], None]
"""``check(exchange, order, ask)``. Modify checks only read: the change is applied
after every check passed."""


class Listing(NamedTuple):
    """What decides which modify rules an instrument's orders run."""

    instrument: Instrument
    limits: ProductLimits
    sessions: bool  # sessions are enforced and the instrument has trading hours


class ModifyRule(NamedTuple):
    """A modify rule: its name, codes and check; ``when`` is the fields it concerns.

    ``when`` is a mask of :data:`QTY`, :data:`PRICE`, :data:`STOP` and :data:`TIME`
    (a duration or a good-thru date): the rule runs if the modify sets one of them,
    or always with :data:`ANY`; ``applies(listing)`` says whether the instrument
    has it at all.
    """

    name: str
    codes: tuple[RejectCode, ...]
    when: int
    check: ModifyCheck
    applies: Callable[[Listing], bool] = lambda listing: True


QTY, PRICE, STOP, TIME, ANY = 1, 2, 4, 8, 16


def modify_session_open(ex: OrderEntryLayer, order: OrderRecord, ask: ModifyAsk) -> None:
    """No modify outside the trading session and its pre-open: nothing matches while the
    market is closed (CME Globex: no matching outside the Open state).

    In the pre-open a modify is taken and does not match (Globex Pre-Open). Globex's
    Post-Close state also takes GTC/GTD modifications; the mock has no such state
    and rejects them ``MARKET_CLOSED``. Cancels are always taken.
    """
    if not ex._calendars[order.symbol].is_open(ex._ts) and not ex.in_preopen(order.symbol):
        raise Reject(RejectCode.MARKET_CLOSED, f"{order.symbol} is outside its trading session")


def modify_price_allowed(ex: OrderEntryLayer, order: OrderRecord, ask: ModifyAsk) -> None:
    """A new limit or stop price meets the product's lowest price and price band,
    as a new order's would (see :func:`price_above_minimum`, :func:`price_within_band`)."""
    instrument = ex._instruments[order.symbol]
    check_min_price(ex, instrument, ask.price, ask.stop)
    if ask.price is not None and ask.price != order.price:
        check_band(ex, instrument, order.side, ask.price)


def modify_qty_valid(ex: OrderEntryLayer, order: OrderRecord, ask: ModifyAsk) -> None:
    """A new quantity is at least 1 and at most the maximum.

    At or below what has filled it is taken: CME Globex ends the order, filled.
    """
    qty = ask.qty
    assert qty is not None
    if type(qty) is not int or qty <= 0:  # another type: a request built without msgspec
        raise Reject(RejectCode.QTY_INVALID, f"qty must be an integer > 0, got {qty!r}")
    maximum = ex._instruments[order.symbol].max_order_qty
    if qty > maximum:
        raise Reject(RejectCode.QTY_OVER_MAX, f"qty {qty} over the maximum {maximum}")


def modify_price_has_limit(ex: OrderEntryLayer, order: OrderRecord, ask: ModifyAsk) -> None:
    """Only an order with a limit price can get a new one."""
    if order.price is None:
        raise Reject(RejectCode.MODIFY_NOT_ALLOWED, f"{order.order_type} order has no limit price")


def modify_stop_not_fired(ex: OrderEntryLayer, order: OrderRecord, ask: ModifyAsk) -> None:
    """Only a stop that has not fired can get a new stop price."""
    if order.stop is None or order.triggered:
        raise Reject(
            RejectCode.MODIFY_NOT_ALLOWED, "only a stop that has not fired has a stop price"
        )


def modify_duration_valid(ex: OrderEntryLayer, order: OrderRecord, ask: ModifyAsk) -> None:
    """A resting order cannot become IOC/FOK; a GTD one needs a date that has not ended."""
    if ask.duration in _IOC_FOK:
        raise Reject(RejectCode.MODIFY_NOT_ALLOWED, f"cannot modify to {ask.duration}")
    if (ask.duration or order.duration) is not _GTD:
        return
    day = ask.gtd or order.gtd
    if day is None:
        raise Reject(RejectCode.GTD_MISSING_DATE, "GTD needs good_thru_date")
    gtd_expiry(ex, order, day, "good_thru_date {day} is in the past")


def modify_stop_side(ex: OrderEntryLayer, order: OrderRecord, ask: ModifyAsk) -> None:
    """A changed stop price must not trigger at once."""
    if ask.stop is not None and ask.stop != order.stop:
        check_stop_side(ex, ex._instruments[order.symbol], order.side, ask.stop)


MODIFY_RULES: Final[tuple[ModifyRule, ...]] = (
    ModifyRule(
        "modify_session_open",
        (RejectCode.MARKET_CLOSED,),
        ANY,
        modify_session_open,
        lambda listing: listing.sessions,
    ),
    ModifyRule(
        "modify_qty_valid",
        (RejectCode.QTY_INVALID, RejectCode.QTY_OVER_MAX),
        QTY,
        modify_qty_valid,
    ),
    ModifyRule(
        "modify_price_has_limit", (RejectCode.MODIFY_NOT_ALLOWED,), PRICE, modify_price_has_limit
    ),
    ModifyRule(
        "modify_stop_not_fired", (RejectCode.MODIFY_NOT_ALLOWED,), STOP, modify_stop_not_fired
    ),
    ModifyRule(
        "modify_duration_valid",
        (RejectCode.MODIFY_NOT_ALLOWED, RejectCode.GTD_MISSING_DATE, RejectCode.GTD_IN_PAST),
        TIME,
        modify_duration_valid,
    ),
    ModifyRule(
        "modify_price_allowed",
        (RejectCode.PRICE_BELOW_MINIMUM, RejectCode.PRICE_OUTSIDE_BAND),
        PRICE | STOP,
        modify_price_allowed,
        lambda listing: listing.limits.min_price is not None or listing.limits.band is not None,
    ),
    ModifyRule("modify_stop_side", (RejectCode.STOP_WRONG_SIDE,), STOP, modify_stop_side),
)
"""Every modify rule, in the order they run (buying power comes after them, in
``AmendLayer._modify``, as it does for new orders)."""


def modify_plans(
    listing: Listing, rules: tuple[ModifyRule, ...] = MODIFY_RULES
) -> tuple[tuple[ModifyCheck, ...], ...]:
    """For each mask of fields a modify sets (index 0 to 15), the checks it runs, in order."""
    mine = [rule for rule in rules if rule.applies(listing)]
    return tuple(
        tuple(rule.check for rule in mine if rule.when & (mask | ANY)) for mask in range(16)
    )
