"""The append-only SQLite journal of intents, sends, answers and fills, and its replay.

Type-only import cycles (annotations under ``TYPE_CHECKING``; none runs at load time,
``tests/packaging/test_import_cycles.py`` checks): ``store`` ↔ ``replay`` —
``Journal.recover`` is typed with replay's ``RecoveryReport`` and replay reads a
``Journal``; the code of each lives in its own module on purpose (writing vs. reading).
"""

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
