"""The correlator: declared table, splitting, first-answer-wins, streams, dead letters, expiry."""

from __future__ import annotations

from typing import Any

import pytest
from ec_cqg.protocol.correlation import (
    CORRELATION_TABLE,
    FEED_ORDER,
    ITEM_ROUTING,
    Answer,
    Correlator,
    DeadLetter,
    DeadReason,
    DuplicateRequestError,
    Event,
    ItemKind,
    RequestKind,
    Update,
)
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, order_2, shared_1, webapi_2
from google.protobuf import json_format
from google.protobuf.message import Message

T = shared_1.TransactionStatus


def _plain(value: Any) -> Any:
    if isinstance(value, Message):
        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def client(**fields: Any) -> ClientMsg:
    """A ClientMsg from plain values (keeps the tables readable and type-checked)."""
    return json_format.ParseDict({k: _plain(v) for k, v in fields.items()}, ClientMsg())


def server(**fields: Any) -> ServerMsg:
    return json_format.ParseDict({k: _plain(v) for k, v in fields.items()}, ServerMsg())


DEADLINE = 1_000


def _kinds(events: list[Event]) -> list[tuple[str, str]]:
    out = []
    for event in events:
        if isinstance(event, Answer):
            out.append(("answer-final" if event.final else "answer", event.kind.value))
        elif isinstance(event, Update):
            out.append(("update", event.kind.value))
        else:
            out.append(("dead:" + event.reason.value, str(event.kind)))
    return out


def _new_order(request_id: int, cl_order_id: str) -> ClientMsg:
    msg = ClientMsg()
    req = msg.order_requests.add(request_id=request_id)
    req.new_order.order.cl_order_id = cl_order_id
    return msg


def _status(cl_order_id: str, *trans_statuses: int) -> order_2.OrderStatus:
    status = order_2.OrderStatus(status=3, order_id="o1", chain_order_id="c1")
    for n, code in enumerate(trans_statuses, 1):
        status.transaction_statuses.add(status=code, trans_id=n, cl_order_id=cl_order_id)
    return status


def test_table_covers_every_server_field_of_our_subset() -> None:
    fields = {f.name for f in webapi_2.ServerMsg.DESCRIPTOR.fields}
    assert {k.value for k in ItemKind} == fields
    assert set(ITEM_ROUTING) == set(ItemKind)
    assert sorted(FEED_ORDER) == sorted(ItemKind)
    assert FEED_ORDER.index(ItemKind.TRADE_SNAPSHOT_COMPLETION) > FEED_ORDER.index(
        ItemKind.ORDER_STATUS
    )


def test_table_names_real_client_fields() -> None:
    client_fields = {f.name for f in webapi_2.ClientMsg.DESCRIPTOR.fields}
    for kind, rule in CORRELATION_TABLE.items():
        assert rule.client_field in client_fields, kind
        assert rule.answers
    answered = {a.item for rule in CORRELATION_TABLE.values() for a in rule.answers}
    answer_only = {k for k, r in ITEM_ROUTING.items() if r.value == "answer_only"}
    assert answer_only <= answered


def _logon_ok() -> ServerMsg:
    msg = ServerMsg()
    msg.logon_result.result_code = 0
    return msg


