"""``ec mock serve`` runs for days: its tape of quotes and trades (what history answers
from) is bounded per symbol, its simulated past included."""

from __future__ import annotations

from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.model import Trade
from ec_core.plugins import PluginHost
from ec_mock.cli import SERVE_TAPE_EVENTS, serve_venue
from ec_mock.vendor.tape import DEFAULT_TAPE_CAPACITY, Tape

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
