"""What the replay venue reads of the user's orders (``read_user_book``) comes from the
exchange's cheap queries (``best_prices``, ``open_stops``, ``waiting_aon_limits``), which
read the order records instead of building reports: they must say what the reports say.

A seeded walk of records and orders (limits, stops, stop-limits that fire and rest,
all-or-none limits, cancels) runs on the replay venue; after every step the queries are
held to the same facts read from ``book``, ``open_orders`` and ``waiting_all_or_none``.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from ec_core.model import CancelOrder, ExecInstruction, OrderType, Quote, Side
from ec_core.model import Trade as Print
from ec_mock.engine import Exchange
from ec_mock.market import RecordedFillModel, RecordedVenue
from engine_support import ES, T0, make_exchange, order
from hypothesis import given, settings
from hypothesis import strategies as st

_STOPS = (OrderType.STP, OrderType.STL)


def _from_reports(ex: Exchange) -> tuple[Any, ...]:
    """The facts the venue needs, read the slow way: views and reports."""
    view = ex.book("ES")
    touch = (view.bids[0].price if view.bids else None, view.asks[0].price if view.asks else None)
    stops = sorted(
        (
            r.account_id,
            1 if r.side is Side.BUY else -1,
            ES.to_ticks(r.stop_price),
            r.qty - r.filled_qty,
        )
        for account in ex.account_ids()
        for r in ex.open_orders(account)
        if r.symbol == "ES" and r.stop_price is not None and r.order_type in _STOPS
    )
    aon = [
        (
            r.account_id,
            1 if r.side is Side.BUY else -1,
            ES.to_ticks(r.limit_price),
            r.qty - r.filled_qty,
        )
        for r in ex.waiting_all_or_none("ES")
        if r.limit_price is not None
    ]
    return touch, stops, aon


def _from_queries(ex: Exchange) -> tuple[Any, ...]:
    return ex.best_prices("ES"), sorted(ex.open_stops("ES")), ex.waiting_aon_limits("ES")


def _walk(seed: int, stop_trigger: Any) -> int:
    """Replay a seeded walk, checking the queries after every step; the number of steps
    where the user had a stop or a waiting all-or-none order."""
    rng = random.Random(seed)
    ex, _, _ = make_exchange((ES,), accounts=("A",))
    venue = RecordedVenue(ex, RecordedFillModel(stop_trigger=stop_trigger))
    mid, placed, busy = 18000, [], 0
    for i in range(120):
        ts = T0 + i * 1_000_000
        mid += rng.choice((-1, 0, 0, 1))
        roll = rng.random()
        if roll < 0.15:
            kind = rng.choice(("buy", "sell", "stp", "stl", "aon"))
            side = rng.choice((Side.BUY, Side.SELL))
            price = mid + rng.randint(-3, 3)
            more: dict[str, Any] = {"price": str(ES.to_price(price))}
            qty = rng.randint(1, 4)
            if kind == "stp":
                more = {"order_type": OrderType.STP, "stop": str(ES.to_price(price))}
            elif kind == "stl":
                limit = price + (2 if side is Side.BUY else -2)
                more = {
                    "order_type": OrderType.STL,
                    "stop": str(ES.to_price(price)),
                    "price": str(ES.to_price(limit)),
                }
            elif kind == "aon":
                more["exec_instructions"] = frozenset({ExecInstruction.AON})
            venue.submit(order(f"o{i}", side, qty, **more))
            placed.append(f"o{i}")
        elif roll < 0.2 and placed:
            cl = placed.pop(rng.randrange(len(placed)))
            venue.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id=cl))
        elif roll < 0.4:
            venue.feed(Print(symbol="ES", ts_ns=ts, price=mid + rng.randint(-2, 2), size=2))
        else:
            spread = rng.randint(0, 2)
            venue.feed(
                Quote(symbol="ES", ts_ns=ts, bid=mid, bid_size=3, ask=mid + spread, ask_size=3)
            )
        slow, fast = _from_reports(ex), _from_queries(ex)
        assert fast == slow, f"seed {seed} step {i}: queries {fast} != reports {slow}"
        busy += bool(slow[1] or slow[2])
    return busy


@pytest.mark.parametrize("stop_trigger", ["trade", "quote"])
def test_the_queries_say_what_the_reports_say_on_seeded_walks(stop_trigger: Any) -> None:
    busy = sum(_walk(seed, stop_trigger) for seed in range(25))
    assert busy > 500  # the walks do hold stops and waiting all-or-none orders


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), stop_trigger=st.sampled_from(["trade", "quote"]))
def test_the_queries_say_what_the_reports_say(seed: int, stop_trigger: Any) -> None:
    _walk(seed, stop_trigger)
