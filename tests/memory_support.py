"""How many bytes a piece of work leaves allocated (tracemalloc), for tests that hold what
a long run keeps per order or per signal to a bound."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Awaitable, Callable


def _start() -> int:
    gc.collect()
    tracemalloc.start()
    return tracemalloc.get_traced_memory()[0]


def _end(start: int) -> int:
    gc.collect()
    end, _ = tracemalloc.get_traced_memory()
    return end - start


def retained_bytes(work: Callable[[], object]) -> int:
    """Bytes still allocated after ``work()`` (a full collection before and after)."""
    start = _start()
    try:
        work()
        return _end(start)
    finally:
        tracemalloc.stop()


async def retained_bytes_async(work: Callable[[], Awaitable[object]]) -> int:
    """:func:`retained_bytes` of a coroutine function."""
    start = _start()
    try:
        await work()
        return _end(start)
    finally:
        tracemalloc.stop()
