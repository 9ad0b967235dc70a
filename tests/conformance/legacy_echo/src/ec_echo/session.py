"""A session of the echo venue: the part of a plugin that speaks ec's ``Session`` protocol.

A real vendor opens its WebSocket in ``__aenter__`` and turns the venue's messages
into ec's events; echo calls its in-memory :class:`~ec_echo.venue.EchoVenue` instead.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import final

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from ec_core.errors import AuthError, ConnectionLostError, SessionError, SymbolNotFoundError
from ec_core.model import (
    Account,
    ExecutionReport,
    Instrument,
    MarketEvent,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    Position,
    SessionState,
    TradeEvent,
)
from ec_core.secrets import Secret
from ec_core.session import SessionLifecycle

from ec_echo.venue import EchoVenue


@final
class NotListedError(SessionError, LookupError):
    """An account the venue does not know (an unknown symbol is core's SymbolNotFoundError)."""

    def __init__(self, code: str, name: str, *, listed: Sequence[str]) -> None:
        super().__init__(f"{code}: {name!r} is not listed (listed: {', '.join(listed)})")
        self.code = code
        self.name = name
        self.listed = tuple(listed)


class EchoGateway:
    """Order entry: checks what ec can check (the tick grid), then hands the request over."""

    def __init__(self, session: EchoSession) -> None:
        self._session = session
        self._venue = session.venue

    async def send(self, request: OrderRequest) -> None:
        if self._session.state is not SessionState.LOGGED_ON:
            raise ConnectionLostError(f"echo session is {self._session.state}")
        self._session.account(request.account_id)  # raises for an account of another logon
        if isinstance(request, NewOrder | ModifyOrder):
            instrument = self._venue.instruments.get(request.symbol)
            for price in (request.limit_price, request.stop_price):
                if instrument is not None and price is not None:
                    instrument.to_ticks(price)  # raises PriceError off the grid: nothing sent
        self._venue.submit(request)  # the answer arrives on the trade stream

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        return self._venue.status(account_id, cl_order_id)

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        return self._venue.open_orders(account_id)

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        return self._venue.orders_between(account_id, _ns(start), _ns(end))


class EchoMonitor:
    """Trade monitoring: the account's snapshot, then every report and position change."""

    def __init__(self, session: EchoSession) -> None:
        self._session = session
        self._streams: list[MemoryObjectSendStream[TradeEvent]] = []

    @asynccontextmanager
    async def stream(self, account_id: str) -> AsyncIterator[AsyncIterator[TradeEvent]]:
        # Unbounded: the venue never waits for a reader. A real vendor reads its socket
        # only as fast as its consumers, and the venue's own buffers do the waiting.
        send, receive = anyio.create_memory_object_stream[TradeEvent](max_buffer_size=math.inf)
        self._session.venue.subscribe(self._session.account(account_id), send)
        self._streams.append(send)
        try:
            async with receive:
                yield receive
        finally:
            self._streams.remove(send)
            send.close()

    async def positions(self, account_id: str) -> Sequence[Position]:
        return self._session.venue.positions(account_id)

    def close(self) -> None:
        for stream in self._streams:
            stream.close()  # ends each subscriber's iteration


class EchoFeed:
    """Market data: a quote of each book, then every quote and trade as the books change."""

    def __init__(self, venue: EchoVenue) -> None:
        self._venue = venue
        self._streams: list[MemoryObjectSendStream[MarketEvent]] = []

    @asynccontextmanager
    async def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AsyncIterator[AsyncIterator[MarketEvent]]:
        send, receive = anyio.create_memory_object_stream[MarketEvent](max_buffer_size=math.inf)
        self._venue.watch(frozenset(i.symbol for i in instruments), send)
        self._streams.append(send)
        try:
            async with receive:
                yield receive
        finally:
            self._streams.remove(send)
            send.close()

    def close(self) -> None:
        for stream in self._streams:
            stream.close()


class EchoSession:
    """One logged-on connection to the venue; valid inside its ``async with`` block."""

    def __init__(self, venue: EchoVenue, *, password: Secret, account_id: str) -> None:
        self.venue = venue
        self._password = password
        self._lifecycle = SessionLifecycle()
        self._account = Account(account_id=account_id, name="echo")
        self._gateway = EchoGateway(self)
        self._monitor = EchoMonitor(self)
        self._feed = EchoFeed(venue)

    async def __aenter__(self) -> EchoSession:
        self._lifecycle.advance(SessionState.CONNECTING)
        if not self._password.reveal():  # a real vendor sends its logon message here
            self._lifecycle.advance(SessionState.CLOSED)
            raise AuthError("empty password", code="EMPTY")
        self._lifecycle.advance(SessionState.LOGGED_ON)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lifecycle.advance(SessionState.CLOSING)
        self._monitor.close()
        self._feed.close()
        self._lifecycle.advance(SessionState.CLOSED)

    @property
    def vendor(self) -> str:
        return "echo"

    @property
    def state(self) -> SessionState:
        return self._lifecycle.state

    @property
    def orders(self) -> EchoGateway:
        return self._gateway

    @property
    def market_data(self) -> EchoFeed:
        return self._feed

    @property
    def trades(self) -> EchoMonitor:
        return self._monitor

    async def accounts(self) -> Sequence[Account]:
        return [self._account]

    def account(self, account_id: str) -> Account:
        """The account if this session logged on for it (a session logs on for one)."""
        if account_id != self._account.account_id:
            raise NotListedError("UNKNOWN_ACCOUNT", account_id, listed=[self._account.account_id])
        return self._account

    async def resolve(self, symbol: str) -> Instrument:
        instrument = self.venue.instruments.get(symbol)
        if instrument is None:
            raise SymbolNotFoundError(symbol, code="UNKNOWN_SYMBOL", known=self.venue.instruments)
        return instrument


def _ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exactly (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
