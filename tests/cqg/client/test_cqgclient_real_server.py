"""End to end over real loopback WebSockets against the real CQG-dialect server.

Every order type through its lifecycle, quotes against the engine's own book, and the
faults the issue lists, each produced by the server: a line dropped mid-order, an
exchange restart (with and without its state), stalled acknowledgements (UNKNOWN, then
reconciled through the core executor), and malformed or truncated frames on its line.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cqgclient_real import (
    ACCOUNT,
    PASSWORD,
    USER,
    next_event,
    of_type,
    report_of,
    served,
    settings,
)
from ec_core.errors import ProtocolError, RequestTimeoutError
from ec_core.execution import Executor, Payload, PayloadStatus, ValidatorGate
from ec_core.model import (
    CancelAll,
    CancelOrder,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    SessionEvent,
    SessionEventKind,
    SessionState,
    Side,
    SnapshotComplete,
    Trade,
)
from ec_core.plugins import PluginHost, hookimpl
from ec_core.secrets import Secret
from ec_core.tracking import OrderTracker
from ec_cqg.client import CqgSession
from ec_cqg.client.recorder import read_recording
from ec_cqg.protocol import codec
from ec_cqg.protocol.codec import decode_server
from ec_cqg.protocol.pb import ServerMsg, market_data_2
from ec_mock.faults import FaultPlan
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ec_cqg import plugin

pytestmark = pytest.mark.anyio


def new(cl: str, order_type: OrderType, side: Side = Side.BUY, **prices: Any) -> NewOrder:
    return NewOrder(
        account_id=ACCOUNT,
        symbol="EP",
        side=side,
        qty=1,
        order_type=order_type,
        cl_order_id=cl,
        **prices,
    )


def px(ticks: int) -> Decimal:
    return Decimal(ticks) * Decimal("0.25")


async def test_every_order_type_through_its_lifecycle() -> None:
    async with served() as srv, CqgSession(settings(srv.url)) as session:
        book = srv.venue.exchange.book("EP", 1)
        bid, ask = book.bids[0].price, book.asks[0].price
        orders = session.orders
        async with session.trades.stream(ACCOUNT) as events:
            await next_event(events, of_type(SnapshotComplete))

            # LMT: rests, is modified, is cancelled
            await orders.send(new("L1", OrderType.LMT, limit_price=px(bid - 10)))
            working = await next_event(events, report_of("L1", ReportKind.ACCEPTED))
            assert (working.state, working.limit_price) == (OrderState.WORKING, px(bid - 10))
            await orders.send(
                ModifyOrder(
                    account_id=ACCOUNT,
                    symbol="EP",
                    orig_cl_order_id="L1",
                    cl_order_id="L1m",
                    limit_price=px(bid - 8),
                    qty=2,
                )
            )
            modified = await next_event(events, report_of("L1m", ReportKind.MODIFIED))
            assert (modified.limit_price, modified.qty) == (px(bid - 8), 2)
            await orders.send(
                CancelOrder(
                    account_id=ACCOUNT, symbol="EP", orig_cl_order_id="L1m", cl_order_id="L1c"
                )
            )
            cancelled = await next_event(events, report_of("L1c", ReportKind.CANCELLED))
            assert cancelled.state is OrderState.CANCELLED

            # MKT: fills at the best ask, with a fill id
            await orders.send(new("M1", OrderType.MKT))
            fill = await next_event(events, report_of("M1", ReportKind.FILL))
            assert fill.state is OrderState.FILLED
            assert fill.fill is not None
            assert (fill.fill.qty, fill.fill.price) == (1, px(ask))

            # marketable LMT sell: fills at the best bid
            await orders.send(new("L2", OrderType.LMT, Side.SELL, limit_price=px(bid)))
            sold = await next_event(events, report_of("L2", ReportKind.FILL))
            assert sold.fill is not None
            assert sold.fill.price == px(bid)

            # STP and STL far from the market: accepted and working until cancelled
            await orders.send(new("S1", OrderType.STP, stop_price=px(ask + 40)))
            stop = await next_event(events, report_of("S1", ReportKind.ACCEPTED))
            assert (stop.order_type, stop.stop_price) == (OrderType.STP, px(ask + 40))
            await orders.send(
                new("S2", OrderType.STL, stop_price=px(ask + 40), limit_price=px(ask + 41))
            )
            stop_limit = await next_event(events, report_of("S2", ReportKind.ACCEPTED))
            assert (stop_limit.order_type, stop_limit.limit_price) == (OrderType.STL, px(ask + 41))
            assert {o.cl_order_id for o in await orders.open_orders(ACCOUNT)} == {"S1", "S2"}

            # CANCEL_ALL ends both
            await orders.send(CancelAll(account_id=ACCOUNT, cl_order_id="CA"))
            ended = {
                (await next_event(events, report_of(cl, ReportKind.CANCELLED))).cl_order_id
                for cl in ("S1", "S2")
            }
            assert len(ended) == 2
        assert await orders.open_orders(ACCOUNT) == []
        assert srv.venue.exchange.open_orders("E2E-1") == []
        (position,) = await session.trades.positions(ACCOUNT)
        assert position.qty == 0  # bought one, sold one
        assert session.stats().get("bad_items", 0) == 0


async def test_quotes_stream_in_ticks_and_match_the_engine_book() -> None:
    async with served() as srv, CqgSession(settings(srv.url)) as session:
        instrument = await session.resolve("EP")
        async with session.market_data.stream([instrument]) as events:
            seen: list[Any] = []
            first = await next_event(events, of_type(Quote), seen)
            book = srv.venue.exchange.book("EP", 1)
            assert (first.bid, first.ask) == (book.bids[0].price, book.asks[0].price)
            for _ in range(5):
                srv.venue.step(10)
                book = srv.venue.exchange.book("EP", 1)
                top = (book.bids[0].price, book.bids[0].qty, book.asks[0].price, book.asks[0].qty)
                await next_event(events, quote_of(top), seen)
            quotes = [e for e in seen if isinstance(e, Quote)]
            assert all(q.bid is not None and q.ask is not None and q.bid < q.ask for q in quotes)
            trades = [e for e in seen if isinstance(e, Trade)]
            assert trades, "the simulator trades while it steps"
            assert all(t.symbol == "EP" and t.size > 0 for t in trades)
            assert events.dropped == 0
        assert session.stats().get("bad_items", 0) == 0


async def test_line_dropped_mid_order_ends_reconciled_and_never_duplicated() -> None:
    # The plan loses the order's acknowledgement; then the server drops the line. The
    # order rests at the exchange; the client only saw it in transit.
    async with (
        served(FaultPlan(drop_acks=1)) as srv,
        CqgSession(settings(srv.url)) as session,
        session.trades.stream(ACCOUNT) as events,
    ):
        await next_event(events, of_type(SnapshotComplete))
        bid = srv.venue.exchange.book("EP", 1).bids[0].price
        await session.orders.send(new("D1", OrderType.LMT, limit_price=px(bid - 5)))
        pending = await next_event(events, report_of("D1"))
        assert pending.state is OrderState.PENDING_NEW
        assert [r.cl_order_id for r in srv.venue.exchange.open_orders("E2E-1")] == ["D1"]
        srv.connection().drop()

        seen: list[Any] = []
        await next_event(events, session_event(SessionEventKind.RECONCILED), seen)
        kinds = [e.kind for e in seen if isinstance(e, SessionEvent)]
        assert kinds == [
            SessionEventKind.DISCONNECTED,
            SessionEventKind.GAP,
            SessionEventKind.RECONNECTED,
            SessionEventKind.RECONCILED,
        ]
        (status,) = [e for e in seen if report_of("D1")(e)]
        assert (status.kind, status.state) == (ReportKind.STATUS, OrderState.WORKING)
        assert session.stats()["orders_sent"] == 1  # never re-sent
        assert session.stats()["restores"] == 1  # the session token brought it back
        assert [r.cl_order_id for r in srv.venue.exchange.open_orders("E2E-1")] == ["D1"]

        # the chain still works: cancel it
        await session.orders.send(
            CancelOrder(account_id=ACCOUNT, symbol="EP", orig_cl_order_id="D1", cl_order_id="D2")
        )
        await next_event(events, report_of("D2", ReportKind.CANCELLED))
        assert srv.venue.exchange.open_orders("E2E-1") == []


async def test_restart_keeping_state_resubscribes_and_loses_no_fill() -> None:
    # No simulated market: the book holds only our orders and the other account's.
    async with served(market=False) as srv, CqgSession(settings(srv.url)) as session:
        instrument = await session.resolve("EP")
        async with (
            session.trades.stream(ACCOUNT) as events,
            session.market_data.stream([instrument]) as quotes,
        ):
            await next_event(events, of_type(SnapshotComplete))
            await session.orders.send(new("R1", OrderType.LMT, Side.SELL, limit_price=px(18010)))
            await next_event(events, report_of("R1", ReportKind.ACCEPTED))
            await next_event(quotes, lambda e: isinstance(e, Quote) and e.ask == 18010)

            # The exchange restarts (every line drops) and, before the client is back,
            # the other account buys: our order fills while we are away.
            srv.venue.restart(keep_state=True)
            srv.venue.exchange.submit(
                NewOrder(
                    account_id="E2E-2",
                    symbol="EP",
                    side=Side.BUY,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=px(18010),
                    cl_order_id="TAKE",
                )
            )
            assert srv.venue.exchange.open_orders("E2E-1") == []  # filled at the venue

            seen: list[Any] = []
            await next_event(events, session_event(SessionEventKind.RECONCILED), seen)
            (fill,) = [e for e in seen if report_of("R1", ReportKind.FILL)(e)]
            assert fill.fill is not None
            assert (fill.fill.qty, fill.fill.price, fill.state) == (1, px(18010), OrderState.FILLED)
            assert session.reconnects == 1
            assert session.stats()["restores"] == 1

            # market data was subscribed again: a new bid shows on the same stream
            srv.venue.exchange.submit(
                NewOrder(
                    account_id="E2E-2",
                    symbol="EP",
                    side=Side.BUY,
                    qty=3,
                    order_type=OrderType.LMT,
                    limit_price=px(17990),
                    cl_order_id="BID",
                )
            )
            await next_event(quotes, lambda e: isinstance(e, Quote) and e.bid == 17990)
        (position,) = await session.trades.positions(ACCOUNT)
        assert position.qty == -1


async def test_restart_losing_state_logs_on_afresh_and_reports_lost_orders_unknown() -> None:
    async with served() as srv, CqgSession(settings(srv.url)) as session:
        instrument = await session.resolve("EP")
        async with (
            session.trades.stream(ACCOUNT) as events,
            session.market_data.stream([instrument]) as quotes,
        ):
            await next_event(events, of_type(SnapshotComplete))
            bid = srv.venue.exchange.book("EP", 1).bids[0].price
            await session.orders.send(new("U1", OrderType.LMT, limit_price=px(bid - 5)))
            await next_event(events, report_of("U1", ReportKind.ACCEPTED))

            srv.venue.restart(keep_state=False)
            seen: list[Any] = []
            await next_event(events, session_event(SessionEventKind.RECONCILED), seen)
            (lost,) = [e for e in seen if report_of("U1")(e)]
            assert (lost.kind, lost.state) == (ReportKind.STATUS, OrderState.UNKNOWN)
            assert session.stats().get("restores", 0) == 0  # the token died with the state
            srv.venue.step(5)
            book = srv.venue.exchange.book("EP", 1)
            top = (book.bids[0].price, book.asks[0].price)
            await next_event(quotes, lambda e: isinstance(e, Quote) and (e.bid, e.ask) == top)
            # and trading goes on over the fresh logon (new contract ids)
            await session.orders.send(new("U2", OrderType.LMT, limit_price=px(bid - 5)))
            await next_event(events, report_of("U2", ReportKind.ACCEPTED))


def quote_of(top: tuple[int, int, int, int]) -> Any:
    def found(e: Any) -> bool:
        return isinstance(e, Quote) and (e.bid, e.bid_size, e.ask, e.ask_size) == top

    return found


def session_event(kind: SessionEventKind) -> Any:
    return lambda e: isinstance(e, SessionEvent) and e.kind is kind


async def test_stalled_ack_is_unknown_then_reconciled_through_the_executor() -> None:
    # The server holds the order's acknowledgement back; the core executor gives up
    # waiting (UNKNOWN), asks the venue (order status request) and gets WORKING. The
    # late acknowledgement, released afterwards, changes nothing.
    plan = FaultPlan(stall_acks=1, kinds=("ACCEPTED",))
    async with served(plan) as srv, CqgSession(settings(srv.url)) as session:
        instrument = await session.resolve("EP")
        tracker = OrderTracker(clock=session.clock)
        executor = Executor(
            gateway=session.orders,
            checks=ValidatorGate([]),
            tracker=tracker,
            journal=None,
            clock=session.clock,
            vendor="cqg",
            instruments={"EP": instrument},
            ack_timeout=0.1,  # the deadline under test: short, so UNKNOWN comes quickly
            monitor=session.trades,
        )
        bid = srv.venue.exchange.book("EP", 1).bids[0].price
        async with (
            session.trades.stream(ACCOUNT) as events,
            session.trades.stream(ACCOUNT) as watch,  # a second subscriber, to observe
            executor.consume(events),
        ):
            await next_event(watch, of_type(SnapshotComplete))
            payload = Payload(request=new("K1", OrderType.LMT, limit_price=px(bid - 5)))
            with pytest.raises(RequestTimeoutError):
                await executor.execute(payload)
            assert payload.status is PayloadStatus.UNKNOWN
            order = tracker.order("K1")
            assert order is not None
            assert order.state is OrderState.UNKNOWN

            assert await executor.resolve_unknown(ACCOUNT) == []  # none left unknown
            order = tracker.order("K1")
            assert order is not None
            assert order.state is OrderState.WORKING

            assert srv.core.release_stalled() == 1
            late = await next_event(watch, report_of("K1", ReportKind.ACCEPTED))
            assert late.state is OrderState.WORKING
            assert [o.cl_order_id for o in tracker.orders(ACCOUNT)] == ["K1"]
            order = tracker.order("K1")
            assert order is not None
            assert order.state is OrderState.WORKING

            done = await executor.execute(
                Payload(
                    request=CancelOrder(
                        account_id=ACCOUNT, symbol="EP", orig_cl_order_id="K1", cl_order_id="K2"
                    )
                )
            )
            assert done is not None
            assert done.state is OrderState.CANCELLED
        assert srv.venue.exchange.open_orders("E2E-1") == []


def _mangled(genuine: list[bytes]) -> st.SearchStrategy[bytes]:
    """Frames the server's line may carry: genuine ones cut short or with bytes flipped,
    and random bytes."""
    frame = st.sampled_from(genuine)
    cut = frame.flatmap(lambda f: st.integers(1, max(len(f) - 1, 1)).map(lambda n: f[:n]))
    flips = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=3)
    flipped = st.tuples(frame, flips).map(_flip)
    return st.one_of(cut, flipped, st.binary(max_size=64))


def _flip(drawn: tuple[bytes, list[tuple[int, int]]]) -> bytes:
    frame, flips = drawn
    out = bytearray(frame)
    for index, value in flips:
        out[index % len(out)] = value
    return bytes(out)


@hsettings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_malformed_and_truncated_frames_on_the_server_line_never_kill_the_session(
    data: st.DataObject,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wire.rec"
        async with served() as srv, CqgSession(settings(srv.url, record_path=str(path))) as session:
            instrument = await session.resolve("EP")
            async with (
                session.trades.stream(ACCOUNT) as events,
                session.market_data.stream([instrument]) as quotes,
            ):
                await session.orders.send(new("G1", OrderType.MKT))
                await next_event(events, report_of("G1", ReportKind.FILL))
                srv.venue.step(3)
                await next_event(quotes, of_type(Quote))
                session.flush_recording()
                genuine = [f.data for f in read_recording(path) if f.direction == "in"]
                bad = data.draw(st.lists(_mangled(genuine), min_size=1, max_size=6))
                refused = 0
                for frame in bad:
                    try:
                        decode_server(frame)
                    except ProtocolError:
                        refused += 1
                    srv.put_frame(frame)
                # the line is FIFO: once this answer is in, every frame above was handled
                assert ACCOUNT in {a.account_id for a in await session.accounts()}
                stats = session.stats()
                assert stats.get("malformed_frames", 0) == refused
                assert stats.get("routing_errors", 0) == 0
                assert stats.get("handler_errors", 0) == 0
                assert session.state is SessionState.LOGGED_ON
                assert session.reconnects == 0


async def _order_elsewhere(plan: FaultPlan | None) -> tuple[int, list[Any], dict[str, int]]:
    """Session A watches the account; session B (same user) places an LMT on CLE, a
    contract A never resolved. Returns the fault line's message count before B's order,
    A's events for that order, and A's counters."""
    async with served(plan) as srv, CqgSession(settings(srv.url)) as watcher:
        async with watcher.trades.stream(ACCOUNT) as events:
            await next_event(events, of_type(SnapshotComplete))
            async with CqgSession(settings(srv.url)) as other:
                await other.resolve("CLE")
                line = srv.core.line
                before = line.injector.messages if line is not None else 0
                bid = srv.venue.exchange.book("CLE", 1).bids[0].price
                await other.orders.send(
                    NewOrder(
                        account_id=ACCOUNT,
                        symbol="CLE",
                        side=Side.BUY,
                        qty=1,
                        order_type=OrderType.LMT,
                        limit_price=Decimal(bid - 20) * Decimal("0.01"),
                        cl_order_id="B1",
                    )
                )
                seen: list[Any] = []
                await next_event(events, report_of("B1", ReportKind.ACCEPTED), seen)
        return before, [e for e in seen if report_of("B1")(e)], watcher.stats()


async def test_status_of_a_contract_never_resolved_is_resolved_by_id_then_delivered() -> None:
    # A probe run counts the frames before the order; the real run drops the first two
    # after it: the statuses that announced CLE's metadata (to B and to A).
    before, _, _ = await _order_elsewhere(FaultPlan())
    _, reports, stats = await _order_elsewhere(FaultPlan(drop_indices=(before, before + 1)))
    assert [(r.kind, r.symbol) for r in reports][-1] == (ReportKind.ACCEPTED, "CLE")
    assert stats["contracts_learned_by_id"] == 1
    assert stats.get("bad_items", 0) == 0


class _StateObserver:
    """A throwaway plugin: every ``ec_on_session_state`` call, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, SessionState, SessionState]] = []

    @hookimpl
    def ec_on_session_state(self, vendor: str, old: SessionState, new: SessionState) -> None:
        self.seen.append((vendor, old, new))


