"""OFF_BOOK, the level every order out of the book points at, cannot be changed.

It is one object shared by all such orders (so a dropped level is freed with its queue):
a write through an order that is no longer resting would show in every other one, so
any write raises instead, and the book's own moves never write to it.
"""

from __future__ import annotations

import copy
import pickle

import pytest
from ec_core.model import Duration, OrderType
from ec_mock.engine.book import OFF_BOOK, OrderBook
from ec_mock.engine.records import OrderRecord
from hypothesis import given, settings
from hypothesis import strategies as st


def _order(oid: int, side: int, price: int, qty: int, book: OrderBook) -> OrderRecord:
    return OrderRecord(
        oid, "A", "ES", side, qty, OrderType.LMT, price, None, Duration.DAY, None, False,
        f"o{oid}", 0, (), book,
    )  # fmt: skip


def _fields() -> tuple[object, ...]:
    return (OFF_BOOK.price, tuple(OFF_BOOK.orders), OFF_BOOK.qty, OFF_BOOK.hidden, OFF_BOOK.count)


@pytest.mark.parametrize("name", ["price", "orders", "qty", "hidden", "count"])
def test_writing_a_field_of_off_book_raises(name: str) -> None:
    with pytest.raises(AttributeError, match=f"OFF_BOOK is not a price level.*{name}"):
        setattr(OFF_BOOK, name, 1)
    assert _fields() == (0, (), 0, 0, 0)


def test_its_queue_cannot_grow_or_shrink() -> None:
    with pytest.raises(AttributeError):
        OFF_BOOK.orders.append((1, None))  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        OFF_BOOK.orders.popleft()


def test_a_write_through_an_order_out_of_the_book_raises() -> None:
    book = OrderBook("ES")
    order = _order(1, 1, 100, 3, book)
    book.rest(order, seq=1)
    book.unrest(order)
    assert order.level is OFF_BOOK
    with pytest.raises(AttributeError, match="OFF_BOOK"):
        book.reduce_resting(order, 1)  # a caller that forgot the order left the book
    assert _fields() == (0, (), 0, 0, 0)


def test_copies_and_pickles_are_the_sentinel_itself() -> None:
    assert copy.copy(OFF_BOOK) is OFF_BOOK
    assert copy.deepcopy(OFF_BOOK) is OFF_BOOK
    assert pickle.loads(pickle.dumps(OFF_BOOK)) is OFF_BOOK


steps = st.lists(
    st.tuples(
        st.sampled_from(("rest", "unrest", "trade")),
        st.sampled_from((1, -1)),
        st.integers(1, 6),
        st.integers(1, 4),
        st.integers(0, 10**6),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_book_moves_leave_off_book_untouched(moves: list[tuple[str, int, int, int, int]]) -> None:
    """Rests, cancels and fills at the front of a level in any order: every order out of
    the book points at OFF_BOOK, every resting one at its own level, and OFF_BOOK stays
    empty (a write would have raised)."""
    book = OrderBook("ES")
    resting: list[OrderRecord] = []
    out: list[OrderRecord] = []
    for oid, (move, side, price, qty, pick) in enumerate(moves):
        if move == "rest" or not resting:
            order = _order(oid, side, price, qty, book)
            book.rest(order, seq=oid)
            resting.append(order)
            continue
        order = resting[pick % len(resting)]
        if move == "unrest":
            book.unrest(order)
        else:  # the front order of the chosen order's level trades, part or all of it
            level = order.level
            front = next(o for s, o in level.orders if o.seq == s and o.resting)
            left = front.qty - front.filled
            traded = left if pick % 2 else max(1, left - 1)
            front.filled += traded
            book.trade_front(front, traded, left)
            if not level.count:
                book.drop_level(front.side, level.price)
            order = front
        if not order.resting:
            resting.remove(order)
            out.append(order)
    assert all(o.level is OFF_BOOK for o in out)
    assert all(o.level is not OFF_BOOK and o.level.price == o.price for o in resting)
    assert _fields() == (0, (), 0, 0, 0)
