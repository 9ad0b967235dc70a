"""Entry rules: the checks a new order or a modify passes before the book sees it.

Each rule is one small function that raises :class:`~ec_mock.engine.core.Reject`
with its code, and an :class:`EntryRule` row that says when it applies. The rows
are data, in the order they run (the first failing rule names the reject); the
engine keeps, per kind of request, the tuple of checks that apply (a *plan*), so a
plain limit order runs only the few rules that concern it. Lookups that find what
the request names (the account, the client id, the instrument, the order of a
modify) and the fault plan come before the rules, in the layers that own them.

The checks a modify runs too (stop side, buying power, GTD expiry, lowest price,
price band) live in :mod:`ec_mock.engine.entry_checks` and are re-exported here.

Rules read the engine's state (books, marks, calendars); a new-order rule may write
only the record under check (the GTD rule sets its expiry), a modify rule nothing.
They are the engine's own code, kept apart so each can be read and tested alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final, NamedTuple

from ec_core.model import Duration, ExecInstruction, Instrument, OrderType

from ec_mock.engine.codes import RejectCode
from ec_mock.engine.core import (
    _BUY,
    _GTD,
    _IOC,
    _IOC_FOK,
    _LMT,
    _MKT,
    _MTL,
    _SELL,
    _STL,
    _STP,
    Reject,
)
from ec_mock.engine.entry_checks import (
    check_band,
    check_buying_power,
    check_min_price,
    check_stop_side,
    gtd_expiry,
    short_of_margin,
)
from ec_mock.engine.ledger import AccountLedger
from ec_mock.engine.products import ProductLimits
from ec_mock.engine.records import OrderRecord

if TYPE_CHECKING:
    from ec_mock.engine.orders import OrderEntryLayer

__all__ = [
    "NEW_ORDER_RULES",
    "EntryRule",
    "NewOrderCheck",
    "OrderKind",
    "check_buying_power",
    "check_min_price",
    "check_stop_side",
    "gtd_expiry",
    "new_order_plan",
    "short_of_margin",
]

NewOrderCheck = Callable[["OrderEntryLayer", OrderRecord, AccountLedger, Instrument], None]
"""``check(exchange, order, account, instrument)``: raises :class:`Reject` or returns."""


class OrderKind(NamedTuple):
    """What decides which rules a new order runs: the same for every order of a kind."""

    instrument: Instrument
    limits: ProductLimits
    order_type: OrderType
    duration: Duration
    instructions: frozenset[ExecInstruction]
    liquidation: bool  # an order the venue sends to flatten (LiquidateAll, GoFlat)
    sessions: bool  # sessions are enforced and the instrument has trading hours
    min_qty: bool = False  # the order carries a minimum quantity
    # instructions this venue refuses (Exchange.refuse_instruction)
    refused: frozenset[ExecInstruction] = frozenset()


class EntryRule(NamedTuple):
    """A new-order rule: its name, the codes it rejects with, when it applies, the check.

    ``applies(kind)`` is decided once per :class:`OrderKind`, not per order.
    """

    name: str
    codes: tuple[RejectCode, ...]
    applies: Callable[[OrderKind], bool]
    check: NewOrderCheck


# ------------------------------------------------------------------ new-order rules
def qty_in_range(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """Quantity is an integer, at least 1 and at most the instrument's maximum order size
    (a request built without msgspec's checks may carry another type: a reject, not a crash)."""
    qty = order.qty
    if type(qty) is not int or qty <= 0:
        raise Reject(RejectCode.QTY_INVALID, f"qty must be an integer > 0, got {qty!r}")
    if qty > instrument.max_order_qty:
        raise Reject(
            RejectCode.QTY_OVER_MAX,
            f"qty {qty} over the maximum {instrument.max_order_qty} for {order.symbol}",
        )


def limit_price_present(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """Limit and stop-limit orders carry a limit price."""
    if order.price is None:
        raise Reject(RejectCode.PRICE_MISSING, f"{order.order_type} order needs a limit price")


def stop_price_present(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """Stop and stop-limit orders carry a stop price."""
    if order.stop is None:
        raise Reject(RejectCode.PRICE_MISSING, f"{order.order_type} order needs a stop price")


def iceberg_display(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """CME Globex iceberg: a limit or stop-limit order that shows ``display_qty`` at a time.

    The display quantity is at least 1 and at most the order's quantity; an order that
    never rests (IOC, FOK) or never shows (AON waits off the book) has nothing to hide.
    """
    display = order.display
    if type(display) is not int or display <= 0 or display > order.qty:
        raise Reject(
            RejectCode.DISPLAY_QTY_INVALID,
            f"display_qty must be an integer in 1..qty ({order.qty}), got {display or None!r}",
        )
    if order.order_type is not _LMT and order.order_type is not _STL:
        raise Reject(
            RejectCode.UNSUPPORTED,
            f"an iceberg is a limit or stop-limit order, not {order.order_type}",
        )
    if order.duration in _IOC_FOK or order.aon:
        kind = "AON" if order.aon else str(order.duration)
        raise Reject(RejectCode.UNSUPPORTED, f"a {kind} order cannot be an iceberg: it never rests")


def minimum_quantity(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """CME Globex minimum quantity: a qualifier of fill-and-kill (IOC) orders only, at
    least 1 and at most the order's quantity (iLink MinQty)."""
    least = order.min_qty
    if type(least) is not int or least <= 0 or least > order.qty:
        raise Reject(
            RejectCode.MIN_QTY_INVALID,
            f"min_qty must be an integer in 1..qty ({order.qty}), got {least!r}",
        )
    if order.duration is not _IOC:
        raise Reject(
            RejectCode.UNSUPPORTED,
            f"min_qty is for IOC (fill-and-kill) orders only, not {order.duration}",
        )


def venue_takes_instructions(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """An instruction this venue refuses (a replay venue that cannot honour it) is a
    reject that says why, never ignored."""
    for name in order.exec_instructions:
        reason = ex._refused.get(name)  # type: ignore[call-overload]
        if reason is not None:
            raise Reject(RejectCode.UNSUPPORTED, f"{name}: {reason}")


def best_opposite(order: OrderRecord, kind: str, purpose: str) -> int:
    """The best price on the other side of ``order`` (ticks); none is ``NO_OPPOSITE_SIDE``
    (a ``kind`` order has no price ``purpose``)."""
    side = order.side
    book = order.book
    best = book.best_ask() if side > 0 else book.best_bid()
    if best is None:
        raise Reject(
            RejectCode.NO_OPPOSITE_SIDE,
            f"{kind} {_BUY if side > 0 else _SELL} for {order.symbol}: no"
            f" {'offers' if side > 0 else 'bids'} {purpose}",
        )
    return best


def market_to_limit(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """CME Globex market-to-limit: trades at the best opposite price only; what is left
    rests as a limit order at that price (an IOC order cancels it). With no opposite
    side there is no price to take: Globex rejects it (``NO_OPPOSITE_SIDE``).
    """
    order.price = best_opposite(order, "market-to-limit", "to take a price from")


def post_only_is_limit(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """Post-only applies to limit orders only."""
    raise Reject(RejectCode.UNSUPPORTED, "post-only needs a limit order")


def post_only_does_not_cross(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """A post-only order that would take liquidity is rejected, not matched."""
    book = order.book
    side = order.side
    price = order.price
    assert price is not None  # limit_price_present ran first
    other = book.best_ask() if side > 0 else book.best_bid()
    if other is not None and (price >= other if side > 0 else price <= other):
        raise Reject(
            RejectCode.POST_ONLY_WOULD_CROSS,
            f"post-only {_BUY if side > 0 else _SELL} at {instrument.to_price(price)} would"
            f" cross {instrument.to_price(other)}",
        )


def gtd_has_future_date(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """A GTD order names a date that has not ended; it expires at that date's close."""
    if order.gtd is None:
        raise Reject(RejectCode.GTD_MISSING_DATE, "GTD order needs good_thru_date")
    order.expire_ns = gtd_expiry(
        ex, order, order.gtd, "good_thru_date {day} is before today {today}"
    )


def session_open(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """Orders are taken in the trading session, and in the pre-open before it.

    CME Globex Pre-Open state: order entry, modification and cancel are allowed and
    nothing matches; orders that could only trade at once (market, IOC, FOK) have
    nothing to do there and are rejected ``MARKET_CLOSED``.
    """
    if ex._calendars[order.symbol].is_open(ex._ts):
        return
    if not ex.in_preopen(order.symbol):
        raise Reject(RejectCode.MARKET_CLOSED, f"{order.symbol} is outside its trading session")
    if order.order_type is _MKT or order.order_type is _MTL or order.duration in _IOC_FOK:
        kind = "market" if order.order_type is _MKT else "market-to-limit"
        if order.duration in _IOC_FOK:
            kind = str(order.duration)
        raise Reject(
            RejectCode.MARKET_CLOSED,
            f"{kind} orders are not taken in the pre-open of {order.symbol}: nothing"
            " matches before the open",
        )


def stop_on_right_side(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """A new stop must not trigger at once (see :func:`check_stop_side`)."""
    stop = order.stop
    assert stop is not None  # stop_price_present ran first
    check_stop_side(ex, instrument, order.side, stop)


def product_offers_order_type(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """The product takes this order type (Globex: order types are set per product)."""
    raise Reject(
        RejectCode.UNSUPPORTED, f"{order.order_type} orders are not offered for {order.symbol}"
    )


def product_offers_instructions(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """The product takes these execution instructions.

    CME Globex does not offer all-or-none on futures outrights: an AON order for a
    built-in instrument is rejected, not hidden in the book.
    """
    allowed = ex._limits[order.symbol].exec_instructions or frozenset()
    refused = ", ".join(sorted(set(order.exec_instructions) - allowed))
    raise Reject(RejectCode.UNSUPPORTED, f"{refused} is not offered for {order.symbol}")


def price_above_minimum(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """Limit and stop prices are at or above the product's lowest price.

    Crude oil (CLE) has none: since April 2020 CME lists it with negative prices
    allowed. An E-mini bid at 0.00 is refused.
    """
    check_min_price(ex, instrument, order.price, order.stop)


def price_within_band(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """CME Globex dynamic price banding: a buy above, or a sell below, the band is rejected.

    The band is the last trade ± the product's band points; with no trade yet there
    is no reference and nothing is banded. A buy far below (or a sell far above)
    the market is a passive order and stands.
    """
    check_band(ex, instrument, order.side, order.price)


def market_protection(
    ex: OrderEntryLayer, order: OrderRecord, acct: AccountLedger, instrument: Instrument
) -> None:
    """CME Globex market order with protection: filled only up to a protection price.

    The protection price is the best opposite price ± the product's protection
    points; what cannot fill within it rests there as a limit order (an IOC order
    cancels it). With no opposite side there is no price to protect from: Globex
    rejects the order, and so does the mock (``NO_OPPOSITE_SIDE``).
    """
    best = best_opposite(order, "market", "to protect the price from")
    protection = ex._limits[order.symbol].protection
    assert protection is not None
    order.price = best + protection if order.side > 0 else best - protection


def _always(kind: OrderKind) -> bool:
    return True


_HAS_LIMIT = (_LMT, _STL)
_TAKE_MARKET = (_MKT, _MTL)  # priced by the book, not by the order
_HAS_STOP = (_STP, _STL)
_ICEBERG = ExecInstruction.ICEBERG
_POST_ONLY = ExecInstruction.POST_ONLY

NEW_ORDER_RULES: Final[tuple[EntryRule, ...]] = (
    EntryRule(
        "qty_in_range", (RejectCode.QTY_INVALID, RejectCode.QTY_OVER_MAX), _always, qty_in_range
    ),
    EntryRule(
        "product_offers_order_type",
        (RejectCode.UNSUPPORTED,),
        lambda k: k.limits.order_types is not None and k.order_type not in k.limits.order_types,
        product_offers_order_type,
    ),
    EntryRule(
        "product_offers_instructions",
        (RejectCode.UNSUPPORTED,),
        lambda k: (
            k.limits.exec_instructions is not None
            and not k.instructions <= k.limits.exec_instructions
        ),
        product_offers_instructions,
    ),
    EntryRule(
        "limit_price_present",
        (RejectCode.PRICE_MISSING,),
        lambda k: k.order_type in _HAS_LIMIT,
        limit_price_present,
    ),
    EntryRule(
        "stop_price_present",
        (RejectCode.PRICE_MISSING,),
        lambda k: k.order_type in _HAS_STOP,
        stop_price_present,
    ),
    EntryRule(
        "venue_takes_instructions",
        (RejectCode.UNSUPPORTED,),
        lambda k: bool(k.refused & k.instructions),
        venue_takes_instructions,
    ),
    EntryRule(
        "iceberg_display",
        (RejectCode.DISPLAY_QTY_INVALID, RejectCode.UNSUPPORTED),
        lambda k: _ICEBERG in k.instructions,
        iceberg_display,
    ),
    EntryRule(
        "minimum_quantity",
        (RejectCode.MIN_QTY_INVALID, RejectCode.UNSUPPORTED),
        lambda k: k.min_qty,
        minimum_quantity,
    ),
    EntryRule(
        "post_only_is_limit",
        (RejectCode.UNSUPPORTED,),
        lambda k: _POST_ONLY in k.instructions and k.order_type is not _LMT,
        post_only_is_limit,
    ),
    EntryRule(
        "post_only_does_not_cross",
        (RejectCode.POST_ONLY_WOULD_CROSS,),
        lambda k: _POST_ONLY in k.instructions and k.order_type is _LMT,
        post_only_does_not_cross,
    ),
    EntryRule(
        "gtd_has_future_date",
        (RejectCode.GTD_MISSING_DATE, RejectCode.GTD_IN_PAST),
        lambda k: k.duration is _GTD,
        gtd_has_future_date,
    ),
    EntryRule("session_open", (RejectCode.MARKET_CLOSED,), lambda k: k.sessions, session_open),
    EntryRule(
        "price_above_minimum",
        (RejectCode.PRICE_BELOW_MINIMUM,),
        lambda k: k.limits.min_price is not None and k.order_type not in _TAKE_MARKET,
        price_above_minimum,
    ),
    EntryRule(
        "price_within_band",
        (RejectCode.PRICE_OUTSIDE_BAND,),
        lambda k: k.limits.band is not None and k.order_type in _HAS_LIMIT,
        price_within_band,
    ),
    EntryRule(
        "market_protection",
        (RejectCode.NO_OPPOSITE_SIDE,),
        lambda k: k.limits.protection is not None and k.order_type is _MKT,
        market_protection,
    ),
    EntryRule(
        "market_to_limit",
        (RejectCode.NO_OPPOSITE_SIDE,),
        lambda k: k.order_type is _MTL,
        market_to_limit,
    ),
    EntryRule(
        "stop_on_right_side",
        (RejectCode.STOP_WRONG_SIDE,),
        lambda k: k.order_type in _HAS_STOP,
        stop_on_right_side,
    ),
)
"""Every new-order rule, in the order they run."""


def new_order_plan(
    kind: OrderKind, rules: tuple[EntryRule, ...] = NEW_ORDER_RULES
) -> tuple[NewOrderCheck, ...]:
    """The checks a new order of this kind runs, in order."""
    return tuple(rule.check for rule in rules if rule.applies(kind))
