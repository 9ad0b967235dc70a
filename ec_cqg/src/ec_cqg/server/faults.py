"""ec-mock fault plans applied to the server's outbound frames: one faulty line for all clients.

The sans-I/O :class:`~ec_mock.faults.FaultInjector` decides what happens to each outbound
message; this module applies it to encoded frames. The injector recognises
acknowledgements (for ``drop_acks``/``stall_acks``) and event kinds (for ``kinds``) by the
*core event* a message came from, so every frame travels with its event: the engine's
``ExecutionReport``/``Quote``/``Trade``/… or, for a frame of the server's own making (a
logon result, an IN_TRANSIT status, a report), an :class:`OwnFrame` tagged ``session``.

Bookkeeping follows the injector's public counters: a frame whose event was dropped is
forgotten, one held back (reorder) or stalled "until released" waits for the injector to
hand its event back, duplicates are delivered twice. Frames go to the connection they
were addressed to; a connection that closed meanwhile just loses them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, final

import msgspec

if TYPE_CHECKING:
    from ec_mock.faults import FaultInjector, FaultPlan

__all__ = ["FaultLine", "OwnFrame", "Target"]

Target = Callable[[bytes], None]


@final
class OwnFrame(msgspec.Struct, frozen=True, tag="session"):
    """Stands for a frame that no engine event caused (fault plans see kind ``session``)."""

    seq: int


@dataclass(slots=True)
class _Entry:
    target: Target
    frame: bytes
    scheduled: int = 0  # copies in the delivery queue
    limbo: int = 0  # copies the injector still holds (reorder, stall)


@final
class FaultLine:
    """Outbound frames through a fault plan (see the module docstring)."""

    def __init__(self, plan: FaultPlan, *, seed: int | None = None) -> None:
        from ec_mock.faults import FaultInjector

        self.plan = plan
        self.injector: FaultInjector = FaultInjector(plan, seed)
        self._heap: list[tuple[int, int, object]] = []
        self._entries: dict[int, _Entry] = {}
        self._objects: dict[int, object] = {}  # keeps the ids of live entries stable
        self._seq = 0

    def own_event(self) -> OwnFrame:
        self._seq += 1
        return OwnFrame(seq=self._seq)

    def put(self, event: object, target: Target, frame: bytes, now_ns: int) -> None:
        """Send ``frame`` (caused by ``event``) to ``target`` through the plan."""
        if id(event) in self._entries and isinstance(event, msgspec.Struct):
            event = msgspec.structs.replace(event)  # one event to several clients
        key = id(event)
        entry = _Entry(target=target, frame=frame)
        self._entries[key] = entry
        self._objects[key] = event
        injector = self.injector
        reordered, stalled = injector.reordered, injector.stalled
        pairs = injector.process(event, now_ns)
        if injector.reordered > reordered:
            entry.limbo += 1  # the injector holds the current event's first copy
        if injector.stalled > stalled and self.plan.stall_acks_ns is None:
            entry.limbo += 1
        self._schedule(pairs, current=event)
        if entry.scheduled == 0 and entry.limbo == 0:
            self._forget(key)  # dropped

    def _schedule(self, pairs: list[tuple[int, Any]], *, current: object | None) -> None:
        for at, event in pairs:
            entry = self._entries.get(id(event))
            if entry is None:
                continue
            if event is not current:
                entry.limbo -= 1  # an event held earlier comes back
            entry.scheduled += 1
            self._seq += 1
            heapq.heappush(self._heap, (at, self._seq, event))

    def take_due(self, now_ns: int) -> int:
        """Deliver every frame due at ``now_ns``; returns how many."""
        heap = self._heap
        due: list[object] = []
        while heap and heap[0][0] <= now_ns:
            due.append(heapq.heappop(heap)[2])
        return self._deliver(due)

    def release_stalled(self, now_ns: int) -> int:
        """Deliver the acknowledgements stalled "until released"; returns how many."""
        self._schedule(self.injector.release_stalled(now_ns), current=None)
        return self.take_due(now_ns)

    def flush(self, now_ns: int) -> int:
        """Deliver an event held for reordering when nothing followed it."""
        self._schedule(self.injector.flush(now_ns), current=None)
        return self.take_due(now_ns)

    def next_due_ns(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def _deliver(self, events: list[object]) -> int:
        count = 0
        for event in events:
            key = id(event)
            entry = self._entries.get(key)
            if entry is None:
                continue
            entry.scheduled -= 1
            if entry.scheduled <= 0 and entry.limbo <= 0:
                self._forget(key)
            entry.target(entry.frame)
            count += 1
        return count

    def _forget(self, key: int) -> None:
        self._entries.pop(key, None)
        self._objects.pop(key, None)

    def __len__(self) -> int:
        """Frames not yet delivered (scheduled or held by the plan)."""
        return len(self._entries)
