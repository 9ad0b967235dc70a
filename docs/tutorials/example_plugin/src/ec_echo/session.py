"""A session of the echo venue: the part of a plugin that speaks ec's ``Session`` protocol.

A real vendor opens its WebSocket in ``__aenter__`` and turns the venue's messages
into ec's events; echo calls its in-memory :class:`~ec_echo.venue.EchoVenue` instead.
Core owns the plumbing: :class:`~ec_core.streams.TradeHub` is the trade stream
(snapshot, ``SnapshotComplete``, live events, bounded), :class:`~ec_core.streams.MarketChannel`
the market-data stream (bounded, drops the oldest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType

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
from ec_core.session import SessionLifecycle, StateListener
from ec_core.streams import MarketChannel, TradeHub

from ec_echo.venue import EchoVenue


class EchoSession:
    """One logged-on connection to the venue; valid inside its ``async with`` block.

    It is its own ``orders`` (send and queries) and ``trades`` (the account's stream
    and positions); ``market_data`` is an :class:`EchoFeed` (both name a ``stream``).
    """

    def __init__(
        self,
        venue: EchoVenue,
        *,
        password: Secret,
        account_id: str,
        on_state: StateListener | None = None,
    ) -> None:
        self.venue = venue
        self._password = password
        self._lifecycle = SessionLifecycle(listener=on_state)  # the host's observers hear it
        self._account = Account(account_id=account_id, name="echo")
        self._hub = TradeHub(venue.snapshot)  # this session's trade subscribers
        self.orders = self.trades = self  # OrderGateway and TradeMonitor: methods below
        self.market_data = EchoFeed(venue)

    async def __aenter__(self) -> EchoSession:
        self._lifecycle.advance(SessionState.CONNECTING)
        if not self._password.reveal():  # a real vendor sends its logon message here
            self._lifecycle.advance(SessionState.CLOSED)
            raise AuthError("empty password", code="EMPTY")
        self.venue.hubs.append(self._hub)
        self._lifecycle.advance(SessionState.LOGGED_ON)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lifecycle.advance(SessionState.CLOSING)
        for channel in self.market_data.channels:
            channel.close()  # ends each subscriber's iteration, after what it holds
        self.venue.hubs.remove(self._hub)
        self._hub.close()
        self._lifecycle.advance(SessionState.CLOSED)

    @property
    def vendor(self) -> str:
        return "echo"

    @property
    def state(self) -> SessionState:
        return self._lifecycle.state

    async def accounts(self) -> Sequence[Account]:
        return [self._account]

    async def resolve(self, symbol: str) -> Instrument:
        instrument = self.venue.instruments.get(symbol)
        if instrument is None:
            raise SymbolNotFoundError(symbol, code="UNKNOWN_SYMBOL", known=self.venue.instruments)
        return instrument

    # -- orders (OrderGateway) -------------------------------------------------------

    async def send(self, request: OrderRequest) -> None:
        """Check what ec can check (the account, the tick grid), then hand it over."""
        if self.state is not SessionState.LOGGED_ON:
            raise ConnectionLostError(f"echo session is {self.state}")
        await self._trades_for(request.account_id)
        if isinstance(request, NewOrder | ModifyOrder):
            instrument = self.venue.instruments.get(request.symbol)
            for price in (request.limit_price, request.stop_price):
                if instrument is not None and price is not None:
                    instrument.to_ticks(price)  # raises PriceError off the grid: nothing sent
        self.venue.submit(request)  # the answer arrives on the trade stream

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        found = [r for r in self.venue.orders(account_id) if r.cl_order_id == cl_order_id]
        return found[-1] if found else None

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        return self.venue.open_orders(account_id)

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        orders = self.venue.orders(account_id)
        return [r for r in orders if _ns(start) <= r.ts_ns <= _ns(end)]

    # -- trades (TradeMonitor) -------------------------------------------------------

    def stream(self, account_id: str) -> AbstractAsyncContextManager[AsyncIterator[TradeEvent]]:
        return self._hub.stream(
            account_id, self.venue.now, ready=lambda: self._trades_for(account_id)
        )

    async def positions(self, account_id: str) -> Sequence[Position]:
        return self.venue.positions(account_id)

    async def _trades_for(self, account_id: str) -> None:
        """Raise for an account this logon does not trade (a session logs on for one)."""
        if account_id != self._account.account_id:
            raise SessionError(
                f"UNKNOWN_ACCOUNT: {account_id!r} is not {self._account.account_id!r}"
            )


class EchoFeed:
    """Market data (``MarketDataFeed``): a quote of each book, then every quote and trade."""

    def __init__(self, venue: EchoVenue) -> None:
        self.venue = venue
        self.channels: list[MarketChannel[MarketEvent]] = []

    @asynccontextmanager
    async def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AsyncIterator[AsyncIterator[MarketEvent]]:
        if depth:
            raise ValueError("echo has no book depth (it does not declare Capability.DEPTH)")
        symbols = frozenset(i.symbol for i in instruments)
        channel: MarketChannel[MarketEvent] = MarketChannel()
        channel.push_many(self.venue.quote(symbol) for symbol in sorted(symbols))  # the snapshot
        self.venue.watchers.append(watch := (symbols, channel))
        self.channels.append(channel)
        try:
            yield channel
        finally:
            self.venue.watchers.remove(watch)
            self.channels.remove(channel)
            channel.close_receiver()


def _ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exactly (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1_000
