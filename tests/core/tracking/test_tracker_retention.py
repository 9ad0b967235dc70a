"""Retention: the tracker's memory stays bounded over a long run, its answers exact.

Before retention every final chain, each chain's events, every request outcome,
every fill and every fill id stayed in the tracker for good. Now final chains
beyond ``retain_final`` are retired (oldest final first), remembered compactly for
``retired_window`` more, and positions and P&L never depend on any of it.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.model import (
    CancelAll,
    CancelOrder,
    ExecutionReport,
    OrderState,
    ReportKind,
    RequestType,
    Side,
)
from ec_core.tracking import OrderTracker, RequestOutcome
from tracker_support import ACCOUNT, SYMBOL, fill, new_order, report

S = OrderState
K = ReportKind


def cycle(tracker: OrderTracker, n: int) -> None:
    """Order ``n``: sent, accepted, then filled in two lots (odd ones sell, so the
    position goes up and down and P&L is realized), or every tenth cancelled."""
    cl_order_id = f"O{n}"
    side = Side.SELL if n % 2 else Side.BUY
    price = f"{70 + (n % 7) / 100:.2f}"
    tracker.track_new(new_order(cl_order_id, side=side, qty=2, limit_price=Decimal(price)))
    tracker.apply(report(K.ACCEPTED, S.WORKING, cl_order_id, side=side, qty=2))
    if n % 10 == 9:
        tracker.apply(report(K.CANCELLED, S.CANCELLED, cl_order_id, side=side, qty=2))
        return
    for lot in (1, 2):
        tracker.apply(
            report(
                K.FILL,
                S.FILLED if lot == 2 else S.PARTIALLY_FILLED,
                cl_order_id,
                side=side,
                qty=2,
                filled=lot,
                avg_fill_price=Decimal(price),
                fill=fill(f"F{n}-{lot}", 1, price, side=side, cl_order_id=cl_order_id),
            )
        )


def test_fifty_thousand_orders_keep_every_map_bounded_and_the_book_exact() -> None:
    bounded = OrderTracker(
        clock=ManualClock(), retain_final=200, retired_window=2_000, history_limit=8
    )
    reference = OrderTracker(
        clock=ManualClock(), retain_final=None, history_limit=None
    )  # keeps everything
    kept = 200 + 1 + 1  # the retained final ones, the one that just ended, the one in flight
    bound = {
        "chains": kept,
        "final": 200 + 1,  # retired on the next event, never inside the one that ended it
        "client_ids": kept,
        "outcomes": kept,
        "fills": 2 * kept,
        "retired": 2_000,
        "retired_ids": 2_000,
        "retired_fill_ids": 2 * 2_000,
        "events": 8 * kept,
    }
    peak = dict.fromkeys(bound, 0)
    started = time.perf_counter()
    for n in range(50_000):
        cycle(bounded, n)
        if n % 97 == 0:
            for name, size in bounded.sizes().items():
                if name in peak:
                    peak[name] = max(peak[name], size)
    elapsed = time.perf_counter() - started
    for n in range(5_000):
        cycle(reference, n)
    for name, limit in bound.items():
        assert peak[name] <= limit, (name, peak[name], limit)
        assert bounded.sizes()[name] <= limit, name
    stats = bounded.stats()
    assert stats.retired == 50_000 - 201  # the last one ended is retired at the next event
    assert stats.duplicate_fills == 0
    assert stats.adopted == 0
    assert bounded.fill_count == 2 * (50_000 - 5_000)  # every tenth order is cancelled
    # positions and P&L are exact, against a plain first-in first-out computation
    qty, pnl = reference_book(50_000)
    assert bounded.position(ACCOUNT, SYMBOL).qty == qty
    assert bounded.realized_pnl(ACCOUNT) == pnl
    # and the same as a tracker that keeps everything (the first 5,000 orders)
    replay = OrderTracker(clock=ManualClock(), retain_final=3, retired_window=5)
    for n in range(5_000):
        cycle(replay, n)
    assert replay.positions() == reference.positions()
    assert replay.realized_pnl(ACCOUNT) == reference.realized_pnl(ACCOUNT)
    assert replay.fill_count == reference.fill_count
    assert replay.open_orders() == reference.open_orders()
    assert elapsed < 60  # a sanity bound, far above the few seconds it takes


def reference_book(count: int) -> tuple[int, Decimal]:
    """Position and realized P&L of ``cycle(0..count)``, one lot at a time, first in
    first out (multiplier 1): the oracle, independent of the tracker's book."""
    lots: list[tuple[int, Decimal]] = []  # one entry per open lot: (sign, price)
    realized = Decimal(0)
    for n in range(count):
        if n % 10 == 9:
            continue
        sign = -1 if n % 2 else 1
        price = Decimal(f"{70 + (n % 7) / 100:.2f}")
        for _ in range(2):
            if lots and lots[0][0] != sign:
                open_sign, open_price = lots.pop(0)
                realized += (price - open_price) * open_sign
            else:
                lots.append((sign, price))
    return sum(sign for sign, _ in lots), realized


def _retired_one(tracker: OrderTracker) -> None:
    """O0 filled (fill F0-1, F0-2) then retired by two later final orders."""
    for n in (0, 2, 4):
        cycle(tracker, n)
    tracker.apply(report(K.STATUS, S.WORKING, "unrelated", qty=1))  # triggers retirement
    assert tracker.stats().retired == 1


