"""Exponential backoff with jitter for the reconnect supervisor.

The random source is injected (``random.Random(seed)``), so tests see the same
delays every run; jitter spreads many clients reconnecting after one outage.
"""

from __future__ import annotations

import random
from typing import final

__all__ = ["Backoff"]


@final
class Backoff:
    """Delay ``n`` is ``min(maximum, initial × factor**n)``, scaled into ``[1 - jitter, 1]``."""

    __slots__ = ("_attempt", "_rng", "factor", "initial", "jitter", "maximum")

    def __init__(
        self,
        *,
        initial: float = 0.25,
        maximum: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1 or not 0 <= jitter <= 1:
            raise ValueError("backoff needs 0 < initial <= maximum, factor >= 1, 0 <= jitter <= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng if rng is not None else random.Random()
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """How many delays were handed out since the last :meth:`reset`."""
        return self._attempt

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt += 1
        return base * (1 - self.jitter * self._rng.random())

    def reset(self) -> None:
        """After a successful reconnect: the next outage starts from ``initial`` again."""
        self._attempt = 0
