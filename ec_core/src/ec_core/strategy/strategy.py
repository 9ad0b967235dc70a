"""``OpStrategy``: reads the feeds and produces signals, at a bounded rate.

Subclass it and implement :meth:`OpStrategy.generate`. The base class keeps the
rate in check before your code runs, so a quiet tick costs an integer
comparison: a per-instrument cool-down, a global cool-down (both in
nanoseconds) and a cap on signals that are alive (pending or active) at once.
The global cool-down and the cap
(and, for a strategy of one symbol that keeps the base :meth:`OpStrategy.maybe_generate`,
that symbol's cool-down) are folded into one
number, :attr:`OpStrategy.quiet_until_ns`, that the engine reads before it asks the
strategy. When that number is the whole of the check (:attr:`OpStrategy.gate_is_whole`)
the engine asks :meth:`OpStrategy.generate` itself and books what it returns with
:meth:`OpStrategy.count_produced`: :meth:`OpStrategy.maybe_generate`'s steps without
its call, once per tick of a strategy asked on every tick.

The cool-downs count from when the last signal was *created* (the default,
:attr:`CooldownFrom.CREATED`) or, with ``cooldown_from=CooldownFrom.ENDED``, from
when it *ended* (no new signal of the instrument while one is alive, then the
cool-down): "wait ten minutes after a trade is over" rather than "at most one
signal every ten minutes".
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Final, final

from ec_core.strategy.signal import OpSignal
from ec_core.strategy.usercode import UserCodeError

if TYPE_CHECKING:
    from ec_core.strategy.context import StrategyContext

__all__ = ["CooldownFrom", "OpStrategy", "QuietGate"]

_UNTIL_IT_ENDS: Final = 2**63 - 1  # a cool-down from the end: blocked while alive


class CooldownFrom(StrEnum):
    """Where a strategy's cool-downs count from."""

    CREATED = "CREATED"  # when the last signal was produced (the default)
    ENDED = "ENDED"  # when the last signal reached a final state


_NEVER = 1 << 63  # later than any timestamp: the cap is reached


@final
class QuietGate:
    """A strategy's :attr:`OpStrategy.quiet_until_ns`, held in an object of one class.

    The engine compares each tick's time with every strategy's gate. Read off the
    strategies themselves (user subclasses, a different class each) that read is a miss
    of CPython's per-site attribute cache whenever two strategies share a symbol; read
    off this one final class it stays a slot read.
    """

    __slots__ = ("until_ns",)

    def __init__(self) -> None:
        self.until_ns = 0


