"""Time bars and time and sales, answered from the mock venue's tape in CQG's shapes.

* ``time_bar_requests`` → ``time_bar_reports``: bar units minute and hour (``unit_number``
  of them), day (one trading day of the instrument's calendar), and week, month, quarter,
  half year and year folded from those days. Only complete bars are sent, oldest first, in
  chunks of ``history_chunk`` (``is_report_complete`` false on all but the last);
  ``up_to_utc_time`` says up to where the report is complete (after a ``truncated`` report,
  where to ask again).
* ``time_and_sales_requests`` → ``time_and_sales_reports``: the trades (level 1), or the
  trades and best bid/ask with volumes (level 3), of ``[from_utc_time, to_utc_time)``. A
  trade carries its aggressor side as ``sales_condition`` (4 buy side, 5 sell side), as
  in real-time market data.
* A start before the venue's tape is served from the tape's start with
  ``reached_start_of_data``; a start more than ``history_days`` back is
  ``OUTSIDE_ALLOWED_RANGE`` (105) with a text. Unknown contracts are ``NOT_FOUND``, bad
  parameters ``INVALID_PARAMS``, other request types ``NOT_SUPPORTED`` (110), each with a
  text: a request is never left unanswered.
* ``REQUEST_TYPE_SUBSCRIBE``: the same historical part (status ``SUBSCRIBED``), then bar
  updates as trades happen, until ``REQUEST_TYPE_DROP`` (:mod:`.bar_feed`).

Times on the wire are milliseconds relative to the session's ``base_time``; the report's
``up_to_utc_time`` is a whole millisecond and every event before it is in the report, so a
client joining a live stream there neither loses nor doubles a tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, TypeVar, final

from ec_core.calendar import TradingCalendar, local_date, utc_midnight_ns
from ec_core.data.bars import bar_window, cut_bars
from ec_core.data.timeframe import BarKind, Timeframe
from ec_core.model import Bar, Instrument, MarketEvent, Quote, Trade

from ec_cqg.protocol.mapping.codes import AGGRESSOR_TO_SALES_CONDITION
from ec_cqg.protocol.pb import ServerMsg, historical_2, market_data_2
from ec_cqg.protocol.prices import qty_to_cqg
from ec_cqg.server.bar_feed import BarFeed, BarFeeds, add_time_bar
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.contracts import price_scale_of
from ec_cqg.server.sessions import Session

if TYPE_CHECKING:
    from ec_mock.vendor.venue import MockVenue

__all__ = ["HistoryDesk", "fold_bars"]

_BU = historical_2.BarUnit
_BS = historical_2.BarReportStatusCode
_TBR = historical_2.TimeBarRequest
_TAS = historical_2.TimeAndSalesReport
_TASR = historical_2.TimeAndSalesRequest
_LEVEL = historical_2.TimeAndSalesParameters
_Q = market_data_2.Quote
_MS = 1_000_000
_DAY_NS = 86_400 * 1_000_000_000
_DAY = Timeframe.parse("1d")
T = TypeVar("T")

#: Bar units folded from trading-day bars: the key of the period a trading day is in.
_PERIODS: dict[int, Callable[[date], tuple[int, ...]]] = {
    _BU.BAR_UNIT_WEEK: lambda d: tuple(d.isocalendar()[:2]),
    _BU.BAR_UNIT_MONTH: lambda d: (d.year, d.month),
    _BU.BAR_UNIT_QUARTER: lambda d: (d.year, (d.month - 1) // 3),
    _BU.BAR_UNIT_SEMI_ANNUAL: lambda d: (d.year, (d.month - 1) // 6),
    _BU.BAR_UNIT_YEAR: lambda d: (d.year,),
}
_LONG_NAMES: dict[int, str] = {
    _BU.BAR_UNIT_DAY: "1d",
    _BU.BAR_UNIT_WEEK: "1w",
    _BU.BAR_UNIT_MONTH: "1mo",
    _BU.BAR_UNIT_QUARTER: "1q",
    _BU.BAR_UNIT_SEMI_ANNUAL: "6mo",
    _BU.BAR_UNIT_YEAR: "1y",
}

Dated = tuple[date | None, Bar]


def fold_bars(days: Sequence[tuple[date, Bar]], unit: int, name: str) -> list[tuple[date, Bar]]:
    """Trading-day bars folded into weeks, months, quarters, half years or years."""
    key_of = _PERIODS[unit]
    out: list[tuple[date, Bar]] = []
    key: tuple[int, ...] | None = None
    for day, bar in days:
        k = key_of(day)
        if out and k == key:
            first_day, acc = out[-1]
            out[-1] = (
                first_day,
                Bar(
                    symbol=acc.symbol,
                    timeframe=name,
                    start_ns=acc.start_ns,
                    end_ns=bar.end_ns,
                    open=acc.open,
                    high=max(acc.high, bar.high),
                    low=min(acc.low, bar.low),
                    close=bar.close,
                    volume=acc.volume + bar.volume,
                    count=acc.count + bar.count,
                ),
            )
        else:
            out.append(
                (
                    day,
                    Bar(
                        symbol=bar.symbol,
                        timeframe=name,
                        start_ns=bar.start_ns,
                        end_ns=bar.end_ns,
                        open=bar.open,
                        high=bar.high,
                        low=bar.low,
                        close=bar.close,
                        volume=bar.volume,
                        count=bar.count,
                    ),
                )
            )
        key = k
    return out


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    if not items:
        yield ()
        return
    for start in range(0, len(items), size):
        yield items[start : start + size]


@final
class HistoryDesk:
    """Answers the history requests of a session from the venue's tape."""

    def __init__(self, venue: MockVenue, config: ServerConfig) -> None:
        self._venue = venue
        self._config = config
        self.feeds = BarFeeds()

    # -- shared checks -----------------------------------------------------------------

    def _window(
        self, session: Session, from_ms: int, to_ms: int | None, now_ns: int, symbol: str
    ) -> tuple[int, int, bool] | str:
        """``(start_ns, end_ns, reached_start)``, ``end`` on a whole ms; or the text of a 105."""
        base = session.base
        start = base.to_ns(from_ms)
        end = now_ns + 1 if to_ms is None else min(base.to_ns(to_ms), now_ns + 1)
        days = self._config.history_days
        if start < now_ns - days * _DAY_NS:
            return f"from_utc_time is more than {days} days back; this server keeps no more"
        horizon = self._venue.tape.horizon_ns(symbol)
        reached = start < horizon
        start = max(start, horizon)
        end = end // _MS * _MS  # a whole millisecond: the seam a client joins at
        return start, max(end, start), reached

    def _instrument(self, session: Session, contract_id: int) -> Instrument | None:
        symbol = session.contracts.symbol_of(contract_id)
        return None if symbol is None else self._venue.exchange.instrument(symbol)

    # -- time bars -----------------------------------------------------------------------

    def time_bars(
        self, session: Session, request: historical_2.TimeBarRequest, *, now_ns: int
    ) -> list[ServerMsg]:
        """The reports answering one ``TimeBarRequest`` (at least one); a subscription's
        updates follow from :attr:`feeds` (see :mod:`.bar_feed`)."""
        rid = request.request_id
        kind = request.request_type if request.HasField("request_type") else _TBR.REQUEST_TYPE_GET
        if kind == _TBR.REQUEST_TYPE_DROP:
            if self.feeds.drop(session, rid):
                return _bar_status(rid, _BS.BAR_REPORT_STATUS_CODE_DROPPED, "")
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_INVALID_PARAMS,
                f"no time bar subscription with request_id {rid} to drop",
            )
        if kind not in (_TBR.REQUEST_TYPE_GET, _TBR.REQUEST_TYPE_SUBSCRIBE):
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_NOT_SUPPORTED,
                f"time bar request_type {kind} is not a request type (1 GET, 2 SUBSCRIBE, 3 DROP)",
            )
        subscribe = kind == _TBR.REQUEST_TYPE_SUBSCRIBE
        if subscribe and self.feeds.has(session, rid):
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_INVALID_PARAMS,
                f"request_id {rid} is already a time bar subscription: drop it or use another",
            )
        if subscribe and self.feeds.count(session) >= self._config.max_bar_subscriptions:
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_SUBSCRIPTION_LIMIT_VIOLATION,
                f"{self._config.max_bar_subscriptions} time bar subscriptions already:"
                " drop one first",
            )
        if not request.HasField("time_bar_parameters"):
            return _bar_status(
                rid, _BS.BAR_REPORT_STATUS_CODE_INVALID_PARAMS, "time_bar_parameters is required"
            )
        params = request.time_bar_parameters
        instrument = self._instrument(session, params.contract_id)
        if instrument is None:
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_NOT_FOUND,
                f"unknown contract_id {params.contract_id}: resolve the symbol first",
            )
        unit = params.bar_unit
        count = params.unit_number if params.HasField("unit_number") else 1
        frame = _frame(unit, count)
        if frame is None:
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_INVALID_PARAMS,
                f"bar_unit {unit} with unit_number {count} is not served"
                " (minute and hour: unit_number >= 1; day to year: 1)",
            )
        if subscribe and unit in _PERIODS:
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_NOT_SUPPORTED,
                f"bar_unit {unit} cannot be subscribed here: subscribe minute, hour or day"
                " bars, and GET longer ones",
            )
        to_ms = params.to_utc_time if params.HasField("to_utc_time") else None
        if subscribe and to_ms is not None:
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_INVALID_PARAMS,
                "a subscription runs up to now and on: send no to_utc_time",
            )
        if to_ms is not None and to_ms < params.from_utc_time:
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_INVALID_PARAMS,
                "to_utc_time is before from_utc_time",
            )
        window = self._window(session, params.from_utc_time, to_ms, now_ns, instrument.symbol)
        if isinstance(window, str):
            return _bar_status(rid, _BS.BAR_REPORT_STATUS_CODE_OUTSIDE_ALLOWED_RANGE, window)
        start, end, reached = window
        bars = self._bars(instrument, unit, frame, start, end)
        limit = self._config.history_max_items
        truncated = len(bars) > limit
        if truncated and subscribe:
            return _bar_status(
                rid,
                _BS.BAR_REPORT_STATUS_CODE_OUTSIDE_ALLOWED_RANGE,
                f"more than {limit} bars since from_utc_time: GET the older bars and"
                " subscribe from a later from_utc_time",
            )
        if truncated:  # the oldest ones: the client asks again from up_to_utc_time
            bars = bars[:limit]
            end = bars[-1][1].end_ns
        status = (
            _BS.BAR_REPORT_STATUS_CODE_SUBSCRIBED
            if subscribe
            else _BS.BAR_REPORT_STATUS_CODE_SUCCESS
        )
        reports = self._bar_reports(session, instrument, rid, status, bars)
        last = reports[-1].time_bar_reports[0]
        last.up_to_utc_time = session.base.to_offset_ms(end)
        if reached:
            last.reached_start_of_data = True
        if truncated:
            last.truncated = True
        for msg in reports[:-1]:
            msg.time_bar_reports[0].is_report_complete = False
        if subscribe:
            first = self._open_feed(session, instrument, rid, frame, end, now_ns)
            if first is not None:
                reports.append(first)
        return reports

    def _bar_reports(
        self, session: Session, instrument: Instrument, rid: int, status: int, bars: list[Dated]
    ) -> list[ServerMsg]:
        scaled = price_scale_of(instrument).ticks_to_scaled
        base = session.base
        reports: list[ServerMsg] = []
        for chunk in _chunks(bars, self._config.history_chunk):
            msg = ServerMsg()
            report = msg.time_bar_reports.add(request_id=rid, status_code=status)
            for day, bar in chunk:
                day_ns = None if day is None else utc_midnight_ns(day)
                add_time_bar(report, bar, base, scaled, trade_date_ns=day_ns)
            reports.append(msg)
        return reports

    def _open_feed(
        self,
        session: Session,
        instrument: Instrument,
        rid: int,
        frame: Timeframe,
        end: int,
        now_ns: int,
    ) -> ServerMsg | None:
        """Start the subscription's bar in progress from the tape: the trades of the bar
        ``end`` is in, up to now (the history part holds every bar ending by ``end``)."""
        calendar = instrument.trading_calendar if frame.size == _DAY_NS else None
        daily = frame.size == _DAY_NS
        feed = BarFeed(
            request_id=rid,
            symbol=instrument.symbol,
            frame=frame,
            calendar=calendar,
            scaled=price_scale_of(instrument).ticks_to_scaled,
            trade_date=(lambda ts: utc_midnight_ns(_day_of(calendar, ts))) if daily else None,
        )
        since = bar_window(end, frame, calendar)[0]
        feed.seed(self._venue.tape.events(instrument.symbol, since, now_ns + 1))
        return self.feeds.open(session, feed)

    def _bars(
        self, instrument: Instrument, unit: int, frame: Timeframe, start: int, end: int
    ) -> list[Dated]:
        """Complete bars inside ``[start, end)``."""
        symbol = instrument.symbol
        events = self._venue.tape.events(symbol, start, end)
        if unit in (_BU.BAR_UNIT_MIN, _BU.BAR_UNIT_HOUR):
            return [
                (None, b)
                for b in cut_bars(events, frame, symbol=symbol)
                if b.start_ns >= start and b.end_ns <= end
            ]
        calendar = instrument.trading_calendar
        days = [
            (_trading_day(instrument, b), b)
            for b in cut_bars(events, _DAY, symbol=symbol, calendar=calendar)
            if b.end_ns <= end
        ]
        if unit == _BU.BAR_UNIT_DAY:
            return list(days)
        folded = fold_bars(days, unit, frame.name)
        if folded:  # a period still running at ``end`` is not complete
            key_of = _PERIODS[unit]
            running = calendar.trading_day(end) if calendar else local_date(end, None)
            if key_of(folded[-1][0]) == key_of(running):
                folded.pop()
        return list(folded)

    # -- time and sales ----------------------------------------------------------------

    def time_and_sales(
        self, session: Session, request: historical_2.TimeAndSalesRequest, *, now_ns: int
    ) -> list[ServerMsg]:
        """The reports answering one ``TimeAndSalesRequest`` (at least one)."""
        rid = request.request_id
        kind = request.request_type if request.HasField("request_type") else _TASR.REQUEST_TYPE_GET
        if kind != _TASR.REQUEST_TYPE_GET:
            return _tas_status(
                rid,
                _TAS.RESULT_CODE_NOT_SUPPORTED,
                f"time and sales request_type {kind} is not supported: send GET (1)",
            )
        if not request.HasField("time_and_sales_parameters"):
            return _tas_status(
                rid, _TAS.RESULT_CODE_INVALID_PARAMS, "time_and_sales_parameters is required"
            )
        params = request.time_and_sales_parameters
        instrument = self._instrument(session, params.contract_id)
        if instrument is None:
            return _tas_status(
                rid,
                _TAS.RESULT_CODE_NOT_FOUND,
                f"unknown contract_id {params.contract_id}: resolve the symbol first",
            )
        if params.level not in (_LEVEL.LEVEL_TRADES, _LEVEL.LEVEL_TRADES_BBA_VOLUMES):
            return _tas_status(
                rid,
                _TAS.RESULT_CODE_INVALID_PARAMS,
                f"level {params.level} is not a time and sales level"
                " (1 trades, 3 trades and best bid/ask with volumes)",
            )
        to_ms = params.to_utc_time if params.HasField("to_utc_time") else None
        if to_ms is not None and to_ms < params.from_utc_time:
            return _tas_status(
                rid, _TAS.RESULT_CODE_INVALID_PARAMS, "to_utc_time is before from_utc_time"
            )
        window = self._window(session, params.from_utc_time, to_ms, now_ns, instrument.symbol)
        if isinstance(window, str):
            return _tas_status(rid, _TAS.RESULT_CODE_OUTSIDE_ALLOWED_RANGE, window)
        start, end, _ = window
        with_bba = params.level == _LEVEL.LEVEL_TRADES_BBA_VOLUMES
        events = self._venue.tape.events(instrument.symbol, start, end)
        rows = [row for event in events for row in _wire_quotes(event, with_bba)]
        limit = self._config.history_max_items
        truncated = len(rows) > limit
        if truncated:  # the oldest ones, cut on a whole ms: the client asks again from there
            cut = rows[limit][3] // _MS * _MS
            kept = [r for r in rows[:limit] if r[3] < cut]
            rows, end = (kept, cut) if kept else (rows[:limit], cut + _MS)
        scaled = price_scale_of(instrument).ticks_to_scaled
        base = session.base
        reports: list[ServerMsg] = []
        for chunk in _chunks(rows, self._config.history_chunk):
            msg = ServerMsg()
            report = msg.time_and_sales_reports.add(
                request_id=rid, result_code=_TAS.RESULT_CODE_SUCCESS
            )
            for quote_type, ticks, volume, ts, condition in chunk:
                quote = report.quotes.add(
                    type=quote_type,
                    scaled_price=scaled(ticks),
                    quote_utc_time=base.to_offset_ms(ts),
                )
                if condition:
                    quote.sales_condition = condition
                qty_to_cqg(volume, quote.volume)
            reports.append(msg)
        last = reports[-1].time_and_sales_reports[0]
        last.up_to_utc_time = base.to_offset_ms(end)
        if truncated:
            last.truncated = True
        for msg in reports[:-1]:
            msg.time_and_sales_reports[0].is_report_complete = False
        return reports


