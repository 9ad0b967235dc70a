"""``ec mock serve`` runs for days: its tape of quotes and trades (what history answers
from) is bounded per symbol, its simulated past included."""

from __future__ import annotations

import itertools

from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.model import Trade
from ec_core.plugins import PluginHost
from ec_mock.cli import SERVE_TAPE_EVENTS, serve_venue
from ec_mock.vendor.tape import DEFAULT_TAPE_CAPACITY, Tape
from hypothesis import example, given, settings
from hypothesis import strategies as st

START_NS = 1_704_898_800_000_000_000  # 2024-01-10T15:00Z
MINUTE_NS = 60_000_000_000


def trade(ts: int) -> Trade:
    return Trade(symbol="X", ts_ns=ts, price=1, size=1)


def test_a_backfill_past_the_capacity_keeps_the_newest_and_moves_the_horizon() -> None:
    # Before, a backfill went in whole: a past longer than the capacity stayed until the
    # next event recorded, beyond the bound the tape promises.
    tape = Tape(started_ns=100, capacity=4)
    tape.backfill("X", [trade(ts) for ts in range(10, 80, 10)], since_ns=0)
    assert [e.ts_ns for e in tape.events("X", 0, 100)] == [40, 50, 60, 70]
    assert tape.horizon_ns("X") == 40  # history before it is too far back, as it is


def test_the_served_venue_keeps_at_most_its_tape_events_per_symbol() -> None:
    venue = serve_venue(
        seed=1, accounts=("MOCK-1",), market=True, history_ns=MINUTE_NS, start_ns=START_NS,
        tape_events=100,
    )  # fmt: skip
    assert venue.tape.capacity == 100
    symbols = [i.symbol for i in venue.exchange.instruments()]
    kept = {s: len(venue.tape.events(s, 0, START_NS + MINUTE_NS)) for s in symbols}
    assert 0 < max(kept.values()) <= 100, kept  # a minute of the market is ~700 a symbol
    assert all(venue.tape.horizon_ns(s) > START_NS - MINUTE_NS for s in symbols if kept[s])


def test_serve_bounds_its_tape_by_default_and_says_so() -> None:
    assert SERVE_TAPE_EVENTS < DEFAULT_TAPE_CAPACITY
    result = CliRunner().invoke(build_cli(PluginHost.load()), ["mock", "serve", "--help"])
    assert "--tape-events" in result.output
    assert f"default: {SERVE_TAPE_EVENTS}" in " ".join(result.output.split())
    result = CliRunner().invoke(
        build_cli(PluginHost.load()), ["mock", "serve", "--dialect", "json", "--tape-events", "1"]
    )
    assert result.exit_code == 2
    assert "--tape-events" in result.output


def test_a_cut_keeps_every_event_of_an_instant_it_still_covers() -> None:
    # The oldest half was cut by count: of three events at 20 it dropped one and kept two,
    # with the horizon at 20, so history from 20 on showed an instant without its first
    # trade (a bar short of volume, a quote without the trade before it).
    tape = Tape(started_ns=0, capacity=4)
    for ts in (10, 20, 20, 20, 30):
        tape.record(trade(ts))
    assert tape.horizon_ns("X") == 20
    assert [e.ts_ns for e in tape.events("X", 20, 100)] == [20, 20, 20, 30]


def test_a_backfill_cut_drops_a_whole_instant_to_stay_in_bounds() -> None:
    tape = Tape(started_ns=100, capacity=3)
    tape.backfill("X", [trade(ts) for ts in (10, 10, 20, 30)], since_ns=0)
    assert tape.horizon_ns("X") == 20
    assert [e.ts_ns for e in tape.events("X", 0, 100)] == [20, 30]


def test_an_instant_with_more_events_than_the_capacity_is_kept_whole_until_a_later() -> None:
    tape = Tape(started_ns=0, capacity=2)
    for _ in range(3):
        tape.record(trade(50))
    assert len(tape.events("X", 0, 100)) == 3  # beyond the bound, not split
    tape.record(trade(60))
    assert [e.ts_ns for e in tape.events("X", 0, 100)] == [60]
    assert tape.horizon_ns("X") == 60


@settings(max_examples=200, deadline=None)
@example(capacity=2, steps=[0], backfill=[0, 0, 0, 1, 1, 0, 0])  # a past ending in one instant
@given(
    capacity=st.integers(2, 6),
    steps=st.lists(st.integers(0, 2), min_size=1, max_size=40),
    backfill=st.lists(st.integers(0, 2), max_size=12),
)
def test_the_tape_holds_every_event_from_its_horizon_on_and_stays_in_bounds(
    capacity: int, steps: list[int], backfill: list[int]
) -> None:
    """Whatever the cuts: at most ``capacity`` events (or one instant's, kept whole), and
    every event recorded at or after the horizon is there (no instant it claims to cover is
    missing a part)."""
    past = [trade(ts) for ts in itertools.accumulate(backfill, initial=1)]
    live = [trade(ts) for ts in itertools.accumulate(steps, initial=1_000)]
    tape = Tape(started_ns=1_000, capacity=capacity)
    tape.backfill("X", past, since_ns=0)  # a backfilled venue's past, then its live market
    for event in live:
        tape.record(event)
    kept = tape.events("X", 0, 10**6)
    horizon = tape.horizon_ns("X")
    assert len(kept) <= capacity or len({e.ts_ns for e in kept}) == 1
    assert kept == [e for e in [*past, *live] if e.ts_ns >= horizon]
