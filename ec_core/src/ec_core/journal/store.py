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

Integrity (see :mod:`ec_core.journal.integrity`): each record carries a chained
checksum and each commit updates a head file beside the journal, so opening a
journal that lost or changed records raises
:class:`~ec_core.errors.JournalIntegrityError` saying what was lost, unless the
operator passes ``accept_loss=True``. The schema version is checked: a journal of
schema 1 (no checksums) is migrated in place, a newer one is refused.

A record MessagePack cannot encode (an int beyond 64 bits, an object of no known
type) raises :class:`RecordNotEncodable` from :meth:`Journal.append`, never a bare
``OverflowError``/``TypeError``: that record is not buffered and the journal
stays healthy, so the caller decides (the executor denies such an intent and
releases its exposure).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, final

import msgspec

from ec_core.errors import EcError, JournalError, JournalIntegrityError
from ec_core.journal.integrity import (
    Head,
    HeadFile,
    chain_next,
    files_before_open,
    head_path,
    migrate,
    verify,
)
from ec_core.journal.records import JournalRecord

if TYPE_CHECKING:
    from ec_core.journal.replay import RecoveryReport
    from ec_core.tracking import OrderTracker

__all__ = ["FsyncPolicy", "Journal", "RecordNotEncodable"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: a chained checksum per record (1: none; migrated on open)

_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;""",
)
_SCHEMA = "\n".join(
    (
        """CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,  -- rowid: append-only, so never reused
    kind TEXT NOT NULL,
    cl_order_id TEXT NOT NULL,
    ts_ns INTEGER NOT NULL,
    body BLOB NOT NULL,
    chain BLOB  -- chain_next(previous chain, body): see journal.integrity
);""",
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        *_TRIGGERS,
    )
)

_INSERT = "INSERT INTO journal (kind, cl_order_id, ts_ns, body, chain) VALUES (?, ?, ?, ?, ?)"
_LAST = "SELECT seq, chain FROM journal ORDER BY seq DESC LIMIT 1"


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
        accept_loss: bool = False,
    ) -> None:
        """Open (or create) the journal at ``path`` and prove it whole.

        Raises :class:`JournalIntegrityError` if records were lost or changed (see
        :mod:`ec_core.journal.integrity`) unless ``accept_loss`` (the operator's
        decision, after reconciling with the venue), and :class:`JournalError` if
        it cannot be opened or was written by a newer ec.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.path = Path(path)
        self.fsync = fsync
        self.batch_size = batch_size
        self._buffer: list[tuple[str, str, int, bytes]] = []
        self.commits = 0
        self.migrated_from: int | None = None  # the schema version migrated on open
        self.problems: tuple[str, ...] = ()  # what the open found (accepted, or raised)
        self._head_file = HeadFile(head_path(self.path))
        problems: list[str] = []
        try:
            self._expected = HeadFile.read(self._head_file.path)
        except ValueError as exc:
            self._expected = None
            problems.append(str(exc))
        problems += files_before_open(self.path, self._expected)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path.name}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={_SYNCHRONOUS[fsync]}")
            self._db.execute("PRAGMA busy_timeout=0")
            self._open_schema(problems)
            self._head = verify(self._db, self._expected, problems)
            self._settle(problems, accept_loss=accept_loss)
            # One cursor for every commit: Connection.execute builds a new one per call.
            self._cursor = self._db.cursor()
        except sqlite3.Error as exc:
            self._db.close()
            raise JournalError(f"cannot open journal {self.path.name}: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    # -- opening (see ec_core.journal.integrity) -------------------------------

    def _open_schema(self, problems: list[str]) -> None:
        """Create, check or migrate the schema (1 → 2 in place; newer: refused)."""
        db = self._db
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            problems.append(f"SQLite integrity check failed: {check}")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "meta" not in tables:
            db.executescript(_SCHEMA)
            db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            return
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        version = int(row[0]) if row is not None and str(row[0]).isdigit() else None
        if version is None:
            raise JournalError(
                f"journal {self.path.name} has no readable schema version: not a journal"
                " this ec wrote; point journal_path at another file"
            )
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"journal {self.path.name} has schema version {version}, written by a newer"
                f" ec; this ec reads up to version {SCHEMA_VERSION}: upgrade ec to use it"
            )
        if version < SCHEMA_VERSION:
            chained = migrate(db, SCHEMA_VERSION, _TRIGGERS)
            self.migrated_from = version
            log.warning(
                "journal %s: migrated from schema %d to %d (%d records chained; continuity"
                " is proven from here on)",
                self.path.name,
                version,
                SCHEMA_VERSION,
                chained,
            )

    def _settle(self, problems: list[str], *, accept_loss: bool) -> None:
        """Raise what was found, or (accepted) log it; then the head is what we hold."""
        self.problems = tuple(problems)
        if problems:
            error = JournalIntegrityError(self.path, self.problems)
            if not accept_loss:
                raise error
            log.error("%s; accept_loss: trading on with what it holds", error)
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('accepted_through', ?)",
                (str(self._head.seq),),
            )
        try:
            self._head_file.write(self._head)
        except OSError as exc:
            raise JournalError(f"cannot write the journal head file: {exc}") from exc

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
        db = self._cursor
        buffer = self._buffer
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Chain from the journal's last record as it is now, under the write
                # lock: another process (ec orders void) may have appended since.
                last = db.execute(_LAST).fetchone()
                seq, chain = (last[0], last[1]) if last is not None else (0, b"")
                rows = []
                for kind, cl_order_id, ts_ns, body in buffer:
                    chain = chain_next(chain, body)
                    rows.append((kind, cl_order_id, ts_ns, body, chain))
                db.executemany(_INSERT, rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise JournalError(
                f"journal {self.path.name}: commit of {len(buffer)} record(s) failed: {exc}"
            ) from exc
        self._head = Head(seq + len(buffer), chain)
        buffer.clear()
        self.commits += 1
        try:
            self._head_file.write(self._head)
        except OSError as exc:
            raise JournalError(
                f"journal {self.path.name}: committed, but its head file failed: {exc}"
            ) from exc

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
            self._head_file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
