"""The workers as the gateway sees them: who still sends heartbeats, what market data
each lost, and how long their intents waited before the gateway took them up.

Only listed workers are kept here (the gateway ignores the heartbeats of others), so
these maps grow with the config, never with the names on the intents stream.

An intent carries ``sent_ns``, the worker's wall clock when it sent it; the gateway
takes the difference to its own wall clock when it starts the intent. That is the
intent's wait in Redis and in the gateway's queue (a busy or restarted gateway shows
here first). Between two machines it includes their clock difference (keep them on
NTP); a negative difference counts as no wait.
"""

from __future__ import annotations

from typing import final

__all__ = ["IntentWaits", "Liveness"]

_MS = 1_000_000  # ns per millisecond


@final
class IntentWaits:
    """How long intents waited (ns) between the worker's send and the gateway's start."""

    __slots__ = ("count", "last_ns", "max_ns", "total_ns")

    def __init__(self) -> None:
        self.count = 0
        self.last_ns = 0
        self.max_ns = 0
        self.total_ns = 0

    def add(self, sent_ns: int, now_ns: int) -> None:
        """One intent taken up at ``now_ns``; ``sent_ns`` 0 (not stamped) is not counted."""
        if sent_ns <= 0:
            return
        waited = max(now_ns - sent_ns, 0)
        self.count += 1
        self.last_ns = waited
        self.max_ns = max(self.max_ns, waited)
        self.total_ns += waited

    def status(self) -> dict[str, int | float]:
        """The fields of the status hash (milliseconds)."""
        mean = self.total_ns / self.count / _MS if self.count else 0.0
        return {
            "intent_waits": self.count,
            "intent_wait_ms_last": round(self.last_ns / _MS, 3),
            "intent_wait_ms_max": round(self.max_ns / _MS, 3),
            "intent_wait_ms_mean": round(mean, 3),
        }


@final
class Liveness:
    """Each listed worker's last sign of life (monotonic seconds) and the gaps it reported.

    A heartbeat is a sign of life, and so is an intent: a worker declared lost whose
    intent then arrives lives again (its new order is cancelled after the next silence,
    not left working for good). While an intent of a worker is in flight at the gateway
    (waiting on the venue), the worker is not silent: it lived when it sent it, and its
    answer is not out yet. ``now`` is the caller's: the gateway passes the moment up to
    which it has read the intents stream, so its own stall is not a worker's silence."""

    __slots__ = ("busy", "heartbeats", "lost", "market_gaps")

    def __init__(self) -> None:
        self.heartbeats: dict[str, float] = {}
        self.market_gaps: dict[str, int] = {}
        self.lost: set[str] = set()  # silent past the timeout (their orders were handled)
        self.busy: dict[str, int] = {}  # worker -> its intents in flight at the gateway

    def beat(self, worker: str, market_gaps: int, now: float) -> None:
        self.heartbeats[worker] = now
        self.market_gaps[worker] = market_gaps
        self.lost.discard(worker)

    def begin(self, worker: str, now: float) -> None:
        """An intent of ``worker`` was taken up: it lives, and is busy until :meth:`end`."""
        self.heartbeats[worker] = now
        self.lost.discard(worker)
        self.busy[worker] = self.busy.get(worker, 0) + 1

    def end(self, worker: str, now: float) -> None:
        """The intent was answered: the silence is counted from ``now``."""
        self.heartbeats[worker] = now
        left = self.busy.pop(worker, 0) - 1
        if left > 0:
            self.busy[worker] = left

    def newly_silent(self, now: float, timeout: float) -> list[str]:
        """Workers silent for more than ``timeout`` seconds with no intent in flight, each
        reported once (until it is heard again)."""
        silent = [
            worker
            for worker, seen in self.heartbeats.items()
            if worker not in self.lost and worker not in self.busy and now - seen > timeout
        ]
        self.lost.update(silent)
        return silent

    def status(self) -> dict[str, int]:
        return {f"market_gaps:{w}": n for w, n in self.market_gaps.items()}
