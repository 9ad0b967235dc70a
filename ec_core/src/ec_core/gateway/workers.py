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
    """Each listed worker's last heartbeat (monotonic seconds) and the gaps it reported."""

    __slots__ = ("heartbeats", "lost", "market_gaps")

    def __init__(self) -> None:
        self.heartbeats: dict[str, float] = {}
        self.market_gaps: dict[str, int] = {}
        self.lost: set[str] = set()  # silent past the timeout (their orders were handled)

    def beat(self, worker: str, market_gaps: int, now: float) -> None:
        self.heartbeats[worker] = now
        self.market_gaps[worker] = market_gaps
        self.lost.discard(worker)

    def newly_silent(self, now: float, timeout: float) -> list[str]:
        """Workers silent for more than ``timeout`` seconds, each reported once (until it
        beats again)."""
        silent = [
            worker
            for worker, seen in self.heartbeats.items()
            if worker not in self.lost and now - seen > timeout
        ]
        self.lost.update(silent)
        return silent

    def status(self) -> dict[str, int]:
        return {f"market_gaps:{w}": n for w, n in self.market_gaps.items()}
