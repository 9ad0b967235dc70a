"""What the tracker keeps per order, and how a request we sent was answered."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from ec_core.model import ExecutionReport, Fill, OrderState

__all__ = [
    "FillAnomaly",
    "FillAnomalyKind",
    "OrderEvent",
    "OrderEventKind",
    "RequestOutcome",
    "TrackerStats",
]


class OrderEventKind(StrEnum):
    TRACKED = "TRACKED"  # we sent a new order
    REQUESTED = "REQUESTED"  # we sent a modify or cancel for the chain
    REPORT = "REPORT"  # a venue report changed the order
    FILL = "FILL"  # a new fill (duplicates are DUPLICATE)
    DUPLICATE = "DUPLICATE"  # a report or fill seen before: nothing changed
    STALE = "STALE"  # an older report arriving late: ignored
    ILLEGAL = "ILLEGAL"  # the report asked for a forbidden transition: ignored, counted
    UNKNOWN = "UNKNOWN"  # we lost track (timeout, disconnect): reconcile, never drop
    ADOPTED = "ADOPTED"  # first heard of from the venue (snapshot, placed elsewhere)
    ANOMALY = "ANOMALY"  # an impossible fill, booked: see FillAnomaly


class OrderEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One entry of an order's history; ``state`` is the order's state after it.

    Not tracked by the garbage collector: it holds only scalars and untracked records
    (no cycle), and a history keeps several per order."""

    seq: int
    ts_ns: int
    kind: OrderEventKind
    chain_id: str
    cl_order_id: str
    state: OrderState
    previous_state: OrderState | None = None
    detail: str = ""
    report: ExecutionReport | None = None
    fill: Fill | None = None


class FillAnomalyKind(StrEnum):
    OVERFILL = "OVERFILL"  # fills beyond the order's quantity
    FILL_AFTER_FINAL = "FILL_AFTER_FINAL"  # a new fill on an order already final


class FillAnomaly(msgspec.Struct, frozen=True, kw_only=True):
    """A fill the order could not have had, booked all the same (the venue's word
    about money wins) and raised: see ``docs/safety/policies.md``.

    ``filled_qty`` is what the order's booked fills add up to after ``fill``;
    ``previous_state`` the order's state before it, ``state`` after.
    """

    kind: FillAnomalyKind
    chain_id: str
    account_id: str
    symbol: str
    fill: Fill
    order_qty: int
    filled_qty: int
    previous_state: OrderState
    state: OrderState
    ts_ns: int


class RequestOutcome(StrEnum):
    """How the venue answered one request (keyed by the request's client order id)."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    OVERTAKEN = "OVERTAKEN"  # the order reached a final state before the venue answered


class TrackerStats(msgspec.Struct, frozen=True, kw_only=True):
    """Counters a dashboard or a test can read: anything odd the venue sent is counted."""

    reports: int = 0
    fills: int = 0
    duplicate_fills: int = 0
    duplicate_reports: int = 0
    stale_reports: int = 0
    illegal_transitions: int = 0
    adopted: int = 0
    unknown_marked: int = 0
    late_reports: int = 0  # about a chain already retired (see OrderTracker's retention)
    retired: int = 0  # final chains retired from the tracker's maps
    impossible_fills: int = 0  # overfills and fills after a final state (FillAnomaly)
