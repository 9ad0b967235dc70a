"""A replay reads its tick file once: symbols are resolved as the reader meets them.

The venue answers a recorded symbol without an await (``ReplayFeed.instrument``), so
``replay_plan`` needs no first pass over the file for its symbols; a symbol outside the
plan is resolved when its first row comes, and one the venue does not list is still the
reader's error naming its row.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from ec_core.errors import ConfigError
from ec_core.plugins import PluginHost
from ec_core.strategy import OpSignal, OpStrategy, StrategyContext
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_feed, replay_plan
from strategy_support import CLE_T0

SEC = 1_000_000_000
pytestmark = pytest.mark.anyio
HEADER = "ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor"


class Watcher(OpStrategy):
    """Counts the quotes it is shown, per symbol; never trades."""

    def __init__(self, symbols: list[str]) -> None:
        super().__init__(symbols=symbols)
        self.seen: dict[str, int] = {}

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        self.seen[symbol] = self.seen.get(symbol, 0) + 1
        return None


def rows(symbols: list[str], n: int) -> str:
    lines = [HEADER]
    for i in range(n):
        symbol = symbols[i % len(symbols)]
        lines.append(f"{CLE_T0 + i * SEC},{symbol},quote,,,70.00,5,70.25,5,")
    return "\n".join(lines) + "\n"


async def replay_file(path: Path, strategy: Watcher) -> int:
    with anyio.fail_after(10):
        report = await replay_plan(PluginHost.load(), StrategyPlan([strategy]), path)
    return report.ticks


async def test_a_symbol_outside_the_plan_is_resolved_as_the_reader_meets_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(rows(["CLE", "EP"], 10), encoding="utf-8")
    strategy = Watcher(["CLE"])
    assert await replay_file(path, strategy) == 10
    assert strategy.seen == {"CLE": 5}


async def test_a_symbol_the_venue_does_not_list_is_the_readers_error(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(rows(["CLE", "CLE", "XXQ"], 3), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ticks\.csv:4\.symbol.*unknown instrument 'XXQ'"):
        await replay_file(path, Watcher(["CLE"]))


async def test_the_venue_answers_a_recorded_symbol_without_an_await() -> None:
    host = PluginHost.load()
    settings = {"market": False, "clock": "simulated"}
    async with host.open_session("mock", settings) as session:
        feed = replay_feed(session)
        assert feed.instrument("CLE") == await session.resolve("CLE")
        assert feed.instrument("XXQ") is None
