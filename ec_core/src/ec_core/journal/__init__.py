"""The append-only SQLite journal of intents, sends, answers and fills, and its replay."""

from ec_core.journal.records import (
    AdoptedPosition,
    EventReceived,
    IntentRecorded,
    JournalRecord,
    MarkedUnknown,
    OrderVoided,
    RequestSent,
    SendFailed,
)
from ec_core.journal.replay import RecoveryReport, apply_record, replay, track_sent
from ec_core.journal.store import FsyncPolicy, Journal, RecordNotEncodable

__all__ = [
    "AdoptedPosition",
    "EventReceived",
    "FsyncPolicy",
    "IntentRecorded",
    "Journal",
    "JournalRecord",
    "MarkedUnknown",
    "OrderVoided",
    "RecordNotEncodable",
    "RecoveryReport",
    "RequestSent",
    "SendFailed",
    "apply_record",
    "replay",
    "track_sent",
]
