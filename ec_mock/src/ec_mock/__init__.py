"""ec-mock: the exchange simulator of ec.

The names below are what users reach for; each loads its subpackage on first use (the
plugin entry point imports this package, and ``ec plugins`` should not pay for the
engine and the market simulator).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ec_mock.engine import Exchange, RejectCode
    from ec_mock.faults import FaultPlan
    from ec_mock.instruments import builtin_instruments
    from ec_mock.market import MarketSimulator, RecordedFillModel, RecordedVenue
    from ec_mock.vendor import MockVenue

__all__ = [
    "Exchange",
    "FaultPlan",
    "MarketSimulator",
    "MockVenue",
    "RecordedFillModel",
    "RecordedVenue",
    "RejectCode",
    "builtin_instruments",
]

_HOME = {
    "Exchange": "ec_mock.engine",
    "RejectCode": "ec_mock.engine",
    "FaultPlan": "ec_mock.faults",
    "builtin_instruments": "ec_mock.instruments",
    "MarketSimulator": "ec_mock.market",
    "RecordedFillModel": "ec_mock.market",
    "RecordedVenue": "ec_mock.market",
    "MockVenue": "ec_mock.vendor",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'ec_mock' has no attribute {name!r}")
