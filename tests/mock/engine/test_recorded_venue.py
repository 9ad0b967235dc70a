"""``RecordedVenue``: the recorded touch is the market; one test per fill-model rule."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ec_core.model import (
    Duration,
    ExecInstruction,
    MarketEvent,
    ModifyOrder,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    Side,
)
from ec_core.model import Trade as Print
from ec_mock.market import RecordedFillModel, RecordedVenue
from engine_support import ES, T0, Recorder, fills, make_exchange, order

MS = 1_000_000


def quote(bid: int | None, ask: int | None, *, dt: int = 0, size: int = 10) -> Quote:
    return Quote(symbol="ES", ts_ns=T0 + dt, bid=bid, bid_size=size, ask=ask, ask_size=size)


def trade(price: int, size: int, *, dt: int = 0) -> Print:
    return Print(symbol="ES", ts_ns=T0 + dt, price=price, size=size)


def venue(**model: object) -> tuple[RecordedVenue, Recorder]:
    ex, _, rec = make_exchange((ES,), accounts=("A",))
    return RecordedVenue(ex, RecordedFillModel(**model)), rec  # type: ignore[arg-type]


def state(v: RecordedVenue, cl: str) -> OrderState:
    status = v.exchange.order_status("A", cl)
    assert status is not None
    return status.state


def px(ticks: int) -> Decimal:
    return ES.to_price(ticks)


def test_quotes_that_cross_nothing_never_reach_the_exchange() -> None:
    """The recorded touch is kept by the venue, not shown to the book as orders."""
    v, rec = venue()
    for i in range(50):
        v.feed(quote(18000 + i % 3, 18001 + i % 3, dt=i))
    assert v.fed == 50
    assert rec.trade == []
    assert v.exchange.book("ES").bids == ()


def test_fed_counts_the_records_of_a_stream_left_part_way() -> None:
    """A replay drops a stream part way when an order action is queued (the next run is
    a new stream): the records it fed still count, as those of a finished stream do."""
    v, _ = venue()
    records = iter([quote(18000, 18001, dt=i) for i in range(10)])
    stream = v.stream(records)
    assert [next(stream).ts_ns - T0 for _ in range(3)] == [0, 1, 2]
    del stream  # dropped suspended, as ingest leaves it
    assert v.fed == 3
    assert v.feed_all(records) == 7
    assert v.fed == 10


def test_a_market_order_fills_whole_at_the_recorded_touch() -> None:
    v, rec = venue()
    v.feed(quote(18000, 18001, size=3))
    v.submit(order("m1", Side.BUY, 25))
    assert fills(rec, "m1") == [(25, px(18001))]
    v.submit(order("m2", Side.SELL, 25))
    assert fills(rec, "m2") == [(25, px(18000))]
    assert v.exchange.book("ES").asks == ()  # what was shown for the order is withdrawn


def test_walk_takes_the_recorded_size_per_tick() -> None:
    v, rec = venue(market="walk")
    v.feed(quote(18000, 18001, size=10))
    v.submit(order("m1", Side.BUY, 25))
    assert fills(rec, "m1") == [(10, px(18001)), (10, px(18002)), (5, px(18003))]


def test_slippage_moves_market_fills_but_not_limits() -> None:
    v, rec = venue(slippage_ticks=2)
    v.feed(quote(18000, 18001))
    v.submit(order("m1", Side.SELL, 1))
    assert fills(rec, "m1") == [(1, px(17998))]
    v.submit(order("l1", Side.BUY, 1, str(px(18005))))
    assert fills(rec, "l1") == [(1, px(18001))]


def test_a_market_order_without_a_recorded_side_is_not_filled() -> None:
    v, rec = venue()
    v.feed(quote(18000, None))
    v.submit(order("m1", Side.BUY, 1))
    assert fills(rec, "m1") == []
    assert state(v, "m1") is not OrderState.FILLED


def test_a_marketable_limit_fills_at_the_touch_and_a_passive_one_rests() -> None:
    v, rec = venue()
    v.feed(quote(18000, 18001))
    v.submit(order("l1", Side.BUY, 2, str(px(18003))))
    assert fills(rec, "l1") == [(2, px(18001))]
    v.submit(order("l2", Side.BUY, 2, str(px(17999))))
    assert fills(rec, "l2") == []
    assert state(v, "l2") is OrderState.WORKING


def test_a_resting_limit_fills_when_the_recorded_opposite_side_reaches_it() -> None:
    v, rec = venue()
    v.feed(quote(18000, 18002))
    v.submit(order("b", Side.BUY, 3, str(px(17998))))
    v.feed(quote(17999, 17999 + 2, dt=1))
    assert fills(rec, "b") == []
    v.feed(quote(17997, 17998, dt=2))  # ask at our bid: the bids at 17998 were taken
    assert fills(rec, "b") == [(3, px(17998))]


def test_a_trade_through_fills_a_resting_limit_completely_at_its_price() -> None:
    v, rec = venue()
    v.feed(quote(18000, 18002))
    v.submit(order("s", Side.SELL, 4, str(px(18001))))
    v.feed(trade(18002, 1, dt=1))
    assert fills(rec, "s") == [(4, px(18001))]


def test_a_print_at_the_limit_fills_only_past_the_recorded_queue() -> None:
    v, rec = venue()
    v.feed(quote(18000, 18002, size=10))
    v.submit(order("b", Side.BUY, 5, str(px(18000))))  # joins 10 lots ahead
    v.feed(trade(18000, 6, dt=1))
    assert fills(rec, "b") == []
    v.feed(quote(18000, 18002, size=2, dt=2))  # 4 left ahead, then 2 cancel: 2 ahead
    v.feed(trade(18000, 4, dt=3))
    assert fills(rec, "b") == [(2, px(18000))]


def test_without_the_queue_a_print_at_the_limit_fills_at_once() -> None:
    v, rec = venue(queue=False)
    v.feed(quote(18000, 18002, size=10))
    v.submit(order("b", Side.BUY, 5, str(px(18000))))
    v.feed(trade(18000, 3, dt=1))
    assert fills(rec, "b") == [(3, px(18000))]


def test_fill_at_touch_off_fills_only_on_trade_through() -> None:
    v, rec = venue(fill_at_touch=False, queue=False)
    v.feed(quote(18000, 18002))
    v.submit(order("b", Side.BUY, 5, str(px(18000))))
    v.feed(trade(18000, 50, dt=1))
    assert fills(rec, "b") == []
    v.feed(trade(17999, 1, dt=2))
    assert fills(rec, "b") == [(5, px(18000))]


def test_a_stop_fires_on_a_recorded_trade_not_on_quotes_by_default() -> None:
    v, rec = venue(slippage_ticks=1)
    v.feed(trade(18000, 1))
    v.feed(quote(18000, 18001, dt=1))
    v.submit(order("st", Side.BUY, 2, order_type=OrderType.STP, stop=str(px(18004))))
    assert state(v, "st") is OrderState.WORKING
    v.feed(quote(18004, 18005, dt=2))  # quotes reach the stop: no trade, no fire
    assert fills(rec, "st") == []
    v.feed(trade(18004, 1, dt=3))
    assert fills(rec, "st") == [(2, px(18006))]  # the ask, one tick of slippage


def test_a_stop_fires_on_quotes_when_told() -> None:
    v, rec = venue(stop_trigger="quote")
    v.feed(trade(18000, 1))
    v.feed(quote(18000, 18001, dt=1))
    v.submit(order("st", Side.SELL, 1, order_type=OrderType.STP, stop=str(px(17996))))
    v.feed(quote(17996, 17997, dt=2))
    assert fills(rec, "st") == [(1, px(17996))]


def test_ioc_takes_what_the_walk_gives_within_its_limit_and_fok_all_or_nothing() -> None:
    v, rec = venue(market="walk")
    v.feed(quote(18000, 18001, size=10))
    v.submit(order("ioc", Side.BUY, 25, str(px(18002)), duration=Duration.IOC))
    assert fills(rec, "ioc") == [(10, px(18001)), (10, px(18002))]
    assert state(v, "ioc") is OrderState.CANCELLED
    v.submit(order("fok", Side.BUY, 25, str(px(18002)), duration=Duration.FOK))
    assert fills(rec, "fok") == []
    assert state(v, "fok") in (OrderState.CANCELLED, OrderState.REJECTED)


def test_all_or_none_fills_whole_or_rests() -> None:
    v, rec = venue(market="walk")
    v.feed(quote(18000, 18001, size=10))
    aon = frozenset({ExecInstruction.AON})
    v.submit(order("a1", Side.BUY, 15, str(px(18001)), exec_instructions=aon))
    assert fills(rec, "a1") == []
    v.submit(order("a2", Side.BUY, 15, str(px(18002)), exec_instructions=aon))
    assert sum(q for q, _ in fills(rec, "a2")) == 15


def records_with_latency() -> list[Quote]:
    return [quote(18000, 18001), quote(18003, 18004, dt=3 * MS), quote(18009, 18010, dt=9 * MS)]


def run_with_latency(**model: object) -> tuple[RecordedVenue, Recorder]:
    v, rec = venue(**model)
    stream: Iterator[object] = v.stream(records_with_latency())
    next(stream)  # the first quote is in; the strategy decides now
    v.submit(order("m1", Side.BUY, 1))
    for _ in stream:
        pass
    return v, rec


def test_latency_fills_at_the_touch_recorded_at_arrival() -> None:
    _, rec = run_with_latency()
    assert fills(rec, "m1") == [(1, px(18001))]
    _, rec = run_with_latency(latency_ms=5.0)  # arrives at 5 ms: the 3 ms quote holds
    assert fills(rec, "m1") == [(1, px(18004))]


def test_seeded_latency_jitter_repeats_run_to_run() -> None:
    runs = [run_with_latency(latency_ms=1.0, latency_jitter_ms=9.0) for _ in range(2)]
    assert fills(runs[0][1], "m1") == fills(runs[1][1], "m1")
    assert runs[0][0].exchange.event_log_bytes() == runs[1][0].exchange.event_log_bytes()


def test_liquidate_all_flattens_at_the_recorded_touch() -> None:
    from ec_core.model import LiquidateAll

    v, rec = venue(slippage_ticks=1)
    v.feed(quote(18000, 18001))
    v.submit(order("m1", Side.BUY, 2))
    v.feed(quote(18004, 18005, dt=1))
    v.submit(LiquidateAll(account_id="A", cl_order_id="flat"))
    assert [p.qty for p in v.exchange.positions("A")] == [0]
    sells = [
        r for r in rec.reports()
        if r.account_id == "A" and r.kind is ReportKind.FILL and r.side is Side.SELL
    ]  # fmt: skip
    assert [(r.fill.qty, r.fill.price) for r in sells if r.fill] == [(2, px(18003))]


def test_an_off_tick_limit_is_rejected_by_the_exchange_not_raised_by_the_venue() -> None:
    """The venue's look at a taking order must not crash on a price the exchange refuses."""
    v, rec = venue()
    v.feed(quote(18000, 18001))
    v.submit(order("l1", Side.BUY, 1, "4500.10"))
    assert [r.kind for r in rec.reports("l1")] == [ReportKind.REJECTED]
    assert v.exchange.book("ES").asks == ()