def _wire_quotes(event: MarketEvent, with_bba: bool) -> Iterator[tuple[int, int, int, int, int]]:
    """``(quote type, ticks, volume, ts_ns, sales condition or 0)`` rows of one tape
    event; a trade's condition is its aggressor side."""
    if type(event) is Trade:
        side = event.aggressor
        condition = 0 if side is None else AGGRESSOR_TO_SALES_CONDITION[side]
        yield _Q.TYPE_TRADE, event.price, event.size, event.ts_ns, condition
    elif with_bba and type(event) is Quote:
        if event.bid is not None:
            yield _Q.TYPE_BESTBID, event.bid, event.bid_size, event.ts_ns, 0
        if event.ask is not None:
            yield _Q.TYPE_BESTASK, event.ask, event.ask_size, event.ts_ns, 0


def _frame(unit: int, count: int) -> Timeframe | None:
    if count < 1:
        return None
    if unit == _BU.BAR_UNIT_MIN:
        return Timeframe.parse(f"{count}m")
    if unit == _BU.BAR_UNIT_HOUR:
        return Timeframe.parse(f"{count}h")
    name = _LONG_NAMES.get(unit)
    if name is None or count != 1:
        return None
    return Timeframe(name=name, kind=BarKind.TIME, size=_DAY_NS)


def _trading_day(instrument: Instrument, bar: Bar) -> date:
    calendar = instrument.trading_calendar
    if calendar is None:
        return local_date(bar.start_ns, None)
    return calendar.trading_day(bar.end_ns - 1)


def _day_of(calendar: TradingCalendar | None, ts_ns: int) -> date:
    return local_date(ts_ns, None) if calendar is None else calendar.trading_day(ts_ns)


def _bar_status(request_id: int, code: int, text: str) -> list[ServerMsg]:
    msg = ServerMsg()
    report = msg.time_bar_reports.add(request_id=request_id, status_code=code)
    report.details.text = text
    report.text_message = text
    return [msg]


def _tas_status(request_id: int, code: int, text: str) -> list[ServerMsg]:
    msg = ServerMsg()
    report = msg.time_and_sales_reports.add(request_id=request_id, result_code=code)
    report.details.text = text
    report.text_message = text
    return [msg]
