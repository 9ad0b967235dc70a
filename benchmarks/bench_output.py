"""What the benchmarks share: where their figures go, and a floor measured in their own run.

A figure in µs depends on the machine and on its load; the same figure over a floor
timed in the same process, just before or after it, compares across machines and runs.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

__all__ = ["call_floor_us", "count_call", "floor_and_calls", "write_report"]


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


def count_call(calls: Counter[str], frame: FrameType, event: str, arg: object) -> None:
    """A ``sys.setprofile`` hook (bind ``calls`` with ``functools.partial``): counts each
    Python call by module and function, each C call by its name (``C:`` first)."""
    if event == "call":
        calls[f"{frame.f_code.co_filename.rsplit('/src/', 1)[-1]}:{frame.f_code.co_name}"] += 1
    elif event == "c_call":
        calls["C:" + getattr(arg, "__qualname__", "?")] += 1


def floor_and_calls(over_floor: object, floor_us: float, python: float, c_calls: float) -> str:
    """How a figure reads against its floor, and the calls it makes (the benchmarks'
    common tail of their summary line)."""
    return (
        f" = {over_floor}x the floor ({floor_us:.4f} us: a bare call storing one dict key,"
        f" same run); {python:.1f} Python calls and {c_calls:.1f} C calls per action"
    )
