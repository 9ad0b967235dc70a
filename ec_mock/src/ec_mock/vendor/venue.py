"""One simulated venue: an :class:`~ec_mock.engine.Exchange`, its clock, its market,
and every session attached to it.

Sessions of the ``mock`` vendor are views of a venue, the way logons are views of
a real exchange: two sessions on one venue trade against each other. The venue is
the engine's only listener: it files every quote and trade on its :attr:`MockVenue.tape`
(the history sessions serve) and fans events out to the attached links; an exception
raised while delivering is caught, kept in :attr:`MockVenue.errors` and re-raised
by :meth:`MockVenue.check` (the pytest fixtures call it at teardown), so a bug in a
front end cannot hide inside an engine callback.

The clock driver has two paces:

* ``simulated`` (a :class:`~ec_core.clock.ManualClock`): each step advances the
  clock by ``step_ns`` and steps the market simulator; :meth:`run` repeats that as
  fast as the CPU allows, yielding to the event loop between steps so consumers
  keep up. Tests call :meth:`step` themselves and need no driver at all.
* ``wall`` (a :class:`~ec_core.clock.WallClock`): :meth:`run` steps every
  ``step_ns`` of real time, for ``ec mock serve`` and manual exploration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, final

import anyio
from ec_core.clock import Clock, ManualClock, WallClock
from ec_core.errors import SessionError
from ec_core.model import Instrument, MarketEvent, TradeEvent

from ec_mock.vendor.tape import DEFAULT_TAPE_CAPACITY, Tape

if TYPE_CHECKING:
    from ec_mock.engine import Exchange
    from ec_mock.market import MarketSimulator

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_STEP_NS",
    "KEEP_FINAL_ORDERS",
    "MockVenue",
    "Pace",
    "VenueError",
    "VenueLink",
]

Pace = Literal["simulated", "wall"]
DEFAULT_STEP_NS = 100_000_000  # 100 ms of market time per step
DEFAULT_BALANCE = Decimal(1_000_000)
# Where a simulated clock starts: Wednesday 2024-01-10 09:00 in Chicago, when every
# built-in contract is trading (ManualClock's own default falls in the daily break).
SIM_START_NS = 1_704_898_800_000_000_000


class VenueLink(Protocol):
    """What the venue calls on an attached session. Sync and cheap, like the engine's listeners."""

    def on_trade_event(self, event: TradeEvent) -> None: ...

    def on_market_event(self, event: MarketEvent) -> None: ...

    def on_time(self, now_ns: int) -> None:
        """The venue clock moved (delayed events may now be due)."""
        ...

    def on_restart(self, *, kept_state: bool) -> None:
        """The exchange was replaced; the session reconnects and resends snapshots."""
        ...


@final
class VenueError(SessionError):
    """An exception escaped while the venue delivered an event (code ``VENUE_ERROR``)."""

    code = "VENUE_ERROR"

    def __init__(self, errors: Sequence[BaseException]) -> None:
        first = errors[0]
        super().__init__(
            f"{self.code}: {len(errors)} exception(s) in venue callbacks; first: {first!r}"
        )
        self.errors = tuple(errors)


#: Finished orders (and rejects) a user's account on the venue keeps for status queries;
#: older ones are forgotten, their client ids free again (the core keeps its own record).
KEEP_FINAL_ORDERS = 10_000


