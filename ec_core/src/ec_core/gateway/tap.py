"""Hear every trade event the executor takes, in its order, without a second subscription.

:class:`TappedStream` wraps an account's trade stream on its way into
``Executor.consume``: each event is handed to a callback as the executor receives
it, from the stream or through an in-process venue's direct sink
(:class:`~ec_core.execution.DirectFeed`), which it keeps working. The gateway
publishes from here, so what a worker reads is what the executor applied, and an
intent's answer can wait until the events before it are published.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import final

from ec_core.execution.feed import DirectFeed, EventSink
from ec_core.model import TradeEvent

__all__ = ["EventTap", "TappedStream"]


@final
class EventTap:
    """A callback set later (the gateway, once it serves); events before that are not kept."""

    __slots__ = ("target",)

    def __init__(self) -> None:
        self.target: Callable[[TradeEvent], None] | None = None

    def __call__(self, event: TradeEvent) -> None:
        if self.target is not None:
            self.target(event)


@final
class TappedStream:
    """``events`` with ``tap`` called on each one the consumer takes."""

    __slots__ = ("_events", "_tap")

    def __init__(
        self, events: AsyncIterator[TradeEvent], tap: Callable[[TradeEvent], None]
    ) -> None:
        self._events = events
        self._tap = tap

    def __aiter__(self) -> TappedStream:
        return self

    async def __anext__(self) -> TradeEvent:
        event = await self._events.__anext__()
        self._tap(event)
        return event

    def __len__(self) -> int:
        return len(self._events) if hasattr(type(self._events), "__len__") else 0  # type: ignore[arg-type]

    def set_sink(self, sink: EventSink | None) -> None:
        if not isinstance(self._events, DirectFeed):
            return  # a plain stream: everything comes through __anext__
        if sink is None:
            self._events.set_sink(None)
            return
        tap = self._tap

        def tapped(event: TradeEvent) -> bool:
            taken = sink(event)
            if taken:
                tap(event)
            return taken

        self._events.set_sink(tapped)
