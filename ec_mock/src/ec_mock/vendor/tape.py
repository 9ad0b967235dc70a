"""The venue's tape: every quote and trade it published, kept for history requests.

The venue records what its engine shows the market (simulated or replayed) in
publication order, per symbol, bounded by ``capacity`` events per symbol; the oldest
half is dropped when a symbol overflows. A cut falls between two instants, never inside
one: the events of one timestamp (a trade and the quote it moved) are kept or dropped
together (so one instant with more events than the capacity is kept whole, beyond it,
until a later instant arrives). :attr:`Tape.horizon_ns` of a symbol is the oldest
instant the tape still covers, every event of it included: a request that starts
earlier asks for more than the venue has (``HistoryTooFarBackError`` in the core,
"outside allowed range" on CQG).
Recording is one list append per event; a look-up is a binary search.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from typing import final

from ec_core.model import MarketEvent

__all__ = ["DEFAULT_TAPE_CAPACITY", "Tape"]

DEFAULT_TAPE_CAPACITY = 2_000_000


def _cut_between_instants(times: list[int], cut: int, least: int) -> int:
    """An index to cut ``times`` at that does not split the events of one instant: ``cut``
    moved back to the first event of its instant, or (if that drops fewer than ``least``)
    forward past the last event of the instant holding index ``least - 1``; never into the
    newest instant, which is always kept whole (0: every event is of one instant)."""
    back = bisect_left(times, times[cut], 0, cut) if cut < len(times) else cut
    if back >= least:
        return back
    forward = bisect_right(times, times[least - 1])
    if forward < len(times):
        return forward
    return bisect_left(times, times[-1])  # all but the newest instant


@final
class _Track:
    __slots__ = ("events", "horizon_ns", "times")

    def __init__(self, horizon_ns: int) -> None:
        self.times: list[int] = []
        self.events: list[MarketEvent] = []
        self.horizon_ns = horizon_ns


@final
class Tape:
    """Quotes and trades per symbol, from ``started_ns`` on (see the module docstring)."""

    def __init__(self, *, started_ns: int, capacity: int = DEFAULT_TAPE_CAPACITY) -> None:
        if capacity < 2:
            raise ValueError(f"tape capacity must be >= 2, got {capacity}")
        self.started_ns = started_ns
        self.capacity = capacity
        self._tracks: dict[str, _Track] = {}

    def _track(self, symbol: str) -> _Track:
        track = self._tracks.get(symbol)
        if track is None:
            track = self._tracks[symbol] = _Track(self.started_ns)
        return track

    def record(self, event: MarketEvent) -> None:
        track = self._tracks.get(event.symbol) or self._track(event.symbol)
        times = track.times
        ts = event.ts_ns
        if times and ts < times[-1]:
            ts = times[-1]  # a late stamp keeps the tape sorted: it is filed where it arrived
        times.append(ts)
        track.events.append(event)
        if len(times) > self.capacity:
            self._drop_oldest(track, len(times) // 2, least=1)

    def extend(self, events: Iterable[MarketEvent]) -> None:
        for event in events:
            self.record(event)

    def horizon_ns(self, symbol: str) -> int:
        """The oldest instant the tape covers for ``symbol``."""
        track = self._tracks.get(symbol)
        return self.started_ns if track is None else track.horizon_ns

    def events(self, symbol: str, start_ns: int, end_ns: int) -> list[MarketEvent]:
        """The events of ``symbol`` filed in ``[start_ns, end_ns)``, in order."""
        track = self._tracks.get(symbol)
        if track is None or end_ns <= start_ns:
            return []
        times = track.times
        return track.events[bisect_left(times, start_ns) : bisect_left(times, end_ns)]

    def backfill(
        self, symbol: str, events: Iterable[MarketEvent], *, since_ns: int | None = None
    ) -> None:
        """Put ``events`` (older than anything recorded, in order) before the tape's start;
        the horizon moves back to ``since_ns`` (the instant they cover from), else to the
        first of them."""
        older = list(events)
        track = self._track(symbol)
        if older:
            if track.times and older[-1].ts_ns > track.times[0]:
                raise ValueError(f"{symbol}: backfill overlaps the recorded tape")
            track.times[:0] = [e.ts_ns for e in older]
            track.events[:0] = older
        first = older[0].ts_ns if older else track.horizon_ns
        since = first if since_ns is None else min(since_ns, first)
        track.horizon_ns = min(track.horizon_ns, since)
        over = len(track.times) - self.capacity
        if over > 0:  # the capacity holds for a past too: its oldest events go first
            self._drop_oldest(track, over, least=over)

    @staticmethod
    def _drop_oldest(track: _Track, cut: int, *, least: int) -> None:
        """Drop about ``cut`` (at least ``least``) of the oldest events, whole instants only;
        the horizon is the first instant kept."""
        times = track.times
        cut = _cut_between_instants(times, cut, least)
        if not cut:
            return
        track.horizon_ns = times[cut]
        del times[:cut]
        del track.events[:cut]
