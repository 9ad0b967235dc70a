"""Order types, durations, modify/cancel and the bulk requests of the exchange engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecutionReport,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    OrderState,
    OrderType,
    PositionReport,
    Quote,
    ReportKind,
    Side,
    Trade,
)
from ec_mock.engine import Exchange, RejectCode
from engine_support import SECOND, T0, Recorder, make_exchange, order

BUY, SELL = Side.BUY, Side.SELL


def test_limit_orders_rest_then_cross_with_partial_fills() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 5, "4500.25", account="B"))
    ex.submit(order("b1", BUY, 3, "4500.50"))
    fill = rec.last("b1")
    assert fill.kind is ReportKind.FILL
    assert fill.state is OrderState.FILLED
    assert fill.fill is not None
    assert fill.fill.price == Decimal("4500.25")  # the resting order's price
    assert fill.fill.qty == 3
    maker = rec.last("s1")
    assert (maker.state, maker.filled_qty, maker.qty) == (OrderState.PARTIALLY_FILLED, 3, 5)
    assert ex.book("ES").asks[0].qty == 2
    assert ex.book("ES").bids == ()
    trades = [m for m in rec.market if isinstance(m, Trade)]
    assert [(t.price, t.size, t.aggressor) for t in trades] == [(18001, 3, BUY)]


def test_every_report_carries_chain_and_venue_ids_and_fill_ids_are_unique() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 1, "4500", account="B"))
    ex.submit(order("s2", SELL, 1, "4500", account="B"))
    ex.submit(order("b1", BUY, 2, "4500"))
    reports = rec.reports()
    assert all(r.venue_order_id and r.chain_id for r in reports)
    fill_ids = [r.fill.fill_id for r in reports if r.fill is not None]
    assert len(fill_ids) == 4
    assert len(set(fill_ids)) == 4


def test_market_order_takes_liquidity_and_cancels_what_is_left() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 2, "4500", account="B"))
    ex.submit(order("s2", SELL, 1, "4501", account="B"))
    ex.submit(order("m1", BUY, 5))
    assert rec.kinds("m1") == [
        ReportKind.ACCEPTED,
        ReportKind.FILL,
        ReportKind.FILL,
        ReportKind.CANCELLED,
    ]
    last = rec.last("m1")
    assert last.filled_qty == 3
    assert last.avg_fill_price == (Decimal("4500") * 2 + Decimal("4501")) / 3


def test_market_order_into_an_empty_book_is_cancelled_unfilled() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("m1", SELL, 1))
    assert rec.kinds("m1") == [ReportKind.ACCEPTED, ReportKind.CANCELLED]


def test_stop_market_triggers_on_a_trade_at_its_price() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 1, "4500", account="B"))
    ex.submit(order("b1", BUY, 1, "4500", account="B"))  # last trade 4500
    ex.submit(order("stop", BUY, 1, stop="4501", order_type=OrderType.STP))
    assert rec.last("stop").state is OrderState.WORKING
    ex.submit(order("s2", SELL, 5, "4501", account="B"))
    ex.submit(order("b2", BUY, 1, "4501", account="B"))  # prints 4501: the stop fires
    fill = rec.last("stop")
    assert fill.kind is ReportKind.FILL
    assert fill.fill is not None
    assert fill.fill.price == Decimal("4501")
    assert fill.stop_price == Decimal("4501")


def test_stop_limit_triggers_into_a_resting_limit() -> None:
    ex, _, _rec = make_exchange()
    ex.submit(order("s1", SELL, 1, "4500", account="B"))
    ex.submit(order("b1", BUY, 1, "4500", account="B"))
    ex.submit(order("stl", SELL, 2, "4499", stop="4499.50", order_type=OrderType.STL))
    ex.submit(order("b2", BUY, 1, "4499.50", account="B"))
    ex.submit(order("s2", SELL, 1, "4499.50", account="B"))  # prints 4499.50: fires
    status = ex.order_status("A", "stl")
    assert status is not None
    assert status.state is OrderState.WORKING
    assert ex.book("ES").asks[0].price == 4499 * 4  # resting at its limit 4499


def test_stops_fire_in_cascade() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 1, "4500", account="B"))
    ex.submit(order("b1", BUY, 1, "4500", account="B"))
    ex.submit(order("stop1", BUY, 1, stop="4501", order_type=OrderType.STP))
    ex.submit(order("stop2", BUY, 1, stop="4502", order_type=OrderType.STP))
    ex.submit(order("a1", SELL, 1, "4501", account="B"))
    ex.submit(order("a2", SELL, 1, "4502", account="B"))
    ex.submit(order("a3", SELL, 1, "4503", account="B"))
    ex.submit(
        order("hit", BUY, 1, "4501", account="B")
    )  # 4501 prints: stop1 buys 4502, stop2 fires
    assert rec.last("stop1").state is OrderState.FILLED
    assert rec.last("stop2").state is OrderState.FILLED
    assert rec.last("stop2").avg_fill_price == Decimal("4503")


def test_ioc_cancels_the_rest_and_fok_is_all_or_nothing() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 2, "4500", account="B"))
    ex.submit(order("fok", BUY, 3, "4500", duration=Duration.FOK))
    assert rec.kinds("fok") == [ReportKind.ACCEPTED, ReportKind.CANCELLED]
    assert ex.book("ES").asks[0].qty == 2
    ex.submit(order("ioc", BUY, 3, "4500", duration=Duration.IOC))
    assert rec.kinds("ioc") == [ReportKind.ACCEPTED, ReportKind.FILL, ReportKind.CANCELLED]
    assert rec.last("ioc").filled_qty == 2
    ex.submit(order("s2", SELL, 3, "4500", account="B"))
    ex.submit(order("fok2", BUY, 3, "4500", duration=Duration.FOK))
    assert rec.last("fok2").state is OrderState.FILLED


def test_all_or_none_waits_until_it_can_fill_whole_and_never_shows() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 2, "4500", account="B"))
    ex.submit(order("aon", BUY, 3, "4500", aon=True))
    assert rec.kinds("aon") == [ReportKind.ACCEPTED]
    assert ex.book("ES").bids == ()  # not displayed, so the book is not crossed
    ex.submit(order("s2", SELL, 1, "4500", account="B"))
    assert rec.last("aon").state is OrderState.FILLED
    assert rec.last("aon").filled_qty == 3


def test_modify_price_loses_priority_and_qty_decrease_keeps_it() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("b1", BUY, 2, "4500"))
    ex.submit(order("b2", BUY, 2, "4500", account="B"))
    ex.submit(
        ModifyOrder(account_id="A", symbol="ES", orig_cl_order_id="b1", cl_order_id="b1m", qty=1)
    )
    assert [r.cl_order_id for r in ex.resting("ES")] == ["b1m", "b2"]
    ex.submit(
        ModifyOrder(
            account_id="A",
            symbol="ES",
            orig_cl_order_id="b1m",
            cl_order_id="b1p",
            limit_price=Decimal("4500.25"),
        )
    )
    ex.submit(
        ModifyOrder(
            account_id="A",
            symbol="ES",
            orig_cl_order_id="b1p",
            cl_order_id="b1q",
            limit_price=Decimal("4500"),
        )
    )
    assert [r.cl_order_id for r in ex.resting("ES")] == ["b2", "b1q"]
    modified = rec.last("b1q")
    assert modified.kind is ReportKind.MODIFIED
    assert (modified.chain_id, modified.orig_cl_order_id) == ("b1", "b1p")
    status = ex.order_status("A", "b1")  # any id of the chain
    assert status is not None
    assert status.cl_order_id == "b1q"


def test_modify_qty_increase_loses_priority() -> None:
    ex, _, _ = make_exchange()
    ex.submit(order("b1", BUY, 2, "4500"))
    ex.submit(order("b2", BUY, 2, "4500", account="B"))
    ex.submit(
        ModifyOrder(account_id="A", symbol="ES", orig_cl_order_id="b1", cl_order_id="b1m", qty=3)
    )
    assert [r.cl_order_id for r in ex.resting("ES")] == ["b2", "b1m"]
    assert ex.book("ES").bids[0].qty == 5


def test_modify_to_a_marketable_price_trades() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, 1, "4501", account="B"))
    ex.submit(order("b1", BUY, 1, "4500"))
    ex.submit(
        ModifyOrder(
            account_id="A",
            symbol="ES",
            orig_cl_order_id="b1",
            cl_order_id="b2",
            limit_price=Decimal("4501"),
        )
    )
    assert rec.kinds("b1")[-2:] == [ReportKind.MODIFIED, ReportKind.FILL]


def test_modify_duration_to_gtd_expires_at_that_date() -> None:
    ex, _clock, rec = make_exchange()
    ex.submit(order("b1", BUY, 1, "4500", duration=Duration.GTC))
    ex.submit(
        ModifyOrder(
            account_id="A",
            symbol="ES",
            orig_cl_order_id="b1",
            cl_order_id="b2",
            duration=Duration.GTD,
            good_thru_date=date(2024, 1, 11),
        )
    )
    ex.advance_to(T0 + 86_400 * SECOND)
    assert rec.last("b1").state is OrderState.WORKING
    ex.advance_to(T0 + 3 * 86_400 * SECOND)
    assert rec.last("b1").kind is ReportKind.EXPIRED


def test_cancel_and_cancel_of_a_final_order() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("b1", BUY, 1, "4500"))
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="b1", cl_order_id="c1"))
    cancelled = rec.last("b1")
    assert (cancelled.kind, cancelled.state) == (ReportKind.CANCELLED, OrderState.CANCELLED)
    assert (cancelled.cl_order_id, cancelled.orig_cl_order_id) == ("c1", "b1")
    assert ex.book("ES").bids == ()
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="b1", cl_order_id="c2"))
    reject = rec.rejects()[-1]
    assert reject.reject_code == "ORDER_FINAL"
    assert reject.state is OrderState.CANCELLED  # the order's state, unchanged


def test_cancel_all_per_instrument_and_per_account() -> None:
    ex, _, _rec = make_exchange()
    ex.submit(order("e1", BUY, 1, "4500"))
    ex.submit(order("z1", BUY, 1, "110", symbol="ZN"))
    ex.submit(order("other", BUY, 1, "4499", account="B"))
    ex.submit(CancelAll(account_id="A", symbol="ES"))
    assert [o.cl_order_id for o in ex.open_orders("A")] == ["z1"]
    ex.submit(CancelAll(account_id="A"))
    assert ex.open_orders("A") == []
    assert [o.cl_order_id for o in ex.open_orders("B")] == ["other"]


def _long_position(ex_qty: int = 2) -> tuple[Exchange, Recorder]:
    ex, _, rec = make_exchange()
    ex.submit(order("s1", SELL, ex_qty, "4500", account="B"))
    ex.submit(order("b1", BUY, ex_qty, "4500"))
    ex.submit(order("zs", SELL, 1, "110", account="B", symbol="ZN"))
    ex.submit(order("zb", BUY, 1, "110", symbol="ZN"))
    ex.submit(order("liq-es", BUY, 10, "4499", account="B"))  # someone to sell to
    ex.submit(order("liq-zn", BUY, 10, "109.984375", account="B", symbol="ZN"))
    ex.submit(order("w1", SELL, 1, "4510"))  # working orders to cancel
    return ex, rec


def test_liquidate_all_flattens_one_instrument() -> None:
    ex, rec = _long_position()
    ex.submit(LiquidateAll(account_id="A", symbol="ES", cl_order_id="liq"))
    positions = {p.symbol: p.qty for p in ex.positions("A")}
    assert positions == {"ES": 0, "ZN": 1}
    assert ex.open_orders("A") == []
    assert rec.last("w1").kind is ReportKind.CANCELLED
    flat = rec.last("~liq:ES")
    assert (flat.order_type, flat.side, flat.state) == (OrderType.MKT, SELL, OrderState.FILLED)


def test_liquidation_orders_cannot_collide_with_a_client_id() -> None:
    ex, rec = _long_position()
    ex.submit(order("liq:ES", SELL, 1, "4520"))  # the id a flattening order used to get
    ex.submit(LiquidateAll(account_id="A", symbol="ES", cl_order_id="liq"))
    assert {p.symbol: p.qty for p in ex.positions("A")}["ES"] == 0
    assert rec.last("liq:ES").kind is ReportKind.CANCELLED
    assert rec.last("~liq:ES").state is OrderState.FILLED


@pytest.mark.parametrize("cl_order_id", ["~X1", "~liq:ES", "~"])
def test_a_client_id_in_the_venue_namespace_is_rejected(cl_order_id: str) -> None:
    ex, _, rec = make_exchange()
    ex.submit(order(cl_order_id, BUY, 1, "4500"))
    reject = rec.last(cl_order_id)
    assert reject.state is OrderState.REJECTED
    assert reject.reject_code == RejectCode.RESERVED_ORDER_ID
    assert "reserved for the venue" in reject.reject_text
    ex.submit(order("w", BUY, 1, "4500"))
    ex.submit(
        ModifyOrder(account_id="A", symbol="ES", orig_cl_order_id="w", cl_order_id="~m", qty=2)
    )
    assert rec.last("~m").reject_code == RejectCode.RESERVED_ORDER_ID
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="w", cl_order_id="~c"))
    assert rec.last("~c").reject_code == RejectCode.RESERVED_ORDER_ID
    assert [o.cl_order_id for o in ex.open_orders("A")] == ["w"]


def test_go_flat_cancels_and_flattens_everything() -> None:
    ex, rec = _long_position()
    ex.submit(GoFlat(account_id="A", cl_order_id="flat"))
    assert {p.symbol: p.qty for p in ex.positions("A")} == {"ES": 0, "ZN": 0}
    assert ex.open_orders("A") == []
    last_position = [e for e in rec.trade if isinstance(e, PositionReport)][-1]
    assert last_position.position.qty == 0


def test_quotes_follow_the_touch() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("b1", BUY, 2, "4500"))
    ex.submit(order("s1", SELL, 3, "4501", account="B"))
    quotes = [m for m in rec.market if isinstance(m, Quote)]
    assert [(q.bid, q.bid_size, q.ask, q.ask_size) for q in quotes] == [
        (18000, 2, None, 0),
        (18000, 2, 18004, 3),
    ]
    best = ex.best_quote("ES")
    assert best is not None
    assert (best.bid, best.ask) == (18000, 18004)


def test_gtd_expires_at_the_end_of_its_date_and_day_orders_never_without_hours() -> None:
    ex, clock, rec = make_exchange()
    ex.submit(order("gtd", BUY, 1, "4500", duration=Duration.GTD, good_thru_date=date(2024, 1, 10)))
    ex.submit(order("day", BUY, 1, "4499"))
    ex.advance_to(T0 + 3600 * SECOND)
    assert rec.last("gtd").state is OrderState.WORKING
    ex.advance_to(T0 + 86_400 * SECOND)  # past midnight UTC on the 10th
    expired = rec.last("gtd")
    assert expired.kind is ReportKind.EXPIRED
    assert expired.ts_ns == 1_704_931_200 * SECOND  # 2024-01-11T00:00Z, not the advance target
    assert clock.now_ns() == T0 + 86_400 * SECOND
    assert rec.last("day").state is OrderState.WORKING


def test_historical_orders_cover_a_time_window() -> None:
    ex, _clock, _ = make_exchange()
    ex.submit(order("old", BUY, 1, "4500"))
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="old"))
    ex.advance_to(T0 + 10 * SECOND)
    ex.submit(order("new", BUY, 1, "4500"))
    ex.submit(order("bad", BUY, 0, "4500"))
    window = ex.historical_orders("A", T0 + 5 * SECOND, T0 + 20 * SECOND)
    assert [(r.cl_order_id, r.state) for r in window] == [
        ("new", OrderState.WORKING),
        ("bad", OrderState.REJECTED),
    ]
    everything = ex.historical_orders("A", T0, T0 + 20 * SECOND)
    assert [r.cl_order_id for r in everything] == ["old", "new", "bad"]


def test_a_listener_may_submit_from_its_callback() -> None:
    ex, _, rec = make_exchange()

    class Hedger:
        def on_trade_event(self, event: object) -> None:
            if (
                isinstance(event, ExecutionReport)
                and event.kind is ReportKind.FILL
                and event.cl_order_id == "b1"
            ):
                ex.submit(order("hedge", SELL, 1, "4510"))

        hears_market_events = True  # the exchange calls on_market_event

        def on_market_event(self, event: object) -> None:
            pass

    ex.add_listener(Hedger())
    ex.submit(order("s1", SELL, 1, "4500", account="B"))
    ex.submit(order("b1", BUY, 1, "4500"))
    kinds = [(r.cl_order_id, r.kind) for r in rec.reports() if r.account_id == "A"]
    assert kinds == [
        ("b1", ReportKind.ACCEPTED),
        ("b1", ReportKind.FILL),
        ("hedge", ReportKind.ACCEPTED),
    ]


def test_empty_client_ids_are_generated_and_unique() -> None:
    ex, _, rec = make_exchange()
    ex.submit(order("", BUY, 1, "4500"))
    ex.submit(order("", BUY, 1, "4500"))
    ids = [r.cl_order_id for r in rec.reports()]
    assert len(ids) == 2
    assert ids[0] != ids[1]
    assert all(ids)
