"""Exchange.book_depth: built once per request that changed the book, never stale."""

from __future__ import annotations

from decimal import Decimal

from ec_core.clock import ManualClock
from ec_core.model import BookDepth, BookLevel, CancelOrder, Quote, Side, Trade, TradeEvent
from ec_mock.engine import Exchange
from engine_support import ES, T0, make_exchange, order
from hypothesis import given, settings
from hypothesis import strategies as st


class DepthReader:
    """Reads the depth on every event, as a depth subscriber does (3-4 per fill)."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.seen: list[BookDepth | None] = []

    def on_trade_event(self, event: TradeEvent) -> None:
        self.seen.append(self.exchange.book_depth("ES"))

    hears_market_events = True  # the exchange calls on_market_event

    def on_market_event(self, event: Quote | Trade) -> None:
        self.seen.append(self.exchange.book_depth("ES"))


def test_every_event_of_one_fill_reads_one_depth_built_once() -> None:
    exchange, _clock, _recorder = make_exchange()
    exchange.submit(order("s1", Side.SELL, 2, "5000.25", account="B"))
    exchange.submit(order("s2", Side.SELL, 3, "5000.50", account="B"))
    reader = DepthReader(exchange)
    exchange.add_listener(reader)
    exchange.submit(order("b1", Side.BUY, 4, "5000.50"))  # a sweep of two levels
    assert len(reader.seen) >= 4
    first = reader.seen[0]
    assert all(depth is first for depth in reader.seen), "one build for the whole request"
    assert first is not None
    assert first.asks == (BookLevel(price=ES.to_ticks(Decimal("5000.50")), size=1),)


def test_a_change_behind_the_touch_builds_a_new_depth() -> None:
    exchange, _clock, _recorder = make_exchange()
    exchange.submit(order("b1", Side.BUY, 1, "4999.75"))
    before = exchange.book_depth("ES")
    assert exchange.book_depth("ES") is before, "no change, no new build"
    exchange.submit(order("b2", Side.BUY, 6, "4999.00"))
    after = exchange.book_depth("ES")
    assert after is not before
    assert after is not None
    assert [level.size for level in after.bids] == [1, 6]


def test_without_a_listener_the_depth_is_never_stale() -> None:
    """Nobody listens, so no request settles: the depth is built from the book each time."""
    exchange = Exchange(instruments=[ES], clock=ManualClock(T0), record=False)
    exchange.open_account("A")
    exchange.submit(order("b1", Side.BUY, 1, "4999.75"))
    first = exchange.book_depth("ES")
    assert first is not None
    assert [level.size for level in first.bids] == [1]
    exchange.submit(order("b2", Side.BUY, 2, "4999.75"))
    second = exchange.book_depth("ES")
    assert second is not None
    assert [level.size for level in second.bids] == [3]


def test_other_level_counts_are_built_on_demand() -> None:
    exchange, _clock, _recorder = make_exchange()
    for i in range(3):
        exchange.submit(order(f"b{i}", Side.BUY, 1, str(4999 - i)))
    two = exchange.book_depth("ES", levels=2)
    assert two is not None
    assert len(two.bids) == 2
    ten = exchange.book_depth("ES")
    assert ten is not None
    assert len(ten.bids) == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "cancel"]), st.integers(-12, 12), st.integers(1, 5)),
        max_size=40,
    )
)
def test_the_depth_is_the_books_top_ten_after_any_requests(
    steps: list[tuple[str, int, int]],
) -> None:
    """Whatever the requests, the depth read after each is the book's top 10 per side."""
    exchange, _clock, _recorder = make_exchange(accounts=("A", "B"))
    mid = ES.to_ticks(Decimal("5000"))
    live: list[tuple[str, str]] = []  # (account, cl) of orders sent
    for n, (kind, offset, qty) in enumerate(steps):
        if kind == "cancel" and live:
            account, target = live.pop(offset % len(live))
            exchange.submit(
                CancelOrder(
                    account_id=account, symbol="ES", orig_cl_order_id=target, cl_order_id=f"x{n}"
                )
            )
        else:
            side = Side.BUY if offset <= 0 else Side.SELL
            account = "AB"[n % 2]
            price = ES.to_price(mid + offset)
            exchange.submit(order(f"o{n}", side, qty, str(price), account=account))
            live.append((account, f"o{n}"))
        depth = exchange.book_depth("ES")
        view = exchange.book("ES", 10)
        assert depth is not None
        assert [(lv.price, lv.size) for lv in depth.bids] == [(v.price, v.qty) for v in view.bids]
        assert [(lv.price, lv.size) for lv in depth.asks] == [(v.price, v.qty) for v in view.asks]
