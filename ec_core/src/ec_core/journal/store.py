"""The append-only SQLite journal of everything that happened to our orders.

Durability policy (see ``docs/safety/execution.md``):

* The database runs in WAL mode. A commit appends to the ``-wal`` file with one
  ``write()``; once it returns, the records survive a crash *of the process*
  (SIGKILL included), because the data sits in the operating system's cache.
* ``fsync`` chooses what survives a crash *of the machine* (power loss, kernel
  panic): :attr:`FsyncPolicy.EVERY_COMMIT` (SQLite ``synchronous=FULL``) fsyncs
  every commit; :attr:`FsyncPolicy.CHECKPOINT` (``synchronous=NORMAL``, the
  default) fsyncs at checkpoints only, so the last commits before a power loss
  may be lost; :attr:`FsyncPolicy.OFF` never fsyncs.
* Records are batched: :meth:`Journal.append` buffers, :meth:`Journal.commit`
  writes the buffer in one transaction. The executor calls
  :meth:`Journal.write_ahead` for the intent of every order, which commits it
  (and everything buffered before it) *before* the order is sent, so no order
  can leave without being on disk. Venue reports are appended and committed with
  the next intent, when ``batch_size`` records are waiting, or on ``commit()``:
  if they are lost in a crash, the venue replays them (snapshot, status query).

Any SQLite failure raises :class:`~ec_core.errors.JournalError`; the buffer is
kept, so a later commit retries it. The table refuses UPDATE and DELETE.

A record MessagePack cannot encode (an int beyond 64 bits, an object of no known
type) raises :class:`RecordNotEncodable` from :meth:`Journal.append`, never a bare
``OverflowError``/``TypeError``: that record is not buffered and the journal
stays healthy, so the caller decides (the executor denies such an intent and
releases its exposure).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, final

import msgspec

from ec_core.errors import EcError, JournalError
from ec_core.journal.records import JournalRecord

if TYPE_CHECKING:
    from ec_core.journal.replay import RecoveryReport
    from ec_core.tracking import OrderTracker

__all__ = ["FsyncPolicy", "Journal", "RecordNotEncodable"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,  -- rowid: append-only, so never reused
    kind TEXT NOT NULL,
    cl_order_id TEXT NOT NULL,
    ts_ns INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""

_INSERT = "INSERT INTO journal (kind, cl_order_id, ts_ns, body) VALUES (?, ?, ?, ?)"


class FsyncPolicy(StrEnum):
    """What a commit promises beyond surviving a crash of the process."""

    EVERY_COMMIT = "every_commit"  # synchronous=FULL: survives power loss, ~ms per commit
    CHECKPOINT = "checkpoint"  # synchronous=NORMAL: the last commits may go on power loss
    OFF = "off"  # synchronous=OFF: the OS decides when to write


_SYNCHRONOUS = {
    FsyncPolicy.EVERY_COMMIT: "FULL",
    FsyncPolicy.CHECKPOINT: "NORMAL",
    FsyncPolicy.OFF: "OFF",
}

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(JournalRecord)


@final
class RecordNotEncodable(EcError):
    """A record the journal cannot encode; nothing was buffered, the journal is fine.

    ``kind`` is the record's tag, ``cl_order_id`` the order it is about, ``reason``
    what the encoder said.
    """

    code = "RECORD_NOT_ENCODABLE"

    def __init__(self, kind: str, cl_order_id: str, reason: str) -> None:
        super().__init__(f"{self.code}: journal record {kind} of {cl_order_id!r}: {reason}")
        self.kind = kind
        self.cl_order_id = cl_order_id
        self.reason = reason


def _cl_order_id(record: JournalRecord) -> str:
    request = getattr(record, "request", None)
    if request is not None:
        return str(request.cl_order_id)
    event = getattr(record, "event", None)
    if event is not None:
        return str(getattr(event, "cl_order_id", ""))
    return str(getattr(record, "cl_order_id", ""))


@final
class Journal:
    """An append-only journal in one SQLite file. Use from one thread (the event loop's)."""

    def __init__(
        self,
        path: str | Path,
        *,
        fsync: FsyncPolicy = FsyncPolicy.CHECKPOINT,
        batch_size: int = 512,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.path = Path(path)
        self.fsync = fsync
        self.batch_size = batch_size
        self._buffer: list[tuple[str, str, int, bytes]] = []
        self.commits = 0
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={_SYNCHRONOUS[fsync]}")
            self._db.execute("PRAGMA busy_timeout=0")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path.name}: {exc}") from exc

    # -- writing ---------------------------------------------------------------

    def append(self, record: JournalRecord) -> None:
        """Buffer ``record``; commit when ``batch_size`` records are waiting.

        Raises :class:`RecordNotEncodable` (nothing buffered) or :class:`JournalError`.
        """
        kind = str(record.__struct_config__.tag)
        cl_order_id = _cl_order_id(record)
        try:
            body = _ENCODER.encode(record)
            ts_ns = record.ts_ns
            if type(ts_ns) is not int or not -(2**63) <= ts_ns < 2**63:  # SQLite INTEGER
                raise OverflowError(f"ts_ns {ts_ns!r} is not a 64-bit int")
        except (OverflowError, TypeError, ValueError, msgspec.EncodeError) as exc:
            raise RecordNotEncodable(kind, cl_order_id, f"{type(exc).__name__}: {exc}") from exc
        self._buffer.append((kind, cl_order_id, ts_ns, body))
        if len(self._buffer) >= self.batch_size:
            self.commit()

    def write_ahead(self, record: JournalRecord) -> None:
        """Append ``record`` and commit it with everything buffered: durable on return."""
        self.append(record)
        self.commit()

    def commit(self) -> None:
        """Write the buffer in one transaction. Raises :class:`JournalError`; keeps the buffer."""
        if not self._buffer:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(_INSERT, self._buffer)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise JournalError(
                f"journal {self.path.name}: commit of {len(self._buffer)} record(s) failed: {exc}"
            ) from exc
        self._buffer.clear()
        self.commits += 1

    @property
    def pending(self) -> int:
        """Records buffered, not yet committed."""
        return len(self._buffer)

    def check(self) -> None:
        """Commit the buffer and prove the file is writable now (used to clear a halt)."""
        self.commit()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path.name} is not writable: {exc}") from exc

    # -- reading ---------------------------------------------------------------

    def records(self, *, after_seq: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """Committed records with their sequence numbers, oldest first."""
        try:
            rows = self._db.execute(
                "SELECT seq, body FROM journal WHERE seq > ? ORDER BY seq", (after_seq,)
            )
            for seq, body in rows:
                yield seq, _DECODER.decode(body)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read journal {self.path.name}: {exc}") from exc

    def replay(self, tracker: OrderTracker, *, mark_unanswered: bool = True) -> RecoveryReport:
        """Rebuild ``tracker`` from the journal; see :func:`ec_core.journal.replay`."""
        from ec_core.journal.replay import replay

        return replay(self, tracker, mark_unanswered=mark_unanswered)

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM journal").fetchone()
        return int(count)

    # -- lifetime --------------------------------------------------------------

    def close(self) -> None:
        """Commit what is buffered and close. A failed final commit still closes, then raises."""
        try:
            self.commit()
        finally:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
