"""The deterministic replay loop of :meth:`StrategyEngine.replay
<ec_core.strategy.engine.StrategyEngine.replay>`.

It drives the engine's synchronous ``ingest`` over recorded events and, between
two ingest runs, awaits the order actions the engine queued (inline, one after
the other, in the order they were decided: no task per action, the same order on
every run). While a payload is held for its activation window it steps event by
event so the window opens on the first event at or past its start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from typing import Protocol

import anyio.lowlevel

from ec_core.model import MarketEvent
from ec_core.strategy.actions_queue import Action

__all__ = ["ReplaySync", "VenueActivity", "drive_replay"]


class VenueActivity(Protocol):
    """The venue's count of the trade events it produced (``ReplayFeed.activity``)."""

    @property
    def activity(self) -> int: ...


class ReplaySync(Protocol):
    """What a replay on a venue needs to hear from it; see :meth:`StrategyEngine.replay
    <ec_core.strategy.engine.StrategyEngine.replay>`."""

    dirty: bool  # the venue produced events for our account since the flag was cleared

    @property
    def venue(self) -> VenueActivity:
        """The venue: ``dirty`` can turn true only after its ``activity`` moved, so
        between two ticks that leave it alone the replay asks nothing."""
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
    heard = -1  # the venue's activity when ``sync`` last said it was clean

    def quiet_run() -> Iterator[MarketEvent]:
        """Events while the venue has nothing for the trade stream: one ingest run.
        ``sync`` is asked only after the venue's activity moved (one comparison per
        event otherwise)."""
        nonlocal heard
        if sync is None or venue is None:
            for event in source:  # not ``yield from``: closing this run would close ``source``
                yield event
            return
        for event in source:
            activity = venue.activity
            if activity != heard:
                if sync.dirty:
                    spoke.append(event)
                    return
                heard = activity
            yield event

    while True:
        if spoke or held:  # one event: after the venue spoke, or while a window waits
            event = spoke.pop() if spoke else next(source, None)
            if event is None:
                return
            if sync is not None and sync.dirty:
                sync.dirty = False
                await checkpoint()
                while sync.backlog():
                    await checkpoint()
            queued = ingest((event,))
        else:
            queued = ingest(quiet_run())
            if not queued and not spoke:
                return
        if queued or held:
            if held:
                release_due()
            while backlog:
                fn, args = backlog.pop(0)
                await fn(*args)
