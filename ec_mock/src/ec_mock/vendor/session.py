"""A session of the ``mock`` vendor: the core's :class:`~ec_core.vendor.Session` over a venue.

Everything is in process: :meth:`MockOrderGateway.send` calls the engine, and the
engine's callbacks land in the bounded channels of :mod:`ec_mock.vendor.channels`
(market data drops the oldest when a consumer lags; trade events never drop). A
fault plan, when given, sits between the engine and this session's consumers: it
sees every request going in and every event coming out, exactly where a network
would misbehave.

A *disconnect* (from a fault or an exchange restart) moves the session to
``RECONNECTING``: requests fail with :class:`~ec_core.errors.ConnectionLostError`
and events are lost, as on a real line. On reconnect every trade subscriber gets
``SessionEvent(GAP)``, a fresh snapshot, ``SnapshotComplete`` and
``SessionEvent(RECONNECTED)``, the contract of :class:`~ec_core.vendor.TradeMonitor`
that the hub keeps.

Every session serves history (:class:`~ec_core.history.SupportsHistory`): the
venue's tape, see :mod:`ec_mock.vendor.history`. A session on a simulated venue
without a market of its own also offers the core's
optional replay capability (:class:`~ec_core.vendor.SupportsReplay`):
``session.replay`` is the venue for recorded data, :class:`~ec_mock.market.RecordedVenue`
(or, with ``[vendors.mock.replay] venue = "book"``, a
:class:`~ec_mock.market.ReplayFeeder` that shows every recorded quote to the full
book), so ``ec replay`` replays recorded ticks without importing ec-mock. While a
recorded venue is in use, this session's requests go through it.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, final

import msgspec
from ec_core.calendar import datetime_ns
from ec_core.clock import Clock
from ec_core.errors import (
    ConnectionLostError,
    OrderRejectedError,
    SymbolNotFoundError,
)
from ec_core.model import (
    Account,
    AccountReport,
    ExecutionReport,
    Instrument,
    MarketEvent,
    OrderRequest,
    Position,
    PositionReport,
    ReportKind,
    SessionState,
    TradeEvent,
)
from ec_core.session import SessionLifecycle, StateListener
from ec_core.streams import (
    DEFAULT_MARKET_CAPACITY,
    DEFAULT_TRADE_CAPACITY,
    MarketChannel,
    MarketSubscribers,
    TradeChannel,
    TradeHub,
)

from ec_mock.engine.codes import RejectCode
from ec_mock.vendor.history import MockHistoryFeed
from ec_mock.vendor.market_feed import MockMarketDataFeed

if TYPE_CHECKING:
    from ec_mock.market import RecordedFillModel, RecordedVenue, ReplayFeeder
    from ec_mock.vendor.faultgate import FaultGate
    from ec_mock.vendor.venue import MockVenue

__all__ = [
    "MockMarketDataFeed",
    "MockOrderGateway",
    "MockSession",
    "MockTradeMonitor",
]


def __getattr__(name: str) -> object:
    """``UnknownSymbolError``: the old name of :class:`ec_core.errors.SymbolNotFoundError`."""
    if name == "UnknownSymbolError":
        warnings.warn(
            "ec_mock.vendor.UnknownSymbolError is deprecated: catch"
            " ec_core.errors.SymbolNotFoundError (raised by every vendor)",
            DeprecationWarning,
            stacklevel=2,
        )
        return SymbolNotFoundError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@final
class MockSession:
    """A logged-on view of a :class:`~ec_mock.vendor.venue.MockVenue`; see the module docstring."""

    def __init__(
        self,
        venue: MockVenue,
        *,
        account_ids: Sequence[str],
        gate: FaultGate | None = None,
        market_buffer: int = DEFAULT_MARKET_CAPACITY,
        trade_buffer: int = DEFAULT_TRADE_CAPACITY,
        vendor: str = "mock",
        replay_model: RecordedFillModel | None = None,
        seed: int = 0,
        on_state: StateListener | None = None,
    ) -> None:
        self.venue = venue
        self.account_ids = tuple(account_ids)
        self.gate = gate
        self.market_buffer = market_buffer
        self.trade_buffer = trade_buffer
        self._vendor = vendor
        self._on_state = on_state
        self._live = False  # LOGGED_ON: read per request and per event, kept by _moved
        self.lifecycle = SessionLifecycle(listener=self._moved)
        self._instruments: dict[str, Instrument] = {}
        self.trade_hub = TradeHub(self._account_snapshot, capacity=trade_buffer)
        self.market_subscribers: MarketSubscribers[MarketChannel[Any]] = MarketSubscribers()
        self._ids = itertools.count(1)
        self._orders = MockOrderGateway(self)
        self._market = MockMarketDataFeed(self)
        self._trades = MockTradeMonitor(self)
        self._history = MockHistoryFeed(self)
        self.reconnects = 0
        self._replay: RecordedVenue | ReplayFeeder | None = None
        self._replay_model = replay_model
        self._seed = seed
        # requests go through it while set: ``replay`` sets it, a restart drops it
        self.recorded: RecordedVenue | None = None

    # -- Session protocol ------------------------------------------------------

    @property
    def vendor(self) -> str:
        return self._vendor

    @property
    def state(self) -> SessionState:
        return self.lifecycle.state

    @property
    def orders(self) -> MockOrderGateway:
        return self._orders

    @property
    def market_data(self) -> MockMarketDataFeed:
        return self._market

    @property
    def trades(self) -> MockTradeMonitor:
        return self._trades

    @property
    def history(self) -> MockHistoryFeed:
        """Bars and ticks of the venue's tape: :class:`~ec_core.history.SupportsHistory`."""
        return self._history

    @property
    def clock(self) -> Clock:
        """The venue's clock (simulated or wall): :class:`~ec_core.vendor.SupportsClock`."""
        return self.venue.clock

    def venue_time_ns(self) -> int:
        """The venue's clock now (:class:`~ec_core.vendor.SupportsVenueTime`)."""
        return self.venue.clock.now_ns()

    @property
    def replay(self) -> RecordedVenue | ReplayFeeder | None:
        """The venue as a :class:`~ec_core.vendor.ReplayFeed` (see the module docstring).

        ``None`` on a wall clock or with the simulated market on: recorded ticks must
        be the only market. Made on first use, and again after a venue restart.
        """
        venue = self.venue
        if not venue.is_simulated or venue.simulator is not None:
            return None
        feeder = self._replay
        if feeder is None or feeder.exchange is not venue.exchange:
            from ec_mock.market import RecordedFillModel, RecordedVenue, ReplayFeeder

            model = self._replay_model or RecordedFillModel()
            if model.venue == "book":
                feeder = self._replay = ReplayFeeder(venue.exchange)
                self.recorded = None
            else:
                feeder = self._replay = RecordedVenue(venue.exchange, model, seed=self._seed)
                self.recorded = feeder
        return feeder

    async def accounts(self) -> Sequence[Account]:
        """The accounts this session trades, as the venue sees them now. Cancel-safe."""
        self._require_logged_on()
        return [self.venue.exchange.account(a) for a in self.account_ids]

    async def resolve(self, symbol: str) -> Instrument:
        """The venue's instrument for ``symbol``, cached; else ``SymbolNotFoundError``."""
        return self.venue_instrument(symbol)

    def venue_instrument(self, symbol: str) -> Instrument:
        """:meth:`resolve` without the await: the cached instrument, or SymbolNotFoundError."""
        cached = self._instruments.get(symbol)
        if cached is not None:
            return cached
        instrument = self.venue.exchange.instrument(symbol)
        if instrument is None:
            known = [i.symbol for i in self.venue.exchange.instruments()]
            raise SymbolNotFoundError(symbol, code="UNKNOWN_INSTRUMENT", known=known)
        self._instruments[symbol] = instrument
        return instrument

    # -- lifecycle -------------------------------------------------------------

    async def __aenter__(self) -> MockSession:
        self.lifecycle.advance(SessionState.CONNECTING)
        for account_id in self.account_ids:
            self.venue.ensure_account(account_id)
        self.venue.attach(self)
        self.lifecycle.advance(SessionState.LOGGED_ON)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.lifecycle.state is not SessionState.CLOSED:
            self.lifecycle.advance(SessionState.CLOSING)
        self.venue.detach(self)
        if self.gate is not None:
            self.gate.unbind()
        self.trade_hub.close()
        self.market_subscribers.close()
        self.lifecycle.advance(SessionState.CLOSED)

    def _moved(self, source: SessionState, target: SessionState) -> None:
        """Every state change: whether the line is up (one flag for the hot paths), then
        the ``on_state`` listener given at construction."""
        self._live = target is SessionState.LOGGED_ON
        if self._on_state is not None:
            self._on_state(source, target)

    def _require_logged_on(self) -> None:
        if not self._live:
            state = self.lifecycle.state
            raise ConnectionLostError(f"mock session is {state.value}, not LOGGED_ON")

    def next_cl_order_id(self) -> str:
        return f"mock-{next(self._ids)}"

    # -- disconnect / reconnect --------------------------------------------------

    def disconnect(self, detail: str) -> None:
        """The line drops: subscribers hear DISCONNECTED, then nothing until :meth:`reconnect`."""
        if self.lifecycle.state is not SessionState.LOGGED_ON:
            return
        self.lifecycle.advance(SessionState.RECONNECTING)
        self.trade_hub.disconnected(detail, self.venue.clock.now_ns())

    def reconnect(self) -> None:
        """Back on line: GAP, a fresh snapshot per subscriber, then RECONNECTED."""
        if self.lifecycle.state is not SessionState.RECONNECTING:
            return
        self.lifecycle.advance(SessionState.LOGGED_ON)
        self.reconnects += 1
        self.trade_hub.reconnected(self.venue.clock.now_ns())
        subscribers = self.market_subscribers
        for symbol in subscribers.symbols():
            for market_event in self.market_snapshot(symbol):
                subscribers.publish(symbol, market_event)
            self.publish_depth(symbol)

    # -- VenueLink ---------------------------------------------------------------

    def on_trade_event(self, event: TradeEvent) -> None:
        if not self._live:
            return  # lost on the line
        if self.market_subscribers.depth_subscribers and isinstance(event, ExecutionReport):
            self.publish_depth(event.symbol)
        if self.gate is not None:
            self.gate.put(event, self.venue.clock.now_ns())
        else:
            self.trade_hub.publish(event)  # deliver_trade, its state known

    def on_market_event(self, event: MarketEvent) -> None:
        if not self._live:
            return
        if self.market_subscribers.depth_subscribers:
            self.publish_depth(event.symbol)
        if self.gate is not None:
            self.gate.put(event, self.venue.clock.now_ns())
        else:
            self.market_subscribers.publish(event.symbol, event)  # deliver_market

    def on_time(self, now_ns: int) -> None:
        if self.gate is not None:
            self.gate.on_time(now_ns)

    def on_restart(self, *, kept_state: bool) -> None:
        # the recorded venue serves the old exchange: requests go to the new one until
        # ``replay`` makes a venue for it (a check here, not per request)
        self.recorded = None
        detail = "exchange restarted " + ("with its state" if kept_state else "empty")
        self.disconnect(detail)
        self.reconnect()

    def deliver_trade(self, event: TradeEvent) -> None:
        """Hand ``event`` to the subscribers of its account (the gate calls this too)."""
        if not self._live:
            return
        self.trade_hub.publish(event)

    def publish_depth(self, symbol: str) -> None:
        """Every order event may move a level, so depth subscribers of ``symbol`` get the
        book's top levels whenever they differ from what each last got. Read from the
        engine at once: a fault plan delays quotes and trades, not depth."""
        subscribers = self.market_subscribers
        if not subscribers.wants_depth(symbol):
            return
        depth = self.venue.exchange.book_depth(symbol)
        if depth is not None:
            subscribers.publish_depth(depth)

    def deliver_market(self, event: MarketEvent) -> None:
        if not self._live:
            return
        self.market_subscribers.publish(event.symbol, event)

    # -- snapshots ---------------------------------------------------------------

    def _account_snapshot(self, account_id: str, now: int) -> Iterator[TradeEvent]:
        """Open orders (as STATUS reports), positions, the account (the hub's snapshot)."""
        exchange = self.venue.exchange
        for report in exchange.open_orders(account_id):
            if report.kind is not ReportKind.STATUS:
                report = msgspec.structs.replace(report, kind=ReportKind.STATUS)
            yield report
        for position in exchange.positions(account_id):
            yield PositionReport(position=position, ts_ns=now)
        yield AccountReport(account=exchange.account(account_id), ts_ns=now)

    def market_snapshot(self, symbol: str) -> Iterator[MarketEvent]:
        exchange = self.venue.exchange
        quote = exchange.best_quote(symbol)
        if quote is not None:
            yield quote
        trade = exchange.last_trade(symbol)
        if trade is not None:
            yield trade

    # -- subscriptions -------------------------------------------------------------

    def add_market_channel(self, symbol: str, channel: MarketChannel[Any]) -> None:
        self.market_subscribers.subscribe(symbol, channel, depth=channel.depth)
        if channel.depth:
            self.publish_depth(symbol)  # the depth snapshot, after quote and trade

    def remove_market_channel(self, symbol: str, channel: MarketChannel[Any]) -> None:
        self.market_subscribers.unsubscribe(symbol, channel)


