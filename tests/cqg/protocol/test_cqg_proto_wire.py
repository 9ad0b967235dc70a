"""The hex wire sanity frames of FLOWS.md decode and re-encode identically with our classes."""

from __future__ import annotations

import pytest
from cqg_reference import reference_class
from ec_cqg.protocol import codec
from ec_cqg.protocol.pb import ClientMsg, ServerMsg

LOGON = "a2061a0a01751201702a0a5765624170695465737432017848e6015002"
NEW_ORDER = "1a210801121d0a1b08caf58c1010001801220131280138014801780092020408021000"
MARKET_DATA = "4a0e0801120a080018d2f7365a020804"
SNAPSHOT_COMPLETION = "220408021001"


def test_logon_frame() -> None:
    msg = codec.decode_client(bytes.fromhex(LOGON))
    assert msg.logon.user_name == "u"
    assert msg.logon.password == "p"
    assert msg.logon.client_app_id == "WebApiTest"
    assert msg.logon.client_version == "x"
    assert (msg.logon.protocol_version_major, msg.logon.protocol_version_minor) == (2, 230)
    built = ClientMsg()
    built.logon.user_name = "u"
    built.logon.password = "p"
    built.logon.client_app_id = "WebApiTest"
    built.logon.client_version = "x"
    built.logon.protocol_version_minor = 230
    built.logon.protocol_version_major = 2
    assert codec.encode_client(built).hex() == LOGON


def test_new_order_frame_with_zigzag_account_and_decimal_qty() -> None:
    msg = codec.decode_client(bytes.fromhex(NEW_ORDER))
    (request,) = msg.order_requests
    order = request.new_order.order
    assert request.request_id == 1
    assert order.account_id == 16883045
    assert (order.contract_id, order.cl_order_id) == (1, "1")
    assert (order.order_type, order.duration, order.side) == (1, 1, 1)
    assert (order.qty.significand, order.qty.exponent) == (1, 0)
    assert order.HasField("when_utc_time")
    assert order.when_utc_time == 0
    assert order.HasField("is_manual")
    assert order.is_manual is False
    assert codec.encode_client(msg).hex() == NEW_ORDER


def test_market_data_frame() -> None:
    msg = codec.decode_server(bytes.fromhex(MARKET_DATA))
    (data,) = msg.real_time_market_data
    assert data.contract_id == 1
    (quote,) = data.quotes
    assert (quote.type, quote.scaled_price, quote.volume.significand) == (0, 450025, 2)
    assert codec.encode_server(msg).hex() == MARKET_DATA


def test_snapshot_completion_frame() -> None:
    msg = codec.decode_server(bytes.fromhex(SNAPSHOT_COMPLETION))
    (completion,) = msg.trade_snapshot_completions
    assert completion.subscription_id == 2
    assert list(completion.subscription_scopes) == [1]
    assert codec.encode_server(msg).hex() == SNAPSHOT_COMPLETION


@pytest.mark.cqg_reference
@pytest.mark.parametrize(
    ("envelope", "frame"),
    [
        ("WebAPI_2.ClientMsg", LOGON),
        ("WebAPI_2.ClientMsg", NEW_ORDER),
        ("WebAPI_2.ServerMsg", MARKET_DATA),
        ("WebAPI_2.ServerMsg", SNAPSHOT_COMPLETION),
    ],
)
def test_reference_and_ours_agree_on_the_frames(envelope: str, frame: str) -> None:
    data = bytes.fromhex(frame)
    ours = (ClientMsg if envelope.endswith("ClientMsg") else ServerMsg).FromString(data)
    reference = reference_class(envelope).FromString(data)
    assert str(ours) == str(reference)
    assert reference.SerializeToString() == ours.SerializeToString() == data
