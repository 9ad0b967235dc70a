"""The stable codes of pre-trade denials.

A code names one rule and never changes meaning: dashboards, alerts and tests
match on it. Every :class:`~ec_core.errors.Violation` built by ec's own checks
uses one of these; a plugin's validators may add codes of their own.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Code"]


class Code(StrEnum):
    # mandatory guards (always on, not replaceable)
    KILL_SWITCH_HALTED = "KILL_SWITCH_HALTED"
    KILL_SWITCH_REDUCING = "KILL_SWITCH_REDUCING"
    RATE_LIMIT = "RATE_LIMIT"
    ACCOUNT_NOT_ALLOWED = "ACCOUNT_NOT_ALLOWED"
    ACCOUNT_UNKNOWN = "ACCOUNT_UNKNOWN"  # not an account of this session
    INSTRUMENT_NOT_ALLOWED = "INSTRUMENT_NOT_ALLOWED"
    INSTRUMENT_UNKNOWN = "INSTRUMENT_UNKNOWN"
    REQUEST_TYPE_INVALID = "REQUEST_TYPE_INVALID"
    RECORD_NOT_ENCODABLE = "RECORD_NOT_ENCODABLE"  # the journal cannot encode the intent
    # required fields, enums
    FIELD_MISSING = "FIELD_MISSING"
    NOTHING_TO_MODIFY = "NOTHING_TO_MODIFY"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_MISMATCH = "ORDER_MISMATCH"
    ENUM_INVALID = "ENUM_INVALID"
    FIELD_INVALID = "FIELD_INVALID"  # a value of the wrong type (e.g. good_thru_date)
    # quantity
    QTY_NOT_INTEGRAL = "QTY_NOT_INTEGRAL"
    QTY_NOT_POSITIVE = "QTY_NOT_POSITIVE"
    QTY_ABOVE_MAX = "QTY_ABOVE_MAX"
    QTY_NOT_ABOVE_FILLED = "QTY_NOT_ABOVE_FILLED"
    # order qualifiers (iceberg, minimum quantity, self-match prevention)
    DISPLAY_QTY_INVALID = "DISPLAY_QTY_INVALID"
    DISPLAY_QTY_NOT_ALLOWED = "DISPLAY_QTY_NOT_ALLOWED"
    MIN_QTY_INVALID = "MIN_QTY_INVALID"
    MIN_QTY_NOT_ALLOWED = "MIN_QTY_NOT_ALLOWED"
    SMP_INVALID = "SMP_INVALID"
    # prices
    PRICE_MISSING = "PRICE_MISSING"
    PRICE_NOT_ALLOWED = "PRICE_NOT_ALLOWED"
    PRICE_INVALID = "PRICE_INVALID"
    PRICE_OFF_TICK = "PRICE_OFF_TICK"
    STOP_LIMIT_RELATION = "STOP_LIMIT_RELATION"
    PRICE_OUTSIDE_BAND = "PRICE_OUTSIDE_BAND"
    NO_REFERENCE_PRICE = "NO_REFERENCE_PRICE"
    # risk
    NOTIONAL_ABOVE_MAX = "NOTIONAL_ABOVE_MAX"
    POSITION_ABOVE_MAX = "POSITION_ABOVE_MAX"
    OPEN_ORDERS_ABOVE_MAX = "OPEN_ORDERS_ABOVE_MAX"
    SELF_TRADE = "SELF_TRADE"
    # time
    GTD_DATE_MISSING = "GTD_DATE_MISSING"
    GTD_DATE_NOT_ALLOWED = "GTD_DATE_NOT_ALLOWED"
    GTD_DATE_PAST = "GTD_DATE_PAST"
    SESSION_CLOSED = "SESSION_CLOSED"
    NOT_YET_ACTIVE = "NOT_YET_ACTIVE"
    ACTIVATION_EXPIRED = "ACTIVATION_EXPIRED"
    ACTIVATION_WINDOW_INVALID = "ACTIVATION_WINDOW_INVALID"
