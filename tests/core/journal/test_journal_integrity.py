"""Journal integrity: a journal that lost or changed records never opens as valid.

Corrupted copies of real journals: truncated to 0 bytes, missing or damaged
``-wal`` after a real trading process was killed with SIGKILL, a tampered record,
a newer schema, a schema-1 journal (migrated). Each is refused with what was lost,
unless the operator passes ``accept_loss=True``.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from ec_core.clock import ManualClock
from ec_core.errors import JournalError, JournalIntegrityError
from ec_core.journal import IntentRecorded, Journal, RequestSent
from ec_core.model import NewOrder, OrderType, Side
from ec_core.tracking import OrderTracker
from hypothesis import given, settings
from hypothesis import strategies as st

CHILD = Path(__file__).with_name("journal_child.py")


def intent(n: int) -> IntentRecorded:
    request = NewOrder(
        account_id="ACC1", symbol="CLE", side=Side.BUY, qty=1, order_type=OrderType.LMT,
        limit_price=Decimal("70.00"), cl_order_id=f"A{n}",
    )  # fmt: skip
    return IntentRecorded(request=request, ts_ns=n)


def write(path: Path, n: int) -> None:
    with Journal(path) as journal:
        for i in range(1, n + 1):
            journal.write_ahead(intent(i))


def head(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def test_a_whole_journal_reopens_and_its_head_follows_every_commit(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path).close()  # created, nothing written: reopens as the empty journal it is
    with Journal(path) as journal:
        assert journal.problems == ()
    write(path, 5)
    assert head(path).read_bytes().split()[2] == b"5"
    assert oct(head(path).stat().st_mode & 0o777) == "0o600"
    with Journal(path) as journal:
        assert len(journal) == 5
        assert journal.problems == ()
        journal.write_ahead(intent(6))
    assert head(path).read_bytes().split()[2] == b"6"


def test_two_writers_interleaving_keep_the_chain_whole(tmp_path: Path) -> None:
    """``ec run`` and ``ec orders void`` may both append: each commit chains from the
    journal's last record as it is, not from what one writer last wrote."""
    path = tmp_path / "journal.sqlite"
    with Journal(path) as running, Journal(path) as operator:
        for i in range(1, 7):
            (running if i % 2 else operator).write_ahead(intent(i))
    with Journal(path) as journal:
        assert journal.problems == ()
        assert len(journal) == 6


