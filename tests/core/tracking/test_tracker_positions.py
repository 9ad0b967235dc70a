"""Positions and P&L come from fills; observers hear of every change, and cannot break it."""

from __future__ import annotations

from decimal import Decimal

from ec_core.clock import ManualClock
from ec_core.model import Fill, Order, OrderState, Position, PositionReport, ReportKind, Side
from ec_core.plugins import PluginHost, hookimpl
from ec_core.tracking import OrderTracker, PositionBook
from hypothesis import given, settings
from hypothesis import strategies as st
from tracker_support import ACCOUNT, SYMBOL, fill, fill_report, new_order, report


def test_round_trip_realizes_pnl_with_multiplier() -> None:
    book = PositionBook(multiplier=lambda symbol: Decimal(1000))
    book.apply(fill("F1", 2, "70.00"))
    book.apply(fill("F2", 2, "71.00"))
    assert book.get(ACCOUNT, SYMBOL).avg_price == Decimal("70.50")
    assert book.unrealized_pnl(ACCOUNT, SYMBOL, Decimal("71.50")) == Decimal(4000)
    book.apply(fill("F3", 3, "72.00", side=Side.SELL))
    position = book.get(ACCOUNT, SYMBOL)
    assert (position.qty, position.avg_price) == (1, Decimal("71.00"))  # first in, first out
    assert position.realized_pnl == Decimal(5000)
    book.apply(fill("F4", 3, "69.00", side=Side.SELL))  # through flat: short 2 at 69
    position = book.get(ACCOUNT, SYMBOL)
    assert (position.qty, position.avg_price) == (-2, Decimal("69.00"))
    assert position.realized_pnl == Decimal(5000) - Decimal(2000)
    assert book.realized_pnl(ACCOUNT) == Decimal(3000)
    assert book.unrealized_pnl(ACCOUNT, "OTHER", Decimal(1)) == 0


fills = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=1, max_value=20),
        st.integers(min_value=6000, max_value=8000),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(fills=fills, mark_ticks=st.integers(min_value=6000, max_value=8000))
def test_pnl_equals_cash_flow_plus_marked_position(
    fills: list[tuple[Side, int, int]], mark_ticks: int
) -> None:
    tick = Decimal("0.01")
    multiplier = Decimal(1000)
    book = PositionBook(multiplier=lambda symbol: multiplier)
    cash = Decimal(0)
    for i, (side, qty, ticks) in enumerate(fills):
        price = ticks * tick
        book.apply(
            Fill(
                fill_id=str(i), account_id=ACCOUNT, symbol=SYMBOL, side=side, qty=qty,
                price=price, ts_ns=i,
            )
        )  # fmt: skip
        cash -= side.sign * qty * price * multiplier
    mark = mark_ticks * tick
    position = book.get(ACCOUNT, SYMBOL)
    unrealized = book.unrealized_pnl(ACCOUNT, SYMBOL, mark)
    assert position.qty == sum(side.sign * qty for side, qty, _ in fills)
    assert position.realized_pnl + unrealized == cash + position.qty * mark * multiplier
    if position.qty == 0:
        assert position.avg_price == 0
        assert unrealized == 0


class Recorder:
    def __init__(self) -> None:
        self.orders: list[tuple[OrderState, OrderState | None]] = []
        self.fills: list[str] = []
        self.positions: list[int] = []

    @hookimpl
    def ec_on_order(self, order: Order, previous: Order | None) -> None:
        self.orders.append((order.state, None if previous is None else previous.state))

    @hookimpl
    def ec_on_fill(self, fill: Fill) -> None:
        self.fills.append(fill.fill_id)

    @hookimpl
    def ec_on_position(self, position: Position) -> None:
        self.positions.append(position.qty)


class Broken:
    @hookimpl
    def ec_on_order(self, order: Order, previous: Order | None) -> None:
        raise RuntimeError("observer bug")


def test_observers_hear_every_change_and_a_broken_one_is_isolated() -> None:
    host = PluginHost(strict=True)
    recorder = Recorder()
    assert host.register(recorder, name="recorder")
    assert host.register(Broken(), name="broken")
    tracker = OrderTracker(clock=ManualClock(), host=host)
    tracker.track_new(new_order())
    tracker.apply(report(ReportKind.ACCEPTED, OrderState.WORKING))
    tracker.apply(fill_report("F1", 2, filled=2))
    tracker.apply(fill_report("F1", 2, filled=2))  # duplicate: no new notifications
    tracker.apply(PositionReport(position=Position(account_id=ACCOUNT, symbol=SYMBOL, qty=2)))
    assert recorder.orders == [
        (OrderState.PENDING_NEW, None),
        (OrderState.WORKING, OrderState.PENDING_NEW),
        (OrderState.PARTIALLY_FILLED, OrderState.WORKING),
    ]
    assert recorder.fills == ["F1"]
    assert recorder.positions == [2, 2]
    assert host.observer_errors["broken"] == 3
    venue = tracker.venue_position(ACCOUNT, SYMBOL)
    assert venue is not None
    assert venue.qty == 2
