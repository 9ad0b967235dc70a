"""Order tracking: orders by chain id, their history, fills, positions and P&L."""

from ec_core.tracking.events import (
    FillAnomaly,
    FillAnomalyKind,
    OrderEvent,
    OrderEventKind,
    RequestOutcome,
    TrackerStats,
)
from ec_core.tracking.positions import MultiplierSource, PositionBook, multipliers
from ec_core.tracking.tracker import OrderTracker

__all__ = [
    "FillAnomaly",
    "FillAnomalyKind",
    "MultiplierSource",
    "OrderEvent",
    "OrderEventKind",
    "OrderTracker",
    "PositionBook",
    "RequestOutcome",
    "TrackerStats",
    "multipliers",
]
