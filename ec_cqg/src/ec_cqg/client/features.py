"""The core vendor contract's feature objects over one CQG session.

Order entry (:class:`CqgOrderGateway`), market data (:class:`CqgMarketDataFeed`) and
trade monitoring (:class:`CqgTradeMonitor`): each asks the session's protocol core for
the frames and state it needs and its driver for the waiting, in the shapes of
:mod:`ec_core.vendor`. The session is typed by :class:`SessionBackend` so this module
does not import the session, which builds these objects.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any, Final, Literal, Protocol, final, overload

import anyio
import msgspec
from ec_core.clock import Clock
from ec_core.errors import EcError
from ec_core.model import (
    BookDepth,
    ExecutionReport,
    Instrument,
    MarketEvent,
    OrderRequest,
    Position,
    SessionState,
)
from ec_core.streams import MarketChannel, TradeChannel

from ec_cqg.client.config import CqgSettings
from ec_cqg.client.core.market import LEVEL_NONE
from ec_cqg.client.core.protocol import CqgClientProtocol
from ec_cqg.client.driver import CoreDriver

__all__ = ["CqgMarketDataFeed", "CqgOrderGateway", "CqgTradeMonitor", "SessionBackend"]

log = logging.getLogger("ec_cqg.client")

_NS: Final = 1_000_000_000


class SessionBackend(Protocol):
    """What the features need of a session (:class:`~ec_cqg.client.session.CqgSession`)."""

    @property
    def settings(self) -> CqgSettings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def state(self) -> SessionState: ...

    @property
    def core(self) -> CqgClientProtocol: ...

    @property
    def driver(self) -> CoreDriver: ...

    async def hold_until_ready(self) -> None: ...

    async def resolve(self, symbol: str) -> Instrument: ...


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
        await self.send_returning(request)

    async def send_returning(self, request: OrderRequest) -> OrderRequest:
        """As :meth:`send`, returning the request with its assigned ``cl_order_id``."""
        session = self._session
        await session.hold_until_ready()
        core = session.core
        if not request.cl_order_id:
            request = msgspec.structs.replace(request, cl_order_id=core.next_cl_order_id())
        symbol = getattr(request, "symbol", None)
        if symbol:
            await session.resolve(symbol)
        target = core.book.order_target(request, core.contracts.ref(symbol) if symbol else None)
        now = session.clock.now_ns()
        request_id, frame = core.order(
            request,
            target,
            now_ns=now,
            deadline_ns=now + int(session.settings.request_timeout * _NS),
        )
        try:
            await session.driver.write(frame, orders=1, accounts=(target.account_id,))
        except BaseException:
            core.book.unsent(request_id)
            raise
        core.counters["orders_sent"] += 1
        return request

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        """The server's current word on the order (order status request). Cancel-safe."""
        session = self._session
        await session.hold_until_ready()
        chain = session.core.book.chain_of(cl_order_id)
        if chain is None:
            return None
        return await session.driver.ask(partial(session.core.order_status, chain, account_id))

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        """Open orders of the account as the trade subscription reports them. Cancel-safe."""
        await self._session.hold_until_ready()
        return self._session.core.book.open_orders(account_id)

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        """Orders between ``start`` and ``end`` (naive means UTC). Cancel-safe."""
        core, ask = self._session.core, self._session.driver.ask
        statuses = await ask(partial(core.historical_orders, account_id, start, end))
        out: list[ExecutionReport] = []
        for status in statuses:
            contract_id = status.order.contract_id
            if status.HasField("order") and core.contracts.book.get(contract_id) is None:
                await ask(partial(core.contract_metadata, contract_id))
            out.append(core.status_report(status))
        return out


@final
class CqgMarketDataFeed:
    """Trades and best bid/ask (and depth when asked) as core events, snapshot first."""

    def __init__(self, session: SessionBackend) -> None:
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
        """Subscribe to ``instruments``; the iterator's ``dropped`` counts events dropped
        for lagging (oldest first). With ``depth`` the subscription is at the DOM level
        and :class:`~ec_core.model.BookDepth` events come too (one after the snapshot,
        then one per change of the DOM). Unsubscribes on exit."""
        return self._stream(instruments, depth=depth)

    @asynccontextmanager
    async def _stream(
        self, instruments: Sequence[Instrument], *, depth: bool
    ) -> AsyncIterator[MarketChannel[Any]]:
        channel: MarketChannel[MarketEvent | BookDepth] = MarketChannel(
            self._session.settings.market_buffer, depth=depth
        )
        added: list[Instrument] = []
        try:
            for instrument in instruments:
                await self._add(instrument, channel, depth=depth)
                added.append(instrument)
            yield channel
        finally:
            channel.close()
            for instrument in added:
                await self._remove(instrument, channel)

    async def _add(
        self,
        instrument: Instrument,
        channel: MarketChannel[MarketEvent | BookDepth],
        *,
        depth: bool,
    ) -> None:
        session = self._session
        await session.resolve(instrument.symbol)
        core = session.core
        ref = core.contracts.ref(instrument.symbol)
        level = core.market.add(ref, channel, depth=depth, now_ns=session.clock.now_ns())
        if level is None:
            return
        try:
            await session.driver.ask(partial(core.subscribe_market, ref.contract_id, level))
        except BaseException:
            core.market.remove(instrument.symbol, channel)
            raise

    async def _remove(
        self, instrument: Instrument, channel: MarketChannel[MarketEvent | BookDepth]
    ) -> None:
        session = self._session
        contract_id = session.core.market.remove(instrument.symbol, channel)
        if contract_id is None or session.state is not SessionState.LOGGED_ON:
            return
        unsubscribe = partial(session.core.subscribe_market, contract_id, LEVEL_NONE)
        with anyio.move_on_after(session.settings.request_timeout, shield=True):
            try:
                await session.driver.ask(unsubscribe)
            except EcError as exc:
                log.info("cqg: unsubscribe of %s failed: %s", instrument.symbol, exc)


@final
class CqgTradeMonitor:
    """Orders and positions of one account: snapshot, SnapshotComplete, live events."""

    def __init__(self, session: SessionBackend) -> None:
        self._session = session

    def stream(self, account_id: str) -> AbstractAsyncContextManager[TradeChannel]:
        """Core's :class:`~ec_core.streams.TradeHub` stream, once the session is ready:
        snapshot, SnapshotComplete, live events (bounded: an overflow is a GAP and a fresh
        snapshot). After a reconnect: DISCONNECTED, GAP, the reports that changed,
        SnapshotComplete, RECONNECTED, RECONCILED."""
        session = self._session
        return session.core.book.hub.stream(
            account_id, session.clock.now_ns, ready=session.hold_until_ready
        )

    async def positions(self, account_id: str) -> Sequence[Position]:
        """Positions of the account from the trade subscription. Cancel-safe."""
        await self._session.hold_until_ready()
        return self._session.core.book.positions_of(account_id)