@pytest.mark.parametrize(
    ("request_msg", "answer", "expected"),
    [
        pytest.param(
            client(logon={"client_version": "x"}),
            _logon_ok(),
            [("answer-final", "logon_result")],
            id="logon",
        ),
        pytest.param(
            client(ping={"token": "t", "ping_utc_time": 5}),
            server(pong={"token": "t", "ping_utc_time": 5, "pong_utc_time": 6}),
            [("answer-final", "pong")],
            id="ping-pong",
        ),
        pytest.param(
            client(ping={"token": "t", "ping_utc_time": 5}),
            server(pong={"token": "other", "ping_utc_time": 5, "pong_utc_time": 6}),
            [("dead:unmatched", "pong")],
            id="pong-other-token",
        ),
        pytest.param(
            client(information_requests=[{"id": 7, "accounts_request": {}}]),
            server(information_reports=[{"id": 7, "status_code": 0}]),
            [("answer-final", "information_reports")],
            id="information",
        ),
        pytest.param(
            client(information_requests=[{"id": 7}]),
            server(information_reports=[{"id": 8, "status_code": 0}]),
            [("dead:unmatched", "information_reports")],
            id="information-other-id",
        ),
        pytest.param(
            client(market_data_subscriptions=[{"contract_id": 3, "level": 1, "request_id": 2}]),
            server(
                market_data_subscription_statuses=[
                    {"contract_id": 3, "status_code": 0, "level": 1}
                ],
                real_time_market_data=[{"contract_id": 3, "is_snapshot": True}],
            ),
            [
                ("answer-final", "market_data_subscription_statuses"),
                ("update", "real_time_market_data"),
            ],
            id="market-data",
        ),
        pytest.param(
            _new_order(1, "A"),
            server(order_request_rejects=[{"request_id": 1, "reject_code": 9}]),
            [("answer-final", "order_request_rejects")],
            id="order-reject",
        ),
        pytest.param(
            client(
                order_requests=[
                    {"request_id": 4, "cancel_all_orders": {"account_order_filters": [{}]}}
                ]
            ),
            server(order_request_acks=[{"request_id": 4}]),
            [("answer-final", "order_request_acks")],
            id="cancel-all-ack",
        ),
    ],
)
def test_request_answer_table(
    request_msg: ClientMsg, answer: ServerMsg, expected: list[tuple[str, str]]
) -> None:
    correlator = Correlator()
    correlator.track(request_msg, deadline_ns=DEADLINE)
    assert _kinds(correlator.feed(answer)) == expected
    finals = [e for e in correlator.feed(ServerMsg()) if isinstance(e, Answer)]
    assert not finals


def test_order_status_answers_and_always_streams() -> None:
    correlator = Correlator()
    (pending,) = correlator.track(_new_order(1, "A"), deadline_ns=DEADLINE)
    assert pending.cl_order_id == "A"
    progress = server(order_statuses=[_status("A", T.IN_TRANSIT)])
    assert _kinds(correlator.feed(progress)) == [
        ("update", "order_statuses"),
        ("answer", "order_statuses"),
    ]
    assert correlator.pending == (pending,)
    done = server(order_statuses=[_status("A", T.ACK_PLACE)])
    assert _kinds(correlator.feed(done)) == [
        ("update", "order_statuses"),
        ("answer-final", "order_statuses"),
    ]
    assert len(correlator.pending) == 0


def test_racing_answers_first_wins_status_then_reject() -> None:
    correlator = Correlator()
    correlator.track(_new_order(1, "A"), deadline_ns=DEADLINE)
    correlator.feed(server(order_statuses=[_status("A", T.REJECTED)]))
    late = correlator.feed(server(order_request_rejects=[{"request_id": 1, "reject_code": 2}]))
    assert _kinds(late) == [("dead:late", "order_request_rejects")]
    assert correlator.counts == {"late": 1, "total": 1}


def test_racing_answers_first_wins_reject_then_status_in_one_message() -> None:
    correlator = Correlator()
    correlator.track(_new_order(1, "A"), deadline_ns=DEADLINE)
    msg = server(
        order_request_rejects=[{"request_id": 1, "reject_code": 2}],
        order_statuses=[_status("A", T.REJECTED)],
    )
    events = correlator.feed(msg)
    assert _kinds(events) == [
        ("answer-final", "order_request_rejects"),
        ("update", "order_statuses"),
    ]


