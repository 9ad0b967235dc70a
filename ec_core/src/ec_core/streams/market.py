"""Market-data subscribers by symbol: the part of a ``MarketDataFeed`` every vendor needs.

A venue that subscribes per symbol (a message to start a symbol's quotes, one to stop
them) leaves every vendor with the same bookkeeping: who listens to which symbol, when
to ask the venue and when to tell it to stop, a bounded channel per subscriber, and a
snapshot for a subscriber that joins a symbol someone else already subscribed.
:class:`MarketHub` is that bookkeeping; its :meth:`MarketHub.stream` *is* a
``MarketDataFeed.stream``, so a vendor's ``market_data`` can be the hub itself.

The vendor gives it two coroutines, ``subscribe(instrument)`` and
``unsubscribe(instrument)`` (the messages to its venue), and feeds it what the venue
says with :meth:`MarketHub.publish`. The first subscriber of a symbol awaits
``subscribe`` (its failure, e.g. ``SymbolNotFoundError``, is the caller's); the last one
leaving calls ``unsubscribe``, shielded from cancellation, and an error there (the line
is down) is logged, never raised out of the subscriber's ``async with``.

Under it, :class:`MarketSubscribers` is the synchronous table of who listens to which
symbol, which every vendor shares, the mock and cqg included, whose subscriptions are
not a coroutine per symbol: quotes and trades reach every subscriber of their symbol,
:class:`~ec_core.model.BookDepth` only those that asked for depth (a
:class:`~ec_core.streams.MarketChannel` only when the book's levels changed), and a
burst reaches each subscriber in one delivery. It reads no clock and never waits, so a
Sans-I/O protocol core can own one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar, final

import anyio

from ec_core.model import BookDepth, Instrument, MarketEvent, Quote, Trade
from ec_core.streams.channels import DEFAULT_MARKET_CAPACITY, MarketChannel

__all__ = ["MarketHub", "MarketSink", "MarketSubscribers", "SymbolCall"]

log = logging.getLogger(__name__)

SymbolCall = Callable[[Instrument], Awaitable[None]]
"""``subscribe(instrument)`` / ``unsubscribe(instrument)``: ask the venue."""


class MarketSink(Protocol):
    """A market-data subscriber: a :class:`~ec_core.streams.MarketChannel`, or a test's list."""

    def push(self, item: Any, /) -> None: ...

    def push_many(self, batch: Iterable[Any], /) -> None: ...


S = TypeVar("S", bound=MarketSink)


@final
class _Symbol(Generic[S]):
    """One symbol's subscribers: ``plain`` get quotes and trades, ``depth`` books too."""

    __slots__ = ("depth", "plain")

    def __init__(self) -> None:
        self.plain: list[S] = []
        self.depth: list[S] = []


@final
class MarketSubscribers(Generic[S]):
    """Who listens to which symbol, and the fan-out to them (see the module docstring).

    :meth:`subscribe` and :meth:`unsubscribe` say when a symbol gains its first (depth)
    subscriber or loses its last one: what a subscription costs at the venue (a
    message, a level to request) stays the vendor's.
    """

    __slots__ = ("_symbols", "depth_subscribers")

    def __init__(self) -> None:
        self._symbols: dict[str, _Symbol[S]] = {}
        self.depth_subscribers = 0  # of every symbol: is any book wanted at all?

    def subscribe(self, symbol: str, sink: S, *, depth: bool = False) -> bool:
        """Add ``sink`` to ``symbol`` (with ``depth``, for its books too); ``True`` if the
        symbol had no subscriber before (no depth subscriber, for one of depth)."""
        subs = self._symbols.get(symbol)
        if subs is None:
            subs = self._symbols[symbol] = _Symbol()
        if depth:
            first = not subs.depth
            subs.depth.append(sink)
            self.depth_subscribers += 1
        else:
            first = not (subs.plain or subs.depth)
            subs.plain.append(sink)
        return first

    def unsubscribe(self, symbol: str, sink: S) -> bool:
        """Remove ``sink`` from ``symbol``; ``True`` if it was the symbol's last subscriber."""
        subs = self._symbols.get(symbol)
        if subs is None:
            return False
        if sink in subs.plain:
            subs.plain.remove(sink)
        elif sink in subs.depth:
            subs.depth.remove(sink)
            self.depth_subscribers -= 1
        else:
            return False
        if subs.plain or subs.depth:
            return False
        del self._symbols[symbol]
        return True

    def publish(self, symbol: str, event: object) -> None:
        """A quote or trade to every subscriber of ``symbol``."""
        subs = self._symbols.get(symbol)
        if subs is not None:
            for sink in subs.plain:
                sink.push(event)
            for sink in subs.depth:
                sink.push(event)

    def publish_depth(self, book: BookDepth) -> None:
        """A book to the depth subscribers of its symbol; one with ``push_depth`` (a
        :class:`~ec_core.streams.MarketChannel`) skips a book whose levels did not change."""
        subs = self._symbols.get(book.symbol)
        if subs is None:
            return
        for sink in subs.depth:
            push_depth = getattr(sink, "push_depth", None)
            if push_depth is not None:
                push_depth(book)
            else:
                sink.push(book)

    def publish_many(self, symbol: str, events: Sequence[object]) -> None:
        """A burst of ``symbol``'s events, in one delivery to each subscriber; the books
        among them only to its depth subscribers."""
        subs = self._symbols.get(symbol)
        if subs is None or not events:
            return
        for sink in subs.depth:
            sink.push_many(events)
        if subs.plain:
            if subs.depth:  # books are made only while someone asked for them
                events = [e for e in events if type(e) is not BookDepth]
            for sink in subs.plain:
                sink.push_many(events)

    def wants_depth(self, symbol: str) -> bool:
        """Whether some subscriber of ``symbol`` asked for its books."""
        subs = self._symbols.get(symbol)
        return subs is not None and bool(subs.depth)

    def sinks(self) -> list[S]:
        """Every subscriber, once (one stream may subscribe to several symbols)."""
        seen: dict[int, S] = {}
        for subs in self._symbols.values():
            for sink in (*subs.plain, *subs.depth):
                seen.setdefault(id(sink), sink)
        return list(seen.values())

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._symbols

    def close(self, error: Exception | None = None) -> None:
        """End every subscriber's iteration: after what it holds, or with ``error``
        (sinks without ``close``/``fail`` are passed over)."""
        for sink in self.sinks():
            if error is None:
                close = getattr(sink, "close", None)
                if close is not None:
                    close()
            else:
                fail = getattr(sink, "fail", None)
                if fail is not None:
                    fail(error)


