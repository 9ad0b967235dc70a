"""ec_core.correlation: pending requests with deadlines, first answer wins, dead letters."""

from __future__ import annotations

import pytest
from ec_core.correlation import DeadLetterBox, PendingTable


def test_pending_request_is_found_until_finished_then_late() -> None:
    table: PendingTable[str, str] = PendingTable()
    table.add("a", "state-a", deadline_ns=10)
    assert "a" in table
    assert table.get("a") == "state-a"
    assert not table.was_finished("a")
    assert table.finish("a") == "state-a"  # the first final answer wins
    assert "a" not in table
    assert table.get("a") is None
    assert table.was_finished("a")  # a second answer is late, not unknown


def test_duplicate_key_is_refused_and_a_reused_key_is_pending_again() -> None:
    table: PendingTable[str, int] = PendingTable()
    table.add("a", 1, deadline_ns=10)
    with pytest.raises(KeyError):
        table.add("a", 2, deadline_ns=20)
    assert table.get("a") == 1
    table.finish("a")
    table.add("a", 3, deadline_ns=30)
    assert not table.was_finished("a")
    assert table.get("a") == 3


def test_expire_returns_due_requests_earliest_first_and_keeps_the_rest() -> None:
    table: PendingTable[str, str] = PendingTable()
    table.add("late", "L", deadline_ns=30)
    table.add("b", "B", deadline_ns=20)
    table.add("a", "A", deadline_ns=10)
    table.add("tie", "T", deadline_ns=20)
    assert table.next_deadline() == 10
    assert table.expire(20) == ["A", "B", "T"]  # ties in registration order
    assert table.states() == ("L",)
    assert table.next_deadline() == 30
    assert table.was_finished("b")
    assert table.expire(29) == []


def test_finish_all_empties_the_table() -> None:
    table: PendingTable[int, str] = PendingTable()
    table.add(1, "x", deadline_ns=5)
    table.add(2, "y", deadline_ns=1)
    assert table.finish_all() == ["x", "y"]
    assert len(table) == 0
    assert table.next_deadline() is None
    assert table.was_finished(1)
    assert table.was_finished(2)


def test_late_memory_is_bounded() -> None:
    table: PendingTable[int, int] = PendingTable(late_memory=2)
    for key in range(3):
        table.add(key, key, deadline_ns=0)
        table.finish(key)
    assert not table.was_finished(0)  # forgotten: a later answer is unmatched, not late
    assert table.was_finished(1)
    assert table.was_finished(2)


def test_late_memory_must_be_positive() -> None:
    with pytest.raises(ValueError, match="late_memory must be >= 1, got 0"):
        PendingTable(late_memory=0)


def test_dead_letters_are_bounded_but_counts_are_not() -> None:
    box: DeadLetterBox[str] = DeadLetterBox(capacity=2)
    box.add("unmatched", "one")
    box.add("late", "two")
    box.add("unmatched", "three")
    assert box.letters == ("two", "three")  # oldest first, the first one dropped
    assert dict(box.counts) == {"unmatched": 2, "late": 1, "total": 3}
    snapshot = box.counts
    box.add("late", "four")
    assert snapshot["total"] == 3  # a snapshot, not a live view
    with pytest.raises(TypeError):
        snapshot["total"] = 0  # type: ignore[index]


def test_dead_letter_capacity_zero_keeps_none_but_counts() -> None:
    box: DeadLetterBox[str] = DeadLetterBox(capacity=0)
    box.add("unmatched", "x")
    assert box.letters == ()
    assert box.counts["total"] == 1
    with pytest.raises(ValueError, match="capacity must be >= 0, got -1"):
        DeadLetterBox(capacity=-1)
