"""Every request a client can send gets an answer: a report, a reject or "not supported".

The walk covers every request field of ``ClientMsg`` and ``InformationRequest`` in our
``.proto`` subset; with ``EC_CQG_REFERENCE`` set it also walks CQG's own descriptors, so
requests outside our subset (sent by any CQG client) are covered and their answers are
checked with CQG's classes. The core is Sans-I/O: an answer must be ready when
``receive`` returns (the deadline is the call itself, no time passes).
"""

from __future__ import annotations

from typing import Any

import pytest
from cqg_reference import reference_class
from cqgserver_support import Client, make_server, make_venue
from ec_cqg.protocol.codec import decode_server
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, webapi_2
from ec_cqg.server.unsupported import ANSWERS
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

#: Not requests: ``pong`` answers the server's ping.
NOT_REQUESTS = {"pong"}
#: Answered before logon only (after it they get "already logged on").
HANDSHAKE = {"logon", "restore_or_join_session"}


def fill_required(message: Message) -> Message:
    """Set every required field (recursively) to a harmless value; ids become 1."""
    for field in message.DESCRIPTOR.fields:
        if not field.is_required:
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            fill_required(getattr(message, field.name))
            getattr(message, field.name).SetInParent()
        elif field.type == FieldDescriptor.TYPE_STRING:
            setattr(message, field.name, "1")
        elif field.type == FieldDescriptor.TYPE_BOOL:
            setattr(message, field.name, True)
        elif field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            setattr(message, field.name, 1.0)
        elif field.type == FieldDescriptor.TYPE_BYTES:
            setattr(message, field.name, b"1")
        elif field.type == FieldDescriptor.TYPE_ENUM:
            enum = field.enum_type
            setattr(message, field.name, enum.values[0].number if enum is not None else 0)
        else:
            setattr(message, field.name, 1)
    return message


def request_with(client_cls: type[Message], name: str, info: str | None = None) -> Message:
    """A ``ClientMsg`` (of ``client_cls``) carrying one request in field ``name``."""
    msg = client_cls()
    field = msg.DESCRIPTOR.fields_by_name[name]
    if field.is_repeated:
        item = getattr(msg, name).add()
    else:
        item = getattr(msg, name)
        item.SetInParent()
    fill_required(item)
    if info is not None:
        sub = getattr(item, info)
        sub.SetInParent()
        fill_required(sub)
    return msg


def request_fields(descriptor: Any) -> list[str]:
    return [f.name for f in descriptor.fields if f.name not in NOT_REQUESTS]


def information_fields(descriptor: Any) -> list[str]:
    return [f.name for f in descriptor.fields if f.type == FieldDescriptor.TYPE_MESSAGE]


def answers_to(frame: bytes, *, logged_on: bool = True) -> tuple[Client, list[bytes]]:
    client = Client(make_server(make_venue(market=False)))
    if logged_on:
        client.logon()
        client.contract_id("EP")  # contract 1 exists, as the filled requests name it
    client.connection.receive(frame)
    return client, client.connection.data_to_send()


@pytest.mark.parametrize("name", request_fields(webapi_2.ClientMsg.DESCRIPTOR))
def test_every_request_of_our_subset_is_answered(name: str) -> None:
    logged_on = name not in HANDSHAKE
    frame = request_with(ClientMsg, name).SerializeToString()
    _, frames = answers_to(frame, logged_on=logged_on)
    assert frames, f"ClientMsg.{name}: no answer"
    for raw in frames:
        decode_server(raw, strict=True)


@pytest.mark.parametrize("info", information_fields(webapi_2.InformationRequest.DESCRIPTOR))
def test_every_information_request_of_our_subset_is_answered(info: str) -> None:
    frame = request_with(ClientMsg, "information_requests", info).SerializeToString()
    _, frames = answers_to(frame)
    reports = [r for raw in frames for r in ServerMsg.FromString(raw).information_reports]
    assert [r.id for r in reports] == [1], f"InformationRequest.{info}: {reports}"


