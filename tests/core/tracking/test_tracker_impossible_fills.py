"""Impossible fills: booked (the venue's word about money wins) and raised loudly.

An overfill (more filled than the order's quantity) or a fill on an order already
final (REJECTED, CANCELLED, EXPIRED, FILLED) is booked into the position, the
order's record is made to agree with it, and the tracker raises a typed
:class:`FillAnomaly`: to observers (``ec_on_fill_anomaly``), in ``anomalies()``,
in the order's history and in the ``impossible_fills`` counter. Nothing raises.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.model import OrderState, ReportKind
from ec_core.plugins import PluginHost, hookimpl
from ec_core.tracking import FillAnomaly, FillAnomalyKind, OrderEventKind, OrderTracker
from tracker_support import ACCOUNT, SYMBOL, fill, new_order, report

S = OrderState
K = ReportKind


class Observer:
    def __init__(self) -> None:
        self.anomalies: list[FillAnomaly] = []

    @hookimpl
    def ec_on_fill_anomaly(self, anomaly: FillAnomaly) -> None:
        self.anomalies.append(anomaly)


@pytest.fixture
def observer() -> Observer:
    return Observer()


@pytest.fixture
def tracker(observer: Observer) -> OrderTracker:
    host = PluginHost()
    host.register(observer, name="observer")
    return OrderTracker(clock=ManualClock(), host=host)


def _agree(tracker: OrderTracker, chain_id: str) -> None:
    """The order's record and the position never disagree."""
    order = tracker.order(chain_id)
    assert order is not None
    booked = sum(f.qty for f in tracker.fills() if f.chain_id == chain_id)
    assert order.filled_qty == booked == tracker.position(ACCOUNT, SYMBOL).qty


def test_an_overfill_is_booked_and_raised(tracker: OrderTracker, observer: Observer) -> None:
    tracker.track_new(new_order(qty=1))
    tracker.apply(report(K.ACCEPTED, S.WORKING, qty=1))
    tracker.apply(
        report(
            K.FILL, S.FILLED, qty=1, filled=5, avg_fill_price=Decimal("70.00"),
            fill=fill("F1", 5),
        )
    )  # fmt: skip
    _agree(tracker, "A1")
    assert tracker.stats().impossible_fills == 1
    [anomaly] = observer.anomalies
    assert anomaly.kind is FillAnomalyKind.OVERFILL
    assert (anomaly.chain_id, anomaly.order_qty, anomaly.filled_qty) == ("A1", 1, 5)
    assert anomaly.fill.fill_id == "F1"
    assert tracker.anomalies() == [anomaly]
    assert OrderEventKind.ANOMALY in [e.kind for e in tracker.history("A1")]


def test_an_overfill_the_report_understates_still_agrees_with_the_position(
    tracker: OrderTracker, observer: Observer
) -> None:
    tracker.track_new(new_order(qty=1))
    tracker.apply(report(K.FILL, S.FILLED, qty=1, filled=1, fill=fill("F1", 5)))
    _agree(tracker, "A1")
    assert [a.kind for a in observer.anomalies] == [FillAnomalyKind.OVERFILL]


@pytest.mark.parametrize("final", [S.REJECTED, S.CANCELLED, S.EXPIRED])
def test_a_fill_after_a_final_state_is_booked_and_the_order_agrees(
    tracker: OrderTracker, observer: Observer, final: OrderState
) -> None:
    tracker.track_new(new_order(qty=1))
    kind = {S.REJECTED: K.REJECTED, S.CANCELLED: K.CANCELLED, S.EXPIRED: K.EXPIRED}[final]
    tracker.apply(report(kind, final, qty=1))
    tracker.apply(report(K.FILL, S.FILLED, qty=1, filled=1, fill=fill("F1", 1)))
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.FILLED  # the venue's word about money wins
    _agree(tracker, "A1")
    [anomaly] = observer.anomalies
    assert anomaly.kind is FillAnomalyKind.FILL_AFTER_FINAL
    assert anomaly.previous_state is final
    assert tracker.stats().impossible_fills == 1
    assert tracker.open_orders() == []