def test_an_off_tick_modify_is_rejected_and_the_order_keeps_resting() -> None:
    v, rec = venue()
    v.feed(quote(18000, 18001))
    v.submit(order("l1", Side.BUY, 1, str(px(17990))))
    v.submit(
        ModifyOrder(
            account_id="A",
            symbol="ES",
            orig_cl_order_id="l1",
            cl_order_id="l2",
            limit_price=Decimal("4500.10"),
        )
    )
    assert rec.reports("l2")[-1].kind is ReportKind.REJECTED
    assert state(v, "l1") is OrderState.WORKING


def test_market_to_limit_takes_the_recorded_best_only_and_rests_the_rest() -> None:
    """Globex market-to-limit on recorded data: the touch, then a limit at that price."""
    v, rec = venue(market="walk")
    v.feed(quote(18000, 18001, size=10))
    v.submit(order("mtl", Side.BUY, 25, order_type=OrderType.MTL))
    assert fills(rec, "mtl") == [(10, px(18001))]
    assert state(v, "mtl") is OrderState.PARTIALLY_FILLED
    assert [(lv.price, lv.qty) for lv in v.exchange.book("ES").bids] == [(18001, 15)]


def test_minimum_quantity_and_smp_per_order_are_the_exchange_rules() -> None:
    v, rec = venue(market="walk")
    v.feed(quote(18000, 18001, size=10))
    ioc = Duration.IOC
    v.submit(order("min", Side.BUY, 25, str(px(18002)), duration=ioc, min_qty=21))
    assert (fills(rec, "min"), state(v, "min")) == ([], OrderState.CANCELLED)
    v.submit(order("own", Side.SELL, 1, str(px(18001)), smp_id="D1"))  # joins the ask
    v.submit(order("buy", Side.BUY, 1, str(px(18001)), smp_id="D1"))
    assert state(v, "own") is OrderState.CANCELLED  # not traded with its own desk
    assert fills(rec, "own") == []


