"""Where a :class:`~ec_core.strategy.engine.StrategyEngine` starts its order actions.

While a task group is open (a live run, a shutdown) an action starts there at
once, so a slow venue never blocks tick ingestion; otherwise it waits in
``backlog`` until the replay runs it inline, in the order the actions were
decided. ``in_flight`` counts actions started and not yet answered.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, final

import anyio
import anyio.abc

__all__ = ["Action", "OrderActions"]

Action = tuple[Callable[..., Coroutine[Any, Any, None]], tuple[Any, ...]]


@final
class OrderActions:
    """The engine's order actions: started in a task group, or queued for a replay."""

    def __init__(self) -> None:
        self.backlog: list[Action] = []  # read by the engine's hot path and the replay
        self.in_flight = 0
        self._tg: anyio.abc.TaskGroup | None = None
        self._idle: anyio.Event | None = None

    def start(self, fn: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        """Start ``fn(*args)`` in the open task group, else queue it; it calls :meth:`settled`."""
        if self.in_flight == 0 and self._tg is not None:
            self._idle = anyio.Event()
        self.in_flight += 1
        if self._tg is not None:
            self._tg.start_soon(fn, *args)
        else:
            self.backlog.append((fn, args))

    def stop_ingest(self) -> None:
        """Queue an entry that only makes the engine's ingest return after this event."""
        self.backlog.append((_marker, ()))

    def settled(self) -> None:
        """One action started by :meth:`start` was answered."""
        self.in_flight -= 1
        if self.in_flight == 0 and self._idle is not None:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Wait until every action started so far has been answered."""
        while self.in_flight:
            if self._idle is None or self._idle.is_set():
                self._idle = anyio.Event()
            await self._idle.wait()

    def open(self, tg: anyio.abc.TaskGroup) -> None:
        """Start the queued actions in ``tg``, and every later one there until :meth:`close`."""
        self._tg = tg
        backlog, self.backlog = self.backlog, []
        if backlog:
            self._idle = anyio.Event()
        for fn, args in backlog:
            tg.start_soon(fn, *args)

    def close(self) -> None:
        """The task group ended: queue actions again."""
        self._tg = None


async def _marker() -> None:
    """A backlog entry that only stops :meth:`StrategyEngine.ingest` after a hold."""
