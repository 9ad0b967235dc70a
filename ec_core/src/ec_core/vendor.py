"""What a vendor plugin provides: a factory that opens sessions, and the session's parts.

A vendor plugin registers a :class:`VendorFactory` through the
``ec_register_vendors`` hook. ``factory.open(settings)`` returns an async context
manager; entering it connects and logs on, leaving it logs off and closes::

    async with factory.open(settings) as session:
        instrument = await session.resolve("CLE")
        async with session.market_data.stream([instrument]) as ticks:
            async for tick in ticks: ...

All per-tick and per-order traffic flows through the async iterators here, never
through pluggy. Every coroutine documents whether it is safe to cancel.

Optional extensions a session may offer, found with ``isinstance`` on the
runtime-checkable protocols (never by reaching into a vendor's objects):

* :class:`SupportsReplay` -- a simulated venue that takes recorded ticks as its
  market (:class:`ReplayFeed`); ``ec replay`` needs it. The ``mock`` vendor has it.
* :class:`~ec_core.history.SupportsHistory` -- bars and ticks of the past
  (``Capability.HISTORY``); strategies warm their bars from it.

A factory may offer one too:

* :class:`OpensAccounts` -- a venue whose session opens the accounts its settings
  name (a simulator); ``connect``, ``ec run`` and ``ec gateway`` tell it the accounts
  they trade. The ``mock`` vendor's factory has it; a broker's logon knows its accounts
  and needs none.
* :class:`TakesSeed` -- a seeded simulator: ``ec run --seed N`` asks it for the
  settings that seed it (the ``mock``'s does); any other vendor refuses ``--seed``.

What core needs to know of a vendor beyond these is declared in its :class:`VendorInfo`
(``capabilities``, ``paper``, ``default_account``), never found from its name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, overload, runtime_checkable

import msgspec

from ec_core.clock import Clock
from ec_core.model import (
    Account,
    BookDepth,
    ExecutionReport,
    Instrument,
    MarketEvent,
    OrderRequest,
    Position,
    SessionState,
    TradeEvent,
)

__all__ = [
    "Capability",
    "MarketDataFeed",
    "OpensAccounts",
    "OrderGateway",
    "ReplayFeed",
    "Session",
    "SupportsClock",
    "SupportsReplay",
    "SupportsVenueTime",
    "TakesSeed",
    "TradeMonitor",
    "VendorFactory",
    "VendorInfo",
]


class Capability(StrEnum):
    """What a vendor can do; tests and the conformance kit switch on these."""

    ORDERS = "orders"
    MODIFY = "modify"
    CANCEL_ALL = "cancel_all"
    LIQUIDATE = "liquidate"
    MARKET_DATA = "market_data"
    DEPTH = "depth"
    """``market_data.stream(..., depth=True)`` also yields :class:`~ec_core.model.BookDepth`:
    one after the snapshot, then one whenever the top levels change (aggregated per
    price, best first, integer ticks, never crossed). Without it a vendor raises
    ``ValueError`` for ``depth=True`` rather than leave the caller waiting."""
    POSITIONS = "positions"
    HISTORICAL_ORDERS = "historical_orders"
    RECONNECT = "reconnect"
    """A dropped line comes back by itself: each trade subscription gets ``SessionEvent(GAP)``,
    the snapshot again ended by ``SnapshotComplete``, then ``SessionEvent(RECONNECTED)``, and
    working orders stay working. The kit tests it through a ``connection_control`` the
    plugin author provides."""
    HISTORY = "history"
    """Bars and ticks of the past: the session is a :class:`~ec_core.history.SupportsHistory`."""


class VendorInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a vendor announces itself in ``ec plugins``."""

    name: str
    version: str
    distribution: str
    capabilities: frozenset[Capability] = frozenset()
    description: str = ""
    paper: bool = False
    """A simulator trading no real money (the ``mock``): ``connect`` and ``ec gateway``
    let it trade without a limits file, on the host's validators alone. A real venue,
    a broker's demo included, leaves it ``False``: no limits file, no trading."""
    default_account: str = ""
    """The account a session trades when neither the caller nor the settings name one
    (a simulator's built-in account, the mock's ``MOCK-1``); ``""``: they must name one."""


