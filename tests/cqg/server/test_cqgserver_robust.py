"""Malformed and truncated client frames never crash the server (hypothesis)."""

from __future__ import annotations

from cqgserver_support import Client, make_server, make_venue
from ec_cqg.protocol.codec import encode_client
from ec_cqg.protocol.pb import ClientMsg
from ec_cqg.server.config import ServerConfig
from hypothesis import given, settings
from hypothesis import strategies as st

_VENUE = make_venue(market=False)


def _valid_frames() -> list[bytes]:
    msg = ClientMsg()
    msg.information_requests.add(id=1).symbol_resolution_request.symbol = "EP"
    sub = msg.trade_subscriptions.add(id=2, subscribe=True)
    sub.subscription_scopes.extend([1, 2, 4])
    order = msg.order_requests.add(request_id=3).new_order.order
    order.account_id = 1001
    order.contract_id = 1
    order.cl_order_id = "h"
    order.order_type = 2
    order.duration = 1
    order.side = 1
    order.uint32_qty = 1
    order.scaled_limit_price = 1
    md = ClientMsg()
    md.market_data_subscriptions.add(contract_id=1, level=4, request_id=9)
    return [encode_client(msg), encode_client(md)]


_FRAMES = _valid_frames()


def _logged_on() -> Client:
    client = Client(make_server(_VENUE))
    client.logon()
    return client


@settings(max_examples=60)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(data: bytes) -> None:
    client = _logged_on()
    client.connection.receive(data)
    frames = client.collect()  # strict decode: whatever went out is well-formed
    assert client.connection.malformed <= 1
    if client.connection.malformed:
        assert frames[-1].user_messages[0].message_type == 2  # warning
    client.server.close()


@settings(max_examples=60)
@given(st.sampled_from(_FRAMES), st.data())
def test_truncated_and_bit_flipped_frames_never_raise(frame: bytes, data: st.DataObject) -> None:
    client = _logged_on()
    cut = data.draw(st.integers(min_value=0, max_value=len(frame)))
    flip = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
    client.connection.receive(frame[:cut])
    mutated = bytearray(frame)
    mutated[flip] ^= data.draw(st.integers(min_value=1, max_value=255))
    client.connection.receive(bytes(mutated))
    client.collect()
    assert not client.connection.closed
    client.server.close()


def test_malformed_frames_are_counted_and_answered_without_closing() -> None:
    client = _logged_on()
    client.connection.receive(b"\xff\xff\xff")
    client.connection.receive_text("hello")
    answers = client.collect()
    assert client.connection.malformed == 2
    assert [m.user_messages[0].subject for m in answers] == ["malformed message ignored"] * 2
    assert not client.connection.close_requested
    assert client.resolve("EP").information_reports[0].status_code == 0


def test_oversized_frame_is_refused_before_parsing() -> None:
    client = Client(make_server(_VENUE, config=ServerConfig(max_frame_bytes=64)))
    client.connection.receive(b"\x00" * 65)
    (answer,) = client.collect()
    assert "exceeds limit 64" in answer.user_messages[0].text