async def test_session_state_reaches_the_host_observers_through_the_plugin() -> None:
    host = PluginHost.load(strict=True, entry_points_enabled=False)
    host.register(plugin, name="cqg", distribution="ec-cqg", version="test")
    observer = _StateObserver()
    host.register(observer, name="observer")
    host.check_pending()
    S = SessionState
    async with served() as srv:
        table = {"url": srv.url, "user": USER, "password": Secret(PASSWORD), "backoff_seed": 1}
        table |= {"backoff_initial": 0.005, "backoff_max": 0.02}
        async with host.open_session("cqg", table) as session:
            assert observer.seen == [
                ("cqg", S.CREATED, S.CONNECTING),
                ("cqg", S.CONNECTING, S.LOGGED_ON),
            ]
            async with session.trades.stream(ACCOUNT) as events:
                srv.venue.restart(keep_state=True)
                await next_event(events, session_event(SessionEventKind.RECONCILED))
        assert [(old, new) for _, old, new in observer.seen[2:]] == [
            (S.LOGGED_ON, S.RECONNECTING),
            (S.RECONNECTING, S.LOGGED_ON),
            (S.LOGGED_ON, S.CLOSING),
            (S.CLOSING, S.CLOSED),
        ]
    # without a host, the factory opens sessions that notify nobody (and still work)
    assert isinstance(plugin.LazyCqgFactory().open(table), CqgSession)


