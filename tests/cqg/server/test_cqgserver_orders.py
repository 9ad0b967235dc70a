"""Orders routed to the engine, with CQG's order and transaction status sequences."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cqgserver_support import Client, codes, limit_order, make_server, make_venue, statuses
from ec_core.model import Side
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, order_2
from ec_cqg.protocol.prices import decimal_to_cqg
from ec_cqg.protocol.timestamps import BaseTime, ns_to_timestamp

_O = order_2.Order


@pytest.fixture
def client() -> Client:
    client = Client(make_server(make_venue()))
    client.logon()
    client.subscribe_trades(scopes=(1, 2, 3, 4))
    return client


def _ids(client: Client) -> tuple[int, int]:
    return client.account_id(), client.contract_id("EP")


def _far_bid(client: Client) -> int:
    quote = client.server.venue.exchange.best_quote("EP")
    assert quote is not None
    assert quote.bid is not None
    return (quote.bid - 40) * 25  # scaled, well below the market


def _modify(client: Client, status: order_2.OrderStatus, cl: str, **fields: int) -> list[ServerMsg]:
    msg = ClientMsg()
    modify = msg.order_requests.add(request_id=50).modify_order
    modify.order_id = status.order_id
    modify.account_id = status.account_id
    modify.orig_cl_order_id = status.order.cl_order_id
    modify.cl_order_id = cl
    ns_to_timestamp(client.server.now(), modify.when_utc_timestamp)
    for name, value in fields.items():
        if name == "qty":
            decimal_to_cqg(Decimal(value), modify.qty)
        else:
            setattr(modify, name, value)
    return client.send(msg)


def _cancel(client: Client, status: order_2.OrderStatus, cl: str) -> list[ServerMsg]:
    msg = ClientMsg()
    cancel = msg.order_requests.add(request_id=51).cancel_order
    cancel.order_id = status.order_id
    cancel.account_id = status.account_id
    cancel.orig_cl_order_id = status.order.cl_order_id
    cancel.cl_order_id = cl
    ns_to_timestamp(client.server.now(), cancel.when_utc_timestamp)
    return client.send(msg)


def test_market_order_in_transit_working_filled_with_trades(client: Client) -> None:
    account_id, contract_id = _ids(client)
    messages = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="m1")
    assert codes(messages) == [(1, [1]), (3, [3]), (8, [11])]
    for status in statuses(messages):
        assert status.IsInitialized()
        assert status.subscription_ids == [2]
        assert status.chain_order_id == statuses(messages)[0].chain_order_id
    filled = statuses(messages)[-1]
    fill = filled.transaction_statuses[0]
    (trade,) = fill.trades
    assert trade.scaled_price == fill.scaled_fill_price
    assert Decimal(repr(trade.price_correct)) == Decimal(trade.scaled_price) / 100
    assert trade.contract_id == contract_id
    assert trade.qty.significand == 1
    assert filled.fill_qty.significand == 1
    assert filled.remaining_qty.significand == 0
    positions = [p for m in messages for p in m.position_statuses]
    assert positions
    assert positions[-1].open_positions[0].qty.significand == 1
    assert [s for m in messages for s in m.account_summary_statuses]
    assert [s for m in messages for s in m.collateral_statuses]


def test_fills_say_aggressor_or_passive_on_the_transaction_and_its_trades(
    client: Client,
) -> None:
    """TransactionStatus.is_aggressive (64) and Trade.is_aggressive (10): the market order
    took liquidity; a bid joining the best bid, then hit by a house sell, gave it."""
    account_id, contract_id = _ids(client)
    messages = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="m1")
    taker = statuses(messages)[-1].transaction_statuses[0]
    assert taker.HasField("is_aggressive")
    assert taker.is_aggressive
    assert [t.is_aggressive for t in taker.trades] == [True]
    quote = client.server.venue.exchange.best_quote("EP")
    assert quote is not None
    assert quote.bid is not None
    client.new_order(
        account_id=account_id,
        contract_id=contract_id,
        cl_order_id="b1",
        order_type=_O.ORDER_TYPE_LMT,
        limit=quote.bid * 25,  # joins the best bid, last in its queue
    )
    hit = limit_order(
        "hit",
        Side.SELL,
        quote.bid_size + 1,  # the whole level, ours included
        Decimal("0.25") * quote.bid,
        account="HOUSE",
    )
    client.server.venue.exchange.submit(hit)
    fills = [
        t
        for m in client.collect()
        for s in m.order_statuses
        for t in s.transaction_statuses
        if t.status == 11
    ]
    (maker,) = fills
    assert maker.HasField("is_aggressive")
    assert not maker.is_aggressive
    assert [t.is_aggressive for t in maker.trades] == [False]


def test_limit_modify_then_cancel_sequence(client: Client) -> None:
    account_id, contract_id = _ids(client)
    price = _far_bid(client)
    placed = client.new_order(
        account_id=account_id,
        contract_id=contract_id,
        cl_order_id="l1",
        order_type=_O.ORDER_TYPE_LMT,
        limit=price,
    )
    assert codes(placed) == [(1, [1]), (3, [3])]
    working = statuses(placed)[-1]
    modified = _modify(client, working, "l1-m", scaled_limit_price=price - 25, qty=2)
    assert codes(modified) == [(6, [8]), (3, [9])]
    ack = statuses(modified)[-1]
    assert ack.order_id != working.order_id
    assert ack.chain_order_id == working.chain_order_id
    assert ack.order.cl_order_id == "l1-m"
    assert ack.order.scaled_limit_price == price - 25
    trans = ack.transaction_statuses[0]
    assert (trans.scaled_prev_limit_price, trans.scaled_limit_price) == (price, price - 25)
    assert (trans.prev_order_qty.significand, trans.order_qty.significand) == (1, 2)
    assert trans.orig_cl_order_id == "l1"
    cancelled = _cancel(client, ack, "l1-c")
    assert codes(cancelled) == [(5, [5]), (7, [6])]
    assert statuses(cancelled)[-1].HasField("cancel_utc_timestamp")


def test_engine_reject_is_a_rejected_status_with_code_and_text(client: Client) -> None:
    account_id, contract_id = _ids(client)
    messages = client.new_order(
        account_id=account_id, contract_id=contract_id, cl_order_id="r1", qty=5000
    )
    assert codes(messages) == [(1, [1]), (2, [2])]
    rejected = statuses(messages)[-1]
    trans = rejected.transaction_statuses[0]
    assert trans.reject_code == 1005
    assert "QTY_OVER_MAX" in trans.text_message
    assert "5000" in trans.text_message
    assert "QTY_OVER_MAX" in rejected.reject_message
    assert rejected.HasField("reject_utc_timestamp")


def test_refused_modify_keeps_the_order_working(client: Client) -> None:
    account_id, contract_id = _ids(client)
    placed = client.new_order(
        account_id=account_id,
        contract_id=contract_id,
        cl_order_id="k1",
        order_type=_O.ORDER_TYPE_LMT,
        limit=_far_bid(client),
    )
    refused = _modify(client, statuses(placed)[-1], "k1-m", qty=9000)
    assert codes(refused) == [(6, [8]), (3, [10])]
    assert statuses(refused)[-1].transaction_statuses[0].reject_code == 1005


def test_malformed_requests_get_order_request_reject(client: Client) -> None:
    account_id, contract_id = _ids(client)
    msg = ClientMsg()
    no_side = msg.order_requests.add(request_id=61).new_order.order
    no_side.account_id = account_id
    no_side.contract_id = contract_id
    no_side.cl_order_id = "bad1"
    no_side.order_type = _O.ORDER_TYPE_MKT
    no_side.duration = _O.DURATION_DAY
    decimal_to_cqg(Decimal(1), no_side.qty)
    msg.order_requests.add(request_id=62)  # no action at all
    unknown = msg.order_requests.add(request_id=63).cancel_order
    unknown.order_id = "nope"
    unknown.account_id = account_id
    unknown.orig_cl_order_id = "x"
    unknown.cl_order_id = "y"
    fractional = msg.order_requests.add(request_id=64).new_order.order
    fractional.CopyFrom(no_side)
    fractional.side = _O.SIDE_BUY
    fractional.cl_order_id = "bad2"
    decimal_to_cqg(Decimal("1.5"), fractional.qty)
    answers = client.send(msg)
    rejects = [r for m in answers for r in m.order_request_rejects]
    assert [r.request_id for r in rejects] == [61, 62, 63, 64]
    assert all(r.reject_code == 101 and r.details.text for r in rejects)
    assert "side" in rejects[0].details.text
    assert "nope" in rejects[2].details.text
    assert not statuses(answers)
    assert client.connection.refused == 4


def test_duplicate_cl_order_id_is_refused(client: Client) -> None:
    account_id, contract_id = _ids(client)
    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="d1")
    again = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="d1")
    assert "already used" in again[0].order_request_rejects[0].details.text


def test_deprecated_fields_of_older_clients_are_accepted(client: Client) -> None:
    account_id, contract_id = _ids(client)
    msg = ClientMsg()
    order = msg.order_requests.add(request_id=70).new_order.order
    order.account_id = account_id
    order.contract_id = contract_id
    order.cl_order_id = "old1"
    order.order_type = _O.ORDER_TYPE_MKT
    order.duration = _O.DURATION_DAY
    order.side = _O.SIDE_SELL
    order.uint32_qty = 2
    order.when_utc_time = 0
    order.is_manual = False
    answers = client.send(msg)
    assert codes(answers)[-1] == (8, [11])
    assert statuses(answers)[-1].fill_qty.significand == 2


def test_stop_limit_and_gtd_orders_carry_their_fields(client: Client) -> None:
    account_id, contract_id = _ids(client)
    quote = client.server.venue.exchange.best_quote("EP")
    assert quote is not None
    assert quote.ask is not None
    base = BaseTime(client.base_time)
    msg = ClientMsg()
    order = msg.order_requests.add(request_id=71).new_order.order
    order.account_id = account_id
    order.contract_id = contract_id
    order.cl_order_id = "stl1"
    order.order_type = _O.ORDER_TYPE_STL
    order.duration = _O.DURATION_GTD
    order.good_thru_date = base.to_offset_ms(client.server.now()) + 3 * 86_400_000
    order.side = _O.SIDE_BUY
    order.scaled_stop_price = (quote.ask + 40) * 25
    order.scaled_limit_price = (quote.ask + 44) * 25
    decimal_to_cqg(Decimal(1), order.qty)
    answers = client.send(msg)
    assert codes(answers) == [(1, [1]), (3, [3])]
    echoed = statuses(answers)[-1].order
    assert (echoed.scaled_stop_price, echoed.scaled_limit_price) == (
        order.scaled_stop_price,
        order.scaled_limit_price,
    )
    assert base.to_date(echoed.good_thru_date) == base.to_date(order.good_thru_date)


def test_cancel_all_is_acked_then_each_order_cancelled(client: Client) -> None:
    account_id, contract_id = _ids(client)
    for cl in ("a1", "a2"):
        client.new_order(
            account_id=account_id,
            contract_id=contract_id,
            cl_order_id=cl,
            order_type=_O.ORDER_TYPE_LMT,
            limit=_far_bid(client),
        )
    msg = ClientMsg()
    cancel_all = msg.order_requests.add(request_id=80).cancel_all_orders
    cancel_all.account_order_filters.add(account_id=account_id)
    ns_to_timestamp(client.server.now(), cancel_all.when_utc_timestamp)
    answers = client.send(msg)
    assert answers[0].order_request_acks[0].request_id == 80
    assert [(s.order.cl_order_id, s.status) for s in statuses(answers)] == [
        ("a1", 7),
        ("a2", 7),
    ]


def test_liquidate_all_and_go_flat(client: Client) -> None:
    account_id, contract_id = _ids(client)
    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="p1", qty=3)
    msg = ClientMsg()
    liquidate = msg.order_requests.add(request_id=90).liquidate_all
    liquidate.account_position_filters.add(account_id=account_id, contract_id=contract_id)
    ns_to_timestamp(client.server.now(), liquidate.when_utc_timestamp)
    answers = client.send(msg)
    assert answers[0].order_request_acks[0].request_id == 90
    sells = [s for s in statuses(answers) if s.order.side == _O.SIDE_SELL]
    assert sells[-1].status == 8
    assert sells[-1].fill_qty.significand == 3
    assert client.server.venue.exchange.positions("TEST-1")[0].qty == 0

    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="p2")
    flat = ClientMsg()
    go_flat = flat.order_requests.add(request_id=91).go_flat
    go_flat.account_ids.append(account_id)
    ns_to_timestamp(client.server.now(), go_flat.when_utc_timestamp)
    answers = client.send(flat)
    assert answers[0].order_request_acks[0].request_id == 91
    (status,) = [s for m in answers for s in m.go_flat_statuses]
    assert (status.request_id, status.account_id, status.status_code) == (91, account_id, 0)
    assert status.remaining_positions_qty.significand == 0


@pytest.mark.parametrize("taken", ["liq-1:EP", "liq-2:EP", "liquidate_all-1:EP", "cxl-1"])
def test_a_client_id_cannot_take_the_id_of_a_liquidation_order(client: Client, taken: str) -> None:
    """Ids the server or the engine make for its own orders live where no client id can."""
    account_id, contract_id = _ids(client)
    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="p1", qty=3)
    client.new_order(
        account_id=account_id,
        contract_id=contract_id,
        cl_order_id=taken,
        order_type=_O.ORDER_TYPE_LMT,
        limit=_far_bid(client),
    )
    msg = ClientMsg()
    liquidate = msg.order_requests.add(request_id=90).liquidate_all
    liquidate.account_position_filters.add(account_id=account_id, contract_id=contract_id)
    ns_to_timestamp(client.server.now(), liquidate.when_utc_timestamp)
    answers = client.send(msg)
    assert answers[0].order_request_acks[0].request_id == 90
    assert client.server.venue.exchange.positions("TEST-1")[0].qty == 0
    assert [s.order.cl_order_id for s in statuses(answers) if s.status == 7] == [taken]
    assert not [s for s in statuses(answers) if s.status == 2]  # nothing rejected


def test_a_client_id_in_the_venue_namespace_is_rejected_by_the_engine(client: Client) -> None:
    account_id, contract_id = _ids(client)
    answers = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="~x")
    rejected = statuses(answers)[-1]
    assert rejected.status == 2
    assert rejected.transaction_statuses[0].reject_code == 1021  # RESERVED_ORDER_ID


def test_trade_subscription_snapshot_then_completion(client: Client) -> None:
    account_id, contract_id = _ids(client)
    client.new_order(
        account_id=account_id,
        contract_id=contract_id,
        cl_order_id="s1",
        order_type=_O.ORDER_TYPE_LMT,
        limit=_far_bid(client),
    )
    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="s2")
    status_msg, snapshot = client.subscribe_trades(sub_id=5, scopes=(1, 2))
    assert status_msg.trade_subscription_statuses[0].status_code == 0
    orders = {s.order.cl_order_id: s for s in snapshot.order_statuses}
    assert orders["s1"].status == 3
    assert orders["s2"].status == 8
    assert all(s.is_snapshot and list(s.subscription_ids) == [5] for s in orders.values())
    assert all(not s.transaction_statuses for s in orders.values())
    assert snapshot.position_statuses[0].is_snapshot
    completion = snapshot.trade_snapshot_completions[0]
    assert (completion.subscription_id, list(completion.subscription_scopes)) == (5, [1, 2])


def test_orders_without_a_subscription_are_not_streamed() -> None:
    client = Client(make_server(make_venue()))
    client.logon()
    account_id, contract_id = _ids(client)
    messages = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="n1")
    assert not statuses(messages)


def test_bad_trade_subscriptions(client: Client) -> None:
    msg = ClientMsg()
    msg.trade_subscriptions.add(id=8, subscribe=True).subscription_scopes.append(6)
    bad_account = msg.trade_subscriptions.add(id=9, subscribe=True)
    bad_account.subscription_scopes.append(1)
    bad_account.account_ids.append(4242)
    msg.trade_subscriptions.add(id=2, subscribe=False)
    scope, account, unsubscribed = client.send(msg)
    assert scope.trade_subscription_statuses[0].status_code == 101
    assert account.trade_subscription_statuses[0].status_code == 103
    assert unsubscribed.trade_subscription_statuses[0].status_code == 0
    account_id, contract_id = _ids(client)
    placed = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="u1")
    assert not statuses(placed)
