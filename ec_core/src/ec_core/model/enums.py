"""Vendor-neutral enumerations. Vendors map their own codes onto these at the edge."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Duration",
    "ExecInstruction",
    "OrderType",
    "RequestType",
    "SessionState",
    "Side",
    "SmpInstruction",
]


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: position change per unit filled."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MKT = "MKT"  # market
    LMT = "LMT"  # limit
    STP = "STP"  # stop: becomes a market order when triggered
    STL = "STL"  # stop-limit: becomes a limit order when triggered
    # market-to-limit: fills at the best opposite price only; the rest rests as a limit
    # order at that price (CME Globex market-to-limit)
    MTL = "MTL"

    @property
    def needs_limit_price(self) -> bool:
        return self in (OrderType.LMT, OrderType.STL)

    @property
    def needs_stop_price(self) -> bool:
        return self in (OrderType.STP, OrderType.STL)


class Duration(StrEnum):
    DAY = "DAY"  # expires at the session close
    GTC = "GTC"  # good till cancelled
    GTD = "GTD"  # good through a date (``good_thru_date``)
    IOC = "IOC"  # immediate or cancel: the unfilled rest is cancelled
    FOK = "FOK"  # fill or kill: all at once or nothing


class ExecInstruction(StrEnum):
    AON = "AON"  # all or none (may rest, but only fills whole)
    ICEBERG = "ICEBERG"
    POST_ONLY = "POST_ONLY"  # must not take liquidity


class SmpInstruction(StrEnum):
    """Which order self-match prevention cancels when two orders of one SMP id would trade.

    CME Globex: the instruction of the aggressing order decides; without one the
    resting order is cancelled.
    """

    CANCEL_RESTING = "CANCEL_RESTING"  # Globex "cancel oldest"
    CANCEL_AGGRESSING = "CANCEL_AGGRESSING"  # Globex "cancel newest"


class RequestType(StrEnum):
    NEW = "NEW"
    MODIFY = "MODIFY"
    CANCEL = "CANCEL"
    CANCEL_ALL = "CANCEL_ALL"
    LIQUIDATE_ALL = "LIQUIDATE_ALL"  # cancel working orders, then flatten positions
    GO_FLAT = "GO_FLAT"  # same, across every instrument of the account


class SessionState(StrEnum):
    """Lifecycle of a vendor session; see :mod:`ec_core.session` for the transitions."""

    CREATED = "CREATED"
    CONNECTING = "CONNECTING"
    LOGGED_ON = "LOGGED_ON"
    RECONNECTING = "RECONNECTING"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
