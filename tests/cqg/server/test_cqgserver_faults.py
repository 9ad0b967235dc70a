"""ec-mock fault plans applied to the server's outbound frames and to its engine."""

from __future__ import annotations

from cqgserver_support import Client, codes, make_server, make_venue, statuses
from ec_cqg.protocol.pb import ClientMsg
from ec_mock.faults import FaultPlan


def _trading_client(plan: FaultPlan) -> tuple[Client, int, int]:
    client = Client(make_server(make_venue(), faults=plan))
    client.logon()
    client.subscribe_trades()
    return client, client.account_id(), client.contract_id("EP")


def test_reject_next_rejects_new_orders_with_the_plan_code() -> None:
    client, account_id, contract_id = _trading_client(FaultPlan(reject_next=1))
    first = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="f1")
    assert codes(first) == [(1, [1]), (2, [2])]
    assert statuses(first)[-1].transaction_statuses[0].reject_code == 1020  # FAULT_INJECTED
    second = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="f2")
    assert codes(second)[-1] == (8, [11])
    assert client.server.line is not None
    assert client.server.line.injector.rejected == 1


def test_stalled_acks_arrive_only_when_released() -> None:
    client, account_id, contract_id = _trading_client(FaultPlan(stall_acks=1, kinds=("ACCEPTED",)))
    first = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="s1")
    assert codes(first) == [(1, [1]), (8, [11])]  # ACK_PLACE held back
    assert client.server.release_stalled() == 1
    assert codes(client.collect()) == [(3, [3])]


def test_dropped_frame_is_never_delivered() -> None:
    # outbound: 0 logon result, 1-2 subscription status and snapshot, 3 accounts,
    # 4 symbol resolution, 5 the order's IN_TRANSIT status
    client = Client(make_server(make_venue(), faults=FaultPlan(drop_indices=(5,))))
    client.logon()
    client.subscribe_trades()
    account_id, contract_id = client.account_id(), client.contract_id("EP")
    placed = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="d1")
    assert codes(placed) == [(3, [3]), (8, [11])]
    line = client.server.line
    assert line is not None
    assert line.injector.dropped == 1
    assert len(line) == 0  # nothing left behind


def test_duplicated_and_reordered_frames() -> None:
    plan = FaultPlan(duplicate_indices=(5,), reorder_indices=(6,))
    client = Client(make_server(make_venue(), faults=plan))
    client.logon()
    client.subscribe_trades()
    account_id, contract_id = client.account_id(), client.contract_id("EP")
    placed = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="r1")
    assert codes(placed) == [(1, [1]), (1, [1]), (8, [11]), (3, [3])]


def test_delayed_frames_follow_the_venue_clock() -> None:
    plan = FaultPlan(delay_indices=(5,), delay_ns=500_000_000)
    venue = make_venue()
    client = Client(make_server(venue, faults=plan))
    client.logon()
    client.subscribe_trades()
    account_id, contract_id = client.account_id(), client.contract_id("EP")
    placed = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="y1")
    assert codes(placed) == [(3, [3]), (8, [11])]
    venue.advance(600_000_000)
    assert codes(client.collect()) == [(1, [1])]


def test_disconnect_after_n_messages_drops_the_line_and_restore_resends_the_snapshot() -> None:
    client, account_id, contract_id = _trading_client(FaultPlan(disconnect_after=6))
    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="x1")
    assert client.connection.drop_requested
    assert client.connection.closed
    assert client.server.disconnects == 1
    again = Client(client.server)
    msg = ClientMsg()
    msg.restore_or_join_session.session_token = client.token
    answers = again.send(msg)
    assert answers[0].restore_or_join_session_result.result_code == 0
    snapshot = [s for m in answers for s in m.order_statuses]
    assert [(s.order.cl_order_id, s.status, s.is_snapshot) for s in snapshot] == [("x1", 8, True)]
    assert answers[-1].trade_snapshot_completions[0].subscription_id == 2


def test_restart_keeping_state_drops_lines_but_sessions_and_orders_survive() -> None:
    venue = make_venue()
    client = Client(make_server(venue, faults=FaultPlan(restart_after=5)))
    client.logon()
    client.subscribe_trades()
    account_id, contract_id = client.account_id(), client.contract_id("EP")
    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="k1")
    venue.step()  # the restart happens on the next clock move
    assert client.server.restarts == 1
    assert client.connection.drop_requested
    again = Client(client.server)
    msg = ClientMsg()
    msg.restore_or_join_session.session_token = client.token
    answers = again.send(msg)
    assert answers[0].restore_or_join_session_result.result_code == 0
    (status,) = [s for m in answers for s in m.order_statuses]
    assert status.order.cl_order_id == "k1"
    assert status.status == 8


def test_restart_losing_state_ends_sessions() -> None:
    venue = make_venue()
    client = Client(make_server(venue, faults=FaultPlan(restart_after=3, restart_keep_state=False)))
    client.logon()
    client.subscribe_trades()
    client.account_id()
    venue.step()
    assert client.server.restarts == 1
    msg = ClientMsg()
    msg.restore_or_join_session.session_token = client.token
    (answer,) = Client(client.server).send(msg)
    assert answer.restore_or_join_session_result.result_code == 101
    fresh = Client(client.server)
    assert fresh.logon().logon_result.result_code == 0