@final
class MockVenue:
    """An exchange, a clock, an optional market simulator, and the sessions attached."""

    def __init__(
        self,
        exchange: Exchange,
        clock: Clock,
        *,
        seed: int = 0,
        market: bool = True,
        step_ns: int = DEFAULT_STEP_NS,
        market_options: Mapping[str, Any] | None = None,
        tape_capacity: int = DEFAULT_TAPE_CAPACITY,
    ) -> None:
        if step_ns <= 0:
            raise ValueError(f"step_ns must be > 0, got {step_ns}")
        self.clock = clock
        self.seed = seed
        self.step_ns = step_ns
        self.market = market
        self.market_options = dict(market_options or {})
        self.errors: list[BaseException] = []
        self.steps = 0
        self._links: tuple[VenueLink, ...] = ()  # replaced, never changed: safe to iterate
        self.tape = Tape(started_ns=clock.now_ns(), capacity=tape_capacity)
        self._record = self.tape.record
        # accounts a restart without state opens again (not the simulator's house account)
        self._opened = {a: exchange.account(a).balance for a in exchange.account_ids()}
        self._exchange = exchange
        self._simulator: MarketSimulator | None = None
        exchange.add_listener(self)
        if market:
            self._simulator = self._new_simulator(exchange)

    # -- construction ----------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        seed: int = 0,
        pace: Pace = "simulated",
        clock: Clock | None = None,
        instruments: Iterable[Instrument] | str | Path | None = None,
        accounts: Iterable[str] = (),
        balance: Decimal = DEFAULT_BALANCE,
        commission_per_contract: Decimal = Decimal(0),
        commission_per_order: Decimal = Decimal(0),
        market: bool = True,
        step_ns: int = DEFAULT_STEP_NS,
        market_options: Mapping[str, Any] | None = None,
        tape_capacity: int = DEFAULT_TAPE_CAPACITY,
        **exchange_options: Any,
    ) -> MockVenue:
        """A venue with the built-in instruments (or ``instruments``: objects or a TOML path).

        ``market_options`` go to :class:`~ec_mock.market.MarketSimulator` (e.g.
        ``start_prices`` for instruments that are not built in); ``exchange_options``
        to :class:`~ec_mock.engine.Exchange` (``latency``, ``fill_model``, ``margins``...).
        ``tape_capacity``: events per symbol the tape keeps for history (:class:`Tape`).
        The exchange keeps no event log unless ``record=True`` is given: the venue hears
        every event as a listener, and a paper-trading server runs for days.
        """
        from ec_mock.engine import Exchange
        from ec_mock.instruments import builtin_instruments, load_instrument_specs

        if clock is None:
            clock = ManualClock(SIM_START_NS) if pace == "simulated" else WallClock()
        if instruments is None:
            chosen = list(builtin_instruments())
        elif isinstance(instruments, str | Path):
            # the file's margins and product rules come with its instruments
            specs = load_instrument_specs(Path(instruments))
            chosen = [spec.instrument for spec in specs]
            for option, values in (
                ("margins", {s.instrument.symbol: s.margin for s in specs if s.margin}),
                (
                    "maintenance_margins",
                    {
                        s.instrument.symbol: s.maintenance_margin
                        for s in specs
                        if s.maintenance_margin
                    },
                ),
                ("products", {s.instrument.symbol: s.rules for s in specs if s.rules}),
            ):
                exchange_options.setdefault(option, values)
        else:
            chosen = list(instruments)
        exchange_options.setdefault("record", False)
        exchange = Exchange(instruments=chosen, clock=clock, seed=seed, **exchange_options)
        venue = cls(
            exchange,
            clock,
            seed=seed,
            market=market,
            step_ns=step_ns,
            market_options=market_options,
            tape_capacity=tape_capacity,
        )
        for account_id in accounts:
            venue.ensure_account(
                account_id,
                balance=balance,
                commission_per_contract=commission_per_contract,
                commission_per_order=commission_per_order,
            )
        return venue

    def _new_simulator(self, exchange: Exchange) -> MarketSimulator:
        from ec_mock.market import MarketSimulator

        return MarketSimulator(exchange, seed=self.seed, **self.market_options)

    # -- state -----------------------------------------------------------------

    @property
    def exchange(self) -> Exchange:
        """The engine now serving; a restart replaces it."""
        return self._exchange

    @property
    def simulator(self) -> MarketSimulator | None:
        return self._simulator

    @property
    def is_simulated(self) -> bool:
        return isinstance(self.clock, ManualClock)

    def ensure_account(
        self,
        account_id: str,
        *,
        balance: Decimal = DEFAULT_BALANCE,
        commission_per_contract: Decimal = Decimal(0),
        commission_per_order: Decimal = Decimal(0),
    ) -> None:
        """Open ``account_id`` unless the exchange already has it (keeping its last
        :data:`KEEP_FINAL_ORDERS` finished orders: a paper venue runs for days)."""
        if not self._exchange.has_account(account_id):
            self._exchange.open_account(
                account_id,
                balance=balance,
                commission_per_contract=commission_per_contract,
                commission_per_order=commission_per_order,
                retire_final_orders=True,
                keep_final_orders=KEEP_FINAL_ORDERS,
            )
            self._opened[account_id] = balance

    # -- sessions --------------------------------------------------------------

    def attach(self, link: VenueLink) -> None:
        self._links = (*self._links, link)

    def detach(self, link: VenueLink) -> None:
        if link in self._links:
            links = list(self._links)
            links.remove(link)
            self._links = tuple(links)

    @property
    def links(self) -> tuple[VenueLink, ...]:
        return self._links

    # engine listener ----------------------------------------------------------

    def on_trade_event(self, event: TradeEvent) -> None:
        for link in self._links:
            try:
                link.on_trade_event(event)
            except Exception as exc:
                self.errors.append(exc)

    hears_market_events = True  # the exchange calls on_market_event

    def on_market_event(self, event: MarketEvent) -> None:
        self._record(event)
        for link in self._links:
            try:
                link.on_market_event(event)
            except Exception as exc:
                self.errors.append(exc)

    def check(self) -> None:
        """Raise :class:`VenueError` if any callback raised since the venue was made."""
        if self.errors:
            raise VenueError(self.errors)

    # -- time ------------------------------------------------------------------

    def advance(self, ns: int) -> None:
        """Move a simulated clock by ``ns`` without stepping the market (expiries, delays)."""
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advance() needs a simulated clock; a wall clock moves by itself")
        clock.advance(ns)
        self._tick()

    def step(self, n: int = 1) -> None:
        """``n`` steps of the market: clock forward by ``step_ns`` each, then the simulator."""
        for _ in range(n):
            if isinstance(self.clock, ManualClock):
                self.clock.advance(self.step_ns)
            self._tick()
            if self._simulator is not None:
                try:
                    self._simulator.step()
                except Exception as exc:
                    self.errors.append(exc)
                    raise
            self.steps += 1

    def _tick(self) -> None:
        now = self.clock.now_ns()
        self._exchange.advance_to(now)
        for link in self._links:
            try:
                link.on_time(now)
            except Exception as exc:
                self.errors.append(exc)

    async def run(self, *, steps: int | None = None) -> None:
        """Drive the venue until cancelled (or for ``steps`` steps). Cancel-safe."""
        remaining = math.inf if steps is None else steps
        wall_step = self.step_ns / 1e9
        while remaining > 0:
            if self.is_simulated:
                await anyio.lowlevel.checkpoint()
            else:
                await anyio.sleep(wall_step)
            self.step()
            remaining -= 1

    # -- faults ----------------------------------------------------------------

    def restart(self, *, keep_state: bool) -> None:
        """Replace the exchange, from a snapshot of its state or empty, and tell every session.

        Accounts survive a restart that loses state (opened again with their
        starting balance), as a broker's accounts survive an exchange restart.
        """
        from ec_mock.engine import Exchange

        old = self._exchange
        old.remove_listener(self)
        options: dict[str, Any] = {
            "fill_model": old.fill_model,
            "latency": old.latency,
            "enforce_sessions": old.enforce_sessions,
            "faults": old.faults,
            "record": old.recording,
        }
        if keep_state:
            fresh = Exchange.restore(old.snapshot(), clock=self.clock, **options)
        else:
            fresh = Exchange(
                instruments=old.instruments(), clock=self.clock, seed=self.seed, **options
            )
            for account_id, balance in self._opened.items():
                fresh.open_account(
                    account_id,
                    balance=balance,
                    retire_final_orders=True,
                    keep_final_orders=KEEP_FINAL_ORDERS,
                )
        fresh.add_listener(self)
        self._exchange = fresh
        if self._simulator is not None:
            if keep_state:
                # the restored book still holds the house orders the simulator tracks
                self._simulator.exchange = fresh
            else:
                self._simulator = self._new_simulator(fresh)
        for link in self._links:
            try:
                link.on_restart(kept_state=keep_state)
            except Exception as exc:
                self.errors.append(exc)
