"""Fixtures that point the conformance kit at the ``mock`` vendor, and a session that lies.

``MockKitFixtures`` is a mixin: put it before the kit class so its fixtures win::

    class TestMockConformance(MockKitFixtures, VendorConformance): ...

The kit tests of this folder also use it from the test modules they generate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from ec_core.clock import ManualClock
from ec_core.model import Account, Instrument, Position, SessionState, TradeEvent
from ec_core.plugins import PluginHost
from ec_core.testing.conformance import SessionMarketControl, SessionOpener
from ec_core.vendor import MarketDataFeed, OrderGateway, Session, TradeMonitor
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

TRADER = "KIT-TRADER"
HOUSE = "KIT-HOUSE"
# Near each built-in contract's reference price: 0.25 ticks and 1/64 ticks.
REFERENCE_PRICES = {"EP": Decimal("4500.00"), "TYA": Decimal("110.015625")}

Rewrite = Callable[[TradeEvent], TradeEvent | None]  # None: the event is dropped
MarketRewrite = Callable[[Any], Any]


class MockKitFixtures:
    """The kit's author fixtures for the mock: one quiet venue, a trader and a house logon."""

    vendor_name: ClassVar[str] = "mock"
    timeout: ClassVar[float] = 2.0  # events arrive synchronously: only a safety net
    symbols: ClassVar[Sequence[str]] = sorted(REFERENCE_PRICES)

    @pytest.fixture
    def host(self) -> PluginHost:
        return PluginHost.load()

    @pytest.fixture
    def venue(self) -> Iterator[MockVenue]:
        venue = MockVenue.create(
            clock=ManualClock(SIM_START_NS), accounts=[TRADER, HOUSE], market=False
        )
        yield venue
        venue.check()

    @pytest.fixture
    def let_time_pass(self, venue: MockVenue) -> Callable[[], None]:
        return lambda: venue.advance(1_000_000)  # one millisecond of simulated time

    @pytest.fixture
    def open_vendor_session(self, host: PluginHost, venue: MockVenue) -> SessionOpener:
        return lambda: host.open_session("mock", {"venue": venue, "account_id": TRADER})

    @pytest.fixture
    def account_id(self) -> str:
        return TRADER

    @pytest.fixture(params=symbols)
    def instrument_symbol(self, request: pytest.FixtureRequest) -> str:
        symbol: str = request.param
        return symbol

    @pytest.fixture
    def reference_price(self, instrument_symbol: str) -> Decimal:
        return REFERENCE_PRICES[instrument_symbol]

    @pytest.fixture
    def connection_control(self, venue: MockVenue) -> VenueRestart:
        return VenueRestart(venue)

    @pytest.fixture
    async def market_control(
        self, host: PluginHost, venue: MockVenue
    ) -> AsyncIterator[SessionMarketControl]:
        async with host.open_session("mock", {"venue": venue, "account_id": HOUSE}) as house:
            yield SessionMarketControl(house, HOUSE, timeout=self.timeout)


class VenueRestart:
    """A :class:`~ec_core.testing.conformance.ConnectionControl`: the venue restarts with its
    state, which drops every session's line (in process and over the CQG dialect alike)."""

    def __init__(self, venue: MockVenue) -> None:
        self.venue = venue

    async def interrupt(self) -> None:
        self.venue.restart(keep_state=True)


class _RewritingMonitor:
    def __init__(self, monitor: TradeMonitor, rewrite: Rewrite) -> None:
        self._monitor = monitor
        self._rewrite = rewrite

    @asynccontextmanager
    async def stream(self, account_id: str) -> AsyncIterator[AsyncIterator[TradeEvent]]:
        async with self._monitor.stream(account_id) as events:

            async def rewritten() -> AsyncIterator[TradeEvent]:
                async for event in events:
                    changed = self._rewrite(event)
                    if changed is not None:
                        yield changed

            yield rewritten()

    async def positions(self, account_id: str) -> Sequence[Position]:
        return await self._monitor.positions(account_id)


class _RewritingFeed:
    def __init__(self, feed: MarketDataFeed, rewrite: MarketRewrite) -> None:
        self._feed = feed
        self._rewrite = rewrite

    @asynccontextmanager
    async def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AsyncIterator[AsyncIterator[Any]]:
        async with self._feed.stream(instruments, depth=depth) as events:

            async def rewritten() -> AsyncIterator[Any]:
                async for event in events:
                    yield self._rewrite(event)

            yield rewritten()


class RewritingSession:
    """A real session whose trade stream passes through ``rewrite`` (and its market data
    through ``rewrite_market``): a vendor with a bug."""

    def __init__(
        self, session: Session, rewrite: Rewrite, rewrite_market: MarketRewrite | None = None
    ) -> None:
        self._session = session
        self._trades = _RewritingMonitor(session.trades, rewrite)
        self._market: MarketDataFeed = (
            session.market_data
            if rewrite_market is None
            else _RewritingFeed(session.market_data, rewrite_market)
        )

    @property
    def vendor(self) -> str:
        return self._session.vendor

    @property
    def state(self) -> SessionState:
        return self._session.state

    @property
    def orders(self) -> OrderGateway:
        return self._session.orders

    @property
    def market_data(self) -> MarketDataFeed:
        return self._market

    @property
    def trades(self) -> TradeMonitor:
        return self._trades

    async def accounts(self) -> Sequence[Account]:
        return await self._session.accounts()

    async def resolve(self, symbol: str) -> Instrument:
        return await self._session.resolve(symbol)


def rewriting(
    opener: SessionOpener, rewrite: Rewrite, rewrite_market: MarketRewrite | None = None
) -> SessionOpener:
    """An opener of sessions like ``opener``'s whose trade events pass through ``rewrite``
    (and market events through ``rewrite_market``)."""

    @asynccontextmanager
    async def open_rewritten() -> AsyncIterator[Session]:
        async with opener() as session:
            yield RewritingSession(session, rewrite, rewrite_market)

    def open_session() -> AbstractAsyncContextManager[Session]:
        return open_rewritten()

    return open_session