@final
class MockOrderGateway:
    """Order entry straight into the engine; outcomes arrive on the trade stream."""

    def __init__(self, session: MockSession) -> None:
        self._session = session

    async def send(self, request: OrderRequest) -> None:
        """Submit ``request``; an empty ``cl_order_id`` gets one. Raises ConnectionLostError
        when the session is not logged on, and :class:`OrderRejectedError`
        (``UNKNOWN_ACCOUNT``) at once for an account this logon does not trade: its
        answer would go to a stream nobody here reads. Cancel-safe: the submit is
        synchronous."""
        session = self._session
        if not session._live:
            session._require_logged_on()
        if request.account_id not in session.account_ids:
            raise OrderRejectedError(
                f"unknown account {request.account_id!r}: this logon trades"
                f" {', '.join(session.account_ids)}",
                code=RejectCode.UNKNOWN_ACCOUNT.value,
                cl_order_id=request.cl_order_id or None,
            )
        if not request.cl_order_id:
            request = msgspec.structs.replace(request, cl_order_id=session.next_cl_order_id())
        recorded = session.recorded  # None since a restart replaced its exchange
        if recorded is not None:
            recorded.submit(request)
        else:
            session.venue.exchange.submit(request)

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        """The engine's current report of the order, or ``None``. Cancel-safe."""
        self._session._require_logged_on()
        return self._session.venue.exchange.order_status(account_id, cl_order_id)

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        """Every order of the account that is not final. Cancel-safe."""
        self._session._require_logged_on()
        return list(self._session.venue.exchange.open_orders(account_id))

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        """Orders active between ``start`` and ``end`` (naive means UTC). Cancel-safe."""
        self._session._require_logged_on()
        exchange = self._session.venue.exchange
        return list(
            exchange.historical_orders(
                account_id,
                datetime_ns(start, naive_as_utc=True),
                datetime_ns(end, naive_as_utc=True),
            )
        )


@final
class MockTradeMonitor:
    """Orders, positions and the account of one account: snapshot, then live events."""

    def __init__(self, session: MockSession) -> None:
        self._session = session

    @asynccontextmanager
    async def stream(self, account_id: str) -> AsyncIterator[TradeChannel]:
        """Subscribe to ``account_id``; see :class:`~ec_core.vendor.TradeMonitor`."""
        session = self._session
        session._require_logged_on()
        async with session.trade_hub.stream(account_id, session.venue.clock.now_ns) as channel:
            yield channel

    async def positions(self, account_id: str) -> Sequence[Position]:
        """Current positions of the account. Cancel-safe."""
        self._session._require_logged_on()
        return list(self._session.venue.exchange.positions(account_id))
