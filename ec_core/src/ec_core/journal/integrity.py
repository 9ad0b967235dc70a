"""The journal's proof of continuity: a chained checksum per record and a head file.

Every record carries ``chain = blake2b(body, key=previous chain)`` (16 bytes; the
first record's key is empty), so a record changed, removed from the middle or
reordered breaks the chain at that record. A chain alone cannot see records lost
from the *end* (a damaged or missing ``-wal`` after a crash drops the last
commits cleanly), so after every commit the journal also writes a small **head
file** beside it (``journal.sqlite`` → ``journal.sqlite.head``): the last sequence
number and chain committed. On open, the journal checks:

* the SQLite file passes ``PRAGMA quick_check``;
* sequence numbers run 1, 2, 3 … without a gap and every chain matches;
* the head file's record is there with the same chain (the journal is the one the
  head describes, and nothing committed after it was lost);
* a journal file that exists but is empty, or is missing while its head file
  says records were committed, is a loss, not a fresh start.

What is found is raised as :class:`~ec_core.errors.JournalIntegrityError` naming
what was lost; ``Journal(path, accept_loss=True)`` (``ec run
--accept-journal-loss``) is the operator's explicit decision to trade on anyway
(after reconciling with the venue): the problems are logged, and the head moves
to what the journal now holds. See ``docs/safety/policies.md``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Final, final

import msgspec

__all__ = [
    "CHAIN_SIZE",
    "Head",
    "HeadFile",
    "chain_next",
    "files_before_open",
    "head_path",
    "migrate",
    "verify",
]

CHAIN_SIZE: Final = 16
_HEAD_SIZE: Final = 96  # fixed: every write replaces the whole record in place
_HEAD_RE: Final = re.compile(rb"ec-journal-head 1 (\d+) ((?:[0-9a-f]{32})?) *\n")


def chain_next(previous: bytes, body: bytes) -> bytes:
    """The chain value of a record whose body is ``body`` after ``previous``."""
    return hashlib.blake2b(body, digest_size=CHAIN_SIZE, key=previous).digest()


def head_path(journal_path: Path) -> Path:
    return journal_path.with_name(journal_path.name + ".head")


class Head(msgspec.Struct, frozen=True):
    """The last record committed: its sequence number and chain (``seq`` 0: none)."""

    seq: int
    chain: bytes


@final
class HeadFile:
    """The head file of one journal, kept open and rewritten in place after each commit.

    It is never fsynced, whatever the journal's fsync policy: a process crash keeps it (the
    page cache survives), and after a power loss a head that is behind the journal raises no
    alarm, while a head ahead of the journal means committed records really were lost. An
    fsync here would double the cost of an ``EVERY_COMMIT`` journal and detect nothing more.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @staticmethod
    def read(path: Path) -> Head | None:
        """The head a file holds; ``None`` if there is no file. Raises ``ValueError``
        if it exists but does not hold a head (damaged)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        found = _HEAD_RE.fullmatch(data)
        if found is None:
            raise ValueError(f"head file {path.name} is damaged ({len(data)} bytes)")
        return Head(int(found[1]), bytes.fromhex(found[2].decode()))

    def write(self, head: Head) -> None:
        """Record ``head``; raises ``OSError``."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        line = f"ec-journal-head 1 {head.seq} {head.chain.hex()}".encode()
        os.pwrite(self._fd, line.ljust(_HEAD_SIZE - 1) + b"\n", 0)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def files_before_open(path: Path, expected: Head | None) -> list[str]:
    """What the files say before SQLite touches them: an empty journal, or a missing
    one where the head says records were committed."""
    try:
        size: int | None = path.stat().st_size
    except FileNotFoundError:
        size = None
    committed = 0 if expected is None else expected.seq
    said = f"; its head file says {committed} record(s) were committed" if committed else ""
    if size == 0:
        return [f"the journal file exists but is empty (0 bytes){said}"]
    if size is None and committed:
        return [f"the journal file is missing{said}"]
    return []


def migrate(db: sqlite3.Connection, version: int, triggers: Sequence[str]) -> int:
    """Schema 1 → ``version``: add the chain column and chain every record, in one
    transaction; returns how many. Records lost *before* the migration cannot be
    seen: schema 1 kept no proof."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DROP TRIGGER IF EXISTS journal_no_update")
        db.execute("ALTER TABLE journal ADD COLUMN chain BLOB")
        previous = b""
        rows = db.execute("SELECT seq, body FROM journal ORDER BY seq").fetchall()
        for seq, body in rows:
            previous = chain_next(previous, body)
            db.execute("UPDATE journal SET chain = ? WHERE seq = ?", (previous, seq))
        for trigger in triggers:
            db.execute(trigger)
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(version),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(rows)


def verify(db: sqlite3.Connection, expected: Head | None, problems: list[str]) -> Head:
    """Walk every record: sequence numbers without a gap, every chain matching; then
    compare the end with the head file. Appends what is wrong to ``problems``;
    returns the last record's head. Damage up to ``accepted_through`` (meta) was
    accepted by an operator before and is not reported again."""
    row = db.execute("SELECT value FROM meta WHERE key = 'accepted_through'").fetchone()
    accepted = int(row[0]) if row is not None else 0
    previous = b""
    next_seq = 1
    at_head: bytes | None = None
    bad: list[int] = []
    rows = db.execute("SELECT seq, CAST(body AS BLOB), chain FROM journal ORDER BY seq")
    for seq, body, chain in rows:  # CAST: a body damaged into text is still bytes here
        if seq != next_seq and seq - 1 > accepted:
            problems.append(
                f"records {next_seq}..{seq - 1} ({seq - next_seq}) are missing from the"
                " middle of the journal"
            )
        if seq > accepted and chain != chain_next(previous, body):
            bad.append(seq)
        previous = chain if isinstance(chain, bytes) else b""
        next_seq = seq + 1
        if expected is not None and seq == expected.seq:
            at_head = previous
    last = next_seq - 1
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" …" if len(bad) > 10 else "")
        problems.append(
            f"{len(bad)} record(s) do not match their checksum (changed or damaged): seq {shown}"
        )
    if expected is not None and expected.seq > last:
        problems.append(
            f"records {last + 1}..{expected.seq} ({expected.seq - last}) committed before are"
            f" missing: the head file says {expected.seq} were committed, the journal holds"
            f" {last} (a damaged or missing -wal file after a crash?)"
        )
    elif expected is not None and expected.seq and at_head != expected.chain:
        problems.append(
            f"record {expected.seq} is not the one the head file recorded: the journal was"
            " replaced or rewritten"
        )
    return Head(last, previous)
