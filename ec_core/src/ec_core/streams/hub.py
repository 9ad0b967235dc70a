"""Snapshot-then-live fan-out of trade events, the part of a ``TradeMonitor`` every vendor needs.

A vendor feeds a :class:`TradeHub` with what the venue says (:meth:`TradeHub.publish`)
and gives it one callback, ``snapshot(account_id, now_ns)``: the account's open
orders (``STATUS`` reports), positions and account report as the vendor knows them
now. The hub keeps the contract of :class:`~ec_core.vendor.TradeMonitor` for every
subscriber:

* the snapshot, then ``SnapshotComplete``, then live events: a subscriber is
  registered in the same synchronous step that queues its snapshot, so no live
  event can overtake it (``ready``, an optional async gate, is awaited first: e.g.
  until the vendor's own first snapshot from the venue is in);
* events of an account reach only that account's subscribers; session events reach all;
* :meth:`TradeHub.disconnected` tells every subscriber ``DISCONNECTED`` when the line
  drops, :meth:`TradeHub.reconnected` gives each ``GAP``, a fresh snapshot,
  ``SnapshotComplete`` and ``RECONNECTED``;
* a subscription is removed and its channel closed when its block exits;
  :meth:`TradeHub.close` ends every subscriber's iteration (the session closes);
* every channel is bounded: an overflow is a gap followed by a fresh snapshot
  (:class:`~ec_core.streams.TradeChannel`), never silent memory growth.

The hub itself is synchronous and reads no clock (times come with the calls and the
events), so a Sans-I/O protocol core can own one; :meth:`TradeHub.stream` is the
async door a session's ``trades.stream`` returns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar, final

from ec_core.model import (
    AccountReport,
    ExecutionReport,
    PositionReport,
    SessionEvent,
    SessionEventKind,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.streams.channels import DEFAULT_TRADE_CAPACITY, TradeChannel

__all__ = ["Snapshot", "TradeHub", "TradeSink", "account_of"]

T_contra = TypeVar("T_contra", contravariant=True)

Snapshot = Callable[[str, int], Iterable[TradeEvent]]
"""``snapshot(account_id, now_ns)``: the account's orders, positions and account now."""


class TradeSink(Protocol):
    """A subscriber of the hub: a :class:`~ec_core.streams.TradeChannel`, or a test's list."""

    def push(self, item: TradeEvent, /) -> None: ...

    def push_many(self, batch: Iterable[TradeEvent], /) -> None: ...


def account_of(event: TradeEvent) -> str | None:
    """The account an event belongs to; ``None`` for a session event (it is everyone's)."""
    if isinstance(event, ExecutionReport):
        return event.account_id
    if isinstance(event, PositionReport):
        return event.position.account_id
    if isinstance(event, AccountReport):
        return event.account.account_id
    if isinstance(event, SessionEvent):
        return None
    account_id: str = event.account_id  # SnapshotComplete, MarginCall: they name it
    return account_id


@final
class TradeHub:
    """Subscribers per account, each given a snapshot then live events (module docstring).

    ``capacity``: the bound of each channel :meth:`stream` / :meth:`open` makes.
    """

    __slots__ = ("_snapshot", "_subscribers", "capacity", "now_ns")

    def __init__(self, snapshot: Snapshot, *, capacity: int = DEFAULT_TRADE_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"channel capacity must be >= 1, got {capacity}")
        self._snapshot = snapshot
        self._subscribers: dict[str, list[TradeSink]] = {}
        self.capacity = capacity
        self.now_ns = 0  # the latest time the hub was told (calls and events)

    # -- subscribing -------------------------------------------------------------

    def snapshot(self, account_id: str, now_ns: int) -> list[TradeEvent]:
        """The account's snapshot, ``SnapshotComplete`` last."""
        self._saw(now_ns)
        events = list(self._snapshot(account_id, now_ns))
        events.append(SnapshotComplete(account_id=account_id, ts_ns=now_ns))
        return events

    def subscribe(self, account_id: str, sink: TradeSink, now_ns: int) -> None:
        """Queue the account's snapshot into ``sink`` and register it for live events."""
        sink.push_many(self.snapshot(account_id, now_ns))
        self._subscribers.setdefault(account_id, []).append(sink)

    def unsubscribe(self, account_id: str, sink: TradeSink) -> None:
        sinks = self._subscribers.get(account_id, [])
        if sink in sinks:
            sinks.remove(sink)
        if not sinks:
            self._subscribers.pop(account_id, None)

    def open(self, account_id: str, now_ns: int, *, capacity: int | None = None) -> TradeChannel:
        """A new bounded channel, subscribed (snapshot queued). :meth:`stream` is the
        managed form; with this one the caller unsubscribes and closes it."""
        channel = TradeChannel(
            account_id,
            self.capacity if capacity is None else capacity,
            snapshot=lambda: self.snapshot(account_id, self.now_ns),
        )
        self.subscribe(account_id, channel, now_ns)
        return channel

    @asynccontextmanager
    async def stream(
        self,
        account_id: str,
        now_ns: Callable[[], int],
        *,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[TradeChannel]:
        """Subscribe for the block (``TradeMonitor.stream``): await ``ready`` (if given),
        then snapshot, ``SnapshotComplete`` and live events; removed and closed on exit."""
        if ready is not None:
            await ready()
        channel = self.open(account_id, now_ns())
        try:
            yield channel
        finally:
            self.unsubscribe(account_id, channel)
            channel.close_receiver()

    # -- what the venue says -------------------------------------------------------

    def publish(self, event: TradeEvent) -> None:
        """To the subscribers of the event's account; a session event to every one."""
        # an execution report (the common event) names its account: no call for it
        account_id = event.account_id if type(event) is ExecutionReport else account_of(event)
        if account_id is None:
            self.publish_all(event)
            return
        self._saw(event.ts_ns)
        for sink in self._subscribers.get(account_id, ()):
            sink.push(event)

    def publish_all(self, event: TradeEvent) -> None:
        self._saw(event.ts_ns)
        for sinks in self._subscribers.values():
            for sink in sinks:
                sink.push(event)

    def disconnected(self, detail: str, now_ns: int) -> None:
        """The line dropped: every subscriber hears ``DISCONNECTED`` (``detail`` says why)."""
        self.publish_all(
            SessionEvent(kind=SessionEventKind.DISCONNECTED, detail=detail, ts_ns=now_ns)
        )

    def reconnected(self, now_ns: int) -> None:
        """Back on line: ``GAP``, a fresh snapshot, ``SnapshotComplete``, ``RECONNECTED``
        to each subscriber (a vendor that knows exactly what changed may publish its
        own sequence instead)."""
        gap = SessionEvent(kind=SessionEventKind.GAP, ts_ns=now_ns)
        back = SessionEvent(kind=SessionEventKind.RECONNECTED, ts_ns=now_ns)
        for account_id, sinks in self._subscribers.items():
            for sink in sinks:
                sink.push_many([gap, *self.snapshot(account_id, now_ns), back])

    def close(self) -> None:
        """End every subscriber's iteration (after what it has queued)."""
        for sinks in self._subscribers.values():
            for sink in sinks:
                close = getattr(sink, "close", None)
                if close is not None:
                    close()

    # -- who listens -------------------------------------------------------------

    def sinks(self) -> list[TradeSink]:
        return [sink for sinks in self._subscribers.values() for sink in sinks]

    def subscribed_accounts(self) -> list[str]:
        return list(self._subscribers)

    def _saw(self, now_ns: int) -> None:
        if now_ns > self.now_ns:
            self.now_ns = now_ns
