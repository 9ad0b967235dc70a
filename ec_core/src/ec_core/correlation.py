"""Vendor-neutral request/reply bookkeeping: pending requests with deadlines, dead letters.

A vendor adapter decides *which* incoming item answers *which* request (its own table);
what is left is the same for every vendor and lives here:

* :class:`PendingTable` — requests waiting for an answer, by key, each with an absolute
  deadline in ns (no clock is read here: the caller passes ``now_ns``). The first final
  answer wins: :meth:`PendingTable.finish` removes the request and remembers its key in a
  bounded memory, so a later answer to it is recognised as *late*, not as unknown.
* :class:`DeadLetterBox` — the last dead letters (items nobody waits for) in a bounded
  buffer, and a count per reason plus ``total`` that is never reset.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Hashable, Mapping
from types import MappingProxyType
from typing import Generic, TypeVar, final

__all__ = ["DeadLetterBox", "PendingTable"]

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")
L = TypeVar("L")


@final
class PendingTable(Generic[K, S]):
    """Pending requests by key, with deadlines; finished keys are remembered (bounded)."""

    __slots__ = ("_deadlines", "_finished", "_finished_set", "_states")

    def __init__(self, *, late_memory: int = 1024) -> None:
        if late_memory < 1:
            raise ValueError(f"late_memory must be >= 1, got {late_memory}")
        self._states: dict[K, S] = {}
        self._deadlines: dict[K, int] = {}
        self._finished: deque[K] = deque(maxlen=late_memory)
        self._finished_set: set[K] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._states

    def __len__(self) -> int:
        return len(self._states)

    def get(self, key: K) -> S | None:
        return self._states.get(key)

    def add(self, key: K, state: S, *, deadline_ns: int) -> None:
        """Start waiting for ``key``; a key already pending is a :class:`KeyError`."""
        if key in self._states:
            raise KeyError(key)
        self._states[key] = state
        self._deadlines[key] = deadline_ns
        self._finished_set.discard(key)  # a reused key is pending again, not late

    def finish(self, key: K) -> S | None:
        """Stop waiting for ``key`` (answered, cancelled, expired); later answers are late."""
        state = self._states.pop(key, None)
        self._deadlines.pop(key, None)
        if len(self._finished) == self._finished.maxlen:
            self._finished_set.discard(self._finished[0])
        self._finished.append(key)
        self._finished_set.add(key)
        return state

    def was_finished(self, key: K) -> bool:
        """Whether ``key`` was finished recently (within ``late_memory`` keys)."""
        return key in self._finished_set

    def expire(self, now_ns: int) -> list[S]:
        """Finish and return the requests whose deadline is at or before ``now_ns``,
        earliest deadline first (ties in registration order)."""
        keys = [k for k, deadline in self._deadlines.items() if deadline <= now_ns]
        keys.sort(key=self._deadlines.__getitem__)
        return [self._finish_pending(key) for key in keys]

    def finish_all(self) -> list[S]:
        """Finish and return every pending request, in registration order."""
        return [self._finish_pending(key) for key in list(self._states)]

    def next_deadline(self) -> int | None:
        """The earliest deadline of the pending requests, to sleep until."""
        return min(self._deadlines.values(), default=None)

    def states(self) -> tuple[S, ...]:
        """The pending requests, in registration order."""
        return tuple(self._states.values())

    def _finish_pending(self, key: K) -> S:
        state = self._states[key]
        self.finish(key)
        return state


@final
class DeadLetterBox(Generic[L]):
    """The most recent dead letters (bounded) and a never-reset count per reason."""

    __slots__ = ("_counts", "_letters")

    def __init__(self, *, capacity: int = 256) -> None:
        if capacity < 0:
            raise ValueError(f"dead letter capacity must be >= 0, got {capacity}")
        self._letters: deque[L] = deque(maxlen=capacity)
        self._counts: Counter[str] = Counter()

    def add(self, reason: str, letter: L) -> None:
        self._letters.append(letter)
        self._counts[reason] += 1
        self._counts["total"] += 1

    @property
    def letters(self) -> tuple[L, ...]:
        """The kept letters, oldest first."""
        return tuple(self._letters)

    @property
    def counts(self) -> Mapping[str, int]:
        """Letters per reason, and ``total``; a snapshot, never reset."""
        return MappingProxyType(dict(self._counts))