def test_a_repeated_fill_of_a_retired_order_is_a_duplicate_never_a_stranger() -> None:
    tracker = OrderTracker(clock=ManualClock(), retain_final=2)
    _retired_one(tracker)
    before = tracker.position(ACCOUNT, SYMBOL)
    again = report(
        K.FILL, S.FILLED, "O0", qty=2, filled=2, avg_fill_price=Decimal("70.00"),
        fill=fill("F0-2", 1, "70.00", cl_order_id="O0"),
    )  # fmt: skip
    tracker.apply(again)
    tracker.apply(report(K.STATUS, S.FILLED, "O0", qty=2, filled=2))
    assert tracker.position(ACCOUNT, SYMBOL) == before
    stats = tracker.stats()
    assert (stats.duplicate_fills, stats.late_reports, stats.adopted) == (1, 2, 1)  # 1: unrelated
    assert tracker.history("O0") == []  # retired: the journal keeps the history
    retired = tracker.order("O0")
    assert retired is not None
    assert (retired.state, retired.filled_qty) == (S.FILLED, 2)
    assert tracker.chain_id("O0") == "O0"
    assert tracker.outcome("O0") is RequestOutcome.ACCEPTED
    assert "O0" not in {o.chain_id for o in tracker.orders()}


def test_a_new_fill_of_a_retired_order_is_still_booked() -> None:
    """A cancel that raced a fill: the order ended CANCELLED, the fill comes late."""
    tracker = OrderTracker(clock=ManualClock(), retain_final=1)
    for n in (9, 19):  # both cancelled, unfilled
        cycle(tracker, n)
    tracker.apply(report(K.STATUS, S.WORKING, "unrelated", qty=1))
    assert tracker.order("O9") is not None
    assert tracker.stats().retired == 1
    late = report(
        K.FILL, S.CANCELLED, "O9", side=Side.SELL, qty=2, filled=1,
        fill=fill("late-1", 1, "70.02", side=Side.SELL, cl_order_id="O9"),
    )  # fmt: skip
    tracker.apply(late)
    tracker.apply(late)  # and its repetition is a duplicate
    assert tracker.position(ACCOUNT, SYMBOL).qty == -1
    assert tracker.stats().duplicate_fills == 1
    assert tracker.fill_count == 1


def test_beyond_the_retired_window_an_order_is_forgotten() -> None:
    tracker = OrderTracker(clock=ManualClock(), retain_final=1, retired_window=2)
    for n in range(0, 10, 2):
        cycle(tracker, n)
    tracker.apply(report(K.STATUS, S.WORKING, "unrelated", qty=1))
    sizes = tracker.sizes()
    assert (sizes["chains"], sizes["retired"], sizes["retired_fill_ids"]) == (2, 2, 4)
    assert tracker.order("O0") is None  # forgotten: only the journal has it
    assert tracker.order("O6") is not None  # retired, remembered
    assert tracker.order("O8") is not None  # retained whole
    assert len(tracker.history("O8")) == 6  # tracked, accepted, two fills and their reports


def test_final_orders_older_than_retain_final_ns_are_retired() -> None:
    clock = ManualClock()
    tracker = OrderTracker(clock=clock, retain_final=None, retain_final_ns=1_000)
    cycle(tracker, 0)
    clock.advance(500)
    cycle(tracker, 2)
    clock.advance(600)  # O0 final 1,100 ns ago, O2 600 ns ago
    tracker.apply(report(K.STATUS, S.WORKING, "unrelated", qty=1))
    assert [o.chain_id for o in tracker.orders()] == ["O2", "unrelated"]
    assert tracker.stats().retired == 1


def test_history_keeps_the_last_events_of_a_long_lived_order() -> None:
    tracker = OrderTracker(clock=ManualClock(), history_limit=5)
    tracker.track_new(new_order("A1"))
    for _ in range(100):  # a venue that repeats itself
        tracker.apply(report(K.STATUS, S.WORKING, "A1"))
    history = tracker.history("A1")
    assert len(history) == 5
    assert history[-1].seq == 101


def test_a_request_for_an_order_that_ended_meanwhile_is_overtaken_not_pending() -> None:
    tracker = OrderTracker(clock=ManualClock(), retain_final=1)
    cycle(tracker, 0)  # filled
    cancel = CancelOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="O0", cl_order_id="C")
    order = tracker.track_request(cancel)
    assert order is not None
    assert order.state is S.FILLED
    assert tracker.outcome("C") is RequestOutcome.OVERTAKEN
    cycle(tracker, 2)
    tracker.apply(report(K.STATUS, S.WORKING, "unrelated", qty=1))  # O0 retired now
    late = CancelOrder(account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id="O0", cl_order_id="D")
    assert tracker.track_request(late) is not None
    assert tracker.outcome("D") is RequestOutcome.OVERTAKEN
    assert tracker.outcome("C") is RequestOutcome.OVERTAKEN


def test_answers_to_bulk_requests_are_bounded() -> None:
    tracker = OrderTracker(clock=ManualClock(), retain_final=3)
    for n in range(50):
        request = CancelAll(account_id=ACCOUNT, cl_order_id=f"B{n}")
        tracker.track_bulk(request)
        tracker.apply(
            ExecutionReport(
                kind=K.ACCEPTED, account_id=ACCOUNT, symbol="", cl_order_id=f"B{n}",
                state=S.WORKING, side=Side.BUY, order_type=new_order().order_type, qty=0,
                request_type=RequestType.CANCEL_ALL,
            )
        )  # fmt: skip
    assert tracker.sizes()["bulk"] <= 2 * 3
    assert tracker.outcome("B49") is RequestOutcome.ACCEPTED
    assert tracker.outcome("B0") is None


@pytest.mark.parametrize(
    "options",
    [{"retain_final": 0}, {"retain_final_ns": -1}, {"retired_window": -1}, {"history_limit": 0}],
)
def test_retention_options_are_checked(options: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        OrderTracker(clock=ManualClock(), **options)  # type: ignore[arg-type]
