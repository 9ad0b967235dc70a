"""Market-data subscriptions fed by the engine: status, snapshot, updates, levels, scaling."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from cqgserver_support import Client, limit_order, make_server, make_venue
from ec_core.model import Side
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, market_data_2

_Q = market_data_2.Quote


def _subscribe(
    client: Client, contract_id: int, level: int, request_id: int = 2
) -> list[ServerMsg]:
    msg = ClientMsg()
    msg.market_data_subscriptions.add(contract_id=contract_id, level=level, request_id=request_id)
    return client.send(msg)


def _setup() -> tuple[Client, int]:
    venue = make_venue()
    client = Client(make_server(venue))
    client.logon()
    return client, client.contract_id("EP")


def test_level_3_status_then_snapshot_with_bba_volumes_and_last_trade() -> None:
    client, contract_id = _setup()
    exchange = client.server.venue.exchange
    status_msg, snapshot_msg = _subscribe(client, contract_id, 3)
    status = status_msg.market_data_subscription_statuses[0]
    assert (status.contract_id, status.status_code, status.level, status.request_id) == (
        contract_id,
        0,
        3,
        2,
    )
    data = snapshot_msg.real_time_market_data[0]
    assert data.is_snapshot
    assert data.correct_price_scale == 0.01
    quote = exchange.best_quote("EP")
    assert quote is not None
    assert quote.bid is not None
    assert quote.ask is not None
    by_type = {q.type: q for q in data.quotes}
    assert by_type[_Q.TYPE_BESTBID].scaled_price == quote.bid * 25  # tick 0.25, scale 0.01
    assert by_type[_Q.TYPE_BESTASK].scaled_price == quote.ask * 25
    assert by_type[_Q.TYPE_BESTBID].volume.significand == quote.bid_size
    last = exchange.last_trade("EP")
    assert last is not None
    assert by_type[_Q.TYPE_TRADE].scaled_price == last.price * 25
    assert data.IsInitialized()


def test_updates_follow_the_engine_and_are_not_snapshots() -> None:
    client, contract_id = _setup()
    _subscribe(client, contract_id, 3)
    client.server.venue.step(30)
    updates = [d for m in client.collect() for d in m.real_time_market_data]
    assert updates, "the simulated market moved: updates expected"
    assert all(not d.is_snapshot and d.contract_id == contract_id for d in updates)
    types = {q.type for d in updates for q in d.quotes}
    assert _Q.TYPE_TRADE in types
    assert types & {_Q.TYPE_BESTBID, _Q.TYPE_BESTASK}


def test_level_1_sends_trades_only() -> None:
    client, contract_id = _setup()
    _status, snapshot = _subscribe(client, contract_id, 1)
    assert {q.type for q in snapshot.real_time_market_data[0].quotes} <= {_Q.TYPE_TRADE}
    client.server.venue.step(30)
    types = {q.type for m in client.collect() for d in m.real_time_market_data for q in d.quotes}
    assert types == {_Q.TYPE_TRADE}


def test_level_2_sends_bba_without_volumes() -> None:
    client, contract_id = _setup()
    _status, snapshot = _subscribe(client, contract_id, 2)
    bba = [q for q in snapshot.real_time_market_data[0].quotes if q.type in (1, 2)]
    assert bba
    assert all(not q.HasField("volume") for q in bba)


def test_level_4_snapshot_holds_the_book_and_updates_diff_it() -> None:
    client, contract_id = _setup()
    exchange = client.server.venue.exchange
    _status, snapshot = _subscribe(client, contract_id, 4)
    quotes = snapshot.real_time_market_data[0].quotes
    view = exchange.book("EP", 10)
    bids = {q.scaled_price // 25: q.volume.significand for q in quotes if q.type == _Q.TYPE_BID}
    assert bids == {lv.price: lv.qty for lv in view.bids}
    client.server.venue.step(30)
    dom = [
        q
        for m in client.collect()
        for d in m.real_time_market_data
        for q in d.quotes
        if q.type in (_Q.TYPE_BID, _Q.TYPE_ASK)
    ]
    assert dom, "the book changed: DOM updates expected"


def test_level_7_and_an_unknown_level_are_refused_as_not_supported() -> None:
    """Level 7 is the detailed DOM, order by order; the mock's book is by price, so it is
    refused (110) with a text naming it, never served as another level."""
    client, contract_id = _setup()
    (detailed,) = _subscribe(client, contract_id, 7)
    status = detailed.market_data_subscription_statuses[0]
    assert (status.status_code, status.level, status.contract_id) == (110, 0, contract_id)
    assert "level 7" in status.details.text
    assert "LEVEL_TRADES_BBA_DETAILED_DOM" in status.details.text
    assert "level 4" in status.details.text
    client.server.venue.step(30)
    assert not [m for m in client.collect() if m.real_time_market_data]
    (refused,) = _subscribe(client, contract_id, 8)
    status = refused.market_data_subscription_statuses[0]
    assert status.status_code == 110
    assert "level 8" in status.details.text


def test_unsubscribe_with_level_0_stops_updates() -> None:
    client, contract_id = _setup()
    _subscribe(client, contract_id, 3)
    (status,) = _subscribe(client, contract_id, 0)
    assert status.market_data_subscription_statuses[0].level == 0
    client.server.venue.step(30)
    assert not [m for m in client.collect() if m.real_time_market_data]


def test_unresolved_contract_is_invalid() -> None:
    client, _ = _setup()
    (status,) = _subscribe(client, 77, 1)
    assert status.market_data_subscription_statuses[0].status_code == 102


# -- depth of market (level 4) --------------------------------------------------------


def _quiet() -> tuple[Client, int]:
    """A venue with no simulated market: the tests place every order of the book."""
    client = Client(make_server(make_venue(market=False)))
    client.logon()
    return client, client.contract_id("EP")


def _place(client: Client, cl: str, side: Side, qty: int, price: str) -> None:
    client.server.venue.exchange.submit(limit_order(cl, side, qty, price))


def _dom_items(msgs: list[ServerMsg]) -> list[market_data_2.RealTimeMarketData]:
    return [
        d
        for m in msgs
        for d in m.real_time_market_data
        if any(q.type in (_Q.TYPE_BID, _Q.TYPE_ASK) for q in d.quotes)
    ]


def _levels(data: market_data_2.RealTimeMarketData) -> list[tuple[int, int, int]]:
    """(type, ticks, volume) of the DOM quotes (EP: tick 0.25, scale 0.01)."""
    return [
        (q.type, q.scaled_price // 25, q.volume.significand)
        for q in data.quotes
        if q.type in (_Q.TYPE_BID, _Q.TYPE_ASK)
    ]


def test_level_4_snapshot_is_the_engines_depth_aggregated_per_price() -> None:
    client, contract_id = _quiet()
    _place(client, "b1", Side.BUY, 2, "4999.75")
    _place(client, "b2", Side.BUY, 3, "4999.75")
    _place(client, "a1", Side.SELL, 4, "5000.25")
    _status, snapshot = _subscribe(client, contract_id, 4)
    (data,) = snapshot.real_time_market_data
    assert data.is_snapshot
    assert _levels(data) == [(_Q.TYPE_BID, 19999, 5), (_Q.TYPE_ASK, 20001, 4)]
    by_type = {q.type: q for q in data.quotes}
    assert by_type[_Q.TYPE_BESTBID].volume.significand == 5, "best bid/ask sent beside the DOM"


def test_a_new_level_behind_the_touch_is_one_dom_update_and_no_bba() -> None:
    client, contract_id = _quiet()
    _place(client, "b1", Side.BUY, 1, "4999.75")
    _subscribe(client, contract_id, 4)
    _place(client, "b2", Side.BUY, 6, "4999.00")
    msgs = client.collect()
    (data,) = _dom_items(msgs)
    assert not data.is_snapshot
    assert _levels(data) == [(_Q.TYPE_BID, 19996, 6)]
    assert not [
        q for m in msgs for d in m.real_time_market_data for q in d.quotes if q.type in (1, 2)
    ]


def test_a_sweep_sends_one_dom_update_that_clears_the_levels_it_took() -> None:
    """Many events per fill (reports, the print, the quote): one DOM update per request."""
    client, contract_id = _quiet()
    _place(client, "a1", Side.SELL, 2, "5000.25")
    _place(client, "a2", Side.SELL, 3, "5000.50")
    _place(client, "a3", Side.SELL, 1, "5000.75")
    _subscribe(client, contract_id, 4)
    _place(client, "b1", Side.BUY, 4, "5000.50")
    (data,) = _dom_items(client.collect())
    assert _levels(data) == [(_Q.TYPE_ASK, 20001, 0), (_Q.TYPE_ASK, 20002, 1)]


def test_dom_shows_ten_levels_a_side_and_the_eleventh_moves_up() -> None:
    client, contract_id = _quiet()
    for i in range(11):
        _place(client, f"a{i}", Side.SELL, 1, str(Decimal("5000.25") + Decimal("0.25") * i))
    _status, snapshot = _subscribe(client, contract_id, 4)
    asks = [lv for lv in _levels(snapshot.real_time_market_data[0]) if lv[0] == _Q.TYPE_ASK]
    assert [lv[1] for lv in asks] == list(range(20001, 20011))
    _place(client, "b1", Side.BUY, 1, "5000.25")  # takes the best level
    (data,) = _dom_items(client.collect())
    assert _levels(data) == [(_Q.TYPE_ASK, 20001, 0), (_Q.TYPE_ASK, 20011, 1)]


def test_level_3_gets_no_dom() -> None:
    client, contract_id = _quiet()
    _place(client, "b1", Side.BUY, 1, "4999.75")
    _subscribe(client, contract_id, 3)
    _place(client, "b2", Side.BUY, 1, "4999.00")
    assert not _dom_items(client.collect())


def test_a_print_carries_its_aggressor_side_as_the_sales_condition() -> None:
    """Quote.sales_condition 4 buy-side / 5 sell-side aggressor, live and in the snapshot."""
    client, contract_id = _quiet()
    _place(client, "a1", Side.SELL, 1, "5000.25")
    _place(client, "b1", Side.BUY, 2, "4999.75")
    _subscribe(client, contract_id, 1)
    _place(client, "lift", Side.BUY, 1, "5000.25")
    _place(client, "hit", Side.SELL, 1, "4999.75")
    trades = [
        q
        for m in client.collect()
        for d in m.real_time_market_data
        for q in d.quotes
        if q.type == 0
    ]
    assert [(q.scaled_price // 25, q.sales_condition) for q in trades] == [
        (20001, _Q.SALES_CONDITION_BUY_SIDE_AGGRESSOR),
        (19999, _Q.SALES_CONDITION_SELL_SIDE_AGGRESSOR),
    ]
    _status, snapshot = _subscribe(client, contract_id, 1)
    (last,) = snapshot.real_time_market_data[0].quotes
    assert last.sales_condition == _Q.SALES_CONDITION_SELL_SIDE_AGGRESSOR


def test_an_iceberg_shows_only_its_display_slice_in_the_dom() -> None:
    """DOM volumes are displayed quantity: an iceberg's hidden part never shows. A slice
    taken whole is replaced by the next (the level looks the same: no update); a slice
    taken in part shows what is left of it."""
    client, contract_id = _quiet()
    iceberg = msgspec.structs.replace(limit_order("ice", Side.SELL, 10, "5000.25"), display_qty=2)
    client.server.venue.exchange.submit(iceberg)
    _status, snapshot = _subscribe(client, contract_id, 4)
    assert _levels(snapshot.real_time_market_data[0]) == [(_Q.TYPE_ASK, 20001, 2)]
    _place(client, "b1", Side.BUY, 2, "5000.25")  # the slice goes, the next one shows
    assert not _dom_items(client.collect())
    _place(client, "b2", Side.BUY, 1, "5000.25")
    (data,) = _dom_items(client.collect())
    assert _levels(data) == [(_Q.TYPE_ASK, 20001, 1)]
