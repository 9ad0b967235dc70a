"""Session information (segments of UTC schedules, DST-correct) and order entitlements."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from cqgserver_support import ACCOUNT, Client, make_server
from ec_core.calendar import Holiday, SessionHours, TradingCalendar
from ec_core.clock import ManualClock
from ec_core.model import Instrument
from ec_cqg.protocol.pb import ClientMsg, ServerMsg, trading_session_2
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.sessioninfo import session_information
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

GLOBEX = TradingCalendar(
    timezone="America/Chicago",
    sessions=(SessionHours(open=time(17), close=time(16)),),
    holidays=(Holiday(day=date(2024, 2, 19), name="Presidents Day"),),
)
ES = Instrument(symbol="ESH", tick_size=Decimal("0.25"), multiplier=Decimal(50), calendar=GLOBEX)
FX = Instrument(symbol="FX24", tick_size=Decimal("0.0001"))  # no calendar: around the clock
DAY = 86_400 * 1_000_000_000


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def _client() -> tuple[Client, BaseTime]:
    venue = MockVenue.create(
        clock=ManualClock(SIM_START_NS), instruments=[ES, FX], accounts=[ACCOUNT], market=False
    )
    client = Client(make_server(venue))
    client.logon()
    return client, BaseTime(client.base_time)


def _ask(client: Client, info_id: int, start: datetime, end: datetime) -> ServerMsg:
    base = BaseTime(client.base_time)
    msg = ClientMsg()
    request = msg.information_requests.add(id=41).session_information_request
    request.session_info_id = info_id
    request.from_utc_time = base.to_offset_ms(_ns(start))
    request.to_utc_time = base.to_offset_ms(_ns(end))
    (answer,) = client.send(msg)
    return answer


def _expand(
    report: trading_session_2.SessionInformationReport, base: BaseTime
) -> list[tuple[int, int]]:
    """The UTC session intervals a CQG client reads from the report."""
    spans: list[tuple[int, int]] = []
    for segment in report.session_segments:
        begin, end = base.to_ns(segment.from_utc_time), base.to_ns(segment.to_utc_time)
        holidays = {
            base.to_date(h.holiday_date)
            for s in segment.session_schedules
            for h in s.session_holidays
        }
        day = datetime.fromtimestamp(begin / 1e9, UTC).date() - timedelta(days=1)
        while _ns(datetime(day.year, day.month, day.day, tzinfo=UTC)) < end:
            midnight = _ns(datetime(day.year, day.month, day.day, tzinfo=UTC))
            for schedule in segment.session_schedules:
                for session_day in schedule.session_days:
                    if (day.weekday() + 1) % 7 not in session_day.days_of_week:
                        continue
                    opens = midnight + session_day.open_offset * 1_000_000
                    closes = midnight + session_day.close_offset * 1_000_000
                    trading = datetime.fromtimestamp(closes / 1e9, UTC).date()
                    if begin <= opens < end and trading not in holidays:
                        spans.append((opens, closes))
            day += timedelta(days=1)
    return sorted(spans)


def test_session_information_is_dst_correct_and_round_trips_to_the_calendar() -> None:
    client, base = _client()
    info_id = client.contract_id("ESH")
    start, end = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
    answer = _ask(client, info_id, start, end)
    assert answer.IsInitialized()
    (report,) = answer.information_reports
    assert report.status_code == 0
    info = report.session_information_report
    assert info.session_info_id == info_id
    segments = info.session_segments
    assert len(segments) == 2  # CST, then CDT from 10 March 02:00 local (08:00 UTC)
    assert base.to_ns(segments[0].to_utc_time) == _ns(datetime(2024, 3, 10, 8, tzinfo=UTC))
    winter = {d.open_offset for d in segments[0].session_schedules[0].session_days}
    summer = {d.open_offset for d in segments[1].session_schedules[0].session_days}
    assert winter == {23 * 3_600_000}
    assert summer == {22 * 3_600_000}
    assert [h.holiday_name for h in segments[0].session_schedules[0].session_holidays] == [
        "Presidents Day"
    ]
    expected = [
        (s.open_ns, s.close_ns)
        for s in GLOBEX.spans(_ns(start), _ns(end))
        if s.open_ns >= _ns(start)
    ]
    assert _expand(info, base) == expected


def test_around_the_clock_and_refusals() -> None:
    client, _base = _client()
    fx = client.contract_id("FX24")
    answer = _ask(client, fx, datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 9, tzinfo=UTC))
    days = answer.information_reports[0].session_information_report.session_segments[0]
    assert len(days.session_schedules[0].session_days) == 7
    unknown = _ask(client, 777, datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 9, tzinfo=UTC))
    assert unknown.information_reports[0].status_code == 104
    assert "session_info_id 777" in unknown.information_reports[0].text_message
    backwards = _ask(client, fx, datetime(2024, 1, 9, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC))
    assert backwards.information_reports[0].status_code == 102


def test_order_entitlements_list_what_the_engine_takes() -> None:
    client, _ = _client()
    contract_id = client.contract_id("ESH")
    msg = ClientMsg()
    request = msg.information_requests.add(id=42).order_entitlement_request
    request.contract_id = contract_id
    request.account_id = client.account_id()
    (answer,) = client.send(msg)
    assert answer.IsInitialized()
    (report,) = answer.information_reports
    assert report.status_code == 0
    rows = {
        (e.order_type, e.duration, e.exec_instruction)
        for e in report.order_entitlement_report.order_entitlements
    }
    assert (2, 1, 12) in rows  # LMT DAY, no instruction
    assert (2, 1, 1) in rows  # LMT DAY AON
    assert (1, 2, 12) in rows  # MKT GTC
    wrong = ClientMsg()
    bad = wrong.information_requests.add(id=43).order_entitlement_request
    bad.contract_id = contract_id
    bad.account_id = 424242
    (refused,) = client.send(wrong)
    assert refused.information_reports[0].status_code == 104
    assert "424242" in refused.information_reports[0].text_message


def test_the_client_maps_a_segment_back_to_the_same_sessions() -> None:
    from ec_cqg.client.core.calendar import calendar_from_session_information

    client, base = _client()
    info_id = client.contract_id("ESH")
    start, end = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
    report = _ask(client, info_id, start, end).information_reports[0].session_information_report
    for at, until in (
        (datetime(2024, 2, 5, tzinfo=UTC), datetime(2024, 3, 8, tzinfo=UTC)),  # winter
        (datetime(2024, 3, 12, tzinfo=UTC), datetime(2024, 3, 30, tzinfo=UTC)),  # summer
    ):
        calendar = calendar_from_session_information(report, base=base, at_ns=_ns(at))
        assert calendar is not None
        assert calendar.timezone == "UTC"
        ours = [(s.open_ns, s.close_ns) for s in calendar.spans(_ns(at), _ns(until))]
        theirs = [(s.open_ns, s.close_ns) for s in GLOBEX.spans(_ns(at), _ns(until))]
        assert ours == theirs
    assert (
        calendar_from_session_information(
            report, base=base, at_ns=_ns(datetime(2030, 1, 1, tzinfo=UTC))
        )
        is None
    )


def test_a_range_over_a_year_is_refused_before_any_work() -> None:
    # 50 years were answered: ~3 s of the server's one thread per request, every other
    # session on the server waiting meanwhile (a frame can carry many such requests).
    client, _base = _client()
    es = client.contract_id("ESH")
    start = datetime(2000, 1, 1, tzinfo=UTC)
    long = _ask(client, es, start, datetime(2050, 1, 1, tzinfo=UTC))
    [report] = long.information_reports
    assert report.status_code == 102  # INVALID_PARAMS
    assert "366 days" in report.text_message
    year = _ask(client, es, start, start + timedelta(days=366))
    assert year.information_reports[0].status_code == 0


def test_requests_beyond_a_messages_budget_are_counted_as_refused() -> None:
    # They were answered REQUEST_RATE_LIMIT_VIOLATION but missing from the connection's
    # refused count, which counts every other request the server turns away.
    venue = MockVenue.create(
        clock=ManualClock(SIM_START_NS), instruments=[ES, FX], accounts=[ACCOUNT], market=False
    )
    client = Client(make_server(venue, config=ServerConfig(max_costly_requests_per_message=1)))
    client.logon()
    es = client.contract_id("ESH")
    base = BaseTime(client.base_time)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    msg = ClientMsg()
    for k in range(3):
        request = msg.information_requests.add(id=50 + k).session_information_request
        request.session_info_id = es
        request.from_utc_time = base.to_offset_ms(_ns(start))
        request.to_utc_time = base.to_offset_ms(_ns(start + timedelta(days=1)))
    bars = msg.time_bar_requests.add(request_id=60).time_bar_parameters
    bars.contract_id, bars.bar_unit, bars.unit_number, bars.from_utc_time = es, 7, 1, -60_000
    sales = msg.time_and_sales_requests.add(request_id=61).time_and_sales_parameters
    sales.contract_id, sales.level, sales.from_utc_time = es, 1, -60_000
    before = client.connection.refused
    answers = client.send(msg)
    codes = [r.status_code for m in answers for r in m.information_reports]
    assert codes == [0, 105, 105]  # the first in full, the others to be asked again
    assert [r.request_id for m in answers for r in m.time_bar_reports] == [60]
    assert [r.request_id for m in answers for r in m.time_and_sales_reports] == [61]
    assert client.connection.refused - before == 4


def test_a_range_starting_a_nanosecond_before_a_dst_switch_splits_at_the_switch() -> None:
    """The zone's offset is read in integers: as float seconds the last nanosecond before
    2024-03-10 08:00 UTC (02:00 CST) rounded up to the switch, and the range's first
    nanosecond took the summer schedule (one segment where there are two)."""
    switch = _ns(datetime(2024, 3, 10, 8, tzinfo=UTC))
    base = BaseTime("2024-03-01T00:00:00")
    report = session_information(GLOBEX, 7, base=base, start_ns=switch - 1, end_ns=switch + DAY)
    bounds = [(s.from_utc_time, s.to_utc_time) for s in report.session_segments]
    assert bounds == [
        (base.to_offset_ms(switch - 1), base.to_offset_ms(switch)),
        (base.to_offset_ms(switch), base.to_offset_ms(switch + DAY)),
    ]
