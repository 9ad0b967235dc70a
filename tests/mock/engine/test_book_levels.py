"""The book's sorted price keys under random rests and cancels (hypothesis).

``OrderBook.drop_level`` finds a level's key by bisection; the simple version scanned the
list (``list.remove``). Both must leave the same keys: every price with a live order, each
once, ascending (asks stored negated, so the best of each side is last).
"""

from __future__ import annotations

from bisect import insort

import pytest
from ec_core.model import Duration, OrderType
from ec_mock.engine.book import OrderBook
from ec_mock.engine.records import OrderRecord
from hypothesis import given, settings
from hypothesis import strategies as st

ops = st.lists(
    st.tuples(st.booleans(), st.sampled_from((1, -1)), st.integers(1, 40), st.integers(0, 10**6)),
    max_size=120,
)


def _order(oid: int, side: int, price: int, book: OrderBook) -> OrderRecord:
    return OrderRecord(
        oid, "A", "ES", side, 1, OrderType.LMT, price, None, Duration.DAY, None, False,
        f"o{oid}", 0, (), book,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(ops)
def test_the_keys_match_the_scanning_version(steps: list[tuple[bool, int, int, int]]) -> None:
    book = OrderBook("ES")
    resting: list[OrderRecord] = []
    bid_keys: list[int] = []  # the simple version: insort to add, list.remove to drop
    ask_keys: list[int] = []
    for oid, (add, side, price, pick) in enumerate(steps):
        if add or not resting:
            order = _order(oid, side, price, book)
            keys = bid_keys if side > 0 else ask_keys
            key = price if side > 0 else -price
            if book.level(side, price) is None:
                insort(keys, key)
            book.rest(order, seq=oid)
            resting.append(order)
        else:
            order = resting.pop(pick % len(resting))
            at = order.price
            assert at is not None
            book.unrest(order)  # drops the level when its last order leaves
            if book.level(order.side, at) is None:
                if order.side > 0:
                    bid_keys.remove(at)
                else:
                    ask_keys.remove(-at)
        assert book.bid_keys == bid_keys
        assert book.ask_keys == ask_keys
        assert book.bid_keys == sorted({o.price for o in resting if o.side > 0 and o.price})
        assert set(book.bids) == set(book.bid_keys)
        assert {-k for k in book.ask_keys} == set(book.asks)


def test_dropping_a_price_the_book_lacks_is_an_error() -> None:
    book = OrderBook("ES")
    book.rest(_order(1, 1, 10, book), seq=1)
    book.rest(_order(2, 1, 12, book), seq=2)
    book.bids[11] = book.bids[10]  # a level whose key is missing: the keys disagree
    with pytest.raises(ValueError, match="11"):
        book.drop_level(1, 11)