def test_an_iceberg_is_refused_by_the_replay_venue_with_the_reason() -> None:
    """Recorded quotes cannot show what an iceberg displays: refused, never faked."""
    v, rec = venue()
    v.feed(quote(18000, 18001))
    v.submit(order("ice", Side.BUY, 10, str(px(17999)), display_qty=2))
    last = rec.last("ice")
    assert (last.kind, last.reject_code) == (ReportKind.REJECTED, "UNSUPPORTED")
    assert 'venue = "book"' in last.reject_text


def test_commission_per_contract_and_per_order_are_charged_on_the_fills() -> None:
    """Per contract on every fill, per order once, on the order's first fill: in the fill
    report and out of the account's cash."""
    ex, _, rec = make_exchange((ES,), accounts=())
    ex.open_account(
        "A", commission_per_contract=Decimal("2.05"), commission_per_order=Decimal("1.125")
    )
    v = RecordedVenue(ex, RecordedFillModel(market="walk"))
    v.feed(quote(18000, 18001, size=2))
    v.submit(order("m1", Side.BUY, 3))  # walks: 2 at the touch, 1 a tick worse
    assert fills(rec, "m1") == [(2, px(18001)), (1, px(18002))]
    charged = [r.fill.commission for r in rec.reports("m1") if r.fill is not None]
    assert charged == [Decimal("2.05") * 2 + Decimal("1.125"), Decimal("2.05")]
    assert ex.account("A").balance == Decimal(1_000_000) - Decimal("7.275")