def test_composite_message_is_split_per_item() -> None:
    correlator = Correlator()
    request = client(information_requests=[{"id": 1}, {"id": 2}])
    correlator.track(request, deadline_ns=DEADLINE)
    reports = server(information_reports=[{"id": 2, "status_code": 0}, {"id": 1, "status_code": 0}])
    answers = [e for e in correlator.feed(reports) if isinstance(e, Answer)]
    assert [a.request.key for a in answers] == [2, 1]
    assert all(a.final for a in answers)


def test_chunked_information_report_completes_on_last_chunk() -> None:
    correlator = Correlator()
    correlator.track(client(information_requests=[{"id": 1}]), deadline_ns=DEADLINE)
    first = correlator.feed(
        server(information_reports=[{"id": 1, "status_code": 0, "is_report_complete": False}])
    )
    last = correlator.feed(server(information_reports=[{"id": 1, "status_code": 0}]))
    assert _kinds(first) == [("answer", "information_reports")]
    assert _kinds(last) == [("answer-final", "information_reports")]


def test_information_subscription_updates_stream_until_dropped() -> None:
    correlator = Correlator()
    correlator.track(
        client(information_requests=[{"id": 1, "subscribe": True}]), deadline_ns=DEADLINE
    )
    correlator.feed(server(information_reports=[{"id": 1, "status_code": 1}]))
    update = correlator.feed(server(information_reports=[{"id": 1, "status_code": 3}]))
    dropped = correlator.feed(server(information_reports=[{"id": 1, "status_code": 2}]))
    after = correlator.feed(server(information_reports=[{"id": 1, "status_code": 3}]))
    assert _kinds(update) == [("update", "information_reports")]
    assert _kinds(dropped) == [("update", "information_reports")]
    assert _kinds(after) == [("dead:late", "information_reports")]


def test_trade_subscription_completes_with_every_scope() -> None:
    correlator = Correlator()
    request = client(
        trade_subscriptions=[{"id": 2, "subscribe": True, "subscription_scopes": [1, 2]}]
    )
    correlator.track(request, deadline_ns=DEADLINE)
    status = correlator.feed(server(trade_subscription_statuses=[{"id": 2, "status_code": 0}]))
    snapshot = server(
        trade_snapshot_completions=[{"subscription_id": 2, "subscription_scopes": [1]}],
        order_statuses=[_status("X", T.ACK_PLACE)],
    )
    part = correlator.feed(snapshot)
    rest = correlator.feed(
        server(trade_snapshot_completions=[{"subscription_id": 2, "subscription_scopes": [2]}])
    )
    assert _kinds(status) == [("answer", "trade_subscription_statuses")]
    assert _kinds(part) == [
        ("update", "order_statuses"),
        ("update", "trade_snapshot_completions"),
        ("answer", "trade_snapshot_completions"),
    ]
    assert _kinds(rest) == [
        ("update", "trade_snapshot_completions"),
        ("answer-final", "trade_snapshot_completions"),
    ]
    assert len(correlator.pending) == 0


def test_trade_subscription_failure_is_final() -> None:
    correlator = Correlator()
    correlator.track(
        client(trade_subscriptions=[{"id": 2, "subscribe": True, "subscription_scopes": [1]}]),
        deadline_ns=DEADLINE,
    )
    events = correlator.feed(server(trade_subscription_statuses=[{"id": 2, "status_code": 101}]))
    assert _kinds(events) == [("answer-final", "trade_subscription_statuses")]


def test_go_flat_waits_for_each_account() -> None:
    correlator = Correlator()
    request = client(order_requests=[{"request_id": 9, "go_flat": {"account_ids": [1, 2]}}])
    correlator.track(request, deadline_ns=DEADLINE)
    ack = correlator.feed(server(order_request_acks=[{"request_id": 9}]))
    one = correlator.feed(server(go_flat_statuses=[{"request_id": 9, "account_id": 1}]))
    two = correlator.feed(server(go_flat_statuses=[{"request_id": 9, "account_id": 2}]))
    assert _kinds(ack) == [("answer", "order_request_acks")]
    assert _kinds(one) == [("answer", "go_flat_statuses")]
    assert _kinds(two) == [("answer-final", "go_flat_statuses")]


