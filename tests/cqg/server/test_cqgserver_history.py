"""Time bars and time and sales from the mock venue's tape, in CQG's shapes and statuses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from cqgserver_support import Client, make_server, make_venue
from ec_core.data.bars import cut_bars
from ec_core.data.timeframe import Timeframe
from ec_core.model import Trade
from ec_cqg.protocol.pb import ClientMsg, ServerMsg
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.config import ServerConfig
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

MINUTE = 60 * 10**9
DAY = 86_400 * 10**9
CHICAGO = ZoneInfo("America/Chicago")


def _client(venue: MockVenue, config: ServerConfig | None = None) -> tuple[Client, BaseTime]:
    client = Client(make_server(venue, config=config))
    client.logon()
    return client, BaseTime(client.base_time)


def bars_request(
    client: Client, contract_id: int, *, unit: int, start_ms: int, **extra: int
) -> list[ServerMsg]:
    msg = ClientMsg()
    request = msg.time_bar_requests.add(request_id=extra.pop("request_id", 11))
    if "request_type" in extra:
        request.request_type = extra.pop("request_type")
    params = request.time_bar_parameters
    params.contract_id = contract_id
    params.bar_unit = unit
    params.from_utc_time = start_ms
    for name, value in extra.items():
        setattr(params, name, value)
    return client.send(msg)


def tas_request(
    client: Client, contract_id: int, *, level: int, start_ms: int, **extra: int
) -> list[ServerMsg]:
    msg = ClientMsg()
    request = msg.time_and_sales_requests.add(request_id=12)
    params = request.time_and_sales_parameters
    params.contract_id = contract_id
    params.level = level
    params.from_utc_time = start_ms
    for name, value in extra.items():
        setattr(params, name, value)
    return client.send(msg)


def test_minute_bars_are_the_complete_bars_of_the_tape_scaled() -> None:
    venue = make_venue(market=False)
    venue = MockVenue.create(clock=venue.clock, seed=4, accounts=["TEST-1"])
    venue.step(5 * 600 + 3)
    client, base = _client(venue)
    contract_id = client.contract_id("EP")
    answers = bars_request(
        client, contract_id, unit=8, start_ms=base.to_offset_ms(SIM_START_NS - MINUTE)
    )
    (answer,) = answers
    assert answer.IsInitialized()
    (report,) = answer.time_bar_reports
    assert (report.request_id, report.status_code, report.is_report_complete) == (11, 0, True)
    expected = [
        b
        for b in cut_bars(
            venue.tape.events("EP", SIM_START_NS, 2**62), Timeframe.parse("1m"), symbol="EP"
        )
        if b.end_ns <= venue.clock.now_ns()
    ]
    assert len(expected) == 5
    got = [
        (base.to_ns(b.bar_utc_time), b.scaled_open_price, b.scaled_close_price, b.tick_volume)
        for b in report.time_bars
    ]
    # EP: tick 0.25, correct_price_scale 0.01 -> 25 scaled units a tick
    assert got == [(b.start_ns, b.open * 25, b.close * 25, b.count) for b in expected]
    assert [b.volume.significand for b in report.time_bars] == [b.volume for b in expected]
    assert base.to_ns(report.up_to_utc_time) == venue.clock.now_ns() // 1_000_000 * 1_000_000
    assert report.reached_start_of_data  # asked from before the venue's start


def test_reports_come_in_chunks_and_say_when_complete() -> None:
    venue = MockVenue.create(clock=make_venue(market=False).clock, seed=4, accounts=["TEST-1"])
    venue.step(5 * 600)
    client, base = _client(venue, ServerConfig(history_chunk=2))
    contract_id = client.contract_id("EP")
    answers = bars_request(client, contract_id, unit=8, start_ms=base.to_offset_ms(SIM_START_NS))
    reports = [a.time_bar_reports[0] for a in answers]
    assert [len(r.time_bars) for r in reports] == [2, 2, 1]
    assert [r.is_report_complete for r in reports] == [False, False, True]
    assert [r.HasField("up_to_utc_time") for r in reports] == [False, False, True]
    trades = tas_request(client, contract_id, level=1, start_ms=base.to_offset_ms(SIM_START_NS))
    tas = [a.time_and_sales_reports[0] for a in trades]
    assert all(not r.is_report_complete for r in tas[:-1])
    assert tas[-1].is_report_complete
    up_to = base.to_ns(tas[-1].up_to_utc_time)  # a whole ms: what happened at it streams live
    prints = [e for e in venue.tape.events("EP", 0, up_to) if isinstance(e, Trade)]
    quotes = [q for r in tas for q in r.quotes]
    assert [(q.type, q.scaled_price, q.volume.significand) for q in quotes] == [
        (0, t.price * 25, t.size) for t in prints
    ]


def test_time_and_sales_level_3_adds_best_bid_and_ask() -> None:
    venue = MockVenue.create(clock=make_venue(market=False).clock, seed=6, accounts=["TEST-1"])
    venue.step(600)
    client, base = _client(venue)
    contract_id = client.contract_id("CLE")
    answers = tas_request(client, contract_id, level=3, start_ms=base.to_offset_ms(SIM_START_NS))
    assert all(a.IsInitialized() for a in answers)
    quotes = [q for a in answers for q in a.time_and_sales_reports[0].quotes]
    assert {q.type for q in quotes} == {0, 1, 2}
    times = [q.quote_utc_time for q in quotes]
    assert times == sorted(times)
    assert max(times) < answers[-1].time_and_sales_reports[0].up_to_utc_time


def test_every_refusal_is_a_status_with_a_text() -> None:
    venue = MockVenue.create(clock=make_venue(market=False).clock, seed=6, accounts=["TEST-1"])
    venue.step(10)
    client, base = _client(venue)
    ep = client.contract_id("EP")
    now_ms = base.to_offset_ms(venue.clock.now_ns())
    cases = {
        "unknown contract": (bars_request(client, 999, unit=8, start_ms=now_ms), 104),
        "to before from": (
            bars_request(client, ep, unit=8, start_ms=now_ms, to_utc_time=now_ms - 1),
            106,
        ),
        "bad unit": (bars_request(client, ep, unit=42, start_ms=now_ms), 106),
        "two days": (bars_request(client, ep, unit=6, start_ms=now_ms, unit_number=2), 106),
        "too far back": (bars_request(client, ep, unit=8, start_ms=now_ms - 31 * 86_400_000), 105),
        "subscribe weeks": (
            bars_request(client, ep, unit=5, start_ms=now_ms, request_type=2, request_id=31),
            110,
        ),
        "subscribe with an end": (
            bars_request(
                client,
                ep,
                unit=8,
                start_ms=now_ms,
                request_type=2,
                to_utc_time=now_ms,
                request_id=32,
            ),
            106,
        ),
        "drop what is not subscribed": (
            bars_request(client, ep, unit=8, start_ms=now_ms, request_type=3, request_id=33),
            106,
        ),
        "request type 9": (bars_request(client, ep, unit=8, start_ms=now_ms, request_type=9), 110),
    }
    for name, (answers, code) in cases.items():
        (answer,) = answers
        (report,) = answer.time_bar_reports
        assert report.status_code == code, name
        assert report.details.text, name
        assert answer.IsInitialized(), name
    (tas,) = tas_request(client, ep, level=2, start_ms=now_ms)
    assert tas.time_and_sales_reports[0].result_code == 111
    (far,) = tas_request(client, 999, level=1, start_ms=now_ms)
    assert far.time_and_sales_reports[0].result_code == 104
    assert far.time_and_sales_reports[0].details.text


def _day_tape(days: int) -> MockVenue:
    """A quiet venue whose tape has one trade every hour for ``days`` days."""
    venue = MockVenue.create(
        clock=make_venue(market=False).clock, accounts=["TEST-1"], market=False
    )
    for hour in range(days * 24):
        ts = SIM_START_NS + hour * 3_600 * 10**9
        venue.tape.record(Trade(symbol="EP", ts_ns=ts, price=18_000 + hour, size=1))
    venue.advance(days * DAY)
    return venue


def test_daily_bars_follow_the_trading_day_and_weeks_fold_them() -> None:
    venue = _day_tape(21)
    client, base = _client(venue)
    ep = client.contract_id("EP")
    start_ms = base.to_offset_ms(SIM_START_NS)
    (answer,) = bars_request(client, ep, unit=6, start_ms=start_ms)
    days = answer.time_bar_reports[0].time_bars
    first = datetime.fromtimestamp(base.to_ns(days[1].bar_utc_time) / 1e9, CHICAGO)
    assert (first.time(), first.date()) == (time(17), date(2024, 1, 10))  # opens the 11th
    trade_dates = [base.to_date(b.trade_date) for b in days]
    assert trade_dates[:3] == [date(2024, 1, 10), date(2024, 1, 11), date(2024, 1, 12)]
    assert all(d.weekday() < 5 for d in trade_dates)
    assert sum(b.tick_volume for b in days) < 21 * 24  # the break and weekends count forward
    (weekly,) = bars_request(client, ep, unit=5, start_ms=start_ms)
    weeks = weekly.time_bar_reports[0].time_bars
    assert len(weeks) == 3  # 10-12 Jan, 15-19 Jan, 22-26 Jan; the running week is left out
    assert [base.to_date(w.trade_date) for w in weeks][1] == date(2024, 1, 15)
    assert sum(w.tick_volume for w in weeks) == sum(
        b.tick_volume for b in days if base.to_date(b.trade_date) <= date(2024, 1, 26)
    )


def test_up_to_utc_time_is_the_seam_nothing_before_it_is_missing() -> None:
    venue = MockVenue.create(clock=make_venue(market=False).clock, seed=9, accounts=["TEST-1"])
    venue.step(300)
    client, base = _client(venue)
    ep = client.contract_id("EP")
    start_ms = base.to_offset_ms(SIM_START_NS)
    first = tas_request(client, ep, level=3, start_ms=start_ms)
    seam = first[-1].time_and_sales_reports[0].up_to_utc_time
    assert venue.tape.events("EP", base.to_ns(seam), 2**62)  # the last instant is after it
    venue.step(300)
    second = tas_request(client, ep, level=3, start_ms=seam)
    whole = tas_request(client, ep, level=3, start_ms=start_ms)

    def quotes(answers: list[ServerMsg]) -> list[object]:
        return [q for a in answers for r in a.time_and_sales_reports for q in r.quotes]

    assert quotes(first) + quotes(second) == quotes(whole)
    assert datetime.fromtimestamp(base.to_ns(seam) / 1e9, UTC) > datetime(2024, 1, 1, tzinfo=UTC)
