"""A user's account on a paper venue keeps its last N finished orders, not every one.

``ec mock serve`` and the mock vendor's live paper sessions run for days: a user's
finished orders (and rejects) stayed in the exchange for its whole life. They are kept
for status queries up to ``keep_final_orders`` (the venue's ``KEEP_FINAL_ORDERS``), the
oldest forgotten first, like the house's (which keeps none).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from ec_core.model import CancelOrder, NewOrder, OrderState, OrderType, Side
from ec_mock.engine import Exchange, ExchangeState
from ec_mock.engine.ledger import keep_last
from ec_mock.vendor import venue as venue_module
from ec_mock.vendor.venue import MockVenue
from engine_support import ES, make_exchange, order
from hypothesis import given
from hypothesis import strategies as st


def place_and_cancel(ex: Exchange, account: str, n: int) -> None:
    ex.submit(order(f"o{n}", Side.BUY, 1, "3900.00", account=account))
    ex.submit(
        CancelOrder(account_id=account, symbol="ES", orig_cl_order_id=f"o{n}", cl_order_id=f"c{n}")
    )


def known(ex: Exchange, account: str, ids: list[str]) -> list[str]:
    return [cl for cl in ids if ex.order_status(account, cl) is not None]


def test_an_account_keeps_its_last_finished_orders_and_forgets_older_ones() -> None:
    ex, _, rec = make_exchange((ES,), accounts=())
    ex.open_account("U", retire_final_orders=True, keep_final_orders=3)
    for n in range(5):
        place_and_cancel(ex, "U", n)
    assert rec.last("c0").state is OrderState.CANCELLED  # reported as ever
    assert known(ex, "U", [f"o{n}" for n in range(5)]) == ["o2", "o3", "o4"]
    assert known(ex, "U", [f"c{n}" for n in range(5)]) == ["c2", "c3", "c4"]
    ex.submit(order("w", Side.BUY, 1, "3900.00", account="U"))  # open orders are never dropped
    for n in range(5, 10):
        place_and_cancel(ex, "U", n)
    assert known(ex, "U", ["w", "o6", "o7", "o8", "o9"]) == ["w", "o7", "o8", "o9"]


def test_rejects_are_kept_up_to_the_same_bound() -> None:
    ex, _, _ = make_exchange((ES,), accounts=())
    ex.open_account("U", retire_final_orders=True, keep_final_orders=2)
    for n in range(4):  # off the tick grid: rejected
        ex.submit(order(f"r{n}", Side.BUY, 1, "3900.10", account="U"))
    assert known(ex, "U", [f"r{n}" for n in range(4)]) == ["r2", "r3"]


def test_a_restored_exchange_keeps_the_bound_and_forgets_in_turn() -> None:
    ex, _, _ = make_exchange((ES,), accounts=())
    ex.open_account("U", retire_final_orders=True, keep_final_orders=2)
    for n in range(3):
        place_and_cancel(ex, "U", n)
    state = msgspec.json.decode(msgspec.json.encode(ex.snapshot()), type=ExchangeState)
    restored = Exchange.restore(state, clock=ex.clock)
    assert known(restored, "U", ["o0", "o1", "o2"]) == ["o1", "o2"]
    place_and_cancel(restored, "U", 3)
    assert known(restored, "U", ["o1", "o2", "o3"]) == ["o2", "o3"]


def test_keep_final_orders_needs_an_account_that_retires_them() -> None:
    ex, _, _ = make_exchange((ES,), accounts=())
    with pytest.raises(ValueError, match="keep_final_orders"):
        ex.open_account("U", keep_final_orders=5)


def test_the_paper_venue_bounds_its_users_finished_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(venue_module, "KEEP_FINAL_ORDERS", 2)
    venue = MockVenue.create(accounts=("U",), market=False)
    ex = venue.exchange
    for n in range(4):
        ex.submit(
            NewOrder(account_id="U", symbol="EP", side=Side.BUY, qty=1, order_type=OrderType.LMT,
                     limit_price=Decimal("3000.00"), cl_order_id=f"o{n}")
        )  # fmt: skip
        ex.submit(
            CancelOrder(account_id="U", symbol="EP", orig_cl_order_id=f"o{n}", cl_order_id=f"c{n}")
        )
    assert known(ex, "U", [f"o{n}" for n in range(4)]) == ["o2", "o3"]


@given(
    keys=st.lists(st.integers(min_value=0, max_value=12), max_size=60),
    bound=st.integers(min_value=1, max_value=6),
)
def test_keep_last_holds_the_last_bound_keys_first_kept_oldest_first(
    keys: list[int], bound: int
) -> None:
    """The one "keep the last N" (finished orders, rejects): a key kept again keeps its
    value and place; what is dropped is the oldest, and each drop is returned."""
    kept: dict[int, str] = {}
    model: list[tuple[int, str]] = []  # (key, value) as first kept, oldest first
    for n, key in enumerate(keys):
        out = keep_last(kept, key, f"{key}@{n}", bound)
        if all(key != held for held, _ in model):
            model.append((key, f"{key}@{n}"))
        if len(model) > bound:
            assert out == model.pop(0)[1]
        else:
            assert out is None
        assert list(kept.items()) == model
