"""What the exchange keeps per finished order (a replay places and cancels all day).

The exchange keeps every order's record (orders are queried by id after they end),
so what a finished one costs is paid per order action for the whole run. A record out
of the book no longer holds its old price level: an emptied level dropped from the
book is freed with its queue.
"""

from __future__ import annotations

from decimal import Decimal

from ec_core.clock import ManualClock
from ec_core.model import CancelOrder, Side
from ec_mock.engine import Exchange
from engine_support import ES, T0, order
from memory_support import retained_bytes

ORDERS = 1_000


def place_and_cancel(exchange: Exchange, start: int, count: int) -> None:
    """A resting bid at a price of its own (a level made for it), then its cancel."""
    for n in range(start, start + count):
        price = str(Decimal("4000.00") - Decimal(n % 400) / 4)
        exchange.submit(order(f"N{n}", Side.BUY, 1, price))
        exchange.submit(
            CancelOrder(account_id="A", symbol="ES", orig_cl_order_id=f"N{n}", cl_order_id=f"X{n}")
        )


def test_a_cancelled_order_keeps_its_record_and_not_its_price_level() -> None:
    exchange = Exchange(instruments=[ES], clock=ManualClock(T0))
    exchange.open_account("A")
    place_and_cancel(exchange, 0, 10)
    retained = retained_bytes(lambda: place_and_cancel(exchange, 10, ORDERS))
    per_order = retained / ORDERS
    # was ~2.16 KB: its emptied level (~0.9 KB: the level, its queue's block, the entry)
    # stayed with the record; the record and its two reports (in the event log) are left
    assert per_order < 1_400, per_order
