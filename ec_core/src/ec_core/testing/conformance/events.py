"""Reading a vendor's event stream under a deadline, keeping what was seen for the message.

Kit tests never sleep: they wait for the event they expect, with an
:func:`anyio.fail_after` deadline, and fail with the events that did arrive, so a
vendor author sees at once what their backend sent instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar, final

import anyio

from ec_core.model import TradeEvent
from ec_core.testing.conformance.journal import TradeJournal

__all__ = ["EventReader", "TradeReader"]

E = TypeVar("E")

_KEEP = 20  # events shown when a wait fails


class EventReader(Generic[E]):
    """Wraps one subscription's iterator; :meth:`next_matching` waits with a deadline."""

    def __init__(self, events: AsyncIterator[E], *, timeout: float, name: str) -> None:
        self._events = events
        self.timeout = timeout
        self.name = name
        self.seen: list[E] = []
        self._recent: deque[E] = deque(maxlen=_KEEP)

    async def next(self, what: str = "an event") -> E:
        """The next event, whatever it is."""
        return await self.next_matching(lambda _: True, what)

    async def next_matching(self, predicate: Callable[[E], bool], what: str) -> E:
        """The next event for which ``predicate`` is true; the others are kept in :attr:`seen`.

        Fails (AssertionError) if the deadline passes or the stream ends first, naming
        ``what`` (a noun phrase: "the fill of X", "SnapshotComplete for Y") and listing the
        last events that did arrive.
        """
        try:
            with anyio.fail_after(self.timeout):
                while True:
                    try:
                        event = await anext(self._events)
                    except StopAsyncIteration:
                        raise AssertionError(
                            f"{self.name} ended while waiting for {what}; {self._tail()}"
                        ) from None
                    self._observe(event)
                    if predicate(event):
                        return event
        except TimeoutError:
            raise AssertionError(
                f"waited {self.timeout}s on {self.name} for {what}; it did not come. {self._tail()}"
            ) from None

    def _observe(self, event: E) -> None:
        self.seen.append(event)
        self._recent.append(event)

    def _tail(self) -> str:
        if not self._recent:
            return "Nothing arrived."
        lines = "\n  ".join(repr(e) for e in self._recent)
        return f"The last {len(self._recent)} event(s):\n  {lines}"


@final
class TradeReader(EventReader[TradeEvent]):
    """A trade subscription whose execution reports all go through a :class:`TradeJournal`."""

    def __init__(
        self,
        events: AsyncIterator[TradeEvent],
        *,
        timeout: float,
        name: str,
        journal: TradeJournal,
    ) -> None:
        super().__init__(events, timeout=timeout, name=name)
        self.journal = journal

    def _observe(self, event: TradeEvent) -> None:
        super()._observe(event)
        self.journal.observe(event)
