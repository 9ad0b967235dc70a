"""Client order ids, the validator gate, the group commit's failure path, the timed flush."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest
from ec_core.clock import ManualClock
from ec_core.errors import JournalError
from ec_core.execution import ClientOrderIds, Payload, PayloadStatus, ValidatorGate
from ec_core.execution.journaling import JournalWriter
from ec_core.journal import Journal, RequestSent
from ec_core.validation import PreTradeContext
from exec_rig import Rule, limit, rig

DAY_NS = 86_400 * 10**9


def test_ids_are_unique_per_session_and_day_and_skip_reserved() -> None:
    clock = ManualClock(1_700_000_000 * 10**9)
    ids = ClientOrderIds(clock, token="tok")
    first = ids.next()
    assert first == "tok-231114-1"
    ids.reserve_all(["tok-231114-2"])  # used before a restart
    assert ids.next() == "tok-231114-3"
    assert not ids.reserve("tok-231114-3")
    assert ids.reserve("mine")
    assert ids.is_used("mine")
    clock.advance(DAY_NS)
    assert ids.next() == "tok-231115-1"
    other = ClientOrderIds(ManualClock(1_700_000_000 * 10**9 + 1000))
    assert other.token != ClientOrderIds(ManualClock(1_700_000_000 * 10**9)).token


def test_validator_gate_runs_all_or_only_the_mandatory() -> None:
    always = Rule("always", "ALWAYS", lambda r, c: True)
    guard = Rule("guard", "GUARD", lambda r, c: True)
    gate = ValidatorGate([always, guard], mandatory=["guard"])
    context = PreTradeContext(now_ns=0)
    assert [v.code for v in gate.check(limit(), context)] == ["ALWAYS", "GUARD"]
    assert [v.code for v in gate.check_mandatory(limit(), context)] == ["GUARD"]
    gate.record_sent(limit())
    assert gate.sent == 1


@pytest.mark.anyio
async def test_a_failed_group_commit_fails_every_order_in_it(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    async with rig(journal_path=path) as r:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        payloads = [Payload(request=limit(price=f"69.{i:02d}")) for i in range(3)]
        errors: list[BaseException] = []

        async def attempt(payload: Payload) -> None:
            try:
                await r.executor.execute(payload)
            except JournalError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for payload in payloads:
                tg.start_soon(attempt, payload)
        blocker.execute("ROLLBACK")
        blocker.close()
        assert len(errors) == 3
        assert {p.status for p in payloads} == {PayloadStatus.FAILED}
        assert r.received() == []
        assert r.executor.halted is not None
        r.executor.clear_halt()  # commits what was buffered: intents and their SendFailed
        assert r.journal is not None
        kinds = [type(rec).__name__ for _, rec in r.journal.records()]
        assert kinds.count("IntentRecorded") == kinds.count("SendFailed") == 3


@pytest.mark.anyio
async def test_cancelled_before_the_send_is_journaled_as_not_sent(tmp_path: Path) -> None:
    async with rig(journal_path=tmp_path / "j.sqlite") as r:
        payload = Payload(request=limit())
        with anyio.CancelScope() as scope:
            scope.cancel()  # cancelled at its first checkpoint: the group commit's yield
            await r.executor.execute(payload)
        assert payload.status is PayloadStatus.FAILED
        assert r.received() == []
        assert r.journal is not None
        r.executor.flush()
        kinds = [type(rec).__name__ for _, rec in r.journal.records()]
        kinds = [k for k in kinds if k != "EventReceived"]  # the snapshot may come meanwhile
        assert kinds[-2:] == ["IntentRecorded", "SendFailed"]


def _writer(journal: Journal) -> JournalWriter:
    """A writer of ``journal`` alone: no intent is written through it."""

    def never(*args: object) -> None:
        raise AssertionError("no intent is written here")

    return JournalWriter(
        journal,
        ManualClock(0),
        flush_interval=0,
        not_encodable=never,  # type: ignore[arg-type]
        intents_failed=never,
    )


@pytest.mark.anyio
async def test_periodic_flush_commits_what_each_round_buffered(tmp_path: Path) -> None:
    """The timed flush is woken by the first record of a round and commits it; a record
    buffered after that round's wake-up is committed by the next round."""
    with Journal(tmp_path / "j.sqlite") as journal:
        writer = _writer(journal)

        async def committed() -> None:
            for _ in range(100):  # flush_interval=0: each round is a few checkpoints
                if not journal.pending:
                    return
                await anyio.lowlevel.checkpoint()
            raise AssertionError(f"{journal.pending} record(s) left uncommitted")

        async with anyio.create_task_group() as tg:
            tg.start_soon(writer.flush_periodically)
            await anyio.lowlevel.checkpoint()  # the flusher waits, idle, on its event
            for round_ in range(3):
                writer.append(RequestSent(cl_order_id=f"a{round_}", ts_ns=1))
                writer.append(RequestSent(cl_order_id=f"b{round_}", ts_ns=1))
                await committed()
            tg.cancel_scope.cancel()
        assert journal.commits == 3
        sent = [rec for _, rec in journal.records() if isinstance(rec, RequestSent)]
        assert [rec.cl_order_id for rec in sent] == [f"{x}{i}" for i in range(3) for x in "ab"]


def test_the_halt_is_cleared_only_by_clear_halt(tmp_path: Path) -> None:
    """``halted`` is a read-only view: clearing it by assignment would skip clear_halt's
    check that the journal commits again."""
    with Journal(tmp_path / "j.sqlite") as journal:
        writer = _writer(journal)
        writer.halt("disk full")
        with pytest.raises(AttributeError):
            writer.halted = None  # type: ignore[misc]
        assert writer.halted == "disk full"
        writer.clear_halt()  # the journal commits: the halt is lifted
        assert writer.halted is None
