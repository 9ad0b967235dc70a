"""Time bar subscriptions on the server: the history, then the bar in progress as trades
happen, its completion when the clock passes its end, and DROP."""

from __future__ import annotations

from cqgserver_support import Client, make_server, make_venue
from ec_core.data.bars import cut_bars
from ec_core.data.timeframe import Timeframe
from ec_core.model import Bar
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, historical_2
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.config import ServerConfig
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

MINUTE = 60 * 10**9
_BS = historical_2.BarReportStatusCode


def _venue() -> MockVenue:
    venue = MockVenue.create(clock=make_venue(market=False).clock, seed=8, accounts=["TEST-1"])
    venue.step(3 * 600 + 250)  # three minutes and 25 seconds
    return venue


def _subscribe(client: Client, contract_id: int, start_ms: int, request_id: int) -> list[ServerMsg]:
    msg = ClientMsg()
    request = msg.time_bar_requests.add(request_id=request_id, request_type=2)
    params = request.time_bar_parameters
    params.contract_id = contract_id
    params.bar_unit = historical_2.BAR_UNIT_MIN
    params.from_utc_time = start_ms
    return client.send(msg)


def _bars(messages: list[ServerMsg], base: BaseTime) -> list[tuple[int, int, int, int, int]]:
    return [
        (
            base.to_ns(b.bar_utc_time),
            b.scaled_open_price,
            b.scaled_close_price,
            b.tick_volume,
            r.status_code,
        )
        for m in messages
        for r in m.time_bar_reports
        for b in r.time_bars
    ]


def _tape_bars(venue: MockVenue) -> list[Bar]:
    events = venue.tape.events("EP", SIM_START_NS, 2**62)
    return cut_bars(events, Timeframe.parse("1m"), symbol="EP")


def test_a_subscription_sends_history_then_the_bar_in_progress_then_its_completion() -> None:
    venue = _venue()
    client = Client(make_server(venue))
    client.logon()
    base = BaseTime(client.base_time)
    ep = client.contract_id("EP")
    answers = _subscribe(client, ep, base.to_offset_ms(SIM_START_NS), 41)
    history, first = answers[0].time_bar_reports[0], answers[1].time_bar_reports[0]
    assert (history.request_id, history.status_code, history.is_report_complete) == (41, 1, True)
    assert len(history.time_bars) == 3  # three complete minutes
    assert base.to_ns(history.up_to_utc_time) == venue.clock.now_ns()
    tape = _tape_bars(venue)
    # the bar in progress: the fourth minute's trades so far
    assert first.status_code == _BS.BAR_REPORT_STATUS_CODE_UPDATE
    (progress,) = first.time_bars
    assert base.to_ns(progress.bar_utc_time) == tape[3].start_ns
    assert progress.tick_volume == tape[3].count
    venue.step(400)  # past the fourth minute's end
    updates = [r for m in client.collect() for r in m.time_bar_reports]
    assert all(r.request_id == 41 and r.status_code == 3 for r in updates)
    tape = _tape_bars(venue)
    closing = [r for r in updates if not r.time_bars]
    assert [base.to_ns(r.up_to_utc_time) for r in closing] == [tape[3].end_ns]
    last_of_fourth = [
        r.time_bars[0]
        for r in updates
        if r.time_bars and base.to_ns(r.time_bars[0].bar_utc_time) == tape[3].start_ns
    ][-1]
    assert (last_of_fourth.tick_volume, last_of_fourth.scaled_high_price) == (
        tape[3].count,
        tape[3].high * 25,  # EP: 0.25 a tick, price scale 0.01
    )
    # DROP ends it: answered DROPPED, no update after
    msg = ClientMsg()
    msg.time_bar_requests.add(request_id=41, request_type=3)
    (dropped,) = client.send(msg)
    assert dropped.time_bar_reports[0].status_code == _BS.BAR_REPORT_STATUS_CODE_DROPPED
    venue.step(600)
    assert not [r for m in client.collect() for r in m.time_bar_reports]
    assert not client.server.history.feeds


def test_subscriptions_are_limited_and_end_with_the_connection() -> None:
    venue = _venue()
    server = make_server(venue, config=ServerConfig(max_bar_subscriptions=2))
    client = Client(server)
    client.logon()
    base = BaseTime(client.base_time)
    ep = client.contract_id("EP")
    now_ms = base.to_offset_ms(venue.clock.now_ns())
    assert _subscribe(client, ep, now_ms, 1)[0].time_bar_reports[0].status_code == 1
    assert _subscribe(client, ep, now_ms, 2)[0].time_bar_reports[0].status_code == 1
    (again,) = _subscribe(client, ep, now_ms, 2)
    assert again.time_bar_reports[0].status_code == 106  # the id is taken
    (third,) = _subscribe(client, ep, now_ms, 3)
    report = third.time_bar_reports[0]
    assert report.status_code == _BS.BAR_REPORT_STATUS_CODE_SUBSCRIPTION_LIMIT_VIOLATION
    assert "drop one first" in report.details.text
    assert len(server.history.feeds) == 2
    client.connection.connection_lost()
    assert not server.history.feeds
