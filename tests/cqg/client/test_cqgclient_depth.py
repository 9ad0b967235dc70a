"""DOM over CQG → core BookDepth: the client's book is the server's book, frame by frame.

Real ``ServerMsg`` frames: the CQG-dialect server's own (through the Sans-I/O loop of
:mod:`cqgclient_loop`) or built here and encoded, fed to the client's protocol core as
bytes. Level 4 (trades, best bid/ask with volumes, DOM): DOM quotes of types 3/4 set a
price's volume, volume 0 clears it, a snapshot starts afresh (FLOWS.md §4.4).
"""

from __future__ import annotations

import pytest
from cqgclient_loop import HOUSE, SYMBOL, VENUE_ACCOUNT, Loop
from ec_core.model import BookDepth, BookLevel, Quote, Side
from ec_cqg.client.core import ListSink
from ec_cqg.protocol.codec import encode_server
from ec_cqg.protocol.pb import ServerMsg, market_data_2
from ec_cqg.protocol.prices import qty_to_cqg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_Q = market_data_2.Quote


def _subscribed(*, depth: bool = True) -> tuple[Loop, ListSink[object]]:
    """A logged-on loop with one market-data subscriber of EP (a quiet market: the
    simulator only moves when the venue steps)."""
    loop = Loop()
    loop.connect()
    sink: ListSink[object] = ListSink()
    loop.subscribe_market(sink, depth=depth)
    return loop, sink


def _depths(sink: ListSink[object]) -> list[BookDepth]:
    return [e for e in sink.items if isinstance(e, BookDepth)]


def _server_levels(loop: Loop) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
    depth = loop.venue.exchange.book_depth(SYMBOL)
    assert depth is not None
    return depth.bids, depth.asks


def _frame(contract_id: int, quotes: list[tuple[int, int, int | None]], *, snapshot: bool) -> bytes:
    """One RealTimeMarketData of (type, scaled price, volume or None) quotes."""
    msg = ServerMsg()
    data = msg.real_time_market_data.add(contract_id=contract_id)
    if snapshot:
        data.is_snapshot = True
    for kind, scaled, volume in quotes:
        quote = data.quotes.add(type=kind, scaled_price=scaled)
        if volume is not None:
            qty_to_cqg(volume, quote.volume)
    return encode_server(msg)


def test_the_snapshot_is_one_book_depth_equal_to_the_servers() -> None:
    loop, sink = _subscribed()
    (first,) = _depths(sink)
    bids, asks = _server_levels(loop)
    assert (first.bids, first.asks) == (bids, asks)
    assert bids, "the simulator keeps a book on both sides"
    assert asks
    assert first.symbol == SYMBOL
    quotes = [e for e in sink.items if isinstance(e, Quote)]
    assert quotes[-1].bid == bids[0].price, "best bid/ask beside the DOM"


def test_a_new_level_behind_the_touch_and_its_cancel_are_followed() -> None:
    loop, sink = _subscribed()
    bids, _asks = _server_levels(loop)
    deep = bids[-1].price - 3
    loop.venue_limit("deep", Side.BUY, 7, deep)
    last = _depths(sink)[-1]
    assert BookLevel(price=deep, size=7) == last.bids[-1]
    assert (last.bids, last.asks) == _server_levels(loop)
    loop.venue.exchange.cancel(HOUSE, "deep", cancel_cl_order_id="x")
    loop.pump()
    assert _depths(sink)[-1].bids == bids


def test_a_plain_subscriber_beside_a_depth_one_gets_no_book_depth() -> None:
    loop, depth_sink = _subscribed()
    core = loop.core
    plain: ListSink[object] = ListSink()
    ref = core.contracts.ref(SYMBOL)
    assert core.market.add(ref, plain, depth=False, now_ns=loop.now()) is None
    assert [type(e) for e in plain.items] == [Quote], "the state so far, as a snapshot"
    loop.venue.step(20)
    loop.pump()
    assert plain.items
    assert not _depths(plain)
    assert (_depths(depth_sink)[-1].bids, _depths(depth_sink)[-1].asks) == _server_levels(loop)


def test_a_depth_subscriber_joining_gets_the_current_depth_first() -> None:
    loop, _first = _subscribed()
    core = loop.core
    late: ListSink[object] = ListSink()
    assert core.market.add(core.contracts.ref(SYMBOL), late, depth=True, now_ns=loop.now()) is None
    (depth,) = _depths(late)
    assert (depth.bids, depth.asks) == _server_levels(loop)


def test_a_level_3_subscription_maps_no_dom() -> None:
    loop, sink = _subscribed(depth=False)
    ref = loop.core.contracts.ref(SYMBOL)
    frame = _frame(ref.contract_id, [(_Q.TYPE_BID, 100_000, 3)], snapshot=False)
    loop.core.receive_market_data([frame], loop.now())
    assert not _depths(sink)


