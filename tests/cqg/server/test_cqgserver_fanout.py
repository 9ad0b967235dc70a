"""Order statuses fan out to the sessions subscribed to the account's orders, and only them."""

from __future__ import annotations

from cqgserver_support import Client, make_server, make_venue, statuses


def test_statuses_go_only_to_sessions_subscribed_to_the_orders_scope() -> None:
    server = make_server(make_venue(market=False))
    trader, watcher, positions_only, silent = (Client(server) for _ in range(4))
    for client in (trader, watcher, positions_only, silent):
        client.logon()
    account_id, contract_id = trader.account_id(), trader.contract_id("EP")
    trader.subscribe_trades(sub_id=2, scopes=(1,))
    watcher.contract_id("EP")
    watcher.subscribe_trades(sub_id=9, scopes=(1,))
    positions_only.subscribe_trades(sub_id=3, scopes=(2,))
    for client in (watcher, positions_only, silent):
        client.collect()
    placed = trader.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="f1")
    seen = statuses(watcher.collect())
    assert [s.order.cl_order_id for s in statuses(placed)] == ["f1"] * len(seen)
    assert {tuple(s.subscription_ids) for s in seen} == {(9,)}  # its own ids, not the trader's
    assert {tuple(s.subscription_ids) for s in statuses(placed)} == {(2,)}
    assert statuses(positions_only.collect()) == []
    assert statuses(silent.collect()) == []


def test_a_session_first_seeing_a_contract_gets_its_metadata_once() -> None:
    server = make_server(make_venue(market=False))
    trader, watcher = Client(server), Client(server)
    trader.logon()
    watcher.logon()
    account_id, contract_id = trader.account_id(), trader.contract_id("EP")
    trader.subscribe_trades(sub_id=2, scopes=(1,))
    watcher.subscribe_trades(sub_id=2, scopes=(1,))  # never resolved EP
    watcher.collect()
    trader.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="m1")
    trader.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="m2")
    seen = statuses(watcher.collect())
    assert [len(s.contract_metadata) for s in seen][:2] == [1, 0]
    assert sum(len(s.contract_metadata) for s in seen) == 1
