"""Payloads held for their activation window on event time (a replay's clock).

Live, the executor holds a payload until ``start_time`` by sleeping on the clock.
In a replay the clock is the data's and only the replay moves it: a sleep would
wait on itself. So on event time the engine keeps such payloads here and sends
them on the first event at or past their start; one whose tree withdrew it
meanwhile (a sibling branch taken, overtime, the signal ended) is never sent, and
what the data never reaches is expired and listed in the replay's report.
"""

from __future__ import annotations

import heapq
import itertools
from typing import final

import msgspec

from ec_core.execution.payload import PayloadStatus
from ec_core.safety.activation import datetime_ns
from ec_core.strategy.signal import OpSignal
from ec_core.strategy.tree import SendPayload

__all__ = ["HeldPayload", "WindowHolds", "hold_until"]


class HeldPayload(msgspec.Struct, frozen=True, kw_only=True):
    """A payload the engine held for its activation window on replayed time.

    ``status``: ``PENDING`` while the replay may still reach ``start_ns``, ``EXPIRED``
    once the data ended before it (the payload was never sent).
    """

    start_ns: int
    signal_id: str
    node: str
    cl_order_id: str
    status: str
    reason: str


def hold_until(command: SendPayload, now_ns: int) -> int | None:
    """The ``start_time`` (ns) to hold ``command`` until, or ``None`` to send it now
    (no window, already open, or a window the executor must deny: naive or empty)."""
    payload = command.payload
    start, end = payload.start_time, payload.end_time
    if start is None:
        return None
    try:
        start_ns = datetime_ns(start)
        if end is not None and datetime_ns(end) <= start_ns:
            return None
    except (TypeError, ValueError):
        return None
    return start_ns if start_ns > now_ns else None


@final
class WindowHolds:
    """The held payloads, earliest window first (``heap`` is empty when none is held)."""

    __slots__ = ("_order", "heap")

    def __init__(self) -> None:
        self.heap: list[tuple[int, int, OpSignal, SendPayload]] = []
        self._order = itertools.count()  # ties: the order they were held in

    def hold(self, start_ns: int, signal: OpSignal, command: SendPayload) -> None:
        heapq.heappush(self.heap, (start_ns, next(self._order), signal, command))

    def due(self, now_ns: int) -> list[tuple[OpSignal, SendPayload]]:
        """Take out every payload whose window has opened and that is still wanted;
        the withdrawn ones are EXPIRED (never sent)."""
        heap = self.heap
        ready = []
        while heap and heap[0][0] <= now_ns:
            _, _, signal, command = heapq.heappop(heap)
            if signal.done or not signal.tree.still_wanted(command):
                command.payload.advance(PayloadStatus.EXPIRED, "withdrawn while held")
                continue
            ready.append((signal, command))
        return ready

    def listing(self) -> list[HeldPayload]:
        """The payloads still held by live signals, earliest first."""
        return [
            HeldPayload(
                start_ns=start_ns,
                signal_id=signal.signal_id,
                node=command.node,
                cl_order_id=command.payload.request.cl_order_id,
                status=command.payload.status.value,
                reason=command.payload.status_reason or "waiting for start_time",
            )
            for start_ns, _, signal, command in sorted(self.heap, key=lambda h: h[:2])
            if not signal.done
        ]

    def expire(self, reason: str) -> list[HeldPayload]:
        """The data ended: every payload still held is EXPIRED (never sent), listed
        with ``reason`` and its own ``start_time``."""
        for start_ns, _, signal, command in self.heap:
            if not signal.done and not command.payload.status.is_final:
                start = command.payload.start_time
                when = start.isoformat() if start is not None else str(start_ns)
                command.payload.advance(PayloadStatus.EXPIRED, f"{reason}; start_time {when}")
        expired = self.listing()
        self.heap.clear()
        return expired
