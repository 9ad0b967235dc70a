"""A replay's cost split into its quotes and its order actions (``bench_replay.py --split``).

The same seeded replay is run twice in one process, once with its order actions and once
with them spaced out of the run (the strategy asks for none): the run without actions
gives the cost of a quote, the difference over the number of actions the cost of one
action, both in CPU time (best of the repeats). The same pair run under cProfile gives
the calls an action makes (the difference of the call counts over the number of actions,
by function too; cProfile counts the C functions' calls with the Python ones): a path
made of fewer steps shows there first, whatever the load of the machine, where a µs
figure on a shared machine swings by 10 %.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import time
from collections.abc import Callable

from ec_core.strategy.report import ReplayReport

__all__ = ["NO_ACTIONS", "print_split", "split_actions"]

NO_ACTIONS = 10**12
"""A spacing of order actions that no run reaches: the same replay without its actions."""

TOP = 25
"""How many functions ``split_actions`` lists by their calls per action."""

Run = Callable[[int], ReplayReport]
"""One replay with an order action every N quotes (N given), its report returned."""


def _cpu(run: Run, every: int, repeat: int) -> tuple[float, int]:
    """Best CPU seconds of ``repeat`` runs (the collector frozen before each, as ``ec
    replay`` does), and the order actions the run sent."""
    best, actions = float("inf"), 0
    for _ in range(repeat):
        gc.collect()
        gc.freeze()
        started = time.process_time()
        made = run(every)
        best = min(best, time.process_time() - started)
        gc.unfreeze()
        actions = made.orders_sent
    return best, actions


def _calls(run: Run, every: int) -> tuple[pstats.Stats, int]:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    made = run(every)
    profiler.disable()
    return pstats.Stats(profiler), made.orders_sent


def _where(key: tuple[str, int, str]) -> str:
    """``module:line function`` of a cProfile key, the path cut after ``src/`` (a
    standard library module by its file's name)."""
    file, line, name = key
    if not line:
        return name
    where = file.rsplit("/src/", 1)[-1] if "/src/" in file else "/".join(file.split("/")[-2:])
    return f"{where}:{line} {name}"


def split_actions(run: Run, quotes: int, every: int, repeat: int) -> dict[str, object]:
    """The per-quote cost without actions, the per-action cost and the calls per action.

    ``run(n)`` replays ``quotes`` quotes with an order action every ``n`` of them.
    """
    without, none_sent = _cpu(run, NO_ACTIONS, repeat)
    with_actions, actions = _cpu(run, every, repeat)
    if none_sent or not actions:
        raise SystemExit(f"split: {none_sent} actions without, {actions} with: nothing to split")
    quiet, _ = _calls(run, NO_ACTIONS)
    busy, counted = _calls(run, every)
    before = quiet.stats  # type: ignore[attr-defined]
    after = busy.stats  # type: ignore[attr-defined]
    per_function = {
        key: (row[1] - before.get(key, (0, 0))[1]) / counted
        for key, row in after.items()
        if row[1] > before.get(key, (0, 0))[1]
    }
    top = sorted(per_function.items(), key=lambda item: -item[1])[:TOP]
    return {
        "quotes": quotes,
        "order_actions": actions,
        "us_per_quote_without_actions": round(without / quotes * 1e6, 3),
        "us_per_action": round((with_actions - without) / actions * 1e6, 1),
        "calls_per_quote_without_actions": round(quiet.total_calls / quotes, 2),  # type: ignore[attr-defined]
        "calls_per_action": round((busy.total_calls - quiet.total_calls) / counted, 1),  # type: ignore[attr-defined]
        "distinct_functions_per_action": len(per_function),
        "top_calls_per_action": {_where(key): round(calls, 2) for key, calls in top},
    }


def print_split(tag: str, split: dict[str, object]) -> None:
    """The split's summary line, then its functions by calls per action."""
    print(
        f"{tag:<27} {split['us_per_quote_without_actions']} us per quote without actions,"
        f" {split['us_per_action']} us per order action ({split['order_actions']} actions);"
        f" {split['calls_per_action']} calls (Python and C) per action over"
        f" {split['distinct_functions_per_action']} functions"
    )
    top = split["top_calls_per_action"]
    assert isinstance(top, dict)
    for where, calls in top.items():
        print(f"    {calls:6.2f}  {where}")