def test_dom_frames_set_clear_and_restart_the_book() -> None:
    loop, sink = _subscribed()
    core = loop.core
    ref = core.contracts.ref(SYMBOL)
    cid = ref.contract_id
    scale = 25  # EP: tick 0.25, price scale 0.01
    frames = [
        _frame(
            cid,
            [
                (_Q.TYPE_BESTBID, 400 * scale, 9),  # never a DOM level
                (_Q.TYPE_BID, 400 * scale, 2),
                (_Q.TYPE_BID, 398 * scale, 4),
                (_Q.TYPE_ASK, 401 * scale, 5),
            ],
            snapshot=True,
        ),
        _frame(cid, [(_Q.TYPE_BID, 400 * scale, 0), (_Q.TYPE_BID, 399 * scale, 1)], snapshot=False),
    ]
    core.receive_market_data(frames, loop.now())
    snap, update = _depths(sink)[-2:]
    assert snap.bids == (BookLevel(price=400, size=2), BookLevel(price=398, size=4))
    assert snap.asks == (BookLevel(price=401, size=5),)
    assert update.bids == (BookLevel(price=399, size=1), BookLevel(price=398, size=4))
    core.receive_market_data([_frame(cid, [(_Q.TYPE_ASK, 402 * scale, 1)], snapshot=True)], 0)
    restarted = _depths(sink)[-1]
    assert (restarted.bids, restarted.asks) == ((), (BookLevel(price=402, size=1),))


def test_a_bad_dom_quote_drops_its_message_and_leaves_the_book() -> None:
    loop, sink = _subscribed()
    core = loop.core
    cid = core.contracts.ref(SYMBOL).contract_id
    before = _depths(sink)[-1]
    no_volume = _frame(cid, [(_Q.TYPE_BID, 100 * 25, None)], snapshot=False)
    off_grid = _frame(
        cid, [(_Q.TYPE_BID, 100 * 25, 1), (_Q.TYPE_ASK, 100 * 25 + 1, 1)], snapshot=False
    )
    core.receive_market_data([no_volume, off_grid], loop.now())
    assert core.counters["bad_items"] == 2
    assert _depths(sink)[-1] is before
    good = _frame(cid, [(_Q.TYPE_BID, 100 * 25, 3)], snapshot=False)
    core.receive_market_data([good], loop.now())
    assert _depths(sink)[-1].bids == (*before.bids, BookLevel(price=100, size=3))


@pytest.mark.parametrize("how", ["restore", "fresh"])
def test_after_a_dropped_line_the_resubscription_snapshot_restarts_the_book(how: str) -> None:
    """Changes while the line is down are never seen as updates; the snapshot of the
    resubscription (what the session does after a logon) starts the book afresh, so the
    client's book is the engine's again, whether the session was restored or not."""
    loop, sink = _subscribed()
    loop.drop_line()
    loop.venue.step(10)  # the book moves while nobody hears
    loop.venue_limit("deep", Side.BUY, 5, _server_levels(loop)[0][-1].price - 2)
    if how == "fresh":
        loop.core.session_token = ""
    loop.connect()
    core = loop.core
    for contract_id, level in core.market.rebind(core.contracts.ref):
        loop.ask(core.subscribe_market(contract_id, level, deadline_ns=loop.deadline()))
    last = _depths(sink)[-1]
    assert (last.bids, last.asks) == _server_levels(loop)
    loop.venue.step(5)
    loop.pump()
    last = _depths(sink)[-1]
    assert (last.bids, last.asks) == _server_levels(loop)


BOOK_STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("rest"),
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(0, 14),
            st.integers(1, 9),
        ),
        st.tuples(
            st.just("take"),
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(0, 4),
            st.integers(1, 12),
        ),
        st.tuples(st.just("cancel"), st.just(Side.BUY), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("step"), st.just(Side.BUY), st.integers(1, 5), st.just(0)),
    ),
    max_size=20,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=BOOK_STEPS)
def test_after_any_updates_the_clients_book_is_the_servers(
    steps: list[tuple[str, Side, int, int]],
) -> None:
    """Orders resting at any depth, sweeps through levels, cancels, the simulator moving:
    after each, the last BookDepth the client made equals the engine's depth."""
    loop, sink = _subscribed()
    resting: list[tuple[str, str]] = []
    for n, (kind, side, a, b) in enumerate(steps):
        quote = loop.venue.exchange.best_quote(SYMBOL)
        assert quote is not None
        if kind == "step":
            loop.venue.step(a)
            loop.pump()
        elif kind == "cancel":
            if resting:
                account, target = resting.pop(a % len(resting))
                loop.venue.exchange.cancel(account, target, cancel_cl_order_id=f"x{n}")
                loop.pump()
        elif kind == "rest" and quote.bid is not None and quote.ask is not None:
            price = quote.bid - a if side is Side.BUY else quote.ask + a
            account = VENUE_ACCOUNT if n % 2 else HOUSE
            loop.venue_limit(f"r{n}", side, b, price, account=account)
            resting.append((account, f"r{n}"))
        elif kind == "take" and quote.bid is not None and quote.ask is not None:
            price = quote.ask + a if side is Side.BUY else quote.bid - a
            loop.venue_limit(f"t{n}", side, b, price, account=VENUE_ACCOUNT)
            resting.append((VENUE_ACCOUNT, f"t{n}"))
        last = _depths(sink)[-1]
        assert (last.bids, last.asks) == _server_levels(loop), f"after step {n}: {kind}"
    assert loop.core.counters["bad_items"] == 0
