"""A venue with a simulated past: the tape holds the span before now, history serves it,
and the live market carries on from the past's last prices."""

from __future__ import annotations

import pytest
from ec_core.clock import ManualClock
from ec_core.model import Trade
from ec_mock.vendor.backfill import PacedClock, backfilled_venue
from ec_mock.vendor.venue import SIM_START_NS

MINUTE = 60 * 10**9


def test_the_tape_holds_the_span_before_now_and_the_market_carries_on() -> None:
    clock = ManualClock(SIM_START_NS)
    venue = backfilled_venue(span_ns=3 * MINUTE, seed=4, clock=clock, accounts=["B-1"])
    start = SIM_START_NS - 3 * MINUTE
    assert venue.tape.horizon_ns("EP") == start
    past = venue.tape.events("EP", start, SIM_START_NS + 1)
    trades = [e for e in past if isinstance(e, Trade)]
    assert len(trades) > 50  # three minutes of a simulated market
    assert all(start <= e.ts_ns <= SIM_START_NS for e in past)
    assert venue.exchange.has_account("B-1")
    simulator = venue.simulator
    assert simulator is not None
    instrument = venue.exchange.instrument("EP")
    assert instrument is not None
    # the live walk starts at the past's last mid: no jump at the seam
    bids = [e.bid for e in past if not isinstance(e, Trade) and e.bid is not None]
    assert abs(simulator.mid("EP") - bids[-1]) <= 1
    venue.step(10)
    live = venue.tape.events("EP", SIM_START_NS + 1, 2**62)
    assert live
    assert venue.tape.events("EP", start, 2**62) == past + live


def test_the_same_seed_gives_the_same_past() -> None:
    one = backfilled_venue(span_ns=MINUTE, seed=9, clock=ManualClock(SIM_START_NS))
    two = backfilled_venue(span_ns=MINUTE, seed=9, clock=ManualClock(SIM_START_NS))
    assert one.tape.events("CLE", 0, 2**62) == two.tape.events("CLE", 0, 2**62)


def test_no_span_is_a_plain_venue() -> None:
    venue = backfilled_venue(span_ns=0, clock=ManualClock(SIM_START_NS))
    assert venue.tape.events("EP", 0, 2**62) == []
    assert venue.tape.horizon_ns("EP") == SIM_START_NS


def test_a_paced_clock_starts_at_its_instant_and_moves_forward() -> None:
    clock = PacedClock(SIM_START_NS)
    first = clock.now_ns()
    assert SIM_START_NS <= first < SIM_START_NS + 10 * 10**9
    assert clock.now_ns() >= first


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--history", "soon"), "--history"),
        (("--history", "100t"), "not a duration"),
        (("--history", "30d"), "longer than 6h"),  # was a start-up of hours, silently
        (("--start", "2024-01-10T15:00"), "with a zone"),
        (("--start", "yesterday"), "--start"),
    ],
)
def test_serve_names_a_bad_history_or_start(args: tuple[str, ...], needle: str) -> None:
    from click.testing import CliRunner
    from ec_core.cli.main import build_cli
    from ec_core.plugins import PluginHost

    result = CliRunner().invoke(
        build_cli(PluginHost.load()), ["mock", "serve", "--dialect", "cqg", *args]
    )
    assert result.exit_code == 2, result.output
    assert needle in result.output
