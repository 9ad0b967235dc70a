"""The core's share of a replay's order action: executor, checks, tracker, trade-stream intake.

``bench_replay.py`` (3) times an order action end to end: the strategy's signal, the core
(``Executor.execute`` with a ``ValidatorGate`` over the plugin host's validators, no
journal, the tracker, the direct trade-stream delivery) and the ``mock`` session with its
replay venue. This script keeps the core alone, built as a replay builds it
(:func:`ec_core.strategy.rig.order_path`: ``retain_final=None``, the session's accounts,
the CLE instrument of the mock's catalogue), and puts in place of the venue a stand-in that
answers each request during its send, through the stream's direct sink, with the report
the mock venue gives (a resting limit order ACCEPTED and WORKING, its cancel CANCELLED).
Each action is one of those: a new order, then its cancel.

Measured, per action: CPU microseconds (``time.process_time``, best of ``--repeat``, the
cyclic GC off so that what is timed is the path, not when a collection falls), the same
over a floor timed in the same run, alternated with it (``call_floor_us``: a bare Python
call storing one dict key, the unit an action is made of), and the
Python calls the core makes (``sys.setprofile``, C calls counted apart): the count is the
same on every run and every machine, so two commits compare by it even when the machine is
too loaded for time to tell them apart (see docs/safety/execution.md).
Also, apart (``stream_*``): the trade stream's consumer on a plain stream (not direct
delivery, as a vendor over a socket feeds it), per event: CPU microseconds and Python
calls of ``Executor.run`` over the reports those actions get, so what the consumer does
after each event (the resync and UNKNOWN follow-up check) is measured on its own.
Run: ``uv run python benchmarks/bench_order_action.py [--quick] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from functools import partial

import anyio
import anyio.lowlevel
from bench_output import call_floor_us, count_call, floor_and_calls, write_report
from ec_core.clock import ManualClock
from ec_core.execution import Executor, Payload
from ec_core.execution.feed import EventSink
from ec_core.execution.gate import ValidatorGate
from ec_core.model import (
    CancelOrder,
    ExecutionReport,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    ReportKind,
    RequestType,
    Side,
    TradeEvent,
)
from ec_core.plugins import PluginHost
from ec_core.tracking import OrderTracker
from ec_mock.instruments import builtin_instruments

ACCOUNT = "BENCH-1"
T0 = 1_704_898_800_000_000_000  # a Wednesday 09:00 in Chicago: CLE trades
CLE = next(i for i in builtin_instruments() if i.symbol == "CLE")


def actions(pairs: int) -> list[OrderRequest]:
    """``pairs`` resting bids, each followed by its cancel (ids as the engine gives them)."""
    requests: list[OrderRequest] = []
    for i in range(pairs):
        placed = f"ec{2 * i + 1}"
        requests.append(
            NewOrder(
                account_id=ACCOUNT, symbol="CLE", side=Side.BUY, qty=1, order_type=OrderType.LMT,
                limit_price=Decimal("69.49") + i % 7 * CLE.tick_size, cl_order_id=placed,
            )
        )  # fmt: skip
        requests.append(
            CancelOrder(
                account_id=ACCOUNT,
                symbol="CLE",
                orig_cl_order_id=placed,
                cl_order_id=f"ec{2 * i + 2}",
            )
        )
    return requests


class StandInFeed:
    """A trade stream with direct delivery (``DirectFeed``): the executor installs its sink."""

    def __init__(self) -> None:
        self.sink: EventSink | None = None
        self.done = anyio.Event()

    def set_sink(self, sink: EventSink | None) -> None:
        self.sink = sink

    def __aiter__(self) -> AsyncIterator[TradeEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[TradeEvent]:
        await self.done.wait()  # nothing is queued: every event goes to the sink
        queued: tuple[TradeEvent, ...] = ()
        for event in queued:
            yield event


class StandInVenue:
    """Answers each request during its send, as the in-process mock venue does."""

    def __init__(self, feed: StandInFeed) -> None:
        self._feed = feed
        self._orders: dict[str, NewOrder] = {}

    async def send(self, request: OrderRequest) -> None:
        sink = self._feed.sink
        assert sink is not None
        if isinstance(request, NewOrder):
            self._orders[request.cl_order_id] = request
            sink(self._report(request, request.cl_order_id, "", ReportKind.ACCEPTED))
        else:
            assert isinstance(request, CancelOrder)
            placed = self._orders.pop(request.orig_cl_order_id)
            sink(
                self._report(placed, request.cl_order_id, placed.cl_order_id, ReportKind.CANCELLED)
            )

    @staticmethod
    def _report(order: NewOrder, cl_order_id: str, orig: str, kind: ReportKind) -> ExecutionReport:
        new = kind is ReportKind.ACCEPTED
        return ExecutionReport(
            kind=kind, account_id=ACCOUNT, symbol=order.symbol, cl_order_id=cl_order_id,
            state=OrderState.WORKING if new else OrderState.CANCELLED, side=order.side,
            order_type=order.order_type, qty=order.qty, filled_qty=0,
            limit_price=order.limit_price, duration=order.duration, orig_cl_order_id=orig,
            chain_id=order.cl_order_id, venue_order_id=f"V{order.cl_order_id}",
            request_type=RequestType.NEW if new else None, ts_ns=T0,
        )  # fmt: skip


async def run(
    requests: list[OrderRequest], host: PluginHost, *, count: bool
) -> float | Counter[str]:
    """CPU seconds of the actions on a fresh executor, or (``count``) the calls they make."""
    clock = ManualClock(T0)
    tracker = OrderTracker(clock=clock, host=host, retain_final=None)
    feed = StandInFeed()
    bid, ask = Decimal("69.99"), Decimal("70.00")
    executor = Executor(
        gateway=StandInVenue(feed),  # type: ignore[arg-type]  # send() is all a replay's action uses
        checks=ValidatorGate(host.validators()),
        tracker=tracker,
        journal=None,
        clock=clock,
        vendor="mock",
        instruments={"CLE": CLE},
        prices=lambda symbol: (None, bid, ask),
        host=host,
        session_accounts=[ACCOUNT],
    )
    calls: Counter[str] = Counter()

    async with executor.consume(feed):
        await anyio.lowlevel.checkpoint()
        execute = executor.execute
        started = time.process_time()
        if count:
            sys.setprofile(partial(count_call, calls))
        try:
            for request in requests:
                await execute(Payload(request=request))
        finally:
            sys.setprofile(None)
        spent = time.process_time() - started
        feed.done.set()
    assert not tracker.open_orders(), "every order placed was cancelled"
    return calls if count else spent


def reports(requests: list[OrderRequest]) -> list[TradeEvent]:
    """What the stand-in venue answers to ``requests``, in order."""
    answered: list[TradeEvent] = []

    def keep(event: TradeEvent) -> bool:
        answered.append(event)
        return True

    feed = StandInFeed()
    feed.set_sink(keep)
    venue = StandInVenue(feed)

    async def send_all() -> None:
        for request in requests:
            await venue.send(request)

    anyio.run(send_all)
    return answered


async def run_stream(
    events: list[TradeEvent], host: PluginHost, *, count: bool
) -> float | Counter[str]:
    """CPU seconds of a fresh executor's consumer over ``events`` on a plain stream, or
    (``count``) the calls it makes."""
    clock = ManualClock(T0)
    executor = Executor(
        gateway=StandInVenue(StandInFeed()),  # type: ignore[arg-type]  # nothing is sent
        checks=ValidatorGate(host.validators()),
        tracker=OrderTracker(clock=clock, host=host, retain_final=None),
        journal=None,
        clock=clock,
        vendor="mock",
        instruments={"CLE": CLE},
        host=host,
        session_accounts=[ACCOUNT],
    )

    async def stream() -> AsyncIterator[TradeEvent]:
        for event in events:
            yield event

    calls: Counter[str] = Counter()
    started = time.process_time()
    if count:
        sys.setprofile(partial(count_call, calls))
    try:
        await executor.run(stream())
    finally:
        sys.setprofile(None)
    spent = time.process_time() - started
    return calls if count else spent


def python_calls(counted: Counter[str], per: int) -> tuple[float, float]:
    """Python and C calls in ``counted``, each divided by ``per``."""
    python = sum(v for k, v in counted.items() if not k.startswith("C:")) / per
    return python, sum(v for k, v in counted.items() if k.startswith("C:")) / per


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 actions, 3 repeats")
    parser.add_argument("--actions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--calls", action="store_true", help="list the calls of an action")
    parser.add_argument("--out", default="benchmarks/results/bench_order_action.json")
    args = parser.parse_args(argv)
    logging.getLogger("ec_core").setLevel(logging.CRITICAL)
    n, repeat = (2_000, 3) if args.quick else (args.actions, args.repeat)
    requests = actions(n // 2)
    host = PluginHost.load()
    sample = requests[:200]  # the calls are counted on these (fewer with a small --actions)
    counted = anyio.run(lambda: run(sample, host, count=True))
    assert isinstance(counted, Counter)
    python, c_calls = python_calls(counted, len(sample))
    events = reports(requests)
    # every event: the consumer's start (its task group, its timer) spread over them all
    counted_events = anyio.run(lambda: run_stream(events, host, count=True))
    assert isinstance(counted_events, Counter)
    stream_python, stream_c = python_calls(counted_events, len(events))
    gc.collect()
    gc.disable()
    floor = float("inf")
    best = stream_best = float("inf")
    try:
        for _ in range(repeat):  # the floor and the path alternated, best of each
            floor = min(floor, call_floor_us(repeat=1))
            spent = anyio.run(lambda: run(requests, host, count=False))
            assert isinstance(spent, float)
            best = min(best, spent)
            spent = anyio.run(lambda: run_stream(events, host, count=False))
            assert isinstance(spent, float)
            stream_best = min(stream_best, spent)
    finally:
        gc.enable()
    per_action = best / len(requests) * 1e6
    report = {
        "actions": len(requests),
        "repeat": repeat,
        "cpu_us_per_action": round(per_action, 2),
        "floor_us_per_call": round(floor, 4),
        "action_over_floor": round(per_action / floor, 1),
        "python_calls_per_action": python,
        "c_calls_per_action": c_calls,
        "stream_events": len(events),
        "stream_cpu_us_per_event": round(stream_best / len(events) * 1e6, 3),
        "stream_python_calls_per_event": stream_python,
        "stream_c_calls_per_event": stream_c,
    }
    print(
        f"order action, core only: {report['cpu_us_per_action']} CPU us per action"
        f" (best of {repeat}, {len(requests)} actions, GC off)"
        + floor_and_calls(report["action_over_floor"], floor, python, c_calls)
    )
    print(
        f"trade stream consumer, plain stream: {report['stream_cpu_us_per_event']} CPU us per"
        f" event ({len(events)} events), {stream_python:.1f} Python calls"
        f" and {stream_c:.1f} C calls per event"
    )
    if args.calls:
        for name, times in counted.most_common():
            print(f"{times / len(sample):7.2f}  {name}")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
