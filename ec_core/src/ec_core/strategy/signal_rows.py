"""What a replay's report keeps of each signal: its path row and its branch counts.

A long replay finishes a signal per order action or so; the whole signal (its tree,
nodes, payload templates, the strategy's closures) is ~3 KB, its row a fraction of
that. :class:`SignalLog` hears each signal as the engine finishes it
(``StrategyEngine(on_finished=...)``) and keeps the row of the last ``keep`` and the
counts the unreachable-branch warnings need of every one, so the engine need not keep
finished signals for the report.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

import msgspec

from ec_core.model import Instrument
from ec_core.strategy.analytics import ZoneTable, exchange_zone, zoned_time
from ec_core.strategy.signal import OpSignal, SignalState
from ec_core.strategy.tree import TransitionRecord

__all__ = [
    "DEFAULT_SIGNAL_PATHS",
    "BranchTally",
    "SignalLog",
    "SignalPath",
    "TimedTransition",
    "shadowed_branches",
    "signal_path",
]

DEFAULT_SIGNAL_PATHS = 10_000  # the engine's own history of finished signals
# a state's text without the enum's value property (a Python call per row)
_STATE_TEXT: dict[SignalState, str] = {state: state.value for state in SignalState}


class TimedTransition(TransitionRecord, frozen=True, kw_only=True):
    """A tree move as the report writes it: ``time`` is ``ts_ns`` in exchange time."""

    time: str


class SignalPath(msgspec.Struct, frozen=True, kw_only=True):
    signal_id: str
    name: str
    symbol: str
    state: str
    reason: str
    path: tuple[str, ...]  # the nodes the signal's tree went through, in order
    transitions: tuple[TimedTransition, ...]


def _path(history: Sequence[TransitionRecord]) -> tuple[str, ...]:
    path: list[str] = []
    for record in history:
        if not path:
            path.append(record.source)
        if record.kind in ("branch", "overtime") and record.target != path[-1]:
            path.append(record.target)
    return tuple(path)


class _Finished(msgspec.Struct, frozen=True, gc=False):
    """What a row is made of, taken as a signal finishes: the row itself (its time
    strings, its timed transitions) is built only for the rows a report lists.

    A struct built in C (a NamedTuple's ``__new__`` is a Python call), holding only
    strings, a state and transition records: nothing that could point back at it, so
    the cyclic GC need not track the last 10,000 a long replay keeps."""

    signal_id: str
    name: str
    symbol: str
    state: SignalState
    reason: str
    history: tuple[TransitionRecord, ...]
    active: str  # the tree's active node: the path of a signal that never moved


def _finished(signal: OpSignal) -> _Finished:
    return _Finished(
        signal.signal_id,
        signal.name,
        signal.symbol,
        signal.state,
        signal.reason,
        tuple(signal.tree.history),
        signal.tree.active.name,
    )


def _row(seen: _Finished, zone: ZoneInfo | None) -> SignalPath:
    history = seen.history
    times: dict[int, str] = {}  # a signal's moves often share a tick: one string per time
    for t in history:
        if t.ts_ns not in times:
            times[t.ts_ns] = zoned_time(t.ts_ns, zone)
    return SignalPath(
        signal_id=seen.signal_id,
        name=seen.name,
        symbol=seen.symbol,
        state=_STATE_TEXT[seen.state],
        reason=seen.reason,
        path=_path(history) or (seen.active,),
        transitions=tuple(
            [
                TimedTransition(
                    ts_ns=t.ts_ns,
                    kind=t.kind,
                    source=t.source,
                    target=t.target,
                    reason=t.reason,
                    time=times[t.ts_ns],
                )
                for t in history
            ]  # a list built in one frame: a generator is resumed once per transition
        ),
    )


def signal_path(signal: OpSignal, instrument: Instrument | None = None) -> SignalPath:
    return _row(_finished(signal), exchange_zone(instrument))


class BranchTally:
    """Per (signal name, node, branch): how often it was taken, and how often its condition
    held after an earlier branch had been taken (and which)."""

    __slots__ = ("shadowed", "taken")

    def __init__(self) -> None:
        self.taken: dict[tuple[str, str, str], int] = {}
        self.shadowed: dict[tuple[str, str, str], tuple[int, str]] = {}

    def add(self, signal: OpSignal) -> None:
        taken, shadowed = self.taken, self.shadowed
        for (node, branch), count in signal.tree.branch_stats.items():
            key = (signal.name, node, branch)
            taken[key] = taken.get(key, 0) + count.taken
            if count.shadowed:
                before = shadowed.get(key, (0, ""))[0]
                shadowed[key] = (before + count.shadowed, count.shadowed_by)

    def copy(self) -> BranchTally:
        other = BranchTally()
        other.taken = dict(self.taken)
        other.shadowed = dict(self.shadowed)
        return other

    def warnings(self) -> list[str]:
        """A warning per branch never taken while an earlier branch, listed first, was
        taken each time its own condition held: as listed, the branch is unreachable."""
        return [
            f"signal {name}: branch {branch!r} of node {node!r} was never taken: its condition"
            f" held {times} time(s), each time after an earlier branch listed first"
            f" ({by!r}) was taken. Branches are tried in order: list the narrower condition"
            " first."
            for (name, node, branch), (times, by) in self.shadowed.items()
            if not self.taken.get((name, node, branch))
        ]


def shadowed_branches(signals: Iterable[OpSignal], tally: BranchTally | None = None) -> list[str]:
    """:meth:`BranchTally.warnings` over ``signals`` (after what ``tally`` counted)."""
    merged = BranchTally() if tally is None else tally.copy()
    for signal in signals:
        merged.add(signal)
    return merged.warnings()


class SignalLog:
    """The report's rows of finished signals: the path of the last ``keep``, the branch
    counts and the number of every one. ``instruments`` gives each symbol's exchange time
    zone (a mapping the replay fills once it has resolved the symbols).

    :meth:`add` keeps what a row is made of; the row is built when :attr:`paths` is
    read, so a signal whose row is pushed out past ``keep`` never pays for one.
    """

    __slots__ = ("_built", "_kept", "_rows", "branches", "count", "instruments")

    def __init__(
        self, instruments: Mapping[str, Instrument], *, keep: int = DEFAULT_SIGNAL_PATHS
    ) -> None:
        self.instruments = instruments
        self._kept: deque[_Finished] = deque(maxlen=keep)
        self._rows: tuple[SignalPath, ...] = ()
        self._built = 0  # ``count`` when ``_rows`` were built
        self.branches = BranchTally()
        self.count = 0

    def add(self, signal: OpSignal) -> None:
        """Keep what the report needs of a signal that just finished."""
        self.count += 1
        self._kept.append(_finished(signal))
        if signal.tree.branch_stats:  # a one-node tree takes no branch: nothing to count
            self.branches.add(signal)

    @property
    def paths(self) -> tuple[SignalPath, ...]:
        """The rows of the last ``keep`` finished signals, oldest first."""
        if self._built != self.count:
            zones = ZoneTable(self.instruments)
            self._rows = tuple([_row(k, zones[k.symbol]) for k in self._kept])
            self._built = self.count
        return self._rows

    def dropped(self) -> int:
        """Finished signals whose path row is no longer kept."""
        return self.count - len(self._kept)