@final
class MarketHub:
    """Subscribers per symbol, each on its own bounded channel (see the module docstring).

    No book depth: ``stream(..., depth=True)`` raises ``ValueError`` (a vendor declaring
    ``Capability.DEPTH`` subscribes its channels in a :class:`MarketSubscribers` of its
    own and feeds it books with ``publish_depth``, as the mock and cqg do).
    """

    __slots__ = ("_instruments", "_last", "_subscribe", "_subscribers", "_unsubscribe", "capacity")

    def __init__(
        self,
        subscribe: SymbolCall,
        unsubscribe: SymbolCall,
        *,
        capacity: int = DEFAULT_MARKET_CAPACITY,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"channel capacity must be >= 1, got {capacity}")
        self._subscribe = subscribe
        self._unsubscribe = unsubscribe
        self.capacity = capacity
        self._subscribers: MarketSubscribers[MarketChannel[MarketEvent]] = MarketSubscribers()
        self._instruments: dict[str, Instrument] = {}  # as the first subscriber gave it
        self._last: dict[tuple[str, type], MarketEvent] = {}  # latest quote, trade per symbol

    def instrument(self, symbol: str) -> Instrument | None:
        """The instrument a subscriber gave for ``symbol`` (to turn venue prices into ticks)."""
        return self._instruments.get(symbol)

    @asynccontextmanager
    async def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AsyncIterator[MarketChannel[MarketEvent]]:
        """One subscriber of ``instruments`` for the block: the latest quote and trade the
        hub holds of each, then every update; removed (and the venue told) on exit."""
        if depth:
            raise ValueError("this vendor has no book depth (it does not declare DEPTH)")
        channel: MarketChannel[MarketEvent] = MarketChannel(self.capacity)
        joined: list[Instrument] = []
        try:
            for instrument in instruments:
                symbol = instrument.symbol
                first = self._subscribers.subscribe(symbol, channel)
                joined.append(instrument)
                if first:
                    self._instruments[symbol] = instrument
                    await self._subscribe(instrument)  # the venue's snapshot comes to publish
                else:
                    channel.push_many(e for (s, _), e in self._last.items() if s == symbol)
            yield channel
        finally:
            for instrument in joined:
                await self._leave(instrument, channel)
            channel.close_receiver()

    async def _leave(self, instrument: Instrument, channel: MarketChannel[MarketEvent]) -> None:
        symbol = instrument.symbol
        if not self._subscribers.unsubscribe(symbol, channel):
            return  # others still listen
        self._instruments.pop(symbol, None)
        self._last = {k: v for k, v in self._last.items() if k[0] != symbol}
        with anyio.CancelScope(shield=True):
            try:
                await self._unsubscribe(instrument)
            except Exception as exc:  # the line is down, or the venue forgot it: nothing to stop
                log.info("market data: unsubscribing %s failed: %r", symbol, exc)

    def publish(self, event: MarketEvent) -> None:
        """To the subscribers of the event's symbol (the latest quote and trade are kept)."""
        symbol = event.symbol
        if symbol not in self._subscribers:
            return
        if isinstance(event, Quote | Trade):
            self._last[(symbol, type(event))] = event
        self._subscribers.publish(symbol, event)

    def channels(self) -> list[MarketChannel[MarketEvent]]:
        """Every subscriber's channel, once each."""
        return self._subscribers.sinks()

    def close(self, error: Exception | None = None) -> None:
        """End every subscriber's iteration: after what it holds, or with ``error`` (the
        line dropped: ``ConnectionLostError``)."""
        self._subscribers.close(error)