def test_a_journal_truncated_to_zero_bytes_is_a_loss_not_a_fresh_start(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    write(path, 5)
    path.write_bytes(b"")
    with pytest.raises(JournalIntegrityError) as caught:
        Journal(path)
    message = str(caught.value)
    assert "empty (0 bytes)" in message
    assert "records 1..5 (5)" in message
    assert "accept_loss" in message
    with Journal(path, accept_loss=True) as journal:  # the operator's decision
        assert len(journal) == 0
        assert journal.problems
        journal.write_ahead(intent(1))
    with Journal(path) as journal:  # accepted once: a clean start from there
        assert len(journal) == 1


def test_an_empty_file_is_an_error_even_without_a_head(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"")
    with pytest.raises(JournalIntegrityError, match="empty"):
        Journal(path)


def test_a_missing_journal_whose_head_says_records_were_committed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    write(path, 3)
    path.unlink()
    with pytest.raises(JournalIntegrityError, match=r"missing; its head file says 3"):
        Journal(path)


def test_a_tampered_record_is_named(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    write(path, 5)
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER journal_no_update")
    (other,) = db.execute("SELECT body FROM journal WHERE seq = 2").fetchone()
    db.execute("UPDATE journal SET body = ? WHERE seq = 3", (other,))
    db.commit()
    db.close()
    with pytest.raises(JournalIntegrityError, match=r"1 record\(s\) do not match .*seq 3"):
        Journal(path)
    Journal(path, accept_loss=True).close()
    Journal(path).close()  # accepted: seq 3 is known damage, later records are checked


def test_a_record_removed_from_the_middle_is_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    write(path, 5)
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER journal_no_delete")
    db.execute("DELETE FROM journal WHERE seq = 2")
    db.commit()
    db.close()
    with pytest.raises(JournalIntegrityError, match=r"records 2\.\.2 \(1\) are missing"):
        Journal(path)


def test_a_damaged_head_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    write(path, 2)
    head(path).write_bytes(b"garbage")
    with pytest.raises(JournalIntegrityError, match=r"head file .* is damaged"):
        Journal(path)


def test_a_journal_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    write(path, 1)
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '9' WHERE key = 'schema'")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="schema version 9, written by a newer ec"):
        Journal(path)


SCHEMA_1 = """
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, cl_order_id TEXT NOT NULL,
    ts_ns INTEGER NOT NULL, body BLOB NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
INSERT INTO meta (key, value) VALUES ('schema', '1');
"""


def test_a_schema_1_journal_is_migrated_in_place(tmp_path: Path) -> None:
    """A journal the previous version wrote (no checksums, no head) opens, migrated."""
    path = tmp_path / "journal.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_1)
    encode = msgspec.msgpack.Encoder().encode
    for record in (intent(1), RequestSent(cl_order_id="A1", ts_ns=2), intent(3)):
        db.execute(
            "INSERT INTO journal (kind, cl_order_id, ts_ns, body) VALUES (?, ?, ?, ?)",
            (record.__struct_config__.tag, "A", record.ts_ns, encode(record)),
        )
    db.commit()
    db.close()
    with Journal(path) as journal:
        assert journal.migrated_from == 1
        tracker = OrderTracker(clock=ManualClock())
        report = journal.replay(tracker)
        assert report.records == 3
        assert {o.chain_id for o in tracker.orders()} == {"A1", "A3"}
    with Journal(path) as journal:
        assert journal.migrated_from is None
        assert len(journal) == 3
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE journal SET body = x'00' WHERE seq = 1")  # the triggers are back
    db.close()
    path.write_bytes(b"")  # from now on, a loss is seen
    with pytest.raises(JournalIntegrityError, match=r"records 1\.\.3"):
        Journal(path)


def _killed_child(tmp_path: Path, orders: int) -> tuple[Path, list[str]]:
    """A real trading process, killed with SIGKILL after ``orders`` were acknowledged."""
    path = tmp_path / "live" / "journal.sqlite"
    path.parent.mkdir()
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    sent: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:  # blocks on the pipe: no sleeps
            sent.append(line.split()[1])
            if len(sent) == orders:
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.kill()
        _, stderr = child.communicate()
    assert child.returncode == -signal.SIGKILL, stderr
    return path, sent


def _copy(path: Path, to: Path, *, wal: bool = True) -> Path:
    to.mkdir()
    shutil.copy(path, to / path.name)
    shutil.copy(head(path), to / head(path).name)
    if wal:
        shutil.copy(path.with_name(path.name + "-wal"), to / (path.name + "-wal"))
    return to / path.name


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_after_sigkill_a_missing_or_damaged_wal_is_refused_with_what_was_lost(
    tmp_path: Path,
) -> None:
    live, sent = _killed_child(tmp_path, 30)
    wal = live.with_name(live.name + "-wal")
    assert wal.stat().st_size > 0  # the commits sit in the -wal: nothing checkpointed yet

    intact = _copy(live, tmp_path / "intact")
    with Journal(intact) as journal:
        tracker = OrderTracker(clock=ManualClock())
        journal.replay(tracker)
    assert set(sent) <= {o.chain_id for o in tracker.orders()}

    no_wal = _copy(live, tmp_path / "no-wal", wal=False)
    with pytest.raises(JournalIntegrityError) as caught:
        Journal(no_wal)
    assert "committed before are missing" in str(caught.value)
    assert "-wal" in str(caught.value)

    damaged = _copy(live, tmp_path / "damaged")
    damaged_wal = damaged.with_name(damaged.name + "-wal")
    data = bytearray(damaged_wal.read_bytes())
    middle = len(data) // 2
    for at in range(middle, middle + 64):  # a torn page: every frame after it is dropped
        data[at] ^= 0xFF
    damaged_wal.write_bytes(bytes(data))
    with pytest.raises(JournalIntegrityError, match="committed before are missing"):
        Journal(damaged)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=12),
    damage=st.sampled_from(["change", "remove", "lose_tail"]),
    data=st.data(),
)
def test_any_single_damage_is_refused_and_named(n: int, damage: str, data: st.DataObject) -> None:
    """Whatever record is changed or removed, and however many are lost from the end,
    the open refuses and names the records."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "journal.sqlite"
        write(path, n)
        seq = data.draw(st.integers(min_value=1, max_value=n), label="seq")
        db = sqlite3.connect(path)
        db.execute("DROP TRIGGER journal_no_update")
        db.execute("DROP TRIGGER journal_no_delete")
        if damage == "change":
            db.execute("UPDATE journal SET body = body || x'00' WHERE seq = ?", (seq,))
            named = rf"do not match their checksum .*seq {seq}\b"
        elif damage == "remove":
            db.execute("DELETE FROM journal WHERE seq = ?", (seq,))
            named = rf"records {seq}\.\.{seq} \(1\)" if seq < n else rf"records {n}\.\.{n} \(1\)"
        else:
            db.execute("DELETE FROM journal WHERE seq >= ?", (seq,))
            named = rf"records {seq}\.\.{n} \({n - seq + 1}\) committed before are missing"
        db.commit()
        db.close()
        with pytest.raises(JournalIntegrityError, match=named):
            Journal(path)
