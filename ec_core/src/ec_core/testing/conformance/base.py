"""The base of every kit class: the fixtures an author provides, the ones the kit derives,
the requirement check, the override guard, and helpers the kit tests share.

Fixtures the plugin author **must** provide (in the subclass or a conftest):

``open_vendor_session``  a zero-argument callable returning the session's async context
                         manager, e.g. ``lambda: host.open_session("acme", settings)``.
``account_id``           the account the kit trades (use a dedicated test account).
``instrument_symbol``    a symbol the backend resolves and quotes.

Fixtures the author **may** override (the kit's default in brackets):

``vendor_session``       an open session [opened with ``open_vendor_session``].
``vendor_capabilities``  what the tests may rely on [the ``VendorInfo.capabilities`` the
                         vendor's factory declares, found by ``vendor_name``].
``market_control``       a :class:`~ec_core.testing.conformance.MarketControl`, or ``None``
                         when the backend cannot be made to trade [``None``]. One with an
                         async ``clear()`` (``SessionMarketControl``) is cleared after
                         each test.
``connection_control``   a :class:`~ec_core.testing.conformance.ConnectionControl` that
                         drops the session's line, or ``None`` [``None``]; the reconnect
                         test needs it.
``host``                 the :class:`~ec_core.plugins.PluginHost` whose parts, wrappers and
                         validators the Executor tests use [``PluginHost.load()``].
``venue_clock``          now on the backend's clock in ns, a zero-argument callable [the
                         session's ``venue_time_ns()`` when it is a ``SupportsVenueTime``
                         that knows it, else its ``clock``, else the wall clock].
``let_time_pass``        a zero-argument callable moving a simulated backend's clock on a
                         little, or ``None`` when its time runs by itself [``None``].
``reference_price``      a price near the market [the best bid, else the last trade, of
                         the market-data snapshot]; kit orders rest ``passive_offset_ticks``
                         below it, where nothing trades with them unless the kit says so.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import pytest

from ec_core.model import (
    CancelOrder,
    Duration,
    ExecutionReport,
    Instrument,
    NewOrder,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    Rounding,
    SessionState,
    Side,
    SnapshotComplete,
    Trade,
    TradeEvent,
)
from ec_core.testing.conformance.control import ConnectionControl, MarketControl
from ec_core.testing.conformance.events import EventReader, TradeReader
from ec_core.testing.conformance.guard import check_class_marks, check_overrides
from ec_core.testing.conformance.journal import TradeJournal
from ec_core.testing.conformance.requirements import (
    missing_requirements,
    requirements_of,
    skip_reason,
)
from ec_core.vendor import Capability, Session

if TYPE_CHECKING:
    from ec_core.plugins import PluginHost

__all__ = [
    "SNAPSHOT_RULE",
    "ConformanceBase",
    "KitOrders",
    "SessionOpener",
    "declared_capabilities",
]

SessionOpener: TypeAlias = Callable[[], AbstractAsyncContextManager[Session]]

SNAPSHOT_RULE = "a trade subscription sends its snapshot, then SnapshotComplete, then live events"

_RUN = uuid.uuid4().hex[:8]  # client ids of two runs on one real account never collide
_SEQUENCE = itertools.count(1)


def declared_capabilities(vendor: str) -> frozenset[Capability]:
    """The capabilities the installed plugin of ``vendor`` declares in its ``VendorInfo``."""
    from ec_core.plugins import PluginHost

    if not vendor:
        pytest.fail(
            "conformance: set the class attribute vendor_name (the vendor's registered name)"
            " or override the vendor_capabilities fixture",
            pytrace=False,
        )
    registry = PluginHost.load().vendors()
    factory = registry.get(vendor)
    if factory is None:
        pytest.fail(
            f"conformance: vendor {vendor!r} is not registered (registered: {registry.names()})",
            pytrace=False,
        )
    return factory.info.capabilities


class KitOrders:
    """Client order ids a test made, so the kit can clean up what is still working."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def new_id(self, tag: str = "") -> str:
        cl = f"kit{_RUN}-{next(_SEQUENCE)}{tag}"
        self.ids.append(cl)
        return cl

    def __contains__(self, cl_order_id: object) -> bool:
        return cl_order_id in self.ids

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)


