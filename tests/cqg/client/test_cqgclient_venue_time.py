"""The client knows the server's time (``SupportsVenueTime``): the ``server_time`` of the
last logon or restore, moved on by the client's own clock. A served venue started at
another date, or a demo replay, runs behind the wall clock; history is asked up to it."""

from __future__ import annotations

from cqgclient_loop import Loop
from ec_core.vendor import SupportsVenueTime
from ec_cqg.client.core import CqgClientProtocol
from ec_cqg.client.session import CqgSession
from ec_cqg.protocol.pb import ServerMsg

OURS = 1_800_000_000_123_456_789  # our clock at the answer: 2027, not the server's 2024
BASE = "2024-01-10T15:00:00"
BASE_NS = 1_704_898_800 * 10**9


def _answer(core: CqgClientProtocol, msg: ServerMsg, now_ns: int) -> None:
    core.receive(msg.SerializeToString(), now_ns)
    core.calls_done()


def test_logon_and_restore_set_the_servers_time_against_ours() -> None:
    core = CqgClientProtocol(cl_prefix="t-", request_timeout_s=30.0)
    assert core.venue_time_ns(OURS) is None  # not known before the first logon
    call, _frame = core.logon(
        user_name="u", password="p", client_app_id="ec", client_version="t", deadline_ns=OURS
    )
    msg = ServerMsg()
    result = msg.logon_result
    result.result_code = 0
    result.base_time = BASE
    result.protocol_version_major = 2
    result.protocol_version_minor = 230
    result.server_time = -61_500  # ms from base_time: 14:58:58.500
    result.session_token = "tok"
    _answer(core, msg, OURS)
    assert call.done
    assert call.value() is False
    server_at_logon = BASE_NS - 61_500_000_000
    assert core.venue_time_ns(OURS) == server_at_logon
    assert core.venue_time_ns(OURS + 2_000_000_001) == server_at_logon + 2_000_000_001

    later = OURS + 3_600 * 10**9  # a restore an hour on, the server a day further
    call, _frame = core.restore(client_app_id="ec", deadline_ns=later)
    msg = ServerMsg()
    restored = msg.restore_or_join_session_result
    restored.result_code = 0
    restored.base_time = "2024-01-11T15:00:00"
    restored.server_time = 250
    _answer(core, msg, later)
    assert call.done
    assert call.value() is True
    assert core.venue_time_ns(later) == BASE_NS + 86_400 * 10**9 + 250_000_000


def test_a_session_is_a_venue_time_source() -> None:
    assert issubclass(CqgSession, SupportsVenueTime)


def test_the_dialect_servers_logon_reports_the_venues_clock() -> None:
    loop = Loop()
    loop.connect()
    told = loop.core.venue_time_ns(loop.now())
    assert told is not None
    assert 0 <= loop.now() - told < 1_000_000  # the venue's clock, to its millisecond


def test_a_server_ping_sets_the_servers_time_again() -> None:
    """A server whose clock does not run at the wall's pace (a paused replay) is followed
    at each of its pings."""
    loop = Loop()
    loop.connect()
    base = loop.core.base_time
    assert base is not None
    ours = loop.now() + 60 * 10**9  # a minute on for us, ten seconds on for the server
    msg = ServerMsg()
    msg.ping.ping_utc_time = base.to_offset_ms(loop.now()) + 10_000
    msg.ping.token = "srv1"
    loop.core.receive(msg.SerializeToString(), ours)
    assert loop.core.venue_time_ns(ours) == base.to_ns(base.to_offset_ms(loop.now()) + 10_000)
    assert loop.core.data_to_send()  # and the ping is answered