def test_unsolicited_items_stream_by_kind() -> None:
    correlator = Correlator()
    msg = server(
        ping={"ping_utc_time": 1},
        user_messages=[{"message_type": 2, "source": "s", "text": "t"}],
        position_statuses=[{"account_id": 1, "contract_id": 1, "is_short_open_position": False}],
        market_data_subscription_statuses=[{"contract_id": 1, "status_code": 1, "level": 0}],
        logged_off={"logoff_reason": 3},
    )
    assert _kinds(correlator.feed(msg)) == [
        ("update", "ping"),
        ("update", "user_messages"),
        ("update", "market_data_subscription_statuses"),
        ("update", "position_statuses"),
        ("update", "logged_off"),
    ]
    assert correlator.counts == {}


def test_unknown_fields_and_unmatched_answers_are_dead_letters() -> None:
    correlator = Correlator(dead_letter_capacity=2)
    volume_profile = bytes.fromhex("72020801")  # ServerMsg field 14, outside our subset
    msg = ServerMsg.FromString(volume_profile)
    events = correlator.feed(msg, now_ns=5)
    assert _kinds(events) == [("dead:unknown_field", "None")]
    correlator.feed(server(order_request_acks=[{"request_id": 1}]))
    correlator.feed(_logon_ok())
    assert correlator.counts == {"unknown_field": 1, "unmatched": 2, "total": 3}
    letters = correlator.dead_letters
    assert len(letters) == 2  # bounded
    assert [d.kind for d in letters] == [ItemKind.ORDER_REQUEST_ACK, ItemKind.LOGON_RESULT]
    assert isinstance(events[0], DeadLetter)
    assert events[0].at_ns == 5


def test_expire_returns_requests_past_their_deadline() -> None:
    correlator = Correlator()
    correlator.track(_new_order(1, "A"), deadline_ns=100)
    correlator.track(_new_order(2, "B"), deadline_ns=200)
    assert correlator.next_deadline() == 100
    assert correlator.expire(99) == []
    assert [p.key for p in correlator.expire(150)] == [1]
    late = correlator.feed(server(order_request_rejects=[{"request_id": 1, "reject_code": 1}]))
    assert _kinds(late) == [("dead:late", "order_request_rejects")]
    assert [p.key for p in correlator.fail_all()] == [2]
    assert correlator.next_deadline() is None


def test_duplicate_request_is_refused_whole() -> None:
    correlator = Correlator()
    correlator.track(_new_order(1, "A"), deadline_ns=DEADLINE)
    both = client(order_requests=[{"request_id": 2}, {"request_id": 1}])
    with pytest.raises(DuplicateRequestError) as info:
        correlator.track(both, deadline_ns=DEADLINE)
    assert (info.value.kind, info.value.key) == (RequestKind.ORDER, 1)
    assert [p.key for p in correlator.pending] == [1]


def test_cancelled_request_answers_are_late() -> None:
    correlator = Correlator()
    correlator.track(client(logon={"client_version": "x"}), deadline_ns=DEADLINE)
    assert correlator.cancel(RequestKind.LOGON, 0) is not None
    assert correlator.cancel(RequestKind.LOGON, 0) is None
    assert _kinds(correlator.feed(_logon_ok())) == [("dead:late", "logon_result")]
    assert DeadReason.LATE.value in correlator.counts


