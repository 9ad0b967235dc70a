"""``ConnectionCore.receive`` never raises, whatever well-typed ``ClientMsg`` a client sends.

Hypothesis builds arbitrary ``ClientMsg`` values from the protobuf descriptors (every
field of every message, within its wire type's range), with the ids a real client would
use mixed in (the session's account and contract ids, order ids it placed) so requests
reach the engine rather than stopping at the first unknown id. Every range the server
cannot take must be refused at the edge with an answer, never an exception.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cqgserver_support import Client, make_server, make_venue
from ec_cqg.protocol.pb import ClientMsg, order_2
from ec_cqg.protocol.prices import decimal_to_cqg
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_FD = FieldDescriptor
_INT_RANGES = {
    _FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    _FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    _FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _FD.TYPE_UINT32: (0, 2**32 - 1),
    _FD.TYPE_FIXED32: (0, 2**32 - 1),
    _FD.TYPE_UINT64: (0, 2**64 - 1),
    _FD.TYPE_FIXED64: (0, 2**64 - 1),
}
# the ids a client of this session would send, mixed into arbitrary values of these fields
_LIKELY: dict[str, list[Any]] = {}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type in _INT_RANGES:
        low, high = _INT_RANGES[field.type]
        values: st.SearchStrategy[Any] = st.integers(low, high)
        for special in (2**62, -(2**62), 0, 1, -1, 10**9):
            if low <= special <= high:
                values = values | st.just(special)
    elif field.type == _FD.TYPE_BOOL:
        values = st.booleans()
    elif field.type == _FD.TYPE_DOUBLE:
        values = st.floats()
    elif field.type == _FD.TYPE_FLOAT:
        values = st.floats(width=32)
    elif field.type == _FD.TYPE_STRING:
        values = st.text(max_size=12)
    elif field.type == _FD.TYPE_BYTES:
        values = st.binary(max_size=12)
    elif field.type == _FD.TYPE_ENUM:
        assert field.enum_type is not None
        values = st.sampled_from([v.number for v in field.enum_type.values])
    else:  # pragma: no cover - every scalar type is above
        raise AssertionError(field.type)
    likely = _LIKELY.get(field.name)
    if likely:
        values = st.sampled_from(likely) | values
    return values


# messages whose fields a real client sets one at a time (the server refuses two at once):
# generate one of them mostly, so the requests reach the engine
_ONE_OF = {
    "OrderRequest": (
        "new_order",
        "modify_order",
        "cancel_order",
        "cancel_all_orders",
        "liquidate_all",
        "go_flat",
        "activate_order",
        "suspend_order",
    )
}


def _message(descriptor: Descriptor, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    required, optional = _fields(descriptor, depth)
    exclusive = _ONE_OF.get(descriptor.name)
    if exclusive is None:
        return st.fixed_dictionaries(required, optional=optional)
    shared = {k: v for k, v in optional.items() if k not in exclusive}
    alone = [
        st.fixed_dictionaries({**required, name: optional[name]}, optional=shared)
        for name in exclusive
        if name in optional
    ]
    return st.one_of(*alone) | st.fixed_dictionaries(required, optional=optional)


_Strategies = dict[str, st.SearchStrategy[Any]]


def _nested(descriptor: Descriptor, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.deferred(lambda: _message(descriptor, depth))


def _fields(descriptor: Descriptor, depth: int) -> tuple[_Strategies, _Strategies]:
    """Strategies of the required and of the optional fields of ``descriptor``."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.type == _FD.TYPE_GROUP:
            continue
        if field.type == _FD.TYPE_MESSAGE:
            if depth <= 0 and not field.is_required:
                continue
            assert field.message_type is not None
            value: st.SearchStrategy[Any] = _nested(field.message_type, depth - 1)
        else:
            value = _scalar(field)
        if field.is_repeated:
            optional[field.name] = st.lists(value, max_size=2)
        elif field.is_required:
            required[field.name] = value
        else:
            optional[field.name] = value
    return required, optional


