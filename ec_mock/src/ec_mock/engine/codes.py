"""Stable machine codes of every reject the exchange can send.

Front ends map these onto their wire dialect; tests and strategies match on them.
The values never change once published: add new codes, never rename.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["VENUE_ID_MARK", "RejectCode"]

#: Order ids the venue makes (liquidation orders, ids for orders sent without one) start
#: with this mark; a client id that starts with it is refused ``RESERVED_ORDER_ID``, so
#: the venue's ids never collide with a client's.
VENUE_ID_MARK = "~"


class RejectCode(StrEnum):
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    DUPLICATE_ORDER_ID = "DUPLICATE_ORDER_ID"
    RESERVED_ORDER_ID = "RESERVED_ORDER_ID"  # a client id in the venue's namespace ("~...")
    QTY_INVALID = "QTY_INVALID"  # qty <= 0
    QTY_OVER_MAX = "QTY_OVER_MAX"  # qty above the instrument's max_order_qty
    PRICE_MISSING = "PRICE_MISSING"  # a limit or stop price the order type needs is absent
    PRICE_OFF_TICK = "PRICE_OFF_TICK"
    GTD_MISSING_DATE = "GTD_MISSING_DATE"
    GTD_IN_PAST = "GTD_IN_PAST"
    STOP_WRONG_SIDE = "STOP_WRONG_SIDE"  # a stop that would trigger at once
    UNSUPPORTED = "UNSUPPORTED"  # an exec instruction or combination the venue does not take
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    INSUFFICIENT_BUYING_POWER = "INSUFFICIENT_BUYING_POWER"
    MARKET_CLOSED = "MARKET_CLOSED"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # modify or cancel of an id the account never used
    ORDER_FINAL = "ORDER_FINAL"  # modify or cancel of a filled / cancelled / expired order
    MODIFY_QTY_BELOW_FILLED = "MODIFY_QTY_BELOW_FILLED"  # no longer sent: such a modify fills
    MODIFY_NOT_ALLOWED = "MODIFY_NOT_ALLOWED"  # e.g. a limit price on a market order
    SYMBOL_MISMATCH = "SYMBOL_MISMATCH"  # modify/cancel names another instrument than the order's
    FAULT_INJECTED = "FAULT_INJECTED"  # default code of a fault plan's reject_next
    PRICE_OUTSIDE_BAND = "PRICE_OUTSIDE_BAND"  # a buy above / sell below the dynamic band
    PRICE_BELOW_MINIMUM = "PRICE_BELOW_MINIMUM"  # under the product's lowest price
    NO_OPPOSITE_SIDE = "NO_OPPOSITE_SIDE"  # a protected market (market-to-limit) order, no price
    DISPLAY_QTY_INVALID = "DISPLAY_QTY_INVALID"  # an iceberg's display_qty outside 1..qty
    MIN_QTY_INVALID = "MIN_QTY_INVALID"  # min_qty outside 1..qty
    SMP_INVALID = "SMP_INVALID"  # an SMP instruction without an SMP id, or an empty id
