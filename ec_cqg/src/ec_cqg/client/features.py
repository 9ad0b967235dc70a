"""The core vendor contract's feature objects over one :class:`CqgSession`.

Thin facades: order entry (:class:`CqgOrderGateway`), market data
(:class:`CqgMarketDataFeed`) and trade monitoring (:class:`CqgTradeMonitor`). The
session does the work; these give it the shapes of :mod:`ec_core.vendor`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Protocol, final

from ec_core.model import (
    ExecutionReport,
    Instrument,
    MarketEvent,
    OrderRequest,
    Position,
    TradeEvent,
)

from ec_cqg.client.channels import EventChannel
from ec_cqg.client.config import CqgSettings

__all__ = ["CqgMarketDataFeed", "CqgOrderGateway", "CqgTradeMonitor", "SessionBackend"]


class SessionBackend(Protocol):
    """What the facades need of a session (:class:`~ec_cqg.client.session.CqgSession`).

    Declared here so this module does not import the session, which builds the facades.
    """

    @property
    def settings(self) -> CqgSettings: ...

    async def hold_until_ready(self) -> None: ...

    async def send_order(self, request: OrderRequest) -> OrderRequest: ...

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None: ...

    def open_orders(self, account_id: str) -> list[ExecutionReport]: ...

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> list[ExecutionReport]: ...

    def positions_of(self, account_id: str) -> list[Position]: ...

    async def add_market_channel(
        self, instrument: Instrument, channel: EventChannel[MarketEvent], *, depth: bool
    ) -> None: ...

    async def remove_market_channel(
        self, instrument: Instrument, channel: EventChannel[MarketEvent]
    ) -> None: ...

    def add_trade_channel(self, account_id: str, channel: EventChannel[TradeEvent]) -> None: ...

    def remove_trade_channel(self, account_id: str, channel: EventChannel[TradeEvent]) -> None: ...


@final
class CqgOrderGateway:
    """Order entry over the session; outcomes arrive as reports on the trade stream."""

    def __init__(self, session: SessionBackend) -> None:
        self._session = session

    async def send(self, request: OrderRequest) -> None:
        """Put ``request`` on the wire (held while reconnecting, up to ``hold_timeout``).

        Raises :class:`OrderDeniedError` for what CQG cannot express (nothing sent) and
        :class:`ConnectionLostError` if it could not be sent. Not cancel-safe once the
        frame is queued: treat a cancelled send as UNKNOWN.
        """
        await self._session.send_order(request)

    async def send_returning(self, request: OrderRequest) -> OrderRequest:
        """As :meth:`send`, returning the request with its assigned ``cl_order_id``."""
        return await self._session.send_order(request)

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        """The server's current word on the order (order status request). Cancel-safe."""
        return await self._session.order_status(account_id, cl_order_id)

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        """Open orders of the account as the trade subscription reports them. Cancel-safe."""
        await self._session.hold_until_ready()
        return self._session.open_orders(account_id)

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        """Orders between ``start`` and ``end`` (naive means UTC). Cancel-safe."""
        return await self._session.historical_orders(account_id, start, end)


@final
class CqgMarketDataFeed:
    """Trades and best bid/ask (and depth when asked) as core events, snapshot first."""

    def __init__(self, session: SessionBackend) -> None:
        self._session = session

    @asynccontextmanager
    async def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AsyncIterator[EventChannel[MarketEvent]]:
        """Subscribe to ``instruments``; the iterator's ``dropped`` counts events dropped
        for lagging (oldest first). Unsubscribes on exit."""
        session = self._session
        channel: EventChannel[MarketEvent] = EventChannel(session.settings.market_buffer)
        added: list[Instrument] = []
        try:
            for instrument in instruments:
                await session.add_market_channel(instrument, channel, depth=depth)
                added.append(instrument)
            yield channel
        finally:
            channel.close()
            for instrument in added:
                await session.remove_market_channel(instrument, channel)


@final
class CqgTradeMonitor:
    """Orders and positions of one account: snapshot, SnapshotComplete, live events."""

    def __init__(self, session: SessionBackend) -> None:
        self._session = session

    @asynccontextmanager
    async def stream(self, account_id: str) -> AsyncIterator[EventChannel[TradeEvent]]:
        """Never drops an event. After a reconnect: DISCONNECTED, GAP, the reports that
        changed, SnapshotComplete, RECONNECTED, RECONCILED."""
        session = self._session
        await session.hold_until_ready()
        channel: EventChannel[TradeEvent] = EventChannel()
        session.add_trade_channel(account_id, channel)
        try:
            yield channel
        finally:
            channel.close()
            session.remove_trade_channel(account_id, channel)

    async def positions(self, account_id: str) -> Sequence[Position]:
        """Positions of the account from the trade subscription. Cancel-safe."""
        await self._session.hold_until_ready()
        return self._session.positions_of(account_id)
