"""The deterministic replay loop of :meth:`StrategyEngine.replay
<ec_core.strategy.engine.StrategyEngine.replay>`.

It drives the engine's synchronous ``ingest`` over recorded events and, between
two ingest runs, awaits the order actions the engine queued (inline, one after
the other, in the order they were decided: no task per action, the same order on
every run). While a payload is held for its activation window it steps event by
event so the window opens on the first event at or past its start.

A venue shown the ticks (``venue_sees_ticks``) is fed them by the replay: each ingest
run is the venue's own stream (``ReplayFeed.stream``) over the events, which feeds a
tick, yields it to the strategies and ends the run where the venue spoke (its trade
events wait in the stream's backlog): one generator step per quiet tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Protocol

import anyio.lowlevel

from ec_core.model import MarketEvent
from ec_core.strategy.actions_queue import Action

__all__ = ["ReplaySync", "ReplayVenue", "drive_replay"]


class ReplayVenue(Protocol):
    """The venue a replay shows the ticks to (a :class:`~ec_core.vendor.ReplayFeed`)."""

    @property
    def activity(self) -> int:
        """How many trade events the venue has produced (``ReplayFeed.activity``)."""
        ...

    def stream(
        self, events: Iterable[MarketEvent], *, spoke: Callable[[MarketEvent], bool] | None = None
    ) -> Iterator[MarketEvent]:
        """``events`` fed one by one, ending early when ``spoke`` says so
        (``ReplayFeed.stream``)."""
        ...


class ReplaySync(Protocol):
    """What a replay on a venue needs to hear from it; see :meth:`StrategyEngine.replay
    <ec_core.strategy.engine.StrategyEngine.replay>`."""

    dirty: bool  # the venue produced events for our account since the flag was cleared

    @property
    def venue(self) -> ReplayVenue:
        """The venue: ``dirty`` can turn true only after its ``activity`` moved, so
        between two ticks that leave it alone the replay asks nothing. With
        ``venue_sees_ticks`` the replay feeds it the ticks through its ``stream``."""
        ...

    def backlog(self) -> int:
        """Events buffered for the trade-stream consumer, not yet taken."""
        ...


async def drive_replay(
    events: Iterable[MarketEvent],
    *,
    ingest: Callable[[Iterable[MarketEvent]], bool],
    release_due: Callable[[], bool],
    backlog: list[Action],
    held: Sized,
    sync: ReplaySync | None,
    venue_sees_ticks: bool,
) -> None:
    """Replay ``events`` through ``ingest``; see :meth:`StrategyEngine.replay
    <ec_core.strategy.engine.StrategyEngine.replay>`.

    ``backlog`` is the engine's queue of order actions, ``held`` its payloads held for
    their window (tested for emptiness per event), ``release_due`` sends those due.
    """
    # Kept as one function on purpose: it runs once per ingest run of a replay, and
    # its two loops (venue shown the ticks or not) share locals that a split would
    # turn into attribute loads on the per-event path.
    while backlog:
        fn, args = backlog.pop(0)
        await fn(*args)
    checkpoint = anyio.lowlevel.checkpoint
    if not venue_sees_ticks:
        rest = iter(events)
        if sync is not None and sync.dirty:
            sync.dirty = False
            await checkpoint()
            while sync.backlog():
                await checkpoint()
        while True:
            if held:  # watch the clock event by event until the window opens
                event = next(rest, None)
                if event is None:
                    return
                ingest((event,))
                release_due()
            elif not ingest(rest):
                return
            while backlog:
                fn, args = backlog.pop(0)
                await fn(*args)
            if sync is not None and sync.dirty:
                sync.dirty = False
                await checkpoint()
                while sync.backlog():
                    await checkpoint()
    source = iter(events)
    spoke: list[MarketEvent] = []  # the next event, kept back: the venue spoke first
    venue = sync.venue if sync is not None else None

    def kept(event: MarketEvent) -> bool:
        """The venue spoke after feeding ``event``: keep it back while the trade stream
        has a backlog (the venue asks only after its activity moved)."""
        assert sync is not None
        if sync.dirty:
            spoke.append(event)
            return True
        return False

    def run() -> Iterator[MarketEvent]:
        """One ingest run: the venue's stream feeds each event and ends where it spoke,
        so a quiet event costs one generator step (no venue: the events as they are)."""
        return source if venue is None else venue.stream(source, spoke=kept)

    while True:
        if spoke or held:  # one event: after the venue spoke, or while a window waits
            event = spoke.pop() if spoke else next(run(), None)
            if event is None:
                if not spoke:
                    return
                event = spoke.pop()  # the venue spoke on the one event it fed
            if sync is not None and sync.dirty:
                sync.dirty = False
                await checkpoint()
                while sync.backlog():
                    await checkpoint()
            queued = ingest((event,))
        else:
            queued = ingest(run())
            if not queued and not spoke:
                return
        if queued or held:
            if held:
                release_due()
            while backlog:
                fn, args = backlog.pop(0)
                await fn(*args)
