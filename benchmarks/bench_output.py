"""What the benchmarks share: where their figures go, and a floor measured in their own run.

A figure in µs depends on the machine and on its load; the same figure over a floor
timed in the same process, just before or after it, compares across machines and runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["call_floor_us", "write_report"]


def write_report(out: str | Path, report: Mapping[str, object]) -> None:
    """Write ``report`` as indented JSON to ``out`` (folders made) and say where."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


def _step(book: dict[int, int], key: int) -> None:
    book[key] = key


def call_floor_us(n: int = 200_000, repeat: int = 5) -> float:
    """CPU µs of one bare Python call that inserts one key in a dict (best of ``repeat``).

    The unit an order action is made of (a call, a look-up, a store): a path's µs over
    this floor is about how many such steps it takes, whatever the machine's speed.
    """
    best = float("inf")
    for _ in range(repeat):
        book: dict[int, int] = {}
        step = _step
        started = time.process_time()
        for key in range(n):
            step(book, key)
        best = min(best, time.process_time() - started)
    return best / n * 1e6
