"""The front door: ``async with ec_core.connect("mock") as trader:`` and trade.

:func:`connect` opens the vendor's session and builds the same order path ``ec run``
uses (:func:`ec_core.strategy.rig.order_path`): the executor (one choke point), the
tracker, the journal and the pre-trade checks, as the settings say. A real vendor
trades only inside limits: without a ``limits_file`` (default deny) connecting to
it is refused with an error that says so; a vendor whose factory declares itself
paper (``VendorInfo.paper``: the ``mock``, the in-process simulator) runs with the
host's validators alone when no file is given. No vendor is known here by name: what
the front door needs of one is what its factory declares (:mod:`ec_core.vendor`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from decimal import Decimal
from typing import Any, TypeAlias, final

import msgspec

from ec_core.clock import Clock, WallClock
from ec_core.data.feed import NOTED_EVENTS, DataFeed, FeedSet
from ec_core.errors import ConfigError
from ec_core.execution import Payload, PreTradeGate
from ec_core.journal import Journal
from ec_core.model import Instrument, MarketEvent, Order, OrderRequest, Position
from ec_core.plugins import PluginHost, SessionParts
from ec_core.settings import Settings, load_settings
from ec_core.strategy.context import SupportsExecute
from ec_core.strategy.rig import order_path
from ec_core.tracking import OrderTracker
from ec_core.vendor import (
    OpensAccounts,
    Session,
    SupportsClock,
    SupportsVenueTime,
    VendorFactory,
)

__all__ = [
    "Trader",
    "Venue",
    "account_of",
    "connect",
    "open_venue",
    "pre_trade_checks",
    "require_limits",
    "venue_clock",
    "venue_now_ns",
]


MarketSource: TypeAlias = Callable[
    [tuple[str, ...]], AbstractAsyncContextManager[AsyncIterator[MarketEvent]]
]
"""Where a trader without a session of its own gets quotes (a gateway's streams)."""


@final
class Trader:
    """One account on one session: send orders, read orders, positions and P&L."""

    def __init__(
        self,
        *,
        session: Session | None,
        host: PluginHost | None,
        account_id: str,
        executor: SupportsExecute,
        tracker: OrderTracker,
        instruments: dict[str, Instrument],
        market: MarketSource | None = None,
        feeds: FeedSet | None = None,
        lookup: Callable[[str], Awaitable[Instrument]] | None = None,
    ) -> None:
        self.session = session  # None through a gateway (it holds the session)
        self.venue: SessionParts | None = (
            host.parts(session) if host is not None and session is not None else None
        )
        """The session's parts as the host hands them out and the venue's own word
        (``open_orders``, ``order_status``, ``positions``, ...), beside the tracker's;
        ``None`` through a gateway."""
        self.account_id = account_id
        self.executor = executor
        self.tracker = tracker
        self._instruments = instruments
        self._market = market
        self._lookup = lookup  # through a gateway: asks it (the venue is the gateway's)
        self.feeds = feeds if feeds is not None else FeedSet()
        """What :meth:`quotes` streamed, by symbol (bid, ask, last, bars): the reference
        price of the price band and notional limits, as a strategy's feeds are in ec run
        (through a gateway, whose checks judge orders, the gateway's own feeds are)."""

    async def execute(self, request: OrderRequest | Payload) -> Order | None:
        """Send through the executor (checks, journal, send, answer); see ``Executor.execute``."""
        payload = request if isinstance(request, Payload) else Payload(request=request)
        symbol = getattr(payload.request, "symbol", None)
        if symbol and symbol not in self._instruments and self.venue is not None:
            await self.instrument(symbol)
        return await self.executor.execute(payload)

    async def instrument(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``, resolved at the venue (or asked of the gateway)
        once and kept: the order path's checks use it, and the tracker prices the fills
        of ``symbol`` it booked in price points (:meth:`pnl` answers again). Raises
        :class:`~ec_core.errors.SymbolNotFoundError` when the venue lists none."""
        found = self._instruments.get(symbol)
        if found is None:
            if self.venue is not None:
                found = self._instruments[symbol] = await self.venue.resolve(symbol)
            else:
                assert self._lookup is not None  # a trader has a session or a gateway
                found = await self._lookup(symbol)
        return found

    async def wait_final(self, order: Order | str) -> Order:
        """Wait until ``order`` (an order or its id) is final: filled, cancelled, rejected."""
        order_id = order if isinstance(order, str) else order.chain_id
        return await self.tracker.wait_for(order_id, lambda o: o.state.is_final)

    def orders(self) -> list[Order]:
        return self.tracker.orders(self.account_id)

    def positions(self) -> list[Position]:
        return self.tracker.positions(self.account_id)

    def pnl(self) -> Decimal:
        """Realized P&L of the account, in money; raises :class:`PnlUnknownError` naming
        the symbols whose instrument is not known here (their fills are booked in price
        points: see ``tracker.unpriced()``) until it is."""
        return self.tracker.realized_pnl(self.account_id)

    @asynccontextmanager
    async def quotes(self, symbols: Sequence[str]) -> AsyncIterator[AsyncIterator[MarketEvent]]:
        """Subscribe to ``symbols``; iterate their quotes and trades; unsubscribe on exit."""
        if self._market is not None:
            async with self._market(tuple(symbols)) as events:
                # the subscription resolved them (a gateway's checks read its own feeds)
                self._note([self._instruments[symbol] for symbol in symbols])
                yield _NotedStream(events, self.feeds, symbols)
            return
        venue = self.venue
        assert venue is not None  # a trader has a session of its own or a market source
        instruments = [await self.instrument(symbol) for symbol in symbols]
        self._note(instruments)
        async with venue.market_data.stream(instruments) as events:
            yield _NotedStream(events, self.feeds, symbols)

    def _note(self, instruments: Sequence[Instrument]) -> None:
        """A feed in :attr:`feeds` for each instrument that has none yet."""
        for instrument in instruments:
            if instrument.symbol not in self.feeds:
                self.feeds.add(DataFeed(instrument))


@final
class _NotedStream:
    """A market stream that notes each quote and trade in the trader's feeds as it passes.

    A subscription that ends with an error marks its symbols' feeds stale: their frozen
    prices are no price band reference until the next quote (a block left normally keeps
    them, as the quickstart says)."""

    __slots__ = ("_events", "_feeds", "_symbols")

    def __init__(
        self, events: AsyncIterator[MarketEvent], feeds: FeedSet, symbols: Sequence[str]
    ) -> None:
        self._events = events
        self._feeds = feeds
        self._symbols = tuple(symbols)

    def __aiter__(self) -> _NotedStream:
        return self

    async def __anext__(self) -> MarketEvent:
        try:
            event = await anext(self._events)
        except StopAsyncIteration:
            raise
        except Exception as exc:  # the market data stopped: cancellation is no error
            for symbol in self._symbols:
                self._feeds.mark_stale(symbol, str(exc))
            raise
        if isinstance(event, NOTED_EVENTS):
            self._feeds.on_event(event)
        return event


def connect(
    vendor_or_settings: str | Settings = "mock",
    *,
    account_id: str | None = None,
    host: PluginHost | None = None,
    ack_timeout: float = 5.0,
    vendor_settings: dict[str, Any] | None = None,
    worker: str | None = None,
) -> AbstractAsyncContextManager[Trader]:
    """Open a vendor's session and its order path; see the module docstring.

    ``vendor_or_settings``: a vendor name (its table of ``$EC_SETTINGS`` or the
    defaults) or a :class:`~ec_core.settings.Settings` (vendor, account, limits_file,
    journal_path). Raises :class:`~ec_core.errors.ConfigError` when a real vendor has
    no limits file, or the account is not one the session trades.

    ``"redis://host:port/db"`` (or ``rediss://``, TLS; ``?namespace=`` if not ``ec``)
    reaches ``ec gateway`` instead: the same trader, its orders executed by the
    gateway as ``worker`` (default ``$EC_WORKER``, else host-pid), which the gateway's
    config must allow for the account (``ec-core[gateway]``; see
    ``docs/guides/scale-out.md``).
    """
    if isinstance(vendor_or_settings, str) and vendor_or_settings.startswith(
        ("redis://", "rediss://")
    ):
        from ec_core.gateway import require_redis

        require_redis("connect(redis://...)")
        from ec_core.gateway.client import connect_gateway

        account = account_id or load_settings().account_id
        if not account:
            raise ConfigError("connect(redis://...): pass account_id= (the account to trade)")
        return connect_gateway(vendor_or_settings, account_id=account, worker=worker)
    return _connect(vendor_or_settings, account_id, host, ack_timeout, vendor_settings)


@asynccontextmanager
async def _connect(
    vendor_or_settings: str | Settings,
    account_id: str | None,
    host: PluginHost | None,
    ack_timeout: float,
    overrides: dict[str, Any] | None,
) -> AsyncIterator[Trader]:
    if isinstance(vendor_or_settings, Settings):
        settings = vendor_or_settings
    else:
        settings = msgspec.structs.replace(load_settings(), vendor=vendor_or_settings)
    vendor = settings.vendor
    if host is None:
        host = PluginHost.load()
    host.require_vendor(vendor)
    factory = host.vendor_factory(vendor)
    require_limits(factory, settings, f"connect({vendor!r})")
    table = settings.vendor_settings(vendor) | dict(overrides or {})
    account, table = account_of(factory, settings, table, account_id)
    if not account:
        raise ConfigError("no account: pass account_id= or set account_id in the settings")
    async with open_venue(host, settings, table) as venue:
        instruments: dict[str, Instrument] = {}
        feeds = FeedSet()
        async with order_path(
            host,
            venue.session,
            account_id=account,
            clock=venue.clock,
            instruments=instruments,
            checks=venue.checks,
            journal=venue.journal,
            ack_timeout=ack_timeout,
            prices=feeds.prices,
            stale_market=feeds.stale,
            reconcile=True,
        ) as path:
            yield Trader(
                session=venue.session,
                host=host,
                account_id=account,
                executor=path.executor,
                tracker=path.tracker,
                instruments=instruments,
                feeds=feeds,
            )


@final
class Venue:
    """A vendor session opened as the settings say, with the clock, the pre-trade checks
    and the journal an order path over it uses."""

    __slots__ = ("checks", "clock", "journal", "session")

    def __init__(
        self, session: Session, clock: Clock, checks: PreTradeGate | None, journal: Journal | None
    ) -> None:
        self.session = session
        self.clock = clock  # the venue's own (the mock's simulated time), else the wall
        self.checks = checks  # None without a limits file: the host's validators alone
        self.journal = journal  # None without a journal_path


@asynccontextmanager
async def open_venue(
    host: PluginHost,
    settings: Settings,
    table: dict[str, Any],
    *,
    accept_journal_loss: bool = False,
) -> AsyncIterator[Venue]:
    """Open ``settings.journal_path`` (before anything connects: a damaged journal stops
    here), the session of ``settings.vendor`` with its vendor ``table``, and the checks of
    ``settings.limits_file``. The one wiring :func:`connect`, ``ec run`` and ``ec replay``
    share; each then builds its order path over it (:func:`~ec_core.strategy.rig.order_path`)."""
    async with AsyncExitStack() as stack:
        journal = None
        if settings.journal_path:
            journal = stack.enter_context(
                Journal(settings.journal_path, accept_loss=accept_journal_loss)
            )
        session = await stack.enter_async_context(host.open_session(settings.vendor, table))
        clock = venue_clock(session)
        checks = (
            pre_trade_checks(host, settings.limits_file, clock) if settings.limits_file else None
        )
        yield Venue(session, clock, checks, journal)


def require_limits(factory: VendorFactory | None, settings: Settings, who: str) -> None:
    """A real vendor trades only inside a limits file (default deny); a paper one
    (``factory.info.paper``, the mock) may go without."""
    if not settings.limits_file and not (factory is not None and factory.info.paper):
        raise ConfigError(
            f"{who}: no limits_file. Limits are default deny: a real vendor"
            " trades only inside a limits file. Start from the sample: `ec limits sample"
            " --out limits.toml`, edit its accounts and instruments, check it with `ec"
            ' limits check limits.toml`, and set limits_file = "limits.toml" in the settings',
            path="limits_file",
        )


def account_of(
    factory: VendorFactory | None,
    settings: Settings,
    table: dict[str, Any],
    account_id: str | None,
) -> tuple[str, dict[str, Any]]:
    """The account to trade (``""``: none) and the vendor table to open it with.

    The account: given, else the settings', else the vendor table's, else the one the
    factory declares (``info.default_account``). A factory that opens the accounts it is
    told (:class:`~ec_core.vendor.OpensAccounts`, a simulator) gets a table that opens it;
    ``table`` itself is not changed."""
    default = factory.info.default_account if factory is not None else ""
    account = account_id or settings.account_id or str(table.get("account_id", "")) or default
    opener: object = factory  # mypy cannot narrow a VendorFactory to it
    if account and isinstance(opener, OpensAccounts):
        table = opener.with_accounts(table, [account])
    return account, table


def pre_trade_checks(host: PluginHost, limits_file: str, clock: Clock) -> PreTradeGate:
    """The full gate: limits (hot reload), the kill switch beside them, rate limits,
    then every registered validator."""
    from ec_core.safety import KillSwitch, LimitsFile, PreTradeChecks, RateLimiter

    return PreTradeChecks(
        host.validators(),
        limits=LimitsFile(limits_file, clock=clock),
        clock=clock,
        kill_switch=KillSwitch.beside(limits_file, clock=clock),
        rate_limiter=RateLimiter(),
    )


def venue_clock(session: object) -> Clock:
    """The venue's own clock when it keeps one (the mock's simulated time), else the wall."""
    return session.clock if isinstance(session, SupportsClock) else WallClock()


def venue_now_ns(session: object, clock: Clock) -> int:
    """The venue's time now: what the session says it is (:class:`SupportsVenueTime`),
    else ``clock``'s. History is asked up to it (a venue behind the wall has no minutes
    after it)."""
    if isinstance(session, SupportsVenueTime):
        told = session.venue_time_ns()
        if told is not None:
            return told
    return clock.now_ns()
