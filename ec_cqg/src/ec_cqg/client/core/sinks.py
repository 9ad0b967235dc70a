"""Where the protocol core delivers core events: anything with ``push`` and ``push_many``.

Core's :class:`~ec_core.streams.MarketChannel` is one; a test can use
:class:`ListSink`. The core never waits on a sink: it pushes and goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar, final

__all__ = ["EventSink", "ListSink"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class EventSink(Protocol[T_contra]):
    """A subscriber of core events (one per stream)."""

    def push(self, item: T_contra, /) -> None: ...

    def push_many(self, batch: Iterable[T_contra], /) -> None: ...


@final
class ListSink(Generic[T]):
    """Collects what the core delivers (tests, tools)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[T] = []

    def push(self, item: T, /) -> None:
        self.items.append(item)

    def push_many(self, batch: Iterable[T], /) -> None:
        self.items.extend(batch)
