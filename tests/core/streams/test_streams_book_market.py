"""``AccountBook`` (what a streaming venue last said: the trade hub's snapshot) and
``MarketHub`` (market-data subscribers per symbol, the venue asked once per symbol)."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from ec_core.errors import ConnectionLostError, SymbolNotFoundError
from ec_core.model import (
    Account,
    AccountReport,
    CancelOrder,
    ExecutionReport,
    Instrument,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    Position,
    PositionReport,
    Quote,
    ReportKind,
    Side,
    Trade,
)
from ec_core.reports import accepted, cancelled, filled, modified, refused, rejected
from ec_core.streams import AccountBook, MarketHub, TradeHub

NEW = NewOrder(
    account_id="A",
    symbol="EP",
    side=Side.BUY,
    qty=2,
    order_type=OrderType.LMT,
    limit_price=Decimal("4500"),
    cl_order_id="c1",
)
EP = Instrument(symbol="EP", tick_size=Decimal("0.25"))
ZN = Instrument(symbol="ZN", tick_size=Decimal("0.015625"))


def test_the_book_follows_an_order_through_modify_fill_and_cancel() -> None:
    book = AccountBook()
    live = accepted(NEW, ts_ns=1)
    book.apply(live)
    assert book.working("A", "c1") == live
    change = ModifyOrder(account_id="A", symbol="EP", orig_cl_order_id="c1", cl_order_id="c2")
    moved = modified(live, change, ts_ns=2)
    book.apply(moved)
    assert book.working("A", "c1") is None
    assert [r.cl_order_id for r in book.open_orders("A")] == ["c2"]
    assert {r.kind for r in book.open_orders("A")} == {ReportKind.STATUS}
    part = filled(moved, qty=1, price=Decimal("4500"), fill_id="F1", ts_ns=3)
    book.apply(part)
    assert book.open_orders("A")[0].filled_qty == 1
    book.apply(cancelled(part, ts_ns=4))
    assert book.open_orders("A") == []


def test_a_rejected_report_changes_nothing_in_the_book() -> None:
    book = AccountBook()
    live = book.apply(accepted(NEW, ts_ns=1))
    assert isinstance(live, ExecutionReport)
    cancel = CancelOrder(account_id="A", symbol="EP", orig_cl_order_id="c1", cl_order_id="x")
    book.apply(refused(live, cancel, "TOO_LATE", "no", ts_ns=2))
    book.apply(rejected(NEW, "DUPLICATE_ID", "c1 is in use", ts_ns=3))  # same id: still live
    assert book.open_orders("A")[0].state is OrderState.WORKING


def test_the_snapshot_is_orders_positions_then_the_account_at_the_time_asked() -> None:
    book = AccountBook()
    hub = TradeHub(book.snapshot)
    book.apply(accepted(NEW, ts_ns=1))
    position = Position(account_id="A", symbol="EP", qty=1, avg_price=Decimal("4500"))
    book.apply(PositionReport(position=position, ts_ns=2))
    book.apply(AccountReport(account=Account(account_id="A", balance=Decimal(5)), ts_ns=3))
    book.apply(PositionReport(position=Position(account_id="B", symbol="EP"), ts_ns=4))
    events = hub.snapshot("A", 9)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ExecutionReport", "PositionReport", "AccountReport", "SnapshotComplete"]
    assert {e.ts_ns for e in events} == {9}
    assert book.positions("A") == [position]
    assert book.account("A") == Account(account_id="A", balance=Decimal(5))
    assert book.account("B") is None
    assert hub.snapshot("C", 9)[:-1] == []


class Venue:
    """What a vendor's subscribe/unsubscribe would ask of its venue."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.down = False

    async def subscribe(self, instrument: Instrument) -> None:
        if instrument.symbol == "NOPE":
            raise SymbolNotFoundError("NOPE")
        self.calls.append(("sub", instrument.symbol))

    async def unsubscribe(self, instrument: Instrument) -> None:
        self.calls.append(("unsub", instrument.symbol))
        if self.down:
            raise ConnectionLostError("gone")


@pytest.mark.anyio
async def test_the_venue_is_asked_once_per_symbol_and_a_late_joiner_gets_the_latest() -> None:
    venue = Venue()
    hub = MarketHub(venue.subscribe, venue.unsubscribe)
    quote = Quote(symbol="EP", ts_ns=1, bid=18000, bid_size=1)
    async with hub.stream([EP, ZN]) as first:
        assert hub.instrument("EP") == EP
        hub.publish(quote)
        hub.publish(Trade(symbol="ZN", ts_ns=2, price=7000, size=1))
        hub.publish(Quote(symbol="CL", ts_ns=3))  # nobody listens: dropped
        async with hub.stream([EP]) as second:
            assert second.drain() == [quote]  # the latest the hub saw, at once
            newer = Quote(symbol="EP", ts_ns=4, bid=18001, bid_size=1)
            hub.publish(newer)
            assert second.drain() == [newer]
        assert venue.calls == [("sub", "EP"), ("sub", "ZN")]  # one leaving is not the last
        assert [e.ts_ns for e in first.drain()] == [1, 2, 4]
        assert len(hub.channels()) == 1
    assert venue.calls[2:] == [("unsub", "EP"), ("unsub", "ZN")]
    assert hub.channels() == []


@pytest.mark.anyio
async def test_a_refused_subscription_raises_and_leaves_nothing_behind() -> None:
    venue = Venue()
    hub = MarketHub(venue.subscribe, venue.unsubscribe)
    with pytest.raises(SymbolNotFoundError):
        async with hub.stream([EP, Instrument(symbol="NOPE", tick_size=Decimal(1))]):
            pass
    assert hub.channels() == []
    assert hub.instrument("EP") is None


@pytest.mark.anyio
async def test_a_lost_line_fails_the_streams_and_leaving_then_never_raises() -> None:
    venue = Venue()
    hub = MarketHub(venue.subscribe, venue.unsubscribe)
    async with hub.stream([EP]) as events:
        hub.publish(Quote(symbol="EP", ts_ns=1))
        venue.down = True
        hub.close(ConnectionLostError("socket closed"))
        assert (await anext(events)).ts_ns == 1  # what it held comes first
        with pytest.raises(ConnectionLostError):
            await anext(events)
    assert venue.calls[-1] == ("unsub", "EP")  # tried, failed, logged


@pytest.mark.anyio
async def test_closing_the_hub_ends_iteration_and_depth_is_refused() -> None:
    hub = MarketHub(Venue().subscribe, Venue().unsubscribe)
    with pytest.raises(ValueError, match="depth"):
        async with hub.stream([EP], depth=True):
            pass
    with anyio.fail_after(5):
        async with hub.stream([EP]) as events:
            hub.close()
            assert [e async for e in events] == []
    with pytest.raises(ValueError, match="capacity"):
        MarketHub(Venue().subscribe, Venue().unsubscribe, capacity=0)
