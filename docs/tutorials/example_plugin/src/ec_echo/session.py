"""An in-memory session: the smallest thing that satisfies ec's ``Session`` protocol.

A real vendor would open its WebSocket in ``__aenter__`` and turn the venue's
messages into ec's events; here every order is accepted on the spot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from types import TracebackType

import anyio
import msgspec
from anyio.streams.memory import MemoryObjectSendStream
from ec_core.errors import AuthError, ConnectionLostError
from ec_core.model import (
    Account,
    AccountReport,
    CancelOrder,
    ExecutionReport,
    Instrument,
    MarketEvent,
    NewOrder,
    OrderRequest,
    OrderState,
    Position,
    Quote,
    ReportKind,
    SessionState,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.secrets import Secret
from ec_core.session import SessionLifecycle


class EchoMonitor:
    """Trade monitoring: a snapshot, then every report the gateway publishes."""

    def __init__(self, account: Account) -> None:
        self._account = account
        self._subscribers: list[MemoryObjectSendStream[TradeEvent]] = []
        self.working: dict[str, ExecutionReport] = {}

    @asynccontextmanager
    async def stream(self, account_id: str) -> AsyncIterator[AsyncIterator[TradeEvent]]:
        send, receive = anyio.create_memory_object_stream[TradeEvent](max_buffer_size=100)
        await send.send(AccountReport(account=self._account))
        for report in self.working.values():
            await send.send(report)
        await send.send(SnapshotComplete(account_id=account_id))
        self._subscribers.append(send)
        try:
            async with receive:
                yield receive
        finally:
            self._subscribers.remove(send)
            send.close()

    async def positions(self, account_id: str) -> Sequence[Position]:
        return []

    async def publish(self, report: ExecutionReport) -> None:
        for stream in self._subscribers:
            await stream.send(report)

    def close(self) -> None:
        for stream in self._subscribers:
            stream.close()  # ends every subscriber's iteration


class EchoGateway:
    """Order entry: every new order is accepted, every cancel of a working order succeeds."""

    def __init__(self, session: EchoSession, monitor: EchoMonitor) -> None:
        self._session = session
        self._monitor = monitor

    async def send(self, request: OrderRequest) -> None:
        if self._session.state is not SessionState.LOGGED_ON:
            raise ConnectionLostError(f"echo session is {self._session.state}")
        working = self._monitor.working
        if isinstance(request, NewOrder):
            report = ExecutionReport(
                kind=ReportKind.ACCEPTED,
                account_id=request.account_id,
                symbol=request.symbol,
                cl_order_id=request.cl_order_id,
                chain_id=request.cl_order_id,
                state=OrderState.WORKING,
                side=request.side,
                order_type=request.order_type,
                qty=request.qty,
                limit_price=request.limit_price,
                stop_price=request.stop_price,
                duration=request.duration,
            )
            working[request.cl_order_id] = report
        elif isinstance(request, CancelOrder) and request.orig_cl_order_id in working:
            original = working.pop(request.orig_cl_order_id)
            report = msgspec.structs.replace(
                original,
                kind=ReportKind.CANCELLED,
                state=OrderState.CANCELLED,
                cl_order_id=request.cl_order_id,
                orig_cl_order_id=original.cl_order_id,
            )
        else:
            return  # this toy venue ignores the other requests
        await self._monitor.publish(report)

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        return self._monitor.working.get(cl_order_id)

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        return [r for r in self._monitor.working.values() if r.account_id == account_id]

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        return []


class EchoFeed:
    """Market data: one snapshot quote per instrument around a fixed price, then the end."""

    def __init__(self, price: Decimal) -> None:
        self._price = price

    @asynccontextmanager
    async def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AsyncIterator[AsyncIterator[MarketEvent]]:
        async def quotes() -> AsyncIterator[MarketEvent]:
            for instrument in instruments:
                ask = instrument.to_ticks(self._price)  # raises PriceError if off the grid
                yield Quote(symbol=instrument.symbol, ts_ns=0, bid=ask - 1, ask=ask)

        yield quotes()


class EchoSession:
    """One logged-on connection; valid inside its ``async with`` block."""

    def __init__(self, *, password: Secret, price: Decimal, account_id: str) -> None:
        self._password = password
        self._lifecycle = SessionLifecycle()
        self._account = Account(account_id=account_id, name="echo")
        self._monitor = EchoMonitor(self._account)
        self._gateway = EchoGateway(self, self._monitor)
        self._feed = EchoFeed(price)

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

    async def resolve(self, symbol: str) -> Instrument:
        return Instrument(symbol=symbol, tick_size=Decimal("0.25"), multiplier=Decimal(50))