async def test_a_bad_frame_in_a_burst_of_market_data_costs_only_itself() -> None:
    # Market-data frames are decoded a burst at a time; one bad frame among them sends
    # the burst down the one-by-one path: it alone is counted and dropped, in order.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wire.rec"
        async with served() as srv, CqgSession(settings(srv.url, record_path=str(path))) as session:
            instrument = await session.resolve("EP")
            async with session.market_data.stream([instrument]) as quotes:
                srv.venue.step(3)
                await next_event(quotes, of_type(Quote))
                session.flush_recording()
                genuine = [
                    f.data
                    for f in read_recording(path)
                    if f.direction == "in" and codec.is_market_data_only(f.data)
                ]
                burst = []
                for size in (701, 702, 703):
                    msg = ServerMsg.FromString(genuine[-1])
                    data = msg.real_time_market_data[0]
                    del data.quotes[:]
                    quote = data.quotes.add(type=market_data_2.Quote.TYPE_BESTBID)
                    quote.scaled_price = 450_000  # 4500.00: on the 0.25 grid at scale 0.01
                    quote.volume.significand = size
                    burst.append(msg.SerializeToString())
                bad = bytes([0x4A, 0x02, 0x08, 0x80])  # looks like market data, cannot parse
                for frame in (burst[0], bad, burst[1], burst[2]):
                    srv.put_frame(frame)
                sizes: list[int] = []
                while len(sizes) < 3:
                    event = await next_event(quotes, of_type(Quote))
                    if event.bid_size in (701, 702, 703):
                        sizes.append(event.bid_size)
                assert sizes == [701, 702, 703]
                assert session.stats()["malformed_frames"] == 1
