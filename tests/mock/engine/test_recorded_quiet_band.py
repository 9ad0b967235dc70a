"""The replay venue's quiet band: a quote inside it provably changes nothing.

The venue skips the per-quote checks of a quote with ``floor < bid <= ask < ceiling``
(:meth:`~ec_mock.market.recorded_orders.UserBook.set_band`). The first property holds
the band to the rules a quote can trigger; the second replays random records and
orders twice, with the band and with every quote checked in full (an empty band), and
asks for the same reports.
"""

from __future__ import annotations

import random
from typing import Any
from unittest.mock import patch

import pytest
from ec_core.model import ExecInstruction, OrderType, Quote, Side
from ec_core.model import Trade as Print
from ec_mock.market import RecordedFillModel, RecordedVenue
from ec_mock.market.recorded_orders import UserBook
from engine_support import ES, T0, make_exchange, order
from hypothesis import given
from hypothesis import strategies as st

prices = st.integers(17990, 18010)
maybe = st.none() | prices


@given(
    buy=maybe,
    sell=maybe,
    buy_stop=maybe,
    sell_stop=maybe,
    buy_aon=maybe,
    sell_aon=maybe,
    stops_on_quotes=st.booleans(),
    bid=prices,
    ask=prices,
)
def test_a_quote_inside_the_band_triggers_no_rule(
    buy: int | None,
    sell: int | None,
    buy_stop: int | None,
    sell_stop: int | None,
    buy_aon: int | None,
    sell_aon: int | None,
    stops_on_quotes: bool,
    bid: int,
    ask: int,
) -> None:
    user = UserBook()
    user.buy, user.sell, user.buy_stop, user.sell_stop = buy, sell, buy_stop, sell_stop
    user.buy_aon, user.sell_aon = buy_aon, sell_aon
    user.set_band(stops_on_quotes=stops_on_quotes)
    if not user.floor < bid <= ask < user.ceiling:
        return
    assert buy is None or (ask > buy and bid != buy)  # no cross, no queue move
    assert sell is None or (bid < sell and ask != sell)
    assert buy_aon is None or ask > buy_aon  # no waiting all-or-none order can take it
    assert sell_aon is None or bid < sell_aon
    if stops_on_quotes:
        assert buy_stop is None or ask < buy_stop
        assert sell_stop is None or bid > sell_stop


def test_an_unread_book_and_a_fresh_one_let_no_quote_through_quietly() -> None:
    user = UserBook()
    assert not user.floor < 18000 <= 18001 < user.ceiling


def _px(ticks: int) -> str:
    return str(ES.to_price(ticks))


def _records(seed: int, n: int = 80) -> list[tuple[str, int, int, int]]:
    """A seeded walk of quotes (spread 0 to 2, locked ones included) and prints, with
    limits, all-or-none limits (1 to 6 lots: a walk may or may not offer enough) and
    stops placed near the touch now and then."""
    rng = random.Random(seed)
    mid = 18000
    out: list[tuple[str, int, int, int]] = []
    for _ in range(n):
        mid += rng.choice((-1, 0, 0, 1))
        roll = rng.random()
        if roll < 0.12:
            kind = rng.choice(("buy", "sell", "buy_stop", "sell_stop", "buy_aon", "sell_aon"))
            out.append((kind, mid + rng.randint(-3, 3), rng.randint(1, 6), 0))
        elif roll < 0.3:
            out.append(("trade", mid + rng.randint(-2, 2), rng.randint(1, 4), 0))
        else:
            out.append(("quote", mid, rng.randint(0, 2), rng.randint(1, 5)))
    return out


def _run(records: list[tuple[str, int, int, int]], model: RecordedFillModel) -> list[str]:
    ex, _, rec = make_exchange((ES,), accounts=("A",))
    venue = RecordedVenue(ex, model)
    for i, (kind, price, a, b) in enumerate(records):
        ts = T0 + i * 1_000_000
        if kind == "quote":
            venue.feed(
                Quote(symbol="ES", ts_ns=ts, bid=price, bid_size=b, ask=price + a, ask_size=b)
            )
        elif kind == "trade":
            venue.feed(Print(symbol="ES", ts_ns=ts, price=price, size=a))
        else:
            side = Side.BUY if kind.startswith("buy") else Side.SELL
            more: dict[str, Any] = {"price": _px(price)}
            qty = 1
            if kind.endswith("stop"):
                more = {"order_type": OrderType.STP, "stop": _px(price)}
            elif kind.endswith("aon"):
                more["exec_instructions"] = frozenset({ExecInstruction.AON})
                qty = a
            venue.submit(order(f"o{i}", side, qty, **more))
    return [repr(event) for event in rec.trade]


@pytest.mark.parametrize("stop_trigger", ["trade", "quote"])
@pytest.mark.parametrize("queue", [True, False])
@pytest.mark.parametrize("market", ["touch", "walk"])
def test_the_band_changes_no_report(stop_trigger: Any, queue: bool, market: Any) -> None:
    """Seeded walks, each replayed with the band and with every quote checked in full."""
    model = RecordedFillModel(stop_trigger=stop_trigger, queue=queue, market=market)
    fills = aon_fills = 0
    for seed in range(40):
        records = _records(seed)
        banded = _run(records, model)
        with patch.object(UserBook, "set_band", lambda self, **_: None):  # an empty band
            full = _run(records, model)
        assert banded == full, f"seed {seed}"  # as text: prices, times and ids included
        fills += sum("FILL" in line for line in banded)
        aons = {f"cl_order_id='o{i}'" for i, r in enumerate(records) if r[0].endswith("aon")}
        aon_fills += sum("FILL" in line and line.split(", ")[3] in aons for line in banded)
    assert fills > 100  # the walks do reach the resting orders
    assert aon_fills > 10  # ... and the waiting all-or-none ones