def test_a_fill_after_final_that_names_an_open_state_keeps_the_order_final(
    tracker: OrderTracker,
) -> None:
    tracker.track_new(new_order(qty=2))
    tracker.apply(report(K.CANCELLED, S.CANCELLED, qty=2))
    tracker.apply(report(K.FILL, S.PARTIALLY_FILLED, qty=2, filled=1, fill=fill("F1", 1)))
    order = tracker.order("A1")
    assert order is not None
    assert order.state is S.CANCELLED  # never reopened: nothing works at the venue
    _agree(tracker, "A1")
    assert tracker.open_orders() == []


def test_a_second_fill_beyond_a_filled_order_is_an_overfill(
    tracker: OrderTracker, observer: Observer
) -> None:
    tracker.track_new(new_order(qty=1))
    tracker.apply(report(K.FILL, S.FILLED, qty=1, filled=1, fill=fill("F1", 1)))
    tracker.apply(report(K.FILL, S.FILLED, qty=1, filled=2, fill=fill("F2", 1)))
    _agree(tracker, "A1")
    assert [a.kind for a in observer.anomalies] == [FillAnomalyKind.FILL_AFTER_FINAL]
    assert observer.anomalies[0].filled_qty == 2


def test_a_repeated_fill_is_a_duplicate_not_an_anomaly(
    tracker: OrderTracker, observer: Observer
) -> None:
    tracker.track_new(new_order(qty=1))
    filled = report(K.FILL, S.FILLED, qty=1, filled=1, fill=fill("F1", 1))
    tracker.apply(filled)
    tracker.apply(filled)
    assert observer.anomalies == []
    assert tracker.stats().impossible_fills == 0
    _agree(tracker, "A1")


def test_an_adopted_order_that_is_overfilled_is_raised(
    tracker: OrderTracker, observer: Observer
) -> None:
    tracker.apply(
        report(K.FILL, S.FILLED, "X1", qty=1, filled=3, fill=fill("F1", 3, cl_order_id="X1"))
    )
    _agree(tracker, "X1")
    assert [a.kind for a in observer.anomalies] == [FillAnomalyKind.OVERFILL]


def test_a_new_fill_of_a_retired_order_is_raised_and_its_record_agrees(observer: Observer) -> None:
    host = PluginHost()
    host.register(observer, name="observer")
    tracker = OrderTracker(clock=ManualClock(), host=host, retain_final=1)
    for cl_order_id in ("A1", "A2", "A3"):
        tracker.track_new(new_order(cl_order_id, qty=1))
        tracker.apply(report(K.CANCELLED, S.CANCELLED, cl_order_id, qty=1))
    assert tracker.sizes()["retired"] == 1  # A1
    tracker.apply(report(K.FILL, S.FILLED, "A1", qty=1, filled=1, fill=fill("F9", 1)))
    order = tracker.order("A1")
    assert order is not None
    assert order.filled_qty == 1 == tracker.position(ACCOUNT, SYMBOL).qty
    [anomaly] = observer.anomalies
    assert anomaly.kind is FillAnomalyKind.FILL_AFTER_FINAL
    assert anomaly.chain_id == "A1"


def test_an_observer_that_raises_does_not_reach_the_trading_path() -> None:
    class Broken:
        @hookimpl
        def ec_on_fill_anomaly(self, anomaly: FillAnomaly) -> None:
            raise RuntimeError("observer bug")

    host = PluginHost()
    host.register(Broken(), name="broken")
    tracker = OrderTracker(clock=ManualClock(), host=host)
    tracker.track_new(new_order(qty=1))
    tracker.apply(report(K.FILL, S.FILLED, qty=1, filled=2, fill=fill("F1", 2)))
    assert tracker.stats().impossible_fills == 1
