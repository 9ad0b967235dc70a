"""``ReplayFeeder``: recorded quotes become house liquidity; the house never trades itself."""

from __future__ import annotations

from ec_core.model import ExecutionReport, Quote, ReportKind, Trade
from ec_mock.market import HOUSE_ACCOUNT, ReplayFeeder
from engine_support import ES, T0, Recorder, make_exchange
from hypothesis import given, settings
from hypothesis import strategies as st


def quote(bid: int, ask: int, *, size: int = 10, dt: int = 0) -> Quote:
    return Quote(symbol="ES", ts_ns=T0 + dt, bid=bid, bid_size=size, ask=ask, ask_size=size)


def house_fills(rec: Recorder) -> list[ExecutionReport]:
    return [r for r in rec.reports() if r.account_id == HOUSE_ACCOUNT and r.kind is ReportKind.FILL]


def prints(rec: Recorder) -> list[Trade]:
    return [m for m in rec.market if isinstance(m, Trade)]


def test_an_upward_jump_withdraws_the_old_ask_before_showing_the_new_bid() -> None:
    """Regression: the new bid (18002) used to be placed while the old ask (18001)
    still rested, so the house bought from itself."""
    ex, _, rec = make_exchange((ES,), accounts=())
    feeder = ReplayFeeder(ex)
    feeder.feed(quote(18000, 18001))
    feeder.feed(quote(18002, 18003, dt=1))
    assert house_fills(rec) == []
    assert prints(rec) == []
    assert all(p.qty == 0 for p in ex.positions(HOUSE_ACCOUNT))
    best = ex.best_quote("ES")
    assert best is not None
    assert (best.bid, best.bid_size, best.ask, best.ask_size) == (18002, 10, 18003, 10)


def test_a_downward_jump_does_not_cross_either() -> None:
    ex, _, rec = make_exchange((ES,), accounts=())
    feeder = ReplayFeeder(ex)
    feeder.feed(quote(18010, 18011))
    feeder.feed(quote(18005, 18006, dt=1))
    assert house_fills(rec) == []
    best = ex.best_quote("ES")
    assert best is not None
    assert (best.bid, best.ask) == (18005, 18006)


def test_the_feeder_is_the_cores_replay_feed() -> None:
    from ec_core.vendor import ReplayFeed

    ex, clock, _ = make_exchange((ES,), accounts=())
    feeder = ReplayFeeder(ex)
    assert isinstance(feeder, ReplayFeed)
    assert feeder.clock is clock
    feeder.feed(quote(18000, 18001, dt=5_000))
    assert clock.now_ns() == T0 + 5_000


def test_a_stream_with_spoke_ends_where_the_book_spoke_and_goes_on_from_there() -> None:
    """The book venue keeps ReplayFeed's ``spoke`` contract: asked after a tick that moved
    its activity since it last said no (every quote here: the house re-quotes), True ends
    the run with that tick fed, the same source streamed again goes on after it."""
    ex, _, _ = make_exchange((ES,), accounts=())
    feeder = ReplayFeeder(ex)
    ticks = iter([quote(18000 + i, 18001 + i, dt=i) for i in range(5)])
    asked: list[int] = []

    def spoke(tick: object) -> bool:
        asked.append(len(asked))
        return len(asked) == 3

    first = [t.ts_ns - T0 for t in feeder.stream(ticks, spoke=spoke)]
    assert first == [0, 1]  # the third tick was fed, then kept back
    best = ex.best_quote("ES")
    assert best is not None
    assert best.bid == 18002
    assert [t.ts_ns - T0 for t in feeder.stream(ticks, spoke=spoke)] == [3, 4]
    assert feeder.fed == 5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-6, 6), st.integers(1, 3), st.integers(0, 12), st.integers(0, 12)),
        min_size=1,
        max_size=25,
    )
)
def test_any_quote_path_leaves_exactly_the_last_quote_and_no_house_trade(
    path: list[tuple[int, int, int, int]],
) -> None:
    """Whatever the recorded quotes do (jumps either way, gaps, empty sides), the house
    never trades with itself and the book shows the last recorded quote."""
    ex, _, rec = make_exchange((ES,), accounts=())
    feeder = ReplayFeeder(ex)
    mid = 18000
    last = quote(0, 0)
    for step, (move, spread, bid_size, ask_size) in enumerate(path):
        mid += move
        last = Quote(
            symbol="ES",
            ts_ns=T0 + step,
            bid=mid,
            bid_size=bid_size,
            ask=mid + spread,
            ask_size=ask_size,
        )
        feeder.feed(last)
    assert house_fills(rec) == []
    assert prints(rec) == []
    view = ex.book("ES")
    bids = [(level.price, level.qty) for level in view.bids]
    asks = [(level.price, level.qty) for level in view.asks]
    assert bids == ([(last.bid, last.bid_size)] if last.bid_size else [])
    assert asks == ([(last.ask, last.ask_size)] if last.ask_size else [])
