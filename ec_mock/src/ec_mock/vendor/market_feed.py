"""The ``mock`` session's market data: quotes and trades, and book depth when asked.

Subscriptions live in the session (it routes engine events to them); this is the
core's :class:`~ec_core.vendor.MarketDataFeed` over them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, final, overload

from ec_core.model import BookDepth, Instrument, MarketEvent
from ec_core.streams import MarketChannel

if TYPE_CHECKING:
    from ec_mock.vendor.session import MockSession

__all__ = ["MockMarketDataFeed"]


@final
class MockMarketDataFeed:
    """Quotes and trades of the venue, snapshot first; see :mod:`ec_core.streams`."""

    def __init__(self, session: MockSession) -> None:
        self._session = session

    @overload
    def stream(
        self, instruments: Sequence[Instrument], *, depth: Literal[False] = False
    ) -> AbstractAsyncContextManager[MarketChannel[MarketEvent]]: ...

    @overload
    def stream(
        self, instruments: Sequence[Instrument], *, depth: bool
    ) -> AbstractAsyncContextManager[MarketChannel[MarketEvent | BookDepth]]: ...

    def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AbstractAsyncContextManager[MarketChannel[Any]]:
        """Subscribe to ``instruments``; with ``depth`` also :class:`~ec_core.model.BookDepth`
        (10 levels a side, see :meth:`~ec_mock.engine.Exchange.book_depth`): one after
        the quote and trade of the snapshot, then one whenever an order event of the
        symbol leaves the top levels different.

        The iterator also exposes ``dropped``: how many events were dropped for lagging.
        """
        return self._stream(instruments, depth=depth)

    @asynccontextmanager
    async def _stream(
        self, instruments: Sequence[Instrument], *, depth: bool
    ) -> AsyncIterator[MarketChannel[Any]]:
        session = self._session
        session._require_logged_on()
        channel: MarketChannel[Any] = MarketChannel(session.market_buffer, depth=depth)
        symbols = [i.symbol for i in instruments]
        for symbol in symbols:
            for event in session.market_snapshot(symbol):
                channel.push(event)
            session.add_market_channel(symbol, channel)
        try:
            yield channel
        finally:
            for symbol in symbols:
                session.remove_market_channel(symbol, channel)
            channel.close_receiver()