def test_plain_updates_take_market_data_frames_and_nothing_else() -> None:
    correlator = Correlator()
    md = server(real_time_market_data=[{"contract_id": 1}, {"contract_id": 2}])
    plain = correlator.plain_updates(md, md.ListFields())
    assert plain is not None
    kind, items = plain
    assert kind is ItemKind.REAL_TIME_MARKET_DATA
    assert [getattr(i, "contract_id") for i in items] == [1, 2]  # noqa: B009
    # what it would not take: two kinds, an answerable kind, a stream kind that may
    # answer (order status), fields outside our subset (feed counts those)
    mixed = server(real_time_market_data=[{"contract_id": 1}], ping={"ping_utc_time": 1})
    answer = server(information_reports=[{"id": 1, "status_code": 0}])
    status = ServerMsg(order_statuses=[_status("a", T.ACK_PLACE)])
    unknown = ServerMsg.FromString(md.SerializeToString() + bytes.fromhex("6a020801"))
    for msg in (mixed, answer, status, unknown):
        assert correlator.plain_updates(msg, msg.ListFields()) is None
    assert correlator.counts == {}


def test_feed_with_listed_fields_routes_as_without() -> None:
    msg = server(
        ping={"ping_utc_time": 1},
        real_time_market_data=[{"contract_id": 1}],
        logged_off={"logoff_reason": 3},
        user_messages=[{"message_type": 2, "source": "s", "text": "t"}],
    )
    fields = list(reversed(msg.ListFields()))  # any order in: FEED_ORDER out
    assert _kinds(Correlator().feed(msg, fields=fields)) == _kinds(Correlator().feed(msg))


def test_history_reports_answer_by_request_id_in_chunks_then_stream() -> None:
    correlator = Correlator()
    bars = {"contract_id": 1, "bar_unit": 8, "from_utc_time": -600_000}
    subscribe = {"request_id": 7, "time_bar_parameters": bars, "request_type": 2}
    correlator.track(client(time_bar_requests=[subscribe]), deadline_ns=9)
    first = correlator.feed(
        server(time_bar_reports=[{"request_id": 7, "status_code": 1, "is_report_complete": False}])
    )
    assert [(type(e).__name__, getattr(e, "final", None)) for e in first] == [("Answer", False)]
    last = correlator.feed(server(time_bar_reports=[{"request_id": 7, "status_code": 1}]))
    assert [(type(e).__name__, getattr(e, "final", None)) for e in last] == [("Answer", True)]
    update = correlator.feed(server(time_bar_reports=[{"request_id": 7, "status_code": 3}]))
    assert _kinds(update) == [("update", "time_bar_reports")]
    # a DROP is answered DROPPED; updates after it are late, not streamed
    correlator.track(
        client(time_bar_requests=[{"request_id": 7, "request_type": 3}]), deadline_ns=9
    )
    dropped = correlator.feed(server(time_bar_reports=[{"request_id": 7, "status_code": 2}]))
    assert [type(e).__name__ for e in dropped] == ["Answer"]
    after = correlator.feed(server(time_bar_reports=[{"request_id": 7, "status_code": 3}]))
    assert _kinds(after) == [("dead:late", "time_bar_reports")]
    # a GET's report after its last one is no update either
    correlator.track(
        client(time_bar_requests=[{"request_id": 9, "time_bar_parameters": bars}]), deadline_ns=9
    )
    correlator.feed(server(time_bar_reports=[{"request_id": 9, "status_code": 0}]))
    stray = correlator.feed(server(time_bar_reports=[{"request_id": 9, "status_code": 3}]))
    assert _kinds(stray) == [("dead:late", "time_bar_reports")]
    tas = {"contract_id": 1, "level": 1, "from_utc_time": -600_000}
    correlator.track(
        client(time_and_sales_requests=[{"request_id": 8, "time_and_sales_parameters": tas}]),
        deadline_ns=9,
    )
    failed = correlator.feed(
        server(
            time_and_sales_reports=[
                {"request_id": 8, "result_code": 105, "is_report_complete": False}
            ]
        )
    )
    assert [getattr(e, "final", None) for e in failed] == [True]  # a failure ends it
    late = correlator.feed(server(time_and_sales_reports=[{"request_id": 8, "result_code": 0}]))
    assert _kinds(late) == [("dead:late", "time_and_sales_reports")]