@runtime_checkable
class OrderGateway(Protocol):
    """Order entry for one session; outcomes arrive as reports on the trade stream."""

    async def send(self, request: OrderRequest) -> None:
        """Put ``request`` on the wire; return once it has left, not when it is answered.

        Raises :class:`~ec_core.errors.ConnectionLostError` if it could not be sent.
        Not cancel-safe once the write has begun: treat a cancelled send as UNKNOWN.
        """
        ...

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        """The venue's current word on one order, or ``None`` if unknown there. Cancel-safe."""
        ...

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        """Every order of the account that is not final, as the venue sees it. Cancel-safe."""
        ...

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        """Orders of the account active between ``start`` and ``end`` (UTC). Cancel-safe."""
        ...


@runtime_checkable
class MarketDataFeed(Protocol):
    """Market data for one session."""

    @overload
    def stream(
        self, instruments: Sequence[Instrument], *, depth: Literal[False] = False
    ) -> AbstractAsyncContextManager[AsyncIterator[MarketEvent]]: ...

    @overload
    def stream(
        self, instruments: Sequence[Instrument], *, depth: bool
    ) -> AbstractAsyncContextManager[AsyncIterator[MarketEvent | BookDepth]]: ...

    def stream(
        self, instruments: Sequence[Instrument], *, depth: bool = False
    ) -> AbstractAsyncContextManager[AsyncIterator[MarketEvent | BookDepth]]:
        """Subscribe; iterate quotes and trades of all ``instruments``; unsubscribe on exit.

        A snapshot (current best bid/ask, last trade) comes first, then updates.
        With ``depth=True`` (vendors declaring ``Capability.DEPTH``) the stream also
        yields :class:`~ec_core.model.BookDepth` events, each the whole top of the
        book (levels aggregated per price, best first): one in the snapshot, then one
        per change. A vendor without the capability raises ``ValueError`` naming it.
        """
        ...


@runtime_checkable
class TradeMonitor(Protocol):
    """Orders, positions and account state for one session."""

    def stream(self, account_id: str) -> AbstractAsyncContextManager[AsyncIterator[TradeEvent]]:
        """Subscribe to one account: a snapshot of open orders, positions and the account,
        then :class:`~ec_core.model.SnapshotComplete`, then live events. After a reconnect
        the vendor replays the snapshot and emits ``SessionEvent(GAP)`` first."""
        ...

    async def positions(self, account_id: str) -> Sequence[Position]:
        """Current positions of the account. Cancel-safe."""
        ...


@runtime_checkable
class Session(Protocol):
    """A logged-on connection to one vendor, valid inside its ``async with`` block."""

    @property
    def vendor(self) -> str: ...

    @property
    def state(self) -> SessionState: ...

    @property
    def orders(self) -> OrderGateway: ...

    @property
    def market_data(self) -> MarketDataFeed: ...

    @property
    def trades(self) -> TradeMonitor: ...

    async def accounts(self) -> Sequence[Account]:
        """Accounts this logon may trade. Cancel-safe."""
        ...

    async def resolve(self, symbol: str) -> Instrument:
        """Resolve a symbol to an :class:`Instrument` (cached per session). Cancel-safe."""
        ...


@runtime_checkable
class VendorFactory(Protocol):
    """Registered by a vendor plugin; opens sessions from settings."""

    @property
    def info(self) -> VendorInfo: ...

    def open(
        self,
        settings: Mapping[str, Any],
        *,
        on_state: Callable[[SessionState, SessionState], None] | None = None,
    ) -> AbstractAsyncContextManager[Session]:
        """Return a context manager that connects on enter and closes on exit.

        ``settings`` is the vendor's table from the settings file, secrets already
        resolved from the environment. Raise :class:`~ec_core.errors.ConfigError`
        for a bad value, naming the key. Must not do I/O before ``__aenter__``.

        ``on_state(old, new)`` is the host's listener (it calls every
        ``ec_on_session_state`` observer): give it to the session's
        :class:`~ec_core.session.SessionLifecycle` (``SessionLifecycle(listener=on_state)``)
        and every state change reaches the observers with no more code. A factory whose
        ``open`` does not take it still works, with a ``DeprecationWarning``, and only
        its opening and closing are reported (:mod:`ec_core.plugins.session_state`).
        """
        ...


# -- optional extensions -------------------------------------------------------------------


@runtime_checkable
class OpensAccounts(Protocol):
    """A factory whose sessions open the accounts their settings name (an optional
    capability, found with ``isinstance``): a simulator has no logon to learn them from.

    Core never writes a vendor's settings keys itself: a caller that trades given
    accounts (``ec gateway``) asks the factory for the settings that open them.
    """

    def with_accounts(self, settings: Mapping[str, Any], accounts: Sequence[str]) -> dict[str, Any]:
        """``settings`` (not changed) with every one of ``accounts`` opened too; an account
        the settings already name stays as they say."""
        ...