def test_a_stop_limit_fires_on_a_trade_then_rests_as_its_limit() -> None:
    v, rec = venue()
    v.feed(trade(18000, 1))
    v.feed(quote(18000, 18001, dt=1))
    stl = order("sl", Side.BUY, 2, str(px(18004)), order_type=OrderType.STL, stop=str(px(18004)))
    v.submit(stl)
    v.feed(quote(18005, 18006, dt=2))
    v.feed(trade(18005, 1, dt=3))  # fires; the ask 18006 is above its limit: it rests
    assert fills(rec, "sl") == []
    assert state(v, "sl") is OrderState.WORKING
    v.feed(quote(18003, 18004, dt=4))
    assert fills(rec, "sl") == [(2, px(18004))]  # at its limit, no slippage


def test_fok_with_enough_recorded_size_fills_whole() -> None:
    v, rec = venue(market="walk")
    v.feed(quote(18000, 18001, size=10))
    v.submit(order("fok", Side.BUY, 15, str(px(18002)), duration=Duration.FOK))
    assert fills(rec, "fok") == [(10, px(18001)), (5, px(18002))]


def test_a_resting_aon_is_filled_whole_by_a_later_record() -> None:
    v, rec = venue(market="walk")
    v.feed(quote(18000, 18001, size=10))
    aon = frozenset({ExecInstruction.AON})
    v.submit(order("a1", Side.BUY, 15, str(px(18001)), exec_instructions=aon))
    assert fills(rec, "a1") == []
    v.feed(quote(18000, 18001, size=20, dt=1))
    assert fills(rec, "a1") == [(15, px(18001))]


def test_a_resting_aon_is_never_filled_in_part_by_a_record_offering_less() -> None:
    v, rec = venue(market="walk")
    v.feed(quote(17999, 18002, size=10))
    aon = frozenset({ExecInstruction.AON})
    v.submit(order("a1", Side.BUY, 15, str(px(18001)), exec_instructions=aon))
    v.feed(quote(18000, 18001, size=10, dt=1))  # 10 at its limit: short of 15
    v.feed(trade(18000, 30, dt=2))  # a print shows what traded, not what is offered
    v.feed(trade(18001, 30, dt=3))  # at its price: it waits behind every shown order
    assert fills(rec, "a1") == []
    assert state(v, "a1") is OrderState.WORKING
    v.feed(quote(17999, 18000, size=10, dt=4))  # walk: 10 at 18000 and 10 at 18001
    assert fills(rec, "a1") == [(10, px(18000)), (5, px(18001))]
    assert state(v, "a1") is OrderState.FILLED


