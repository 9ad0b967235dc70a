"""Byte-level properties of the client's protocol core: reconnect, restore, resubscribe
and snapshot reconciliation, fed with the CQG-dialect server's own frames.

Whatever happens to the server's frames on a line (dropped, duplicated, held back and
delivered after later ones) and to the client's order frames (lost on the way), once the
client has reconnected (restored, or logged on afresh) and applied the trade snapshot:

* its open orders and positions are the venue's;
* every fill a subscriber saw is real, seen once, and together they are what the venue
  filled (no fill lost, none counted twice);
* after every drop a subscriber got ``GAP`` (it cannot know what happened while the
  line was down) before the corrections, then ``RECONNECTED`` and ``RECONCILED``;
* the client sent each order request exactly once, when asked: it never re-sends one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cqgclient_loop import VENUE_ACCOUNT, Loop
from ec_core.model import ExecutionReport, SessionEvent, SessionEventKind, Side
from ec_cqg.client.core import ListSink
from ec_cqg.protocol.codec import decode_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FATES = st.sampled_from(["deliver", "deliver", "deliver", "drop", "dup", "hold"])
ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("market"), st.sampled_from([Side.BUY, Side.SELL])),
        st.tuples(st.just("rest"), st.sampled_from([Side.BUY, Side.SELL])),
        st.tuples(st.just("cross"), st.sampled_from([Side.BUY, Side.SELL])),
        st.tuples(st.just("cancel"), st.integers(0, 7)),
        st.tuples(st.just("lose"), st.sampled_from([Side.BUY, Side.SELL])),
        st.tuples(st.just("step"), st.integers(1, 30)),
        st.tuples(st.just("release"), st.none()),
        st.tuples(st.just("reconnect"), st.sampled_from(["restore", "fresh"])),
    ),
    max_size=14,
)


def _run(loop: Loop, actions: list[tuple[str, object]], fates: st.DataObject) -> list[str]:
    """Play ``actions`` over a lossy line; return the first client order ids sent."""

    def fate(frame: bytes) -> str:
        return fates.draw(FATES, label="fate")

    placed: list[str] = []
    for n, (action, arg) in enumerate(actions):
        cl = f"c{n}"
        if action in ("market", "rest", "cross", "lose"):
            assert isinstance(arg, Side)
            offset = {"market": None, "rest": -40, "cross": 2, "lose": -40}[action]
            if loop.send(loop.new_order(cl, arg, offset_ticks=offset), lose=action == "lose"):
                placed.append(cl)
        elif action == "cancel" and placed:
            assert isinstance(arg, int)
            loop.send(loop.cancel(cl, placed[arg % len(placed)]))
        elif action == "step":
            assert isinstance(arg, int)
            loop.venue.step(arg)
        elif action == "release":
            loop.release_held()
        elif action == "reconnect":
            loop.drop_line()
            loop.venue.step(5)  # the market moves while the client is away
            if arg == "fresh":
                loop.core.session_token = ""  # the token is lost: a fresh logon
            loop.connect()
            continue
        loop.pump(fate)
    loop.drop_line()  # the end: one last reconnect settles what the line lost
    loop.venue.step(3)
    loop.connect()
    return placed


def _check_orders_and_positions(loop: Loop, placed: list[str]) -> None:
    exchange = loop.venue.exchange
    venue_open = {r.cl_order_id: r for r in exchange.open_orders(VENUE_ACCOUNT)}
    client_open = {r.chain_id or r.cl_order_id: r for r in loop.core.book.open_orders(loop.account)}
    truths = {cl: exchange.order_status(VENUE_ACCOUNT, cl) for cl in placed}
    expected = {cl for cl, t in truths.items() if t is not None and t.state.is_open}
    assert set(client_open) == expected
    assert len(venue_open) == len(client_open)
    for cl, report in client_open.items():
        truth = truths[cl]
        assert truth is not None
        assert (report.filled_qty, report.qty) == (truth.filled_qty, truth.qty), cl
    for cl, truth in truths.items():  # final orders too: the state and the contracts
        if truth is None:
            assert loop.core.book.chain_of(cl) is None, f"{cl}: unknown at the venue"
            continue
        chain = loop.core.book.chain_of(cl)
        assert chain is not None, f"{cl}: the venue has it, the client does not"
        assert chain.last is not None
        assert (chain.last.state, chain.last.filled_qty) == (truth.state, truth.filled_qty), cl
    venue_positions = {p.symbol: p.qty for p in exchange.positions(VENUE_ACCOUNT) if p.qty}
    client_positions = {p.symbol: p.qty for p in loop.core.book.positions_of(loop.account) if p.qty}
    assert client_positions == venue_positions


def _check_fills(loop: Loop, placed: list[str]) -> None:
    fills = [e for e in loop.sink.items if isinstance(e, ExecutionReport) and e.fill is not None]
    ids = Counter(e.fill.fill_id for e in fills if e.fill is not None)
    assert not [fill_id for fill_id, n in ids.items() if n > 1], "a fill was published twice"
    seen: Counter[str] = Counter()
    for report in fills:
        assert report.fill is not None
        seen[report.chain_id or report.cl_order_id] += report.fill.qty
    for cl in placed:
        truth = loop.venue.exchange.order_status(VENUE_ACCOUNT, cl)
        filled = truth.filled_qty if truth is not None else 0
        assert seen[cl] == filled, f"{cl}: subscribers saw {seen[cl]} filled, venue {filled}"


def _check_session_events(loop: Loop) -> None:
    kinds = [e.kind for e in loop.sink.items if isinstance(e, SessionEvent)]
    drops = loop.lines - 1
    assert kinds.count(SessionEventKind.DISCONNECTED) == drops
    assert kinds.count(SessionEventKind.GAP) == drops
    expected = [
        SessionEventKind.DISCONNECTED,
        SessionEventKind.GAP,
        SessionEventKind.RECONNECTED,
        SessionEventKind.RECONCILED,
    ]
    assert kinds == expected * drops


def _check_no_resend(loop: Loop) -> None:
    requests = loop.order_requests_sent()
    assert len(requests) == loop.orders_built
    cl_ids = Counter(
        r.new_order.order.cl_order_id if r.HasField("new_order") else r.cancel_order.cl_order_id
        for r in requests
    )
    assert all(n == 1 for n in cl_ids.values()), cl_ids


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, fates=st.data())
def test_after_any_line_faults_the_client_ends_with_the_venue_s_orders_and_positions(
    actions: list[tuple[str, object]], fates: st.DataObject
) -> None:
    loop = Loop()
    loop.connect()
    placed = _run(loop, actions, fates)
    _check_orders_and_positions(loop, placed)
    _check_fills(loop, placed)
    _check_session_events(loop)
    _check_no_resend(loop)


def _fates(*choices: str) -> Callable[[bytes], str]:
    """Fates for the server frames in order; every later frame is delivered."""
    queue = list(choices)
    return lambda _frame: queue.pop(0) if queue else "deliver"


def test_a_duplicated_fill_frame_is_told_once() -> None:
    loop = Loop()
    loop.connect()
    loop.send(loop.new_order("m1", Side.BUY, offset_ticks=None))
    loop.pump(lambda _frame: "dup")
    fills = [e for e in loop.sink.items if isinstance(e, ExecutionReport) and e.fill]
    assert [f.fill.qty for f in fills if f.fill] == [1]
    assert loop.core.counters["duplicate_fills"] >= 1


def test_fills_of_lost_frames_are_made_up_once_and_a_late_real_fill_is_not_counted() -> None:
    loop = Loop()
    loop.connect()
    loop.send(loop.new_order("m1", Side.BUY, offset_ticks=None))
    loop.pump(lambda _frame: "hold")  # every status overtaken by later ones
    loop.send(loop.new_order("m2", Side.BUY, offset_ticks=None))
    loop.pump()
    loop.release_held()  # m1's statuses arrive after m2's
    _check_fills(loop, ["m1", "m2"])


def test_a_position_the_snapshot_no_longer_lists_is_flat() -> None:
    loop = Loop()
    loop.connect()
    loop.send(loop.new_order("b1", Side.BUY, offset_ticks=None))
    loop.pump()
    assert {p.qty for p in loop.core.book.positions_of(loop.account)} == {1}
    loop.send(loop.new_order("s1", Side.SELL, offset_ticks=None))
    loop.pump(lambda _frame: "drop")  # the client never hears that it went flat
    loop.drop_line()
    loop.connect()
    assert {p.qty for p in loop.core.book.positions_of(loop.account)} == {0}
    _check_orders_and_positions(loop, ["b1", "s1"])
    _check_session_events(loop)


def test_reconnecting_sends_no_order_request() -> None:
    loop = Loop()
    loop.connect()
    loop.send(loop.new_order("r1", Side.BUY, offset_ticks=-40))
    loop.send(loop.new_order("r2", Side.BUY, offset_ticks=-40), lose=True)
    loop.pump(_fates("drop", "drop", "drop"))
    before = len(loop.sent)
    loop.drop_line()
    loop.core.session_token = ""  # a fresh logon, symbols resolved again
    loop.connect()
    assert not [f for f in loop.sent[before:] if decode_client(f).order_requests]
    _check_orders_and_positions(loop, ["r1", "r2"])


def test_the_protocol_core_imports_no_clock_tasks_or_sockets() -> None:
    """Sans-I/O by construction: nothing in ``ec_cqg.client.core`` can wait or read time."""
    import ast
    import pathlib

    import ec_cqg.client.core as core_package

    forbidden = {"anyio", "asyncio", "socket", "ssl", "time", "websockets", "ec_core.clock"}
    forbidden |= {"ec_cqg.client.transport", "ec_cqg.client.driver", "ec_cqg.client.session"}
    found: list[str] = []
    for path in sorted(pathlib.Path(core_package.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden or n in forbidden
            ]
    assert found == []


def ep_trades() -> tuple[Loop, ListSink[object], Callable[[int, int], bytes]]:
    """A logged-on core subscribed to EP's trades, its sink, and a frame of one trade
    (scaled price, size) as the server sends it."""
    from ec_cqg.protocol.codec import encode_server
    from ec_cqg.protocol.pb import ServerMsg

    loop = Loop()
    loop.connect()
    sink: ListSink[object] = ListSink()
    ref = loop.core.contracts.ref("EP")
    assert loop.core.market.add(ref, sink, depth=False) is not None

    def frame(scaled: int, size: int) -> bytes:
        msg = ServerMsg()
        quote = msg.real_time_market_data.add(contract_id=ref.contract_id).quotes.add(
            type=0, scaled_price=scaled
        )
        quote.volume.significand, quote.volume.exponent = size, 0
        return encode_server(msg)

    return loop, sink, frame


def test_an_off_grid_price_in_a_burst_drops_only_its_message() -> None:
    loop, sink, frame = ep_trades()
    core = loop.core
    num, den = core.contracts.ref("EP").prices.ticks_ratio
    assert den > 1  # EP: 25 scaled units per tick, so scaled + 1 is off the grid
    good = 4000 * den // num
    off = good + 1
    core.receive_market_data([frame(good, 1), frame(off, 1), frame(good, 1)], loop.now())
    assert [getattr(e, "price", None) for e in sink.items] == [good * num // den] * 2
    assert core.counters["bad_items"] == 1


def test_a_negative_size_in_a_burst_drops_only_its_message() -> None:
    # A trade of size -3 was published as is (a volume, a bar's, turned the wrong way).
    loop, sink, frame = ep_trades()
    core = loop.core
    num, den = core.contracts.ref("EP").prices.ticks_ratio
    scaled = 4000 * den // num
    core.receive_market_data([frame(scaled, 2), frame(scaled, -3), frame(scaled, 1)], loop.now())
    assert [getattr(e, "size", None) for e in sink.items] == [2, 1]
    assert core.counters["bad_items"] == 1
