"""The strategy side of an order action, alone: µs per action with an instant router.

A strategy makes a one-node signal on every tick (one new order); the router answers
at once with a working order, so what is timed is the engine's and the tree's side:
the signal and its tree built, admitted, stepped, the payload made and sent, the answer
booked, the node armed, the signal finished, reaped and written into the report's
``SignalLog``. The same ticks without signals are timed in the same run and
subtracted. The figure is also given over a floor timed in the same run, alternated
with it (``call_floor_us``: a bare Python call storing one dict key). ``--live N``
keeps N more signals live (resting, never finishing) all run long: reaping a finished
signal should not cost more with them (it walked every live signal and route per
finished one before); what was made before the replay is frozen out of the cyclic
GC's scans (``gc.freeze``, as ``ec replay`` does).

The Python and C calls an action makes are counted too (``sys.setprofile``, 2,000
ticks with actions minus the same without; ``--calls`` lists them): a count is the
same on every run, so two commits compare by it when the machine is too loaded for
time to tell them apart.

    uv run python benchmarks/bench_signal_action.py [--quick] [--live N] [--calls] [--out PATH]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import Counter
from decimal import Decimal
from functools import partial

import anyio
from bench_output import call_floor_us, count_call, floor_and_calls, write_report
from ec_core.data import FeedSet
from ec_core.execution import Payload
from ec_core.model import (
    Instrument,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Position,
    Quote,
    Side,
)
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    OpSignal,
    OpStrategy,
    StrategyContext,
    StrategyEngine,
)
from ec_core.strategy.signal_rows import SignalLog

SYMBOL = "CLE"
ACCOUNT = "ACC1"
INSTRUMENT = Instrument(symbol=SYMBOL, tick_size=Decimal("0.01"))
T0 = 1_704_898_800_000_000_000
REQUEST = NewOrder(
    account_id=ACCOUNT, symbol=SYMBOL, side=Side.BUY, qty=1,
    order_type=OrderType.LMT, limit_price=Decimal("70.00"),
)  # fmt: skip


class InstantRouter:
    """Answers every new order at once with a working order; keeps nothing."""

    async def execute(self, payload: Payload) -> Order | None:
        r = payload.request
        assert isinstance(r, NewOrder)
        return Order(
            chain_id=r.cl_order_id, cl_order_id=r.cl_order_id, account_id=r.account_id,
            symbol=r.symbol, side=r.side, order_type=r.order_type, qty=r.qty,
            limit_price=r.limit_price, state=OrderState.WORKING,
        )  # fmt: skip

    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[Order]:
        return []

    def position(self, account_id: str, symbol: str) -> Position:
        return Position(account_id=account_id, symbol=symbol)


class OneShot(OpStrategy):
    """A one-node signal per tick (``act``), or nothing."""

    def __init__(self, *, act: bool) -> None:
        super().__init__(symbols=[SYMBOL], max_signals=1_000_000)
        self.act = act

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if not self.act:
            return None
        return OpSignal(ActionTree(ActionNode("Ping", [REQUEST])), symbol=symbol)


def resting() -> OpSignal:
    """A live signal that never fires nor finishes (its trigger never holds)."""
    return OpSignal(ActionTree(ActionNode("Rest", [REQUEST], lambda ctx: False)), symbol=SYMBOL)


def one_run(
    ticks: list[Quote], *, act: bool, live: int, calls: Counter[str] | None = None
) -> tuple[float, int]:
    """CPU seconds of the replay (and the report rows read), and the signals finished;
    with ``calls``, the calls made are counted in it (Python ones, and C ones apart)."""
    log = SignalLog({SYMBOL: INSTRUMENT})
    strategy = OneShot(act=act)
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [strategy], router=InstantRouter(),
        account_id=ACCOUNT, history=0, on_finished=log.add,
    )  # fmt: skip
    engine.on_event(ticks[0])
    for _ in range(live):
        engine.add_signal(resting(), strategy)
    gc.collect()
    gc.freeze()  # what was made before (the live signals): not rescanned by the GC
    try:
        start = time.process_time()
        if calls is not None:
            sys.setprofile(partial(count_call, calls))
        try:
            anyio.run(lambda: engine.replay(ticks[1:]))
            assert len(log.paths) == min(log.count, 10_000)
        finally:
            sys.setprofile(None)
        return time.process_time() - start, log.count
    finally:
        gc.unfreeze()


def calls_per_action(ticks: list[Quote]) -> tuple[float, float, dict[str, float]]:
    """Python and C calls per action (a run with actions minus one without, per action):
    the same on every run and machine, so commits compare by it under any load."""
    counted: dict[bool, Counter[str]] = {}
    finished = 0
    one_run(ticks[:10], act=True, live=0)  # what is imported or built on first use
    for act in (True, False):
        counted[act] = Counter()
        _, count = one_run(ticks, act=act, live=0, calls=counted[act])
        if act:
            finished = count
    extra = counted[True]
    extra.subtract(counted[False])
    per_action = {n: t / finished for n, t in extra.most_common() if abs(t) * 100 >= finished}
    python = sum(v for k, v in per_action.items() if not k.startswith("C:"))
    c_calls = sum(v for k, v in per_action.items() if k.startswith("C:"))
    return python, c_calls, per_action


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="ticks (= order actions)")
    parser.add_argument("--quick", action="store_true", help="5,000 ticks, one repeat")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--live", type=int, default=0, help="signals kept live all run")
    parser.add_argument("--calls", action="store_true", help="list the calls of an action")
    parser.add_argument("--out", default="benchmarks/results/bench_signal_action.json")
    args = parser.parse_args(argv)
    n, repeat = (5_000, 1) if args.quick else (args.n, args.repeat)
    ticks = [
        Quote(symbol=SYMBOL, ts_ns=T0 + i * 1_000_000, bid=7000, ask=7001, bid_size=1, ask_size=1)
        for i in range(n + 1)
    ]
    python, c_calls, counted = calls_per_action(ticks[:2_001])
    best: dict[bool, float] = {}
    finished = 0
    floor = float("inf")
    for _ in range(repeat):  # alternated with the floor, best of each
        floor = min(floor, call_floor_us(repeat=1))
        for act in (True, False):
            spent, count = one_run(ticks, act=act, live=args.live)
            best[act] = min(best.get(act, spent), spent)
            if act:
                finished = count
    per_action_us = (best[True] - best[False]) / finished * 1e6
    report = {
        "n": n,
        "repeat": repeat,
        "live": args.live,
        "python": sys.version.split()[0],
        "order_actions": finished,
        "cpu_with_actions_s": round(best[True], 4),
        "cpu_without_actions_s": round(best[False], 4),
        "strategy_side_us_per_action": round(per_action_us, 2),
        "floor_us_per_call": round(floor, 4),
        "action_over_floor": round(per_action_us / floor, 1),
        "python_calls_per_action": round(python, 2),
        "c_calls_per_action": round(c_calls, 2),
    }
    print(
        f"strategy side of an order action: {per_action_us:.2f} us (CPU time, best of"
        f" {repeat}; {finished} actions, {args.live} other signals live;"
        f" {best[True]:.3f} s with, {best[False]:.3f} s without)"
        + floor_and_calls(report["action_over_floor"], floor, python, c_calls)
    )
    if args.calls:
        for name, times in counted.items():
            print(f"{times:7.2f}  {name}")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
