"""Synchronous delivery of trade events to the executor, for in-process venues.

A trade stream is an async iterator: each event costs the consumer a turn of the
event loop, and the order path waits for that turn before it sees its answer. A
venue that lives in the same loop (the ``mock`` vendor) can do better: hand each
event to a *sink* the moment it is produced, in order, and queue it on the stream
only when the sink declines. :class:`DirectFeed` is that optional extension of a
stream; :meth:`Executor.run <ec_core.execution.Executor.run>` installs its sink on
any stream that has one.

The contract a :class:`DirectFeed` keeps, so that the consumer sees every event
exactly once and in the order produced:

* the sink is called only while nothing is queued on the stream ahead of the
  event (queued and not yet returned by ``__anext__``);
* ``sink(event)`` returning ``True`` means the event is handled: it is not queued;
  ``False`` means queue it (the consumer gets it from the stream, and every later
  event queues behind it until the stream is drained);
* an exception from the sink ends the stream: the consumer's next ``__anext__``
  raises it, rather than the event vanishing inside the venue's callback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeAlias, runtime_checkable

from ec_core.model import TradeEvent

__all__ = ["DirectFeed", "EventSink"]

EventSink: TypeAlias = Callable[[TradeEvent], bool]
"""Takes one event synchronously; ``False`` asks the stream to queue it instead."""


@runtime_checkable
class DirectFeed(Protocol):
    """A trade stream that can deliver synchronously to a sink (see the module docstring)."""

    def set_sink(self, sink: EventSink | None) -> None:
        """Deliver to ``sink`` from now on (``None``: queue everything again)."""
        ...