@runtime_checkable
class TakesSeed(Protocol):
    """A factory of a seeded simulator (an optional capability, found with ``isinstance``):
    the same seed gives the same market and the same fills. ``ec run --seed N`` asks it
    for the settings that seed a session; a vendor without it refuses ``--seed``."""

    def with_seed(self, settings: Mapping[str, Any], seed: int) -> dict[str, Any]:
        """``settings`` (not changed) with ``seed`` in the vendor's own key."""
        ...


@runtime_checkable
class ReplayFeed(Protocol):
    """A simulated venue's door for recorded market data: the recorded ticks *are* its market.

    Everything is synchronous and in process: :meth:`feed` returns once the venue
    has processed the tick, and every event it caused for an account (a fill of a
    resting order) has been handed to that account's trade stream.
    """

    @property
    def clock(self) -> Clock:
        """The venue's simulated clock; :meth:`feed` moves it, nothing else does in a replay."""
        ...

    def feed(self, event: MarketEvent) -> None:
        """Show one recorded tick to the venue.

        * the clock first moves forward to ``event.ts_ns`` (never back), so expiries,
          session closes and delayed requests due before the tick happen first;
        * a :class:`~ec_core.model.Quote` becomes the venue's own resting liquidity at
          the recorded bid and ask, replacing the previous quote's; a side whose price
          holds keeps its queue position. The old liquidity is withdrawn before the
          new is shown, so a jump through the old touch never trades the recorded
          market with itself;
        * a :class:`~ec_core.model.Trade` is a print outside the book: the venue's fill
          model decides which resting orders it fills.
        """
        ...

    def instrument(self, symbol: str) -> Instrument | None:
        """The venue's instrument for a recorded ``symbol`` (what the session's ``resolve``
        answers), or ``None`` when the venue lists none: without an await, so a replay
        resolves a file's symbols as its reader meets them, reading the file once."""
        ...

    @property
    def activity(self) -> int:
        """How many trade events the venue has produced so far (any account). A replay
        asks the trade stream for a backlog only after this moved: a record that
        changed nothing for an account costs no question."""
        ...

    def stream(
        self, events: Iterable[MarketEvent], *, spoke: Callable[[MarketEvent], bool] | None = None
    ) -> Iterator[MarketEvent]:
        """Yield each event after :meth:`feed` has shown it to the venue (the replay
        shows it to the strategies next). A venue with latency may read ahead.

        ``spoke`` makes the stream one run of a replay: after an event whose feeding left
        :attr:`activity` moved since ``spoke`` last answered False for this source (or
        the source's first event), the venue asks ``spoke(event)``; True ends the stream
        there, the event fed and the caller's to keep (the replay lets the trade stream
        catch up first). Called again with the same iterator, the stream goes on where
        it stopped: one generator per quote, the check a comparison.
        """
        ...


@runtime_checkable
class SupportsClock(Protocol):
    """A session whose venue keeps its own time (an optional capability).

    A simulated venue runs on simulated time; strategies and the executor must use
    that clock, not the wall's. A session without this property runs on the wall clock.
    """

    @property
    def clock(self) -> Clock: ...


@runtime_checkable
class SupportsVenueTime(Protocol):
    """A session that knows the venue's time of day (an optional capability), which need
    not be the wall's: a server started at another date (``ec mock serve --start``), a
    demo replay, a recorded-history venue. What the venue calls "now" is what history is
    asked up to: a warm-up by the wall's asks for minutes such a venue has not reached.

    Unlike :class:`SupportsClock` it does not make the run's clock the venue's: timeouts
    and rate limits keep the session's own clock (a server's time, learned at logon, may
    jump at a reconnect)."""

    def venue_time_ns(self) -> int | None:
        """The venue's time now, UTC ns since the epoch; ``None`` while it is not known
        (before the first logon)."""
        ...


@runtime_checkable
class SupportsReplay(Protocol):
    """A session whose venue can replay recorded ticks (an optional capability)."""

    @property
    def replay(self) -> ReplayFeed | None:
        """The venue as a :class:`ReplayFeed`, or ``None`` when it cannot be one now
        (its clock is the wall's, or it runs a simulated market of its own)."""
        ...