class ConformanceBase:
    """Fixtures, requirement check and override guard shared by the kit's test classes.

    Subclass a kit class (``VendorConformance`` for all of them) in a test module whose
    name pytest collects, name the class ``Test...``, and provide the fixtures listed in
    this module's docstring.
    """

    vendor_name: ClassVar[str] = ""
    """The name the vendor registers (``VendorInfo.name``); also checked on the session."""

    timeout: ClassVar[float] = 10.0
    """Deadline in seconds for each awaited event (a safety net, never a sleep)."""

    passive_offset_ticks: ClassVar[int] = 20
    """How far below ``reference_price`` the kit rests orders that must not trade."""

    _ec_kit_own: ClassVar[dict[str, type]] = {}

    def __init_subclass__(cls, *, kit: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kit:  # one of the kit's own classes: remember the tests it defines
            cls._ec_kit_own = {name: cls for name in vars(cls) if name.startswith("test_")}
            return
        check_overrides(cls, cls.kit_tests())
        check_class_marks(cls, ConformanceBase)

    @classmethod
    def kit_tests(cls) -> dict[str, type]:
        """Every kit test this class inherits, by name, with the kit class defining it."""
        tests: dict[str, type] = {}
        for base in reversed(cls.__mro__[1:]):
            tests.update(vars(base).get("_ec_kit_own", {}))
        return tests

    # -- fixtures ------------------------------------------------------------------

    @pytest.fixture
    async def vendor_session(self, open_vendor_session: SessionOpener) -> AsyncIterator[Session]:
        async with open_vendor_session() as session:
            yield session

    @pytest.fixture
    def vendor_capabilities(self) -> frozenset[Capability]:
        return declared_capabilities(self.vendor_name)

    @pytest.fixture
    def market_control(self) -> MarketControl | None:
        return None

    @pytest.fixture
    def connection_control(self) -> ConnectionControl | None:
        return None

    @pytest.fixture
    def host(self) -> PluginHost:
        from ec_core.plugins import PluginHost

        return PluginHost.load()

    @pytest.fixture(autouse=True)
    async def _ec_clear_market_control(
        self, market_control: MarketControl | None
    ) -> AsyncIterator[None]:
        """After each test: cancel what the market control left resting (a shared venue)."""
        yield
        clear = getattr(market_control, "clear", None)
        if clear is not None:
            await clear()

    @pytest.fixture
    def venue_clock(self, vendor_session: Session) -> Callable[[], int]:
        """Now on the backend's clock, in ns: history ranges are asked in its time (a
        server behind the wall has no minute after its own now)."""
        from ec_core.front import venue_clock as clock_of
        from ec_core.front import venue_now_ns

        clock = clock_of(vendor_session)
        return lambda: venue_now_ns(vendor_session, clock)

    @pytest.fixture
    def let_time_pass(self) -> Callable[[], None] | None:
        """Move the backend's clock on a little (a simulated venue), or ``None`` when its
        time runs by itself; the history kit uses it to make "now" part of the past."""
        return None

    @pytest.fixture(autouse=True)
    def _ec_requirements(
        self,
        request: pytest.FixtureRequest,
        vendor_capabilities: frozenset[Capability],
        market_control: MarketControl | None,
        connection_control: ConnectionControl | None,
    ) -> None:
        """Skip a kit test whose needs the backend does not meet, naming what is missing.

        It also repeats the override guard, for a test replaced after class creation.
        """
        check_overrides(type(self), self.kit_tests())
        if market_control is not None and not isinstance(market_control, MarketControl):
            pytest.fail(
                f"conformance: market_control must satisfy MarketControl (an async"
                f" place(instrument, side, price, qty)), got {type(market_control).__name__}",
                pytrace=False,
            )
        missing = missing_requirements(
            requirements_of(request.function),
            capabilities=vendor_capabilities,
            market_control=market_control is not None,
            connection_control=connection_control is not None,
        )
        if missing:
            pytest.skip(skip_reason(self.vendor_name or "?", missing))

    @pytest.fixture
    async def instrument(self, vendor_session: Session, instrument_symbol: str) -> Instrument:
        return await vendor_session.resolve(instrument_symbol)

    @pytest.fixture
    async def reference_price(self, vendor_session: Session, instrument: Instrument) -> Decimal:
        async with vendor_session.market_data.stream([instrument]) as events:
            reader = EventReader(events, timeout=self.timeout, name="market data")
            event = await reader.next_matching(
                lambda e: (isinstance(e, Quote) and e.bid is not None) or isinstance(e, Trade),
                f"a bid or a trade of {instrument.symbol} to price the kit's orders from",
            )
        ticks = event.bid if isinstance(event, Quote) else event.price
        assert ticks is not None, f"a market event that prices the kit carries a price: {event!r}"
        return instrument.to_price(ticks)

    @pytest.fixture
    def trade_journal(self) -> TradeJournal:
        return TradeJournal()

    @pytest.fixture
    async def kit_orders(
        self,
        vendor_session: Session,
        account_id: str,
        trade_journal: TradeJournal,
        market_control: MarketControl | None,
    ) -> AsyncIterator[KitOrders]:
        """The test's client ids. At teardown what is still working is cancelled, and the
        position the test's fills built is traded back (with the market control), so a
        shared test account ends each test as it began."""
        orders = KitOrders()
        yield orders
        await self._cancel_leftovers(vendor_session, account_id, orders)
        if market_control is not None and _usable(vendor_session):
            clear = getattr(market_control, "clear", None)
            if clear is not None:
                await clear()
            await self._flatten(vendor_session, account_id, trade_journal, market_control, orders)

    # -- helpers -------------------------------------------------------------------

    def price(self, instrument: Instrument, reference: Decimal, ticks_below: int = 0) -> Decimal:
        """A price ``passive_offset_ticks + ticks_below`` ticks under ``reference``."""
        base = instrument.to_ticks(reference, Rounding.DOWN)
        return instrument.to_price(base - self.passive_offset_ticks - ticks_below)

    @asynccontextmanager
    async def trade_stream(
        self, session: Session, account_id: str, journal: TradeJournal
    ) -> AsyncIterator[TradeReader]:
        """Subscribe and read up to ``SnapshotComplete``; every report is journal-checked."""
        async with session.trades.stream(account_id) as events:
            reader = TradeReader(
                events, timeout=self.timeout, name=f"trade stream of {account_id}", journal=journal
            )
            await reader.next_matching(
                lambda e: isinstance(e, SnapshotComplete) and e.account_id == account_id,
                f"SnapshotComplete for {account_id} ({SNAPSHOT_RULE})",
            )
            yield reader

    async def report(
        self, reader: TradeReader, cl_order_id: str, *kinds: ReportKind, what: str = ""
    ) -> ExecutionReport:
        """The next report of ``cl_order_id`` of one of ``kinds``; a reject not asked for fails."""

        def matches(event: TradeEvent) -> bool:
            if not isinstance(event, ExecutionReport) or event.cl_order_id != cl_order_id:
                return False
            if event.kind is ReportKind.REJECTED and ReportKind.REJECTED not in kinds:
                raise AssertionError(
                    f"{cl_order_id} rejected: {event.reject_code} {event.reject_text}"
                )
            return event.kind in kinds

        names = "/".join(k.value for k in kinds)
        event = await reader.next_matching(matches, what or f"{names} report of {cl_order_id}")
        assert isinstance(event, ExecutionReport), (
            f"the matched event is an ExecutionReport, not {event!r}"
        )
        return event

    async def chain_report(
        self, reader: TradeReader, cl_order_id: str, *kinds: ReportKind, what: str = ""
    ) -> ExecutionReport:
        """The next report of one of ``kinds`` on the chain of ``cl_order_id`` (any client id)."""
        journal = reader.journal
        chain = journal.chain_key(cl_order_id) or cl_order_id

        def matches(event: TradeEvent) -> bool:
            if not isinstance(event, ExecutionReport):
                return False
            if journal.chain_key(event.cl_order_id) != chain:
                return False
            if event.kind is ReportKind.REJECTED and ReportKind.REJECTED not in kinds:
                raise AssertionError(
                    f"a request on {cl_order_id} was rejected: {event.reject_code}"
                    f" {event.reject_text}"
                )
            return event.kind in kinds

        names = "/".join(k.value for k in kinds)
        event = await reader.next_matching(matches, what or f"{names} report of {cl_order_id}")
        assert isinstance(event, ExecutionReport), (
            f"the matched event is an ExecutionReport, not {event!r}"
        )
        return event

    async def cancel(
        self,
        session: Session,
        reader: TradeReader,
        *,
        account_id: str,
        instrument: Instrument,
        cl_order_id: str,
        orders: KitOrders,
    ) -> ExecutionReport:
        """Cancel the working order ``cl_order_id``; return the chain's CANCELLED report."""
        await session.orders.send(
            CancelOrder(
                account_id=account_id,
                symbol=instrument.symbol,
                orig_cl_order_id=cl_order_id,
                cl_order_id=orders.new_id("c"),
            )
        )
        return await self.chain_report(reader, cl_order_id, ReportKind.CANCELLED)

    async def cancel_still_working(
        self,
        session: Session,
        reader: TradeReader,
        *,
        account_id: str,
        instrument: Instrument,
        cl_order_id: str,
        orders: KitOrders,
        rule: str,
    ) -> None:
        """Check ``order_status`` still lists ``cl_order_id`` as WORKING, then cancel it."""
        status = await session.orders.order_status(account_id, cl_order_id)
        assert status is not None, f"{rule}: order_status no longer knows {cl_order_id!r}"
        assert status.state is OrderState.WORKING, f"{rule}: order_status says {status}"
        cancelled = await self.cancel(
            session,
            reader,
            account_id=account_id,
            instrument=instrument,
            cl_order_id=cl_order_id,
            orders=orders,
        )
        assert cancelled.state is OrderState.CANCELLED, (
            f"{rule}: it can still be cancelled, got {cancelled}"
        )

    async def rest_limit(
        self,
        session: Session,
        reader: TradeReader,
        *,
        account_id: str,
        instrument: Instrument,
        cl_order_id: str,
        side: Side,
        qty: int,
        price: Decimal,
    ) -> ExecutionReport:
        """Send a DAY limit order and return its ACCEPTED report."""
        await session.orders.send(
            limit_order(account_id, instrument.symbol, cl_order_id, side, qty, price)
        )
        return await self.report(reader, cl_order_id, ReportKind.ACCEPTED)

    async def _cancel_leftovers(self, session: Session, account_id: str, orders: KitOrders) -> None:
        """Best effort: cancel the kit's orders the venue still lists as open."""
        if not orders.ids or not _usable(session):
            return
        for report in await session.orders.open_orders(account_id):
            if report.cl_order_id in orders or report.chain_id in orders:
                await session.orders.send(
                    CancelOrder(
                        account_id=account_id,
                        symbol=report.symbol,
                        orig_cl_order_id=report.cl_order_id,
                        cl_order_id=orders.new_id("x"),
                    )
                )

    async def _flatten(
        self,
        session: Session,
        account_id: str,
        journal: TradeJournal,
        control: MarketControl,
        orders: KitOrders,
    ) -> None:
        """Trade back what the fills the test read added to the account, per symbol: rest
        the opposite order at the last fill's price and have the control cross it."""
        for symbol, (net, price) in journal.net_fills(account_id).items():
            if net == 0:
                continue
            instrument = await session.resolve(symbol)
            side, qty = (Side.SELL, net) if net > 0 else (Side.BUY, -net)
            cl = orders.new_id("f")
            async with self.trade_stream(session, account_id, TradeJournal()) as reader:
                await session.orders.send(limit_order(account_id, symbol, cl, side, qty, price))
                await self.report(reader, cl, ReportKind.ACCEPTED, what=f"the flattening {cl}")
                other = Side.BUY if side is Side.SELL else Side.SELL
                await control.place(instrument, other, price, qty)
                filled = 0
                while filled < qty:
                    fill = await self.report(
                        reader, cl, ReportKind.FILL, what=f"fills of the flattening {cl}"
                    )
                    filled = fill.filled_qty


def limit_order(
    account_id: str, symbol: str, cl_order_id: str, side: Side, qty: int, price: Decimal
) -> NewOrder:
    """A DAY limit order: the kind of order every kit test rests."""
    return NewOrder(
        account_id=account_id,
        symbol=symbol,
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=price,
        duration=Duration.DAY,
        cl_order_id=cl_order_id,
    )


def _usable(session: Session) -> bool:
    return session.state is SessionState.LOGGED_ON
