"""Clocks. Everything that needs the time takes a :class:`Clock`, so tests and replays
can run on simulated time instead of the wall clock."""

from __future__ import annotations

import time
from typing import Protocol, final, runtime_checkable

from ec_core.calendar import ns_datetime

__all__ = ["Clock", "ManualClock", "WallClock", "utc_iso"]


def utc_iso(ts_ns: int) -> str:
    """``ts_ns`` as ISO 8601 with its zone (UTC), to the millisecond (truncated, never
    rounded up into the next one): how messages show a time."""
    return ns_datetime(ts_ns).isoformat(timespec="milliseconds")


@runtime_checkable
class Clock(Protocol):
    def now_ns(self) -> int:
        """Nanoseconds since the Unix epoch, UTC."""
        ...


@final
class WallClock:
    def now_ns(self) -> int:
        return time.time_ns()


@final
class ManualClock:
    """A clock that moves only when told to: for tests and deterministic replays.

    :attr:`ts_ns` is its time as a plain attribute, as :class:`MarketClock
    <ec_core.strategy.context.MarketClock>`'s ``ts`` is: a replay feeding records in
    time order compares each record with it and stores a later one, without a call per
    record. Stored directly, a time must never be earlier than the clock's (the
    methods refuse that, or leave the clock where it is).
    """

    __slots__ = ("ts_ns",)

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self.ts_ns = start_ns

    def now_ns(self) -> int:
        return self.ts_ns

    def set(self, ns: int) -> None:
        if ns < self.ts_ns:
            raise ValueError(f"clock cannot go back: {ns} < {self.ts_ns}")
        self.ts_ns = ns

    def forward_to(self, ns: int) -> None:
        """Move to ``ns`` if it is later; an earlier time leaves the clock where it is
        (where ``set`` would need ``now_ns`` first)."""
        if ns > self.ts_ns:
            self.ts_ns = ns

    def advance(self, ns: int) -> None:
        if ns < 0:
            raise ValueError("cannot advance by a negative amount")
        self.ts_ns += ns
