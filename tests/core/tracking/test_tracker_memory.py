"""What the tracker keeps per finished order when it keeps them all (a replay).

A replay's tracker keeps every final chain whole (its report lists every order and
fill), so what one finished order costs is paid per order action for the whole run:
in memory, and in the garbage collector's walks over what survives.
"""

from __future__ import annotations

import gc
import tracemalloc

from ec_core.clock import ManualClock
from ec_core.model import CancelOrder, OrderState, ReportKind, RequestType
from ec_core.tracking import OrderEventKind, OrderTracker
from tracker_support import ACCOUNT, SYMBOL, new_order, report

ORDERS = 1_000


def place_and_cancel(tracker: OrderTracker, start: int, count: int) -> None:
    """What a replay's ping strategy does: a resting order, acknowledged, then cancelled."""
    for n in range(start, start + count):
        order_id, cancel_id = f"N{n}", f"X{n}"
        tracker.track_new(new_order(order_id))
        tracker.apply(report(ReportKind.ACCEPTED, OrderState.WORKING, order_id))
        tracker.track_request(
            CancelOrder(
                account_id=ACCOUNT, symbol=SYMBOL, orig_cl_order_id=order_id, cl_order_id=cancel_id
            )
        )
        tracker.apply(
            report(
                ReportKind.CANCELLED,
                OrderState.CANCELLED,
                cancel_id,
                orig_cl_order_id=order_id,
                request_type=RequestType.CANCEL,
            )
        )


def test_a_finished_order_kept_whole_is_small_and_mostly_untracked() -> None:
    tracker = OrderTracker(clock=ManualClock(), retain_final=None)
    place_and_cancel(tracker, 0, 10)
    gc.collect()
    tracked_before = len(gc.get_objects())
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        place_and_cancel(tracker, 10, ORDERS)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    tracked = (len(gc.get_objects()) - tracked_before) / ORDERS
    # the chain and its history list; orders, events, reports and answers are untracked
    assert tracked <= 2.05
    # was ~3.1 KB (a bounded deque per history, lists of ids, tuples of answers)
    assert (end - start) / ORDERS < 2_600
    # and the order is kept whole all the same
    order = tracker.order("N500")
    assert order is not None
    assert order.state is OrderState.CANCELLED
    kinds = [e.kind for e in tracker.history("N500")]
    K = OrderEventKind
    assert kinds == [K.TRACKED, K.REPORT, K.REQUESTED, K.REPORT]
    assert tracker.client_order_ids("N500") == ["N500", "X500"]
    assert tracker.sizes()["chains"] == ORDERS + 10


def test_history_keeps_its_last_limit_events() -> None:
    tracker = OrderTracker(clock=ManualClock(), retain_final=None, history_limit=3)
    place_and_cancel(tracker, 0, 1)
    K = OrderEventKind
    assert [e.kind for e in tracker.history("N0")] == [K.REPORT, K.REQUESTED, K.REPORT]


def test_sizes_counts_the_final_chains_kept_when_it_keeps_them_all() -> None:
    # With every final chain kept (a replay), none is queued to retire: "final" read 0
    # while the tracker held every finished order.
    tracker = OrderTracker(clock=ManualClock(), retain_final=None)
    place_and_cancel(tracker, 0, 5)
    tracker.track_new(new_order("W1"))  # one still working
    sizes = tracker.sizes()
    assert (sizes["chains"], sizes["open"], sizes["final"]) == (6, 1, 5)
    bounded = OrderTracker(clock=ManualClock(), retain_final=3)
    place_and_cancel(bounded, 0, 5)
    bounded.track_new(new_order("W1"))  # the next event retires what is over the bound
    assert bounded.sizes()["final"] == 3


def test_a_retired_chain_leaves_no_client_id_behind_and_a_reused_id_is_a_new_order() -> None:
    # The id map holds the chains themselves: a retired one must leave it entirely (a stale
    # entry would route a later report to an order no longer kept), and an id used again
    # once every memory of it is gone starts a new order of its own.
    tracker = OrderTracker(clock=ManualClock(), retain_final=1, retired_window=1)
    place_and_cancel(tracker, 0, 4)  # N0..N2 retire in turn, N3 stays final
    tracker.track_new(new_order("W1"))  # retires N2; N0 and N1 are forgotten
    assert tracker.sizes()["client_ids"] == 3  # N3 and its cancel X3, W1
    assert (tracker.chain_id("N0"), tracker.chain_id("X0")) == (None, None)
    tracker.track_new(new_order("N0"))
    tracker.apply(report(ReportKind.ACCEPTED, OrderState.WORKING, "N0"))
    again = tracker.order("N0")
    assert again is not None
    assert (again.chain_id, again.state) == ("N0", OrderState.WORKING)
    assert "N0" in {o.chain_id for o in tracker.open_orders()}
    assert tracker.stats().adopted == 0
