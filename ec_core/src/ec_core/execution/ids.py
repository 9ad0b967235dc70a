"""Client order ids: unique per session and trading day, never reused.

An id is ``<session token>-<YYMMDD>-<n>``. The token comes from the clock at
session start, so a restarted process does not repeat the ids of the previous
one; ids found in the journal are reserved on recovery as well. A reused id,
generated or given, is refused before anything is sent.

Retention: an id is remembered for ``retain_ns`` after it was reserved (default two
days: a venue's trading day, CME's from 17:00 Chicago, spans a UTC midnight, so one
UTC day is not enough), so the set stays bounded by the order rate over that window,
not by the length of the run. The generated ids of the current day are never
forgotten while their counter runs (they are younger than the window). The
executor also refuses an id its tracker still knows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import final

from ec_core.clock import Clock
from ec_core.safety.clean_id import CLEAN_ID_RULE, is_clean_id

__all__ = ["CLEAN_ID_RULE", "ClientOrderIds", "is_clean_id"]

_DAY_NS = 86_400 * 1_000_000_000
DEFAULT_RETAIN_NS = 2 * _DAY_NS
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

    def __init__(
        self, clock: Clock, *, token: str | None = None, retain_ns: int | None = DEFAULT_RETAIN_NS
    ) -> None:
        if retain_ns is not None and retain_ns < _DAY_NS:
            raise ValueError("retain_ns must cover at least one day")
        self._clock = clock
        self.token = token if token is not None else _base36(clock.now_ns() // 1000, 6)
        self.retain_ns = retain_ns
        self._day = ""
        self._day_number = -1
        self._next = 0
        self._used: OrderedDict[str, int] = OrderedDict()  # id -> reserved at (ns), oldest first
        # when the first of _used was reserved: compared per id added, so that an id
        # kept within the window costs no look at the map's first entry
        self._first_ns = 0

    def next(self) -> str:
        """A fresh id, reserved."""
        now = self._clock.now_ns()
        day_number = now // _DAY_NS
        if day_number != self._day_number:
            self._day_number = day_number
            self._day = datetime.fromtimestamp(day_number * 86400, UTC).strftime("%y%m%d")
            self._next = 0
        day = self._day
        while True:
            self._next += 1
            candidate = f"{self.token}-{day}-{self._next}"
            if candidate not in self._used:
                self._add(candidate, now)
                return candidate

    def reserve(self, cl_order_id: str, *, now_ns: int | None = None) -> bool:
        """Reserve a given id (as of ``now_ns``, default the clock's now); ``False`` if it
        was used (within the window) before."""
        if cl_order_id in self._used:
            return False
        self._add(cl_order_id, now_ns)
        return True

    def is_used(self, cl_order_id: str) -> bool:
        return cl_order_id in self._used

    def reserve_all(self, cl_order_ids: Iterable[str]) -> None:
        """Reserve ids found elsewhere (the journal, on recovery), as of now."""
        for cl_order_id in cl_order_ids:
            if cl_order_id not in self._used:
                self._add(cl_order_id)

    def __len__(self) -> int:
        """How many ids are remembered now."""
        return len(self._used)

    def _add(self, cl_order_id: str, now: int | None = None) -> None:
        if now is None:
            now = self._clock.now_ns()
        used = self._used
        if not used:
            self._first_ns = now
        used[cl_order_id] = now
        if self.retain_ns is not None and self._first_ns < now - self.retain_ns:
            oldest_allowed = now - self.retain_ns
            while next(iter(used.values())) < oldest_allowed:
                used.popitem(last=False)
            self._first_ns = next(iter(used.values()))
