"""A task group's lone failure raised as itself, not wrapped in an exception group.

Callers catch ``ConnectionLostError`` or ``OrderRejectedError``, not a group holding one:
each place that runs a task group behind a plain API unwraps the same way, here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["lone_error"]


@contextmanager
def lone_error() -> Iterator[None]:
    """Re-raise an exception group of one exception as that exception; a group of several
    stays a group (nothing is dropped)."""
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