def test_a_resting_sell_aon_takes_the_recorded_bid_whole_in_touch_mode() -> None:
    v, rec = venue()  # market = "touch": the touch offers any quantity, as on arrival
    v.feed(quote(18000, 18001, size=1))
    aon = frozenset({ExecInstruction.AON})
    v.submit(order("a1", Side.SELL, 5, str(px(18002)), exec_instructions=aon))
    v.submit(order("l1", Side.SELL, 1, str(px(18003))))  # the book's own order goes first
    assert fills(rec, "a1") == []
    v.feed(quote(18003, 18004, size=1, dt=1))
    assert fills(rec, "l1") == [(1, px(18003))]
    assert fills(rec, "a1") == [(5, px(18003))]


def test_records_before_an_orders_arrival_do_not_fill_it() -> None:
    v, rec = venue(latency_ms=5.0)
    records = [
        quote(18000, 18001),
        quote(17996, 17997, dt=2 * MS),  # through the limit, before it arrives
        quote(18000, 18001, dt=4 * MS),
        quote(17997, 17998, dt=9 * MS),
    ]
    stream: Iterator[object] = v.stream(records)
    next(stream)
    v.submit(order("l1", Side.BUY, 1, str(px(17998))))
    next(stream)
    next(stream)
    assert fills(rec, "l1") == []
    assert state(v, "l1") is OrderState.WORKING
    next(stream)
    assert fills(rec, "l1") == [(1, px(17998))]


def test_a_stream_with_spoke_ends_where_the_venue_spoke_and_goes_on_from_there() -> None:
    """``spoke`` is asked on the first record and then only after a record that moved the
    venue's activity since it last answered False (here the quote that fills the resting
    bid); True ends the run with that record fed (the fill is out) and kept by the caller;
    the same source streamed again goes on with the next record, every record once."""
    v, rec = venue()
    v.feed(quote(18000, 18001))
    v.submit(order("l1", Side.BUY, 1, str(px(17998))))
    records = iter([quote(18000, 18001, dt=i) for i in range(1, 5)] + [quote(17997, 17998, dt=5)])
    records = iter([*records, *(quote(17996, 17997, dt=6 + i) for i in range(3))])
    asked: list[int] = []

    def spoke(record: MarketEvent) -> bool:
        asked.append(record.ts_ns - T0)
        return bool(fills(rec, "l1")) and len(asked) == 2

    first = [r.ts_ns - T0 for r in v.stream(records, spoke=spoke)]
    assert first == [1, 2, 3, 4]  # the 5th record filled l1: kept back, not yielded
    assert asked == [1, 5]
    assert fills(rec, "l1") == [(1, px(17998))]
    rest = [r.ts_ns - T0 for r in v.stream(records, spoke=spoke)]
    assert rest == [6, 7, 8]  # the kept record is the caller's; the rest follows once
    assert asked == [1, 5, 6]  # asked once more (it said True last), then quiet
    assert v.fed == 1 + 8


def test_a_stream_with_spoke_after_a_latency_read_ahead_yields_each_record_once() -> None:
    """Records a request read ahead (latency) come first in the next run, in order."""
    v, rec = venue(latency_ms=5.0)
    records = iter(
        [quote(18000, 18001), *(quote(18000 + i, 18001 + i, dt=i * MS) for i in range(1, 9))]
    )
    seen = [next(v.stream(records, spoke=lambda r: False)).ts_ns]
    v.submit(order("m1", Side.BUY, 1))  # reads ahead to its arrival at 5 ms
    seen += [r.ts_ns for r in v.stream(records, spoke=lambda r: False)]
    assert [t - T0 for t in seen] == [i * MS for i in range(9)]
    assert fills(rec, "m1") == [(1, px(18006))]  # the 5 ms quote: 18005/18006
