"""Iceberg invariants under random order flow (hypothesis), against a model of Globex.

The model follows CME Globex iceberg rules: a resting iceberg shows a slice of at
most its display quantity; a fill takes from the slice; when the slice is gone and
quantity is left, a new slice is shown at the back of its price level's queue; a
quantity decrease takes hidden quantity first. After every request the engine's
displayed depth must equal the model's, no order has filled more than its quantity,
and a replenished iceberg stands behind every order that was at its price before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ec_core.model import (
    CancelOrder,
    Duration,
    ExecutionReport,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
    ReportKind,
    Side,
)
from ec_mock.engine import Exchange
from engine_support import ES, Recorder, make_exchange
from hypothesis import given, settings
from hypothesis import strategies as st

BASE = 1000  # ticks around which prices wander
TICK = ES.tick_size

new_orders = st.tuples(
    st.just("new"),
    st.sampled_from(("A", "B", "C")),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 12),
    st.integers(-1, 1),
    st.one_of(st.none(), st.integers(1, 4)),  # display quantity (None: a plain order)
    st.sampled_from([Duration.DAY, Duration.DAY, Duration.GTC, Duration.IOC]),
    st.booleans(),  # a market order (never an iceberg)
)
modifies = st.tuples(st.just("modify"), st.integers(0, 100), st.integers(1, 14))
cancels = st.tuples(st.just("cancel"), st.integers(0, 100))
flows = st.lists(st.one_of(new_orders, new_orders, new_orders, modifies, cancels), max_size=60)


@dataclass
class Held:
    """What the model knows of one accepted order."""

    account: str
    side: Side
    qty: int
    display: int  # 0: a plain order
    filled: int = 0
    shown: int = 0  # the iceberg's slice on display while it rests


def _request(
    op: tuple[object, ...], n: int, placed: list[str], orders: dict[str, Held]
) -> OrderRequest | None:
    if op[0] == "new":
        _, account, side, qty, offset, display, duration, market = op
        assert isinstance(side, Side)
        assert isinstance(qty, int)
        assert isinstance(offset, int)
        assert isinstance(duration, Duration)
        assert isinstance(account, str)
        price = Decimal(BASE + (offset if side is Side.BUY else -offset)) * TICK
        if market:
            return NewOrder(
                account_id=account,
                symbol="ES",
                side=side,
                qty=qty,
                order_type=OrderType.MKT,
                duration=Duration.IOC,
                cl_order_id=f"o{n}",
            )
        iceberg = display is not None and duration is not Duration.IOC
        return NewOrder(
            account_id=account,
            symbol="ES",
            side=side,
            qty=qty,
            order_type=OrderType.LMT,
            limit_price=price,
            duration=duration,
            cl_order_id=f"o{n}",
            display_qty=min(display, qty) if iceberg and isinstance(display, int) else None,
        )
    if not placed:
        return None
    target = placed[int(op[1]) % len(placed)]  # type: ignore[call-overload]
    held = orders[target]
    if op[0] == "modify":
        qty = op[2]
        assert isinstance(qty, int)
        return ModifyOrder(
            account_id=held.account,
            symbol="ES",
            orig_cl_order_id=target,
            cl_order_id=target,
            qty=qty,
        )
    return CancelOrder(account_id=held.account, symbol="ES", orig_cl_order_id=target)


def _resting(ex: Exchange) -> list[ExecutionReport]:
    return ex.resting("ES")


def _levels(reports: list[ExecutionReport]) -> dict[tuple[Side | None, Decimal | None], list[str]]:
    out: dict[tuple[Side | None, Decimal | None], list[str]] = {}
    for r in reports:
        out.setdefault((r.side, r.limit_price), []).append(r.cl_order_id)
    return out


def _apply(
    request: OrderRequest, events: list[ExecutionReport], orders: dict[str, Held]
) -> list[str]:
    """Carry one request's reports into the model; the icebergs it replenished, in the
    order of their last replenishment."""
    replenished: list[str] = []
    aggressor = request.cl_order_id if isinstance(request, NewOrder) else None
    for report in events:
        held = orders.get(report.cl_order_id)
        if held is None:
            continue
        if report.kind is ReportKind.FILL and report.fill is not None:
            qty = report.fill.qty
            held.filled += qty
            if held.display and report.cl_order_id != aggressor:
                held.shown -= qty
                left = held.qty - held.filled
                if held.shown == 0 and left:
                    held.shown = min(held.display, left)
                    if report.cl_order_id in replenished:
                        replenished.remove(report.cl_order_id)
                    replenished.append(report.cl_order_id)
        elif report.kind is ReportKind.MODIFIED and isinstance(request, ModifyOrder):
            new_qty = report.qty
            if held.display:
                left = new_qty - held.filled
                if new_qty > held.qty:  # an increase loses priority: a fresh slice
                    held.shown = min(held.display, left)
                else:  # a decrease takes hidden quantity first
                    hidden = held.qty - held.filled - held.shown
                    cut = held.qty - new_qty
                    held.shown -= max(0, cut - hidden)
            held.qty = new_qty
    return replenished


@settings(max_examples=150, deadline=None)
@given(flows)
def test_iceberg_invariants_hold_under_random_flow(flow: list[tuple[object, ...]]) -> None:
    ex, _clock, rec = make_exchange(accounts=("A", "B", "C"))
    orders: dict[str, Held] = {}
    placed: list[str] = []
    for n, op in enumerate(flow):
        request = _request(op, n, placed, orders)
        if request is None:
            continue
        before = _levels(_resting(ex))
        seen = len(rec.trade)
        if isinstance(request, NewOrder):
            orders[request.cl_order_id] = Held(
                request.account_id, request.side, request.qty, request.display_qty or 0
            )
        ex.submit(request)
        events = [e for e in rec.trade[seen:] if isinstance(e, ExecutionReport)]
        if isinstance(request, NewOrder):
            if any(e.kind is ReportKind.REJECTED for e in events):
                del orders[request.cl_order_id]
            else:
                placed.append(request.cl_order_id)
        replenished = _apply(request, events, orders)
        resting = _resting(ex)
        resting_ids = {r.cl_order_id for r in resting}
        for cl in resting_ids:  # a slice rests: an iceberg that just rested shows its first
            held = orders[cl]
            if held.display and held.shown == 0:
                held.shown = min(held.display, held.qty - held.filled)
        for cl, held in orders.items():
            assert held.filled <= held.qty, cl
            if cl not in resting_ids:
                held.shown = 0
            elif held.display:
                assert 0 < held.shown <= held.display, cl
        _check_depth(ex, orders, resting)
        _check_priority(before, _levels(resting), replenished)


def _check_depth(ex: Exchange, orders: dict[str, Held], resting: list[ExecutionReport]) -> None:
    """Each price level shows exactly the slices of its icebergs and the rest of the others."""
    expected: dict[tuple[Side | None, int], int] = {}
    for r in resting:
        held = orders[r.cl_order_id]
        assert r.limit_price is not None
        key = (r.side, int(r.limit_price / TICK))
        shown = held.shown if held.display else held.qty - held.filled
        expected[key] = expected.get(key, 0) + shown
    view = ex.book("ES")
    actual = {(Side.BUY, lv.price): lv.qty for lv in view.bids}
    actual |= {(Side.SELL, lv.price): lv.qty for lv in view.asks}
    assert actual == expected


def _check_priority(
    before: dict[tuple[Side | None, Decimal | None], list[str]],
    after: dict[tuple[Side | None, Decimal | None], list[str]],
    replenished: list[str],
) -> None:
    """A replenished iceberg lost its place: every order that was at its price before the
    request, still rests there and was not replenished itself is ahead of it, and the
    icebergs replenished stand in the order of their replenishment."""
    for key, queue in after.items():
        moved = [cl for cl in replenished if cl in queue]
        stayed = (set(before.get(key, ())) & set(queue)) - set(moved)
        for cl in moved:
            at = queue.index(cl)
            assert all(queue.index(o) < at for o in stayed), (cl, queue)
        assert [cl for cl in queue if cl in moved] == moved, (moved, queue)


def test_the_model_sees_a_replenish() -> None:
    """The property's model is not vacuous: a slice filled moves the iceberg back."""
    ex, _clock, rec = make_exchange(accounts=("A", "B"))
    price = Decimal(BASE) * TICK

    def limit(cl: str, account: str, side: Side, qty: int, **more: Any) -> NewOrder:
        return NewOrder(
            account_id=account,
            symbol="ES",
            side=side,
            qty=qty,
            order_type=OrderType.LMT,
            limit_price=price,
            cl_order_id=cl,
            **more,
        )

    ice = limit("ice", "A", Side.SELL, 4, display_qty=2)
    plain = limit("plain", "B", Side.SELL, 1)
    take = limit("take", "B", Side.BUY, 2)
    orders = {"ice": Held("A", Side.SELL, 4, 2, shown=2), "plain": Held("B", Side.SELL, 1, 0)}
    ex.submit(ice)
    ex.submit(plain)
    before = _levels(_resting(ex))
    seen = len(rec.trade)
    ex.submit(take)
    events = [e for e in rec.trade[seen:] if isinstance(e, ExecutionReport)]
    replenished = _apply(take, events, orders)
    assert replenished == ["ice"]
    assert _levels(_resting(ex))[(Side.SELL, price)] == ["plain", "ice"]
    _check_priority(before, _levels(_resting(ex)), replenished)
    _check_depth(ex, orders, _resting(ex))
    assert isinstance(rec, Recorder)
