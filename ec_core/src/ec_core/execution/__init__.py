"""The single way an order leaves: validate, journal, send, await the answer, track."""

from ec_core.execution.executor import (
    Executor,
    ExecutorStats,
    InstrumentResolver,
    PriceSource,
    StaleLookup,
)
from ec_core.execution.feed import DirectDelivery, DirectFeed, EventSink, SendFence
from ec_core.execution.gate import (
    FillAnomalyListener,
    MandatoryGate,
    PnlListener,
    PreTradeGate,
    RoundingGate,
    TrackedSendGate,
    ValidatorGate,
)
from ec_core.execution.ids import ClientOrderIds
from ec_core.execution.payload import PAYLOAD_TRANSITIONS, Payload, PayloadStatus
from ec_core.execution.reconcile import Difference, DifferenceKind, ReconcileReport
from ec_core.execution.venue_unknown import NoTradeStreamError

__all__ = [
    "PAYLOAD_TRANSITIONS",
    "ClientOrderIds",
    "Difference",
    "DifferenceKind",
    "DirectDelivery",
    "DirectFeed",
    "EventSink",
    "Executor",
    "ExecutorStats",
    "FillAnomalyListener",
    "InstrumentResolver",
    "MandatoryGate",
    "NoTradeStreamError",
    "Payload",
    "PayloadStatus",
    "PnlListener",
    "PreTradeGate",
    "PriceSource",
    "ReconcileReport",
    "RoundingGate",
    "SendFence",
    "StaleLookup",
    "TrackedSendGate",
    "ValidatorGate",
]