def _fill(msg: Message, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = msg.DESCRIPTOR.fields_by_name[name]
        if field.is_repeated:
            container = getattr(msg, name)
            for item in value:
                if field.type == _FD.TYPE_MESSAGE:
                    _fill(container.add(), item)
                else:
                    container.append(item)
        elif field.type == _FD.TYPE_MESSAGE:
            child = getattr(msg, name)
            child.SetInParent()
            _fill(child, value)
        else:
            setattr(msg, name, value)


def _client_msgs() -> st.SearchStrategy[ClientMsg]:
    def build(values: dict[str, Any]) -> ClientMsg:
        msg = ClientMsg()
        _fill(msg, values)
        msg.ClearField("logon")  # the session under test stays logged on
        msg.ClearField("logoff")
        msg.ClearField("restore_or_join_session")
        return msg

    return _message(ClientMsg.DESCRIPTOR, depth=5).map(build)


def _session() -> Client:
    venue = make_venue()
    client = Client(make_server(venue))
    client.logon()
    account_id, contract_id = client.account_id(), client.contract_id("EP")
    client.subscribe_trades(scopes=(1, 2, 3, 4))
    placed = client.new_order(
        account_id=account_id,
        contract_id=contract_id,
        cl_order_id="w1",
        order_type=order_2.Order.ORDER_TYPE_LMT,
        limit=1,
    )
    order_id = [s.order_id for m in placed for s in m.order_statuses][-1]
    _LIKELY.update(
        account_id=[account_id],
        account_ids=[account_id],
        contract_id=[contract_id],
        session_info_id=[contract_id],
        order_id=[order_id],
        chain_order_id=[order_id],
        orig_cl_order_id=["w1"],
        cl_order_id=["w1", "n1", "n2"],
        symbol=["EP"],
    )
    return client


CLIENT = _session()


def test_receive_answers_the_reported_values_without_raising() -> None:
    """good_thru_date of ±2^62 and a qty of {2^62, exponent 1}: refused, and the rest of
    the frame is still answered; the refused cl_order_id stays free."""
    client = _session()
    account_id, contract_id = client.account_id(), client.contract_id("EP")
    msg = ClientMsg()
    cases: list[tuple[str, int]] = [("good_thru_date", 2**62), ("good_thru_date", -(2**62))]
    for request_id, (field, value) in enumerate([*cases, ("qty", 0)], start=70):
        order = msg.order_requests.add(request_id=request_id).new_order.order
        order.account_id, order.contract_id, order.cl_order_id = account_id, contract_id, "x1"
        order.side, order.order_type = order_2.Order.SIDE_BUY, order_2.Order.ORDER_TYPE_MKT
        order.duration = order_2.Order.DURATION_GTD
        if field == "qty":
            order.qty.significand, order.qty.exponent = 2**62, 1
            order.good_thru_date = 0
        else:
            decimal_to_cqg(Decimal(1), order.qty)
            order.good_thru_date = value
    ok = msg.order_requests.add(request_id=80).new_order.order
    ok.account_id, ok.contract_id, ok.cl_order_id = account_id, contract_id, "x2"
    ok.side, ok.order_type = order_2.Order.SIDE_BUY, order_2.Order.ORDER_TYPE_MKT
    ok.duration = order_2.Order.DURATION_DAY
    decimal_to_cqg(Decimal(1), ok.qty)
    answers = client.send(msg)
    rejects = {r.request_id: r.text_message for m in answers for r in m.order_request_rejects}
    assert sorted(rejects) == [70, 71, 72]
    assert "good_thru_date" in rejects[70]
    assert "good_thru_date" in rejects[71]
    assert "qty" in rejects[72]
    placed = [s.order.cl_order_id for m in answers for s in m.order_statuses]
    assert placed[0] == "x2"
    assert not client.server.chains.has_chain("TEST-1", "x1")  # no phantom chain
    again = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="x1")
    assert next(s.order.cl_order_id for m in again for s in m.order_statuses) == "x1"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(msg=_client_msgs())
def test_receive_never_raises_for_a_well_typed_client_msg(msg: ClientMsg) -> None:
    connection = CLIENT.connection
    connection.receive(msg.SerializePartialToString())
    CLIENT.collect()
    assert not connection.closed
