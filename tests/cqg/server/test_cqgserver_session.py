"""Logon, restore, logoff, ping/pong and the first-message rule, on the Sans-I/O core."""

from __future__ import annotations

from cqgserver_support import PASSWORD, USER, Client, make_server, make_venue
from ec_cqg.protocol.pb import ClientMsg
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.config import ServerConfig


def test_logon_success_fills_the_result() -> None:
    venue = make_venue(market=False)
    client = Client(make_server(venue))
    result = client.logon().logon_result
    assert result.result_code == 0
    assert result.IsInitialized()
    assert (result.protocol_version_major, result.protocol_version_minor) == (2, 230)
    base = BaseTime(result.base_time)  # parses the CQG format
    assert 0 <= base.to_ns(result.server_time) - base.epoch_ns < 1_000_000_000
    assert abs(base.to_ns(result.server_time) - venue.clock.now_ns()) < 1_000_000
    assert len(result.session_token) >= 16
    assert not client.connection.close_requested


def test_bad_password_gets_101_with_text_and_the_connection_closes() -> None:
    client = Client(make_server(make_venue(market=False)))
    result = client.logon(password="wrong").logon_result
    assert result.result_code == 101
    assert "invalid user name or password" in result.text_message
    assert PASSWORD not in result.text_message
    assert "wrong" not in result.text_message
    assert not result.session_token
    assert client.connection.close_requested
    assert client.connection.session is None


def test_unknown_user_and_missing_user_are_refused() -> None:
    server = make_server(make_venue(market=False))
    assert Client(server).logon(user="mallory").logon_result.result_code == 101
    missing = Client(server).logon(user="").logon_result
    assert missing.result_code == 101
    assert "user_name" in missing.text_message


def test_other_major_version_is_refused_and_older_minor_accepted() -> None:
    server = make_server(make_venue(market=False))
    refused = Client(server).logon(protocol_version_major=3).logon_result
    assert refused.result_code == 101
    assert "3.230" in refused.text_message
    assert "2.230" in refused.text_message
    older = Client(server).logon(protocol_version_minor=87).logon_result
    assert older.result_code == 0
    assert older.protocol_version_minor == 230  # the server reports its own version


def test_concurrent_session_refused_only_when_the_client_asks() -> None:
    server = make_server(make_venue(market=False))
    first = Client(server)
    assert first.logon().logon_result.result_code == 0
    refused = Client(server).logon(drop_concurrent_session=False).logon_result
    assert refused.result_code == 105
    dropping = Client(server)
    assert dropping.logon(drop_concurrent_session=True).logon_result.result_code == 0
    (logged_off,) = first.collect()
    assert logged_off.logged_off.logoff_reason == 3  # forced
    assert first.connection.close_requested


def test_first_message_must_be_logon() -> None:
    client = Client(make_server(make_venue(market=False)))
    msg = ClientMsg()
    msg.information_requests.add(id=1).accounts_request.SetInParent()
    (answer,) = client.send(msg)
    assert answer.user_messages[0].message_type == 1  # critical error
    assert "logon" in answer.user_messages[0].text
    assert client.connection.close_requested


def test_logoff_answers_logged_off_then_closes_and_ends_the_session() -> None:
    server = make_server(make_venue(market=False))
    client = Client(server)
    client.logon()
    msg = ClientMsg()
    msg.logoff.text_message = "logoff test"
    (answer,) = client.send(msg)
    assert answer.logged_off.logoff_reason == 1
    assert client.connection.close_requested
    assert server.sessions.get(client.token) is None


def test_logoff_by_request_carries_no_text_message() -> None:
    """CQG clients read a LoggedOff text as the reason of an abnormal logoff (issue 12)."""
    client = Client(make_server(make_venue(market=False)))
    client.logon()
    msg = ClientMsg()
    msg.logoff.text_message = "logoff test"
    (answer,) = client.send(msg)
    assert answer.logged_off.logoff_reason == 1
    assert not answer.logged_off.HasField("text_message")


def test_forced_logoff_keeps_its_text_message() -> None:
    server = make_server(make_venue(market=False))
    first = Client(server)
    first.logon()
    Client(server).logon(drop_concurrent_session=True)
    (logged_off,) = first.collect()
    assert logged_off.logged_off.logoff_reason == 3
    assert logged_off.logged_off.text_message == "concurrent logon"


def test_restore_with_the_token_after_a_drop_keeps_contract_ids() -> None:
    server = make_server(make_venue(market=False))
    client = Client(server)
    client.logon()
    contract_id = client.contract_id("ENQ")
    client.connection.connection_lost()
    again = Client(server)
    msg = ClientMsg()
    msg.restore_or_join_session.session_token = client.token
    msg.restore_or_join_session.client_app_id = "WebApiTest"
    (answer,) = again.send(msg)
    result = answer.restore_or_join_session_result
    assert result.result_code == 0
    assert result.IsInitialized()
    assert again.contract_id("ENQ") == contract_id


def test_restore_with_an_unknown_token_gets_101() -> None:
    client = Client(make_server(make_venue(market=False)))
    msg = ClientMsg()
    msg.restore_or_join_session.session_token = "no-such-token"
    (answer,) = client.send(msg)
    assert answer.restore_or_join_session_result.result_code == 101
    assert client.connection.close_requested


def test_restore_denied_when_logon_did_not_allow_it() -> None:
    server = make_server(make_venue(market=False))
    client = Client(server)
    msg = ClientMsg()
    msg.logon.user_name = USER
    msg.logon.password = PASSWORD
    msg.logon.client_version = "x"
    (answer,) = client.send(msg)
    client.connection.connection_lost()
    restore = ClientMsg()
    restore.restore_or_join_session.session_token = answer.logon_result.session_token
    (denied,) = Client(server).send(restore)
    assert denied.restore_or_join_session_result.result_code == 102


def test_client_ping_gets_pong_with_token_and_time_echoed() -> None:
    client = Client(make_server(make_venue(market=False)))
    client.logon()
    msg = ClientMsg()
    msg.ping.token = "t-42"
    msg.ping.ping_utc_time = -1234
    (answer,) = client.send(msg)
    assert answer.pong.token == "t-42"
    assert answer.pong.ping_utc_time == -1234
    assert answer.pong.IsInitialized()


def test_server_sends_protocol_pings_on_venue_time_and_counts_pongs() -> None:
    venue = make_venue(market=False)
    client = Client(make_server(venue, config=ServerConfig(ping_interval_ns=1_000_000_000)))
    client.logon()
    venue.advance(100_000_000)  # arms the timer
    assert client.collect() == []
    venue.advance(1_000_000_000)
    (ping,) = client.collect()
    assert ping.ping.token == "srv-1"
    assert ping.ping.IsInitialized()
    pong = ClientMsg()
    pong.pong.token = ping.ping.token
    pong.pong.ping_utc_time = ping.ping.ping_utc_time
    pong.pong.pong_utc_time = ping.ping.ping_utc_time
    assert client.send(pong) == []
    assert client.connection.pongs == 1
