"""The plumbing of a vendor session whose venue is at the other end of a socket.

A vendor plugin for a broker's API is the venue's mapping plus the same plumbing every
such plugin repeats: the session's lifecycle (connecting, logged on, closing, closed,
each change heard by the host's observers), a reader task and requests with deadlines
(:class:`~ec_core.link.Link`), a trade stream fed by what the venue says
(:class:`~ec_core.streams.TradeHub` over an :class:`~ec_core.streams.AccountBook`),
market data per symbol (:class:`~ec_core.streams.MarketHub`), and what a lost line
means for each of them. :class:`VenueSession` is that plumbing; a plugin subclasses it
and writes the mapping only:

=================================  ===================================================
``connect()``                      open the socket (e.g. ``websockets.connect(url)``)
``logon()``                        the logon exchange (raise ``AuthError`` if refused)
                                   and the account subscription; the reader runs already
``on_frame(frame)``                each frame: :meth:`~VenueSession.publish` trade events,
                                   ``market_data.publish`` market events, ``link.answer``
``subscribe`` / ``unsubscribe``    start and stop a symbol's market data at the venue
``resolve``, ``send``,             the calls that ask the venue
``order_status``,
``historical_orders``
=================================  ===================================================

What it gives: ``async with`` (``CONNECTING``, then ``LOGGED_ON`` once ``logon`` returned;
a failed connect or logon closes the link and ends ``CLOSED``), ``state``, ``accounts``,
``orders``/``trades`` (the session itself), ``market_data`` (the hub), the trade
``stream`` (snapshot from the book, then live), ``positions`` and ``open_orders`` from
the book, and :meth:`~VenueSession.require` (logged on, one of this logon's accounts).
When the line drops every trade subscriber hears ``DISCONNECTED`` and its stream ends,
every market stream ends with ``ConnectionLostError``, and the session is ``CLOSED``
(a vendor that reconnects overrides :meth:`~VenueSession.on_lost`).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Generic, Self, TypeVar

from ec_core.errors import ConnectionLostError, SessionError
from ec_core.link import Frame, Link, Transport
from ec_core.model import (
    Account,
    ExecutionReport,
    Instrument,
    OrderRequest,
    Position,
    SessionState,
    TradeEvent,
)
from ec_core.session import SessionLifecycle, StateListener
from ec_core.streams import (
    DEFAULT_MARKET_CAPACITY,
    DEFAULT_TRADE_CAPACITY,
    AccountBook,
    MarketHub,
    TradeHub,
)

__all__ = ["VenueSession"]

K = TypeVar("K")
R = TypeVar("R")
_S = SessionState


class VenueSession(abc.ABC, Generic[K, R]):
    """A ``Session`` over a :class:`~ec_core.link.Link` keyed by ``K`` with replies ``R``.

    ``accounts``: the accounts this logon trades. ``timeout``: seconds a request waits.
    ``on_state``: the host's listener (the factory's ``open`` receives it).
    """

    vendor: str  # the vendor's registered name, set by the subclass

    def __init__(
        self,
        *,
        accounts: Sequence[str],
        timeout: float,
        on_state: StateListener | None,
        trade_capacity: int = DEFAULT_TRADE_CAPACITY,
        market_capacity: int = DEFAULT_MARKET_CAPACITY,
    ) -> None:
        if not accounts:
            raise ValueError("a session trades at least one account")
        self.lifecycle = SessionLifecycle(listener=on_state)
        self.link: Link[K, R] = Link(timeout=timeout, on_lost=self.on_lost)
        self.book = AccountBook()  # the accounts as the venue last told them
        self.hub = TradeHub(self.book.snapshot, capacity=trade_capacity)
        self.market_data = MarketHub(self.subscribe, self.unsubscribe, capacity=market_capacity)
        self.account_ids = tuple(accounts)

    # -- what the vendor writes ----------------------------------------------------------

    @abc.abstractmethod
    async def connect(self) -> Transport:
        """Open the socket to the venue."""

    @abc.abstractmethod
    async def logon(self) -> None:
        """Log on and subscribe the accounts; raise (``AuthError``...) to refuse."""

    @abc.abstractmethod
    def on_frame(self, frame: Frame) -> None:
        """One frame of the venue, in order; raising counts it malformed (the line goes on)."""

    async def subscribe(self, instrument: Instrument) -> None:
        """Start the market data of ``instrument`` at the venue."""
        raise SessionError(f"{self.vendor} has no market data")

    async def unsubscribe(self, instrument: Instrument) -> None:
        """Stop the market data of ``instrument`` at the venue."""

    @abc.abstractmethod
    async def resolve(self, symbol: str) -> Instrument: ...

    @abc.abstractmethod
    async def send(self, request: OrderRequest) -> None: ...

    @abc.abstractmethod
    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None: ...

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        raise SessionError(f"{self.vendor} keeps no order history")

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self.lifecycle.state

    async def __aenter__(self) -> Self:
        self.lifecycle.advance(_S.CONNECTING)
        try:
            await self.link.open(self.connect, self.on_frame)
            await self.logon()
        except BaseException:
            await self.link.aclose()
            self.lifecycle.advance(_S.CLOSED)
            raise
        self.lifecycle.advance(_S.LOGGED_ON)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.state is not _S.CLOSED:
            self.lifecycle.advance(_S.CLOSING)
        await self.link.aclose()
        self.hub.close()
        self.market_data.close()
        self.lifecycle.advance(_S.CLOSED)

    def on_lost(self, reason: str) -> None:
        """The line dropped: ``DISCONNECTED`` to every trade subscriber, then the streams end."""
        self.hub.disconnected(reason, self.hub.now_ns)
        self.hub.close()
        self.market_data.close(ConnectionLostError(reason))
        self.lifecycle.advance(_S.CLOSED)

    async def require(self, account_id: str) -> None:
        """Raise unless logged on and ``account_id`` is one of this logon's accounts."""
        if self.state is not _S.LOGGED_ON:
            raise ConnectionLostError(f"{self.vendor} session is {self.state.value}")
        if account_id not in self.account_ids:
            traded = ", ".join(self.account_ids)
            raise SessionError(f"UNKNOWN_ACCOUNT: {account_id!r} (this logon trades {traded})")

    # -- what the venue said ---------------------------------------------------------------

    def publish(self, event: TradeEvent) -> None:
        """A trade event of the venue: into the book, then to the stream's subscribers."""
        self.hub.publish(self.book.apply(event))

    @property
    def orders(self) -> Self:
        return self

    @property
    def trades(self) -> Self:
        return self

    async def accounts(self) -> Sequence[Account]:
        return [self.book.account(a) or Account(account_id=a) for a in self.account_ids]

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        await self.require(account_id)
        return self.book.open_orders(account_id)

    def stream(self, account_id: str) -> AbstractAsyncContextManager[AsyncIterator[TradeEvent]]:
        async def ready() -> None:
            await self.require(account_id)

        return self.hub.stream(account_id, self._now, ready=ready)

    async def positions(self, account_id: str) -> Sequence[Position]:
        await self.require(account_id)
        return self.book.positions(account_id)

    def _now(self) -> int:
        return self.hub.now_ns  # the venue's time, as its last event told it

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.vendor} {self.state.value} {self.account_ids}>"
