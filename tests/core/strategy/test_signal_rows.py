"""What a replay keeps of each finished signal: its report row, not the signal.

A long replay finishes a signal per order action or so; the engine of a replay keeps
none whole (``signal_history=0``) and :class:`SignalLog` keeps the path rows of the
last ``keep`` and the branch counts of all, so what a finished signal costs is bounded.
"""

from __future__ import annotations

import pytest
from ec_core.data import FeedSet
from ec_core.execution import Payload
from ec_core.model import Order, Quote, Side
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    OpSignal,
    OpStrategy,
    StrategyContext,
    StrategyEngine,
)
from ec_core.strategy.report import build_report
from ec_core.strategy.signal_rows import SignalLog
from memory_support import retained_bytes_async
from strategy_support import ACCOUNT, INSTRUMENT, SEC, SYMBOL, T0, RecordingRouter, limit, quote


class OneShot(OpStrategy):
    """An order action per tick: a one-node signal that ends once the venue answered."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return OpSignal(ActionTree(ActionNode("Ping", [limit(Side.BUY, 1)])), symbol=symbol)


class ForgetfulRouter(RecordingRouter):
    """Answers like the recording router and keeps nothing (the venue's memory is not
    what these tests measure)."""

    async def execute(self, payload: Payload) -> Order | None:
        order = await super().execute(payload)
        self.requests.clear()
        self.orders.clear()
        return order


def engine_with(log: SignalLog, heard: list[str] | None = None) -> StrategyEngine:
    def finished(signal: OpSignal) -> None:
        log.add(signal)
        if heard is not None:
            heard.append(signal.signal_id)

    return StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [OneShot(symbols=[SYMBOL])],
        router=ForgetfulRouter(), account_id=ACCOUNT, history=0, on_finished=finished,
    )  # fmt: skip


def ticks(start: int, count: int) -> list[Quote]:
    return [quote(T0 + i * SEC, 100) for i in range(start, start + count)]


@pytest.mark.anyio
async def test_the_report_lists_the_last_paths_and_counts_every_signal() -> None:
    log = SignalLog({SYMBOL: INSTRUMENT}, keep=3)
    heard: list[str] = []
    engine = engine_with(log, heard)
    await engine.replay(ticks(0, 10))
    assert engine.finished.maxlen == 0  # the engine kept none whole
    report = build_report(
        fills=[], marks=[], instruments={SYMBOL: INSTRUMENT}, signals=list(engine.signals),
        errors=[], ticks=10, first_ns=T0, last_ns=T0 + 9 * SEC, wall_s=0.0,
        orders_sent=log.count, finished=log,
    )  # fmt: skip
    live = len(engine.signals)
    assert report.signals == log.count + live
    assert log.count >= 9
    assert len(report.signal_paths) == 3 + live
    assert [p.path for p in report.signal_paths[:3]] == [("Ping",)] * 3
    assert [p.signal_id for p in report.signal_paths[:3]] == heard[-3:]  # the last, in order
    (warning,) = [w for w in report.warnings if "signal_paths" in w]
    assert f"{log.count} signals finished; signal_paths lists the last 3" in warning


class Quiet(OpStrategy):
    """The same ticks, no signal: what the feeds keep per tick, to subtract."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return None


async def growth(engine: StrategyEngine) -> int:
    """Bytes still held after 1,000 more ticks (the first 50 warm the engine up)."""
    await engine.replay(ticks(0, 50))
    return await retained_bytes_async(lambda: engine.replay(ticks(50, 1_000)))


@pytest.mark.anyio
async def test_a_finished_signal_costs_its_row_and_nothing_once_rows_are_capped() -> None:
    """Measured: a one-order signal's row ~0.5 KB (its path, three timed transitions, one
    time string), ~30 bytes once rows are capped; the signal whole was ~2-3 KB, kept up
    to the engine's 10,000."""
    quiet = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [Quiet(symbols=[SYMBOL])],
        router=ForgetfulRouter(), account_id=ACCOUNT,
    )  # fmt: skip
    feeds_only = await growth(quiet)
    for keep, bound in ((100_000, 700), (10, 64)):
        log = SignalLog({SYMBOL: INSTRUMENT}, keep=keep)
        engine = engine_with(log)
        total = await growth(engine)
        per_signal = (total - feeds_only) / (log.count - 50)
        assert per_signal < bound, (keep, per_signal)


@pytest.mark.anyio
async def test_rows_pushed_out_past_keep_are_never_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row's time strings and timed transitions are made only for the rows the report
    lists: the signals pushed out past ``keep`` cost the log a count and a tally."""
    from ec_core.strategy import signal_rows

    made: list[int] = []

    def counted(ts_ns: int, zone: object) -> str:
        made.append(ts_ns)
        return f"t{ts_ns}"

    monkeypatch.setattr(signal_rows, "zoned_time", counted)
    log = SignalLog({SYMBOL: INSTRUMENT}, keep=3)
    heard: list[str] = []
    await engine_with(log, heard).replay(ticks(0, 10))
    assert log.count >= 9
    assert made == []  # nothing built while the replay runs
    paths = log.paths
    assert [p.signal_id for p in paths] == heard[-3:]
    assert len(made) == len({t.ts_ns for p in paths for t in p.transitions}) > 0
    assert log.paths is paths  # built once until another signal finishes
