"""Synchronous delivery of trade events to the executor, for in-process venues.

A trade stream is an async iterator: each event costs the consumer a turn of the
event loop, and the order path waits for that turn before it sees its answer. A
venue that lives in the same loop (the ``mock`` vendor) can do better: hand each
event to a *sink* the moment it is produced, in order, and queue it on the stream
only when the sink declines. :class:`DirectFeed` is that optional extension of a
stream. :class:`DirectDelivery` is the adapter on the executor's side of it:
:meth:`Executor.run <ec_core.execution.Executor.run>` puts one between itself and
any stream that is a :class:`DirectFeed`; every other stream is simply iterated.
The executor itself takes events one way only (its intake's ``take``).

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

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Protocol, TypeAlias, final, runtime_checkable

from ec_core.model import ExecutionReport, OrderState, SnapshotComplete, TradeEvent

__all__ = ["DirectDelivery", "DirectFeed", "EventSink", "SendFence"]

EventSink: TypeAlias = Callable[[TradeEvent], bool]
"""Takes one event synchronously; ``False`` asks the stream to queue it instead."""


@runtime_checkable
class DirectFeed(Protocol):
    """A trade stream that can deliver synchronously to a sink (see the module docstring)."""

    def set_sink(self, sink: EventSink | None) -> None:
        """Deliver to ``sink`` from now on (``None``: queue everything again)."""
        ...

    def __aiter__(self) -> AsyncIterator[TradeEvent]: ...


class SendFence(Protocol):
    """Where the executor marks a send: what a venue answers *during* it waits behind it.

    ``hold()`` before the gateway's ``send``; ``release()`` once the request is
    recorded as sent (or as not sent), so a report never reaches the tracker ahead
    of the order it answers. A stream with no direct delivery needs no fence.
    """

    def hold(self) -> None: ...

    def release(self) -> None: ...


@final
class _NoFence:
    """The fence of a stream that is only iterated: nothing arrives during a send."""

    __slots__ = ()

    def hold(self) -> None:
        pass

    def release(self) -> None:
        pass


NO_FENCE: SendFence = _NoFence()


@final
class DirectDelivery:
    """Hands :class:`DirectFeed` events to ``take`` from the venue's callback.

    One per executor, shared by every direct stream it consumes (one per account):
    an event produced while a send is held is kept until the fence is released, in
    the order produced across streams. An event produced while the consumer of its
    stream handles one from that stream (``busy``), and a
    :class:`~ec_core.model.SnapshotComplete` (its resync awaits) or an UNKNOWN report
    (its status query awaits), is declined, so it
    queues and comes through its stream in order.
    """

    __slots__ = ("_deferred", "_held", "_take")

    def __init__(self, take: Callable[[TradeEvent], None]) -> None:
        self._take = take
        self._held = 0  # sends in progress
        # each event with the take of its own stream (see ``marked``)
        self._deferred: list[tuple[Callable[[TradeEvent], None], TradeEvent]] = []

    def hold(self) -> None:
        self._held += 1

    def release(self) -> None:
        """Apply what the venue delivered during the send, once no send is held."""
        self._held -= 1
        deferred = self._deferred
        if self._held or not deferred:
            return
        events = deferred[:]  # what a take causes the venue to say is kept for later
        del deferred[:]  # (a slice and a del: no method calls)
        for take, event in events:
            take(event)

    async def marked(
        self, feed: DirectFeed, take: Callable[[TradeEvent], None] | None = None
    ) -> AsyncGenerator[TradeEvent, None]:
        """``feed``'s queued events, with a sink installed that declines while the
        consumer handles one of them; the sink is removed when this ends.

        ``take``: where the sink hands this feed's events (default: the one given at
        construction); the consumer should apply the queued ones with the same, so
        that what it keeps per stream (the accounts a gap concerns) is one."""
        busy = False
        stream_take = self._take if take is None else take

        deferred = self._deferred  # never rebound: ``release`` empties it in place

        def sink(event: TradeEvent) -> bool:
            if busy:
                return False  # keep the order: it queues behind the one in hand
            if self._held:  # a send is in progress: applied once it is recorded
                deferred.append((stream_take, event))
                return True
            if isinstance(event, SnapshotComplete) or (
                isinstance(event, ExecutionReport) and event.state is OrderState.UNKNOWN
            ):
                return False  # the resync or status query after it awaits: the consumer's
            stream_take(event)
            return True

        feed.set_sink(sink)
        try:
            async for event in feed:
                busy = True
                yield event
                busy = False
        finally:
            feed.set_sink(None)
