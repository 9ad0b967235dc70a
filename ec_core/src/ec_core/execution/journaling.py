"""The executor's journal side: write-ahead intents, group commit, and the halt.

An intent is committed before its order is sent; concurrent callers share one
commit (group commit). Any journal failure *halts* new orders (fail closed) until
:meth:`JournalWriter.clear_halt`, but never stops the tracking of what the venue
says. With no journal every method is a no-op and nothing halts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeAlias, final

import anyio
import anyio.lowlevel

from ec_core.clock import Clock
from ec_core.errors import JournalError, OrderDeniedError
from ec_core.execution.payload import Payload
from ec_core.journal import IntentRecorded, Journal, JournalRecord, RecordNotEncodable
from ec_core.model import OrderRequest

__all__ = ["Intent", "JournalWriter"]

log = logging.getLogger("ec_core.execution.executor")

Intent: TypeAlias = tuple[Payload, OrderRequest, bool]
"""(payload, request, direct): one order about to be journaled, then sent."""

NotEncodable: TypeAlias = Callable[[Payload, OrderRequest, RecordNotEncodable], OrderDeniedError]
IntentsFailed: TypeAlias = Callable[[list[Intent], JournalError], None]


class _CommitGroup:
    """Intents waiting for one shared commit, and how it went.

    ``done`` is made by the first caller that has to wait: a sequential caller (no
    one joins its commit) builds no event at all.
    """

    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done: anyio.Event | None = None
        self.error: JournalError | None = None


@final
class JournalWriter:
    """Appends and commits the executor's records; remembers why orders are halted.

    ``not_encodable`` denies an intent the journal cannot encode; ``intents_failed``
    fails intents whose commit failed (both settle payloads, so the executor owns them).
    """

    def __init__(
        self,
        journal: Journal | None,
        clock: Clock,
        *,
        flush_interval: float,
        not_encodable: NotEncodable,
        intents_failed: IntentsFailed,
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.flush_interval = flush_interval
        self._not_encodable = not_encodable
        self._intents_failed = intents_failed
        # why new orders are stopped (a journal failure), or None; only halt() and
        # clear_halt() write it, so nothing outside can lift a halt unchecked.
        self._halted: str | None = None
        self._commit_group: _CommitGroup | None = None
        self._buffered: anyio.Event | None = None  # set when a record is buffered

    @property
    def halted(self) -> str | None:
        """Why new orders are stopped (a journal failure), or ``None``.

        Read-only: only :meth:`clear_halt`, which checks the journal first, lifts a halt.
        """
        return self._halted

    def halt(self, reason: str) -> None:
        if self._halted is None:
            log.error("journal failed, new orders stopped: %s", reason)
        self._halted = reason

    def clear_halt(self) -> None:
        """Accept orders again once the journal commits; raises :class:`JournalError` if not."""
        if self.journal is not None:
            self.journal.check()
        self._halted = None

    def append(self, record: JournalRecord) -> None:
        """Append a record; a failure halts new orders but never the tracking.

        A record the journal cannot encode (a venue event with a value MessagePack
        cannot carry) halts too: the history recovery would replay is incomplete.
        """
        if self.journal is None:
            return
        try:
            self.journal.append(record)
        except (JournalError, RecordNotEncodable) as exc:
            self.halt(str(exc))
        buffered = self._buffered
        if buffered is not None:  # wake the periodic flush once; it makes a new event per round
            self._buffered = None
            buffered.set()

    def flush(self) -> None:
        """Commit buffered records now (a failure halts new orders)."""
        if self.journal is None:
            return
        try:
            self.journal.commit()
        except JournalError as exc:
            self.halt(str(exc))

    async def flush_periodically(self) -> None:
        """Commit buffered records at most ``flush_interval`` after the first one.

        Idle (nothing buffered) it waits on an event, not a timer.
        """
        while True:
            self._buffered = anyio.Event()
            if self.journal is None or not self.journal.pending:
                await self._buffered.wait()
            await anyio.sleep(self.flush_interval)
            self.flush()

    async def write_ahead(self, entries: list[Intent]) -> list[OrderDeniedError | None]:
        """Journal the intents of ``entries`` and return once a commit holds them
        (group commit).

        The first caller to need a commit yields once so that concurrent callers
        append their intents too, then commits them all in one transaction; the
        others wait for that commit. A sequential caller pays one loop turn; a
        basket (``Executor.execute_many``) brings all its intents at once.

        Returns, per entry, ``None`` (journaled) or the :class:`OrderDeniedError` of
        an intent the journal cannot encode (``RECORD_NOT_ENCODABLE``): that payload
        is DENIED and its exposure released; nothing of it was buffered, so the
        journal stays healthy and the other entries go on.
        """
        journal = self.journal
        assert journal is not None
        now = self.clock.now_ns()
        outcome: list[OrderDeniedError | None] = [None] * len(entries)
        written: list[Intent] = []
        try:
            for index, entry in enumerate(entries):
                payload, request, direct = entry
                try:
                    journal.append(  # may commit a full batch, and that commit may fail
                        IntentRecorded(
                            request=request, request_id=payload.request_id, direct=direct, ts_ns=now
                        )
                    )
                except RecordNotEncodable as exc:
                    outcome[index] = self._not_encodable(payload, request, exc)
                    continue
                written.append(entry)
        except JournalError as exc:
            # The failed commit's buffer holds every intent appended so far and the
            # current one: fail them all, and the ones not reached yet too.
            self._intents_failed(
                [e for e, o in zip(entries, outcome, strict=True) if o is None], exc
            )
            raise
        if not written:
            return outcome
        group = self._commit_group
        if group is None:
            group = self._commit_group = _CommitGroup()
            try:
                await anyio.lowlevel.checkpoint()
            finally:  # even if cancelled: the others wait for this commit
                self._commit_group = None
                try:
                    journal.commit()
                except JournalError as exc:
                    group.error = exc
                if group.done is not None:
                    group.done.set()
        else:
            # The committer is parked in its checkpoint: it sets the event after committing.
            if group.done is None:
                group.done = anyio.Event()
            await group.done.wait()
        if group.error is not None:
            self._intents_failed(written, group.error)
            raise group.error
        return outcome
