"""``OpSignal``: one trading idea in flight — an action tree, a window, a lifecycle.

::

    PENDING --window opens--> ACTIVE --tree done--> DONE
       |                        |--window closes--> EXPIRED   (working orders cancelled)
       +------------------------+--cancel / error--> CANCELLED (working orders cancelled)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import TYPE_CHECKING, Final, final

from ec_core.strategy.tree import ActionTree, TreeState

if TYPE_CHECKING:
    from ec_core.strategy.context import StrategyContext

__all__ = ["OpSignal", "SignalState", "numbered_signals"]

# Signal ids: ``sig1``, ``sig2`` ... from the counter of the run in progress
# (:func:`numbered_signals`), else from the process's. A replay numbers its own, so its
# report does not depend on what ran before it in the process (a sweep's worker runs several).
_process_ids = itertools.count(1)
_numbering: ContextVar[Iterator[int] | None] = ContextVar("ec_signal_numbering", default=None)


@contextmanager
def numbered_signals() -> Iterator[None]:
    """Signals made inside (without an explicit ``signal_id``) are numbered from ``sig1``."""
    token = _numbering.set(itertools.count(1))
    try:
        yield
    finally:
        _numbering.reset(token)


class SignalState(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    DONE = "DONE"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES


_PENDING: Final = SignalState.PENDING
_ACTIVE: Final = SignalState.ACTIVE
# what is_final says, as a set: a membership test where a signal finishes, not a call
_FINAL_STATES: Final = frozenset(SignalState) - {_PENDING, _ACTIVE}
_T_DONE: Final = TreeState.DONE


def _finished_tick(ctx: StrategyContext, now_ns: int | None = None) -> bool:
    """``on_tick`` of a finished signal: nothing to do (as :meth:`OpSignal.step` says)."""
    return False


@final
class OpSignal:
    """Owns one :class:`ActionTree`; runs it only inside ``[start_ns, end_ns)``.

    ``end_ns`` is a hard stop: at the end of the window the tree is cancelled and
    its working orders with it (use the tree's overtime node for a graceful exit
    before that).

    The engine steps a signal on the ticks of the symbols it ``watch``es (default:
    its own ``symbol``), so a quiet instrument costs its signals nothing. A signal
    whose conditions read other instruments, or that must notice time passing on
    their ticks (windows, overtime), lists them in ``watch``.
    """

    __slots__ = (
        "created_ns",
        "done",
        "end_ns",
        "error",
        "finished_ns",
        "name",
        "on_done",
        "on_tick",
        "reason",
        "signal_id",
        "start_ns",
        "state",
        "symbol",
        "tree",
        "watch",
    )

    def __init__(
        self,
        tree: ActionTree,
        *,
        symbol: str,
        name: str = "",
        start_ns: int | None = None,
        end_ns: int | None = None,
        signal_id: str | None = None,
        watch: Sequence[str] = (),
    ) -> None:
        if start_ns is not None and end_ns is not None and end_ns <= start_ns:
            raise ValueError(f"signal window is empty: start {start_ns} >= end {end_ns}")
        self.tree = tree
        self.symbol = symbol
        # each symbol once: the engine steps the signal once per tick of each
        self.watch: tuple[str, ...] = tuple(dict.fromkeys((symbol, *watch))) if watch else (symbol,)
        self.name = name or tree.root.name
        self.start_ns = start_ns
        self.end_ns = end_ns
        if not signal_id:
            signal_id = f"sig{next(_numbering.get() or _process_ids)}"
        self.signal_id = signal_id
        self.state = SignalState.PENDING
        self.done = False  # mirrors state.is_final; a plain bool for the per-tick loop
        self.error: BaseException | None = None
        self.reason = ""
        self.created_ns = 0
        self.finished_ns = 0
        # what the engine calls per tick: the lifecycle step, or the tree's own update
        # while the signal is active with no window end to watch (one call per tick);
        # both take the context and the tick's time
        self.on_tick: Callable[[StrategyContext, int], bool] = self.step
        tree.on_final = self.sync_with_tree
        # told the signal once, as it finishes (the engine's list of signals to reap)
        self.on_done: Callable[[OpSignal], object] | None = None

    @property
    def finished(self) -> bool:
        return self.done

    def step(self, ctx: StrategyContext, now_ns: int | None = None) -> bool:
        """Advance the lifecycle and the tree by one tick; True if commands are waiting.

        ``now_ns`` defaults to the context's clock. The tree tells the signal when it
        finishes (:attr:`ActionTree.on_final`). Exceptions from user conditions
        propagate: the engine isolates them.
        """
        if now_ns is None:
            now_ns = ctx.now_ns
        if self.state is not _ACTIVE:
            if self.state is not _PENDING:
                return False
            if self.start_ns is not None and now_ns < self.start_ns:
                return False
            self.state = _ACTIVE
            if self.end_ns is None:
                self.on_tick = self.tree.update
        end = self.end_ns
        if end is not None and now_ns >= end:
            self._finish(SignalState.EXPIRED, now_ns, "activation window closed")
            self.tree.cancel(now_ns, "signal expired")
            return True
        return self.tree.update(ctx, now_ns)

    def cancel(self, now_ns: int, reason: str, error: BaseException | None = None) -> None:
        """Cancel the signal and every working order of its tree."""
        if self.state.is_final:
            return
        if error is not None:
            self.error = error
            self.tree.fail(now_ns, error)
        else:
            self.tree.cancel(now_ns, reason)
        self._finish(SignalState.CANCELLED, now_ns, reason)

    def sync_with_tree(self, now_ns: int) -> None:
        """Finish the signal if the tree finished (the tree's :attr:`~ActionTree.on_final`)."""
        if self.state is not _ACTIVE:
            return
        tree_state = self.tree.state
        if tree_state is _T_DONE:
            self._finish(SignalState.DONE, now_ns, "tree done")
        elif tree_state is TreeState.FAILED or tree_state is TreeState.CANCELLED:
            self.error = self.tree.error
            self._finish(SignalState.CANCELLED, now_ns, f"tree {tree_state.value.lower()}")

    def _finish(self, state: SignalState, now_ns: int, reason: str) -> None:
        # A finished signal keeps no reference to itself (no bound method here or in its
        # tree's on_final): one dropped from the engine's history is freed by reference
        # counting, and the GC's full collections walk fewer objects per finished signal.
        self.on_tick = _finished_tick
        self.tree.on_final = None
        self.state = state
        self.done = state in _FINAL_STATES
        self.reason = reason
        self.finished_ns = now_ns
        listener = self.on_done
        if listener is not None:
            self.on_done = None
            listener(self)

    def order_ids(self, node: str | None = None) -> list[str]:
        """Client ids of the orders this signal placed (of one node if given)."""
        return self.tree.order_ids(node)

    def __repr__(self) -> str:
        return (
            f"OpSignal({self.signal_id!r}, {self.name!r}, {self.symbol!r}, {self.state.value},"
            f" node={self.tree.active.name!r})"
        )
