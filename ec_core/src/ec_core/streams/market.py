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
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import final

import anyio

from ec_core.model import Instrument, MarketEvent, Quote, Trade
from ec_core.streams.channels import DEFAULT_MARKET_CAPACITY, MarketChannel

__all__ = ["MarketHub", "SymbolCall"]

log = logging.getLogger(__name__)

SymbolCall = Callable[[Instrument], Awaitable[None]]
"""``subscribe(instrument)`` / ``unsubscribe(instrument)``: ask the venue."""


@final
class MarketHub:
    """Subscribers per symbol, each on its own bounded channel (see the module docstring).

    No book depth: ``stream(..., depth=True)`` raises ``ValueError`` (a vendor declaring
    ``Capability.DEPTH`` feeds its channels itself).
    """

    __slots__ = ("_last", "_subscribe", "_subscribers", "_unsubscribe", "capacity")

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
        self._subscribers: dict[str, list[tuple[Instrument, MarketChannel[MarketEvent]]]] = {}
        self._last: dict[tuple[str, type], MarketEvent] = {}  # latest quote, trade per symbol

    def instrument(self, symbol: str) -> Instrument | None:
        """The instrument a subscriber gave for ``symbol`` (to turn venue prices into ticks)."""
        subscribers = self._subscribers.get(symbol)
        return subscribers[0][0] if subscribers else None

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
                first = symbol not in self._subscribers
                self._subscribers.setdefault(symbol, []).append((instrument, channel))
                joined.append(instrument)
                if first:
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
        rest = [s for s in self._subscribers.get(symbol, ()) if s[1] is not channel]
        if rest:
            self._subscribers[symbol] = rest
            return
        self._subscribers.pop(symbol, None)
        self._last = {k: v for k, v in self._last.items() if k[0] != symbol}
        with anyio.CancelScope(shield=True):
            try:
                await self._unsubscribe(instrument)
            except Exception as exc:  # the line is down, or the venue forgot it: nothing to stop
                log.info("market data: unsubscribing %s failed: %r", symbol, exc)

    def publish(self, event: MarketEvent) -> None:
        """To the subscribers of the event's symbol (the latest quote and trade are kept)."""
        subscribers = self._subscribers.get(event.symbol)
        if not subscribers:
            return
        if isinstance(event, Quote | Trade):
            self._last[(event.symbol, type(event))] = event
        for _, channel in subscribers:
            channel.push(event)

    def channels(self) -> list[MarketChannel[MarketEvent]]:
        """Every subscriber's channel, once each."""
        seen: dict[int, MarketChannel[MarketEvent]] = {}
        for subscribers in self._subscribers.values():
            for _, channel in subscribers:
                seen.setdefault(id(channel), channel)
        return list(seen.values())

    def close(self, error: Exception | None = None) -> None:
        """End every subscriber's iteration: after what it holds, or with ``error`` (the
        line dropped: ``ConnectionLostError``)."""
        for channel in self.channels():
            if error is None:
                channel.close()
            else:
                channel.fail(error)