class OpStrategy:
    """Base class of user strategies."""

    def __init__(
        self,
        *,
        symbols: Sequence[str],
        name: str | None = None,
        cooldown_ns: int = 0,
        global_cooldown_ns: int = 0,
        max_signals: int = 1,
        cooldown_from: CooldownFrom = CooldownFrom.CREATED,
    ) -> None:
        if not symbols:
            raise ValueError("a strategy needs at least one symbol")
        if cooldown_ns < 0 or global_cooldown_ns < 0 or max_signals < 1:
            raise ValueError(
                f"cool-downs must be >= 0 and max_signals >= 1, got {cooldown_ns},"
                f" {global_cooldown_ns} and {max_signals}"
            )
        if not isinstance(cooldown_from, CooldownFrom):
            raise ValueError(
                f"cooldown_from must be CooldownFrom.CREATED or CooldownFrom.ENDED,"
                f" got {cooldown_from!r}"
            )
        self.cooldown_from = cooldown_from
        self.name = name or type(self).__name__
        self.symbols = tuple(symbols)
        self.cooldown_ns = cooldown_ns
        self.global_cooldown_ns = global_cooldown_ns
        self.max_signals = max_signals
        self.produced = 0
        self.next_global_ns = 0  # no signal before this time (the global cool-down)
        # no signal before this time: the global cool-down, or never while the cap is reached
        self.quiet_gate = QuietGate()
        self._live = 0
        self._next_by_symbol: dict[str, int] = dict.fromkeys(self.symbols, 0)
        # one symbol and the base maybe_generate: its cool-down is folded into quiet_until_ns
        # too (an override decides itself when it is asked: the gate stays cap + global)
        whole = type(self).maybe_generate is OpStrategy.maybe_generate
        self._only: str | None = (
            self.symbols[0] if whole and len(self._next_by_symbol) == 1 else None
        )

    @property
    def quiet_until_ns(self) -> int:
        """No signal before this time: the cap (never while it is reached), the global
        cool-down and, when :attr:`gate_is_whole`, the one symbol's cool-down
        (:attr:`quiet_gate` holds it: the engine reads it there)."""
        return self.quiet_gate.until_ns

    @property
    def live_signals(self) -> int:
        """Signals of this strategy alive (pending or active) now."""
        return self._live

    @live_signals.setter
    def live_signals(self, value: int) -> None:
        self._regate(value)

    def _regate(self, live: int) -> None:
        """Set the count of live signals to ``live`` and fold the cap, the global
        cool-down and (:attr:`gate_is_whole`) the one symbol's cool-down into
        :attr:`quiet_until_ns`: one call wherever the count or a cool-down moves."""
        self._live = live
        if live >= self.max_signals:
            self.quiet_gate.until_ns = _NEVER
            return
        gate = self.next_global_ns
        if self._only is not None:
            gate = max(gate, self._next_by_symbol[self._only])
        self.quiet_gate.until_ns = gate

    @property
    def gate_is_whole(self) -> bool:
        """Whether :attr:`quiet_until_ns` is all :meth:`maybe_generate` checks: the
        strategy trades one symbol and does not override :meth:`maybe_generate`. The
        engine then asks :meth:`generate` itself once the gate has passed and books a
        signal with :meth:`count_produced` (the same steps, one call fewer per tick)."""
        return self._only is not None

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        """Return a new signal for ``symbol``, or ``None``. Called on ticks of ``symbol``
        only while the cool-downs and the cap allow a new signal."""
        return None

    def on_signal_finished(self, signal: OpSignal) -> None:
        """Called once when one of this strategy's signals reaches a final state."""

    def maybe_generate(self, ctx: StrategyContext, symbol: str, now_ns: int) -> OpSignal | None:
        """Enforce the cap and the cool-downs, then ask :meth:`generate`: the engine's
        per-tick entry, unless :attr:`gate_is_whole` (then it takes these steps itself).
        A subclass may override it to decide when it is asked."""
        if now_ns < self.quiet_gate.until_ns or now_ns < self._next_by_symbol[symbol]:
            return None
        signal = self.generate(ctx, symbol)
        if signal is not None:
            self.count_produced(signal, symbol, now_ns)
        return signal

    def count_produced(self, signal: OpSignal, symbol: str, now_ns: int) -> None:
        """Book a signal :meth:`generate` returned: the cap and the cool-downs start now."""
        if not isinstance(signal, OpSignal):
            raise self._not_a_signal(signal)
        self.produced += 1
        if self.cooldown_from is CooldownFrom.ENDED:
            if self.global_cooldown_ns:
                self.next_global_ns = _UNTIL_IT_ENDS
            if self.cooldown_ns:
                self._next_by_symbol[symbol] = _UNTIL_IT_ENDS
        else:
            self.next_global_ns = now_ns + self.global_cooldown_ns
            self._next_by_symbol[symbol] = now_ns + self.cooldown_ns
        self._regate(self._live + 1)  # after the cool-down: folds both into the gate
        signal.created_ns = now_ns

    def _not_a_signal(self, made: object) -> UserCodeError:
        """What :meth:`generate` returned is no signal (it failed later, on an attribute
        of it, in the engine's code, naming neither generate nor what it must return)."""
        generate = type(self).generate
        code = getattr(generate, "__code__", None)
        shown = repr(made)
        return UserCodeError(
            f"{type(self).__name__}.generate returned {type(made).__name__}"
            f" ({shown if len(shown) <= 60 else shown[:57] + '...'}): it must return an"
            " OpSignal or None",
            at=(code.co_filename, code.co_firstlineno) if code is not None else None,
        )

    def count_finished(self, signal: OpSignal) -> None:
        """Book a signal that reached a final state (the engine calls it before
        :meth:`on_signal_finished`): one signal fewer is alive and, under
        ``CooldownFrom.ENDED``, the cool-downs start now."""
        if self.cooldown_from is CooldownFrom.ENDED:
            end = signal.finished_ns
            if self.global_cooldown_ns:
                self.next_global_ns = end + self.global_cooldown_ns
            if self.cooldown_ns and signal.symbol in self._next_by_symbol:
                self._next_by_symbol[signal.symbol] = end + self.cooldown_ns
        self._regate(self._live - 1)
