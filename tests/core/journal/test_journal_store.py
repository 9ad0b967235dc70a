"""The SQLite journal: exact round trip, batching, append-only, and failing closed."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.errors import JournalError
from ec_core.journal import (
    AdoptedPosition,
    EventReceived,
    FsyncPolicy,
    IntentRecorded,
    Journal,
    JournalRecord,
    MarkedUnknown,
    RequestSent,
)
from ec_core.model import (
    ExecutionReport,
    Fill,
    NewOrder,
    OrderState,
    OrderType,
    Position,
    ReportKind,
    Side,
)

ORDER = NewOrder(
    account_id="ACC1",
    symbol="CLE",
    side=Side.BUY,
    qty=3,
    order_type=OrderType.LMT,
    limit_price=Decimal("70.01"),
    cl_order_id="A1",
)
FILL_REPORT = ExecutionReport(
    kind=ReportKind.FILL,
    account_id="ACC1",
    symbol="CLE",
    cl_order_id="A1",
    state=OrderState.PARTIALLY_FILLED,
    side=Side.BUY,
    order_type=OrderType.LMT,
    qty=3,
    filled_qty=1,
    avg_fill_price=Decimal("70.01"),
    fill=Fill(
        fill_id="F1", account_id="ACC1", symbol="CLE", side=Side.BUY, qty=1,
        price=Decimal("70.01"), ts_ns=5,
    ),
)  # fmt: skip


@pytest.mark.parametrize("policy", list(FsyncPolicy))
def test_records_round_trip_exactly(tmp_path: Path, policy: FsyncPolicy) -> None:
    records: list[JournalRecord] = [
        IntentRecorded(request=ORDER, request_id=7, ts_ns=1),
        RequestSent(cl_order_id="A1", ts_ns=2),
        EventReceived(event=FILL_REPORT, ts_ns=3),
        MarkedUnknown(cl_order_id="A1", reason="timeout", ts_ns=4),
        AdoptedPosition(
            position=Position(account_id="ACC1", symbol="CLE", qty=1, avg_price=Decimal("70.01")),
            difference_id="d1",
        ),
    ]
    with Journal(tmp_path / "j.sqlite", fsync=policy) as journal:
        for record in records:
            journal.append(record)
    with Journal(tmp_path / "j.sqlite") as journal:
        assert [r for _, r in journal.records()] == records
        assert [seq for seq, _ in journal.records(after_seq=3)] == [4, 5]
        assert len(journal) == 5


def test_append_batches_and_write_ahead_commits(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", batch_size=3)
    reader = sqlite3.connect(tmp_path / "j.sqlite")

    def committed() -> int:
        return int(reader.execute("SELECT COUNT(*) FROM journal").fetchone()[0])

    journal.append(RequestSent(cl_order_id="A1"))
    journal.append(RequestSent(cl_order_id="A2"))
    assert (journal.pending, committed()) == (2, 0)
    journal.append(RequestSent(cl_order_id="A3"))  # the batch is full: one commit
    assert (journal.pending, committed(), journal.commits) == (0, 3, 1)
    journal.append(RequestSent(cl_order_id="A4"))
    journal.write_ahead(IntentRecorded(request=ORDER))
    assert (journal.pending, committed(), journal.commits) == (0, 5, 2)
    reader.close()
    journal.close()


def test_the_table_is_append_only(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.write_ahead(RequestSent(cl_order_id="A1"))
    db = sqlite3.connect(tmp_path / "j.sqlite")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM journal")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE journal SET kind = 'x'")
    db.close()


def test_a_failed_commit_raises_keeps_the_buffer_and_retries(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    blocker = sqlite3.connect(tmp_path / "j.sqlite", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    journal.append(RequestSent(cl_order_id="A1"))
    with pytest.raises(JournalError, match="commit of 2 record"):
        journal.write_ahead(RequestSent(cl_order_id="A2"))
    assert journal.pending == 2
    with pytest.raises(JournalError, match="database is locked"):
        journal.check()
    blocker.execute("ROLLBACK")
    blocker.close()
    journal.check()
    assert journal.pending == 0
    assert [r for _, r in journal.records()] == [
        RequestSent(cl_order_id="A1"),
        RequestSent(cl_order_id="A2"),
    ]
    journal.close()


def test_unopenable_journal_is_a_journal_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="cannot open journal"):
        Journal(tmp_path / "missing-dir" / "j.sqlite")
    with pytest.raises(ValueError, match="batch_size"):
        Journal(tmp_path / "j.sqlite", batch_size=0)
