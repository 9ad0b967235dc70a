"""A past for a venue that starts now: the simulated market of the span before it.

``ec mock serve`` starts a venue on the wall clock with an empty tape, so a strategy
that warms its bars up from history would find nothing. :func:`backfilled_venue` first
runs the same market simulator, seeded, on a simulated clock from ``now - span`` until
it has caught up with the clock (the past runs far faster than real time). Then it
starts the live venue with the walk's last prices and files the past's quotes and
trades at the front of its tape (:meth:`~ec_mock.vendor.tape.Tape.backfill`): history
requests are served from them, and the live market carries on where the past left it.

:class:`PacedClock` runs at wall pace from a chosen instant (``--start``), so a server
can be served "as of" a trading morning whatever the real date: the trading calendar,
the market's sessions and the history all follow that clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, final

from ec_core.clock import Clock, ManualClock, WallClock
from ec_core.model import Instrument

from ec_mock.vendor.tape import DEFAULT_TAPE_CAPACITY
from ec_mock.vendor.venue import DEFAULT_STEP_NS, MockVenue

__all__ = ["PacedClock", "backfilled_venue"]

#: The past is simulated with its own seed, so the live walk does not replay it.
_PAST_SEED_OFFSET = 1_000_003


@final
class PacedClock:
    """Wall pace from ``start_ns``: ``start_ns`` plus the monotonic time since creation."""

    __slots__ = ("_anchor", "_start")

    def __init__(self, start_ns: int) -> None:
        self._start = start_ns
        self._anchor = time.monotonic_ns()

    def now_ns(self) -> int:
        return self._start + time.monotonic_ns() - self._anchor


def backfilled_venue(
    *,
    span_ns: int,
    seed: int = 0,
    clock: Clock | None = None,
    accounts: Iterable[str] = (),
    instruments: Iterable[Instrument] | None = None,
    step_ns: int = DEFAULT_STEP_NS,
    market_options: Mapping[str, Any] | None = None,
    tape_capacity: int = DEFAULT_TAPE_CAPACITY,
) -> MockVenue:
    """A wall-paced venue with ``span_ns`` of simulated market behind it (see the module
    docstring); ``span_ns=0`` is a plain venue."""
    clock = clock if clock is not None else WallClock()
    options = dict(market_options or {})
    if span_ns <= 0:
        return MockVenue.create(
            seed=seed,
            pace="wall",
            clock=clock,
            accounts=accounts,
            instruments=instruments,
            step_ns=step_ns,
            market_options=options,
            tape_capacity=tape_capacity,
        )
    start = clock.now_ns() - span_ns
    past = MockVenue.create(
        seed=seed + _PAST_SEED_OFFSET,
        clock=ManualClock(start),
        instruments=instruments,
        step_ns=step_ns,
        market_options=options,
        tape_capacity=tape_capacity,
    )
    while (due := (clock.now_ns() - past.clock.now_ns()) // step_ns) > 0:
        past.step(due)  # the clock moved while the past ran: catch up, step by step
    until = past.clock.now_ns()
    simulator = past.simulator
    assert simulator is not None
    exchange = past.exchange
    last: dict[str, Decimal] = {}
    for instrument in exchange.instruments():
        try:
            last[instrument.symbol] = instrument.to_price(simulator.mid(instrument.symbol))
        except KeyError:  # not one the simulator walks
            continue
    venue = MockVenue.create(
        seed=seed,
        pace="wall",
        clock=clock,
        accounts=accounts,
        instruments=exchange.instruments(),
        step_ns=step_ns,
        market_options={**options, "start_prices": last},
        tape_capacity=tape_capacity,
    )
    for instrument in exchange.instruments():
        symbol = instrument.symbol
        venue.tape.backfill(symbol, past.tape.events(symbol, start, until + 1), since_ns=start)
    return venue