def test_a_request_field_nobody_knows_gets_a_warning_naming_it() -> None:
    unknown = bytes([0xF2, 0x0F, 0x00])  # ClientMsg field 254 (a future request), empty
    _, frames = answers_to(unknown)
    (answer,) = [ServerMsg.FromString(f) for f in frames]
    (message,) = answer.user_messages
    assert "field 254" in message.text


# -- CQG's own descriptors (EC_CQG_REFERENCE) ----------------------------------------------

#: Answers whose CQG message has no text field: the failure code says it.
NO_TEXT = {"user_session_state_request"}
REFERENCE_CLIENT_FIELDS = [
    # CQG 2.230 ClientMsg request fields (checked against the descriptor in the test below)
    "password_change",
    "obtain_demo_credentials",
    "user_session_state_request",
    "logon_routine_client",
    "password_change_routine_client",
    "set_collapsing_level_request",
    "volume_profile_requests",
    "non_timed_bar_requests",
    "rule_requests",
    "account_logon_requests",
    "account_password_change_requests",
    "account_logoff_requests",
    "account_logon_routines_client",
    "account_password_change_routines_client",
    "metadata_admin_requests",
    "otc_requests",
    "rfq_requests",
    "option_calculation_requests",
    "rfq_subscription_requests",
]


@pytest.mark.cqg_reference
def test_the_walk_lists_every_request_field_cqg_defines() -> None:
    ours = set(request_fields(webapi_2.ClientMsg.DESCRIPTOR))
    theirs = set(request_fields(reference_class("WebAPI_2.ClientMsg").DESCRIPTOR))
    assert theirs - ours == set(REFERENCE_CLIENT_FIELDS)
    table = {row.name for row in ANSWERS.values()}
    assert table <= theirs
    assert set(REFERENCE_CLIENT_FIELDS) - table == {"logon_routine_client"}  # a warning


@pytest.mark.cqg_reference
@pytest.mark.parametrize("name", [*REFERENCE_CLIENT_FIELDS, "time_bar_requests"])
def test_every_cqg_request_is_answered_in_cqg_shapes(name: str) -> None:
    server_cls = reference_class("WebAPI_2.ServerMsg")
    frame = request_with(reference_class("WebAPI_2.ClientMsg"), name).SerializeToString()
    _, frames = answers_to(frame)
    assert frames, f"ClientMsg.{name}: no answer"
    for raw in frames:
        answer = server_cls.FromString(raw)
        assert answer.IsInitialized(), (name, answer)
    number = reference_class("WebAPI_2.ClientMsg").DESCRIPTOR.fields_by_name[name].number
    row = ANSWERS.get(number)
    if row is not None:
        field = server_cls.DESCRIPTOR.fields_by_number[row.answer_field]
        answer = server_cls.FromString(frames[0])
        values = getattr(answer, field.name)
        item = values[0] if field.is_repeated else values
        assert item.ByteSize(), (name, answer)
        if name not in NO_TEXT:
            assert "not supported" in str(item), (name, item)


@pytest.mark.cqg_reference
def test_every_cqg_information_request_is_answered() -> None:
    client_cls = reference_class("WebAPI_2.ClientMsg")
    server_cls = reference_class("WebAPI_2.ServerMsg")
    names = information_fields(reference_class("WebAPI_2.InformationRequest").DESCRIPTOR)
    assert len(names) > 30
    for info in names:
        frame = request_with(client_cls, "information_requests", info).SerializeToString()
        _, frames = answers_to(frame)
        decoded: list[Any] = [server_cls.FromString(raw) for raw in frames]
        reports = [r for answer in decoded for r in answer.information_reports]
        assert [r.id for r in reports] == [1], info
        assert reports[0].IsInitialized(), info
        if reports[0].status_code >= 100:
            assert reports[0].text_message, info
