"""Client order ids: unique per session and trading day, never reused.

An id is ``<session token>-<YYMMDD>-<n>``. The token comes from the clock at
session start, so a restarted process does not repeat the ids of the previous
one; ids found in the journal are reserved on recovery as well. A reused id,
generated or given, is refused before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import final

from ec_core.clock import Clock

__all__ = ["ClientOrderIds"]

_DAY_NS = 86_400 * 1_000_000_000
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        value, digit = divmod(value, 36)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


@final
class ClientOrderIds:
    """Generates and reserves client order ids for one session."""

    def __init__(self, clock: Clock, *, token: str | None = None) -> None:
        self._clock = clock
        self.token = token if token is not None else _base36(clock.now_ns() // 1000, 6)
        self._day = ""
        self._day_number = -1
        self._next = 0
        self._used: set[str] = set()

    def next(self) -> str:
        """A fresh id, reserved."""
        day_number = self._clock.now_ns() // _DAY_NS
        if day_number != self._day_number:
            self._day_number = day_number
            self._day = datetime.fromtimestamp(day_number * 86400, UTC).strftime("%y%m%d")
            self._next = 0
        day = self._day
        while True:
            self._next += 1
            candidate = f"{self.token}-{day}-{self._next}"
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate

    def reserve(self, cl_order_id: str) -> bool:
        """Reserve a given id; ``False`` if it was used before."""
        if cl_order_id in self._used:
            return False
        self._used.add(cl_order_id)
        return True

    def is_used(self, cl_order_id: str) -> bool:
        return cl_order_id in self._used

    def reserve_all(self, cl_order_ids: Iterable[str]) -> None:
        self._used.update(cl_order_ids)
