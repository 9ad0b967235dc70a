"""ec's built-in pre-trade rules, each an ordinary :class:`~ec_core.validation.Validator`.

The built-in plugin :mod:`ec_core.builtin.validators` registers them by name;
a plugin may replace one (``validators.add(mine, replace=True)``) or remove it.
The mandatory guards (kill switch, rate limit, allowed account and instrument)
are not validators: :class:`~ec_core.safety.PreTradeChecks` always runs them.
"""

from __future__ import annotations

from ec_core.safety.rules.fields import EnumValues, Quantity, RequiredFields
from ec_core.safety.rules.prices import (
    PriceBand,
    PriceFields,
    PriceFloor,
    StopLimitRelation,
    TickGrid,
)
from ec_core.safety.rules.qualifiers import OrderQualifiers
from ec_core.safety.rules.risk import MaxOpenOrders, Notional, PositionLimit, SelfTrade
from ec_core.safety.rules.timing import GoodThruDate, TradingHoursGate
from ec_core.validation import Validator

__all__ = [
    "EnumValues",
    "GoodThruDate",
    "MaxOpenOrders",
    "Notional",
    "OrderQualifiers",
    "PositionLimit",
    "PriceBand",
    "PriceFields",
    "PriceFloor",
    "Quantity",
    "RequiredFields",
    "SelfTrade",
    "StopLimitRelation",
    "TickGrid",
    "TradingHoursGate",
    "builtin_validators",
]


def builtin_validators() -> list[Validator]:
    """A fresh instance of every built-in rule, in the order they run."""
    return [
        RequiredFields(),
        EnumValues(),
        Quantity(),
        PriceFields(),
        OrderQualifiers(),
        TickGrid(),
        PriceFloor(),
        StopLimitRelation(),
        PriceBand(),
        GoodThruDate(),
        TradingHoursGate(),
        Notional(),
        PositionLimit(),
        MaxOpenOrders(),
        SelfTrade(),
    ]
