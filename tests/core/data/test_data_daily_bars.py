"""Live daily bars of :class:`TickBuffer` cut at the instrument's trading-day boundary
(CME: 17:00 America/Chicago), not at UTC midnight: across both DST switches, on half
days, and with ticks outside every session counted in the next trading day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ec_core.calendar import Holiday, SessionHours, TradingCalendar
from ec_core.data import BarSource, TickBuffer, Timeframe
from ec_core.data.bars import cut_bars
from ec_core.model import Instrument, Trade
from hypothesis import given, settings
from hypothesis import strategies as st

CHICAGO = ZoneInfo("America/Chicago")
HALF_DAY = date(2024, 11, 29)  # the Friday after Thanksgiving: closes 12:15
GLOBEX = TradingCalendar(
    timezone="America/Chicago",
    sessions=(SessionHours(open=time(17), close=time(16)),),
    holidays=(Holiday(day=HALF_DAY, name="Thanksgiving Friday", close=time(12, 15)),),
)
EP = Instrument(symbol="EP", tick_size=Decimal("0.25"), calendar=GLOBEX)
HOUR = 3_600 * 10**9
DAY = 24 * HOUR
#: Ten days around each switch and the half day, in UTC ns.
SPRING = int(datetime(2024, 3, 5, tzinfo=UTC).timestamp()) * 10**9  # DST starts 2024-03-10
FALL = int(datetime(2024, 10, 29, tzinfo=UTC).timestamp()) * 10**9  # DST ends 2024-11-03
THANKSGIVING = int(datetime(2024, 11, 25, tzinfo=UTC).timestamp()) * 10**9


def _tape(origin: int, rows: list[tuple[int, int, int]]) -> list[Trade]:
    return [Trade(symbol="EP", ts_ns=origin + ts, price=p, size=q) for ts, p, q in sorted(rows)]


def _local(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, CHICAGO)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([SPRING, FALL, THANKSGIVING]),
    st.lists(
        st.tuples(st.integers(0, 10 * DAY), st.integers(1_000, 1_100), st.integers(1, 9)),
        max_size=300,
    ),
    st.sampled_from(["1m", "5m", "15m"]),  # exact for whole-hour closes and 12:15
)
def test_daily_bars_are_the_trading_days_of_the_calendar(
    origin: int, rows: list[tuple[int, int, int]], base: str
) -> None:
    tape = _tape(origin, rows)
    buffer = TickBuffer(EP, timeframes=(base, "1d"), source=BarSource.TRADE, bar_capacity=10_000)
    for trade in tape:
        buffer.on_trade(trade)
    days = cut_bars(tape, Timeframe.parse("1d"), symbol="EP", calendar=GLOBEX)
    closed = list(buffer.bars("1d"))
    assert closed == days[: len(closed)]  # the one implementation of a trading day
    assert len(days) == len(closed) + (1 if tape else 0)
    if tape:
        start, o, h, lo, c, v, n = buffer.ohlc_ticks("1d")
        last = days[-1]
        assert (start, o, h, lo, c, v, n) == (
            last.start_ns,
            last.open,
            last.high,
            last.low,
            last.close,
            last.volume,
            last.count,
        )
    for bar in days:
        opened, closes = _local(bar.start_ns), _local(bar.end_ns)
        assert opened.time() == time(17), bar  # 17:00 in Chicago, whatever the UTC offset
        assert closes.time() == (time(12, 15) if closes.date() == HALF_DAY else time(16)), bar
        assert closes.date() - opened.date() in (timedelta(days=1), timedelta(days=3))


def test_a_tick_outside_every_session_counts_in_the_next_trading_day() -> None:
    friday_close = int(datetime(2024, 3, 8, 16, tzinfo=CHICAGO).timestamp()) * 10**9
    rows = [
        Trade(symbol="EP", ts_ns=friday_close - HOUR, price=10, size=1),  # Friday's session
        Trade(symbol="EP", ts_ns=friday_close + DAY, price=20, size=2),  # Saturday: closed
        Trade(symbol="EP", ts_ns=friday_close + 2 * DAY + 2 * HOUR, price=30, size=3),  # Sun 18:00
    ]
    buffer = TickBuffer(EP, timeframes=("1m", "1d"), source=BarSource.TRADE)
    for trade in rows:
        buffer.on_trade(trade)
    (friday,) = buffer.bars("1d")
    assert (friday.close, friday.volume) == (10, 1)
    assert _local(friday.end_ns) == datetime(2024, 3, 8, 16, tzinfo=CHICAGO)
    start, o, _h, _l, c, v, _n = buffer.ohlc_ticks("1d")
    # Monday's trading day opens Sunday 17:00 (after the switch to CDT): both ticks are in it
    assert _local(start) == datetime(2024, 3, 10, 17, tzinfo=CHICAGO)
    assert (o, c, v) == (20, 30, 5)


def test_without_a_calendar_a_day_is_the_utc_date() -> None:
    plain = Instrument(symbol="X", tick_size=Decimal(1))
    buffer = TickBuffer(plain, timeframes=("1h", "1d"), source=BarSource.TRADE)
    for hours in (1, 23, 25):
        buffer.on_trade(Trade(symbol="X", ts_ns=SPRING + hours * HOUR, price=hours, size=1))
    (day,) = buffer.bars("1d")
    assert (day.start_ns, day.end_ns, day.volume) == (SPRING, SPRING + DAY, 2)
