"""Historical market data over CQG: the client messages and what their answers mean.

Pure functions, like :mod:`.information`: builders return the ``ClientMsg`` of a time bar
or time and sales request; interpreters turn the answers into core
:class:`~ec_core.model.Bar` / :class:`~ec_core.model.Quote` / :class:`~ec_core.model.Trade`
in integer ticks, or raise the typed history error. Times go out as milliseconds relative
to the session's ``base_time`` and come back the same way.

* Time frames: ``Nm`` → ``BAR_UNIT_MIN`` × N, ``Nh`` → ``BAR_UNIT_HOUR`` × N, ``1d`` →
  ``BAR_UNIT_DAY`` (one trading day). Seconds are not a CQG bar unit: cut them from ticks.
* Status codes: 103 → :class:`~ec_core.errors.HistoryNotEntitledError`, 105 →
  :class:`~ec_core.errors.HistoryTooFarBackError`, 107/109 (bars) or 106/107 (time and
  sales) → :class:`~ec_core.errors.HistoryRateLimitError`, anything else ≥ 100 →
  :class:`~ec_core.errors.HistoryError` with the code and the server's text.
* A trade's aggressor side is its quote's ``sales_condition`` (buy/sell side aggressor,
  take or hit), as in real-time market data; any other condition leaves it unknown.
* A page: the answers' bars or quotes, ``up_to_ns`` (the seam) and ``truncated`` (ask
  again from ``up_to_ns``: :class:`~ec_cqg.client.history.CqgHistoryFeed` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from ec_core.calendar import TradingCalendar
from ec_core.data.bars import bar_window
from ec_core.data.timeframe import Timeframe
from ec_core.errors import (
    HistoryError,
    HistoryNotEntitledError,
    HistoryRateLimitError,
    HistoryRequestError,
    HistoryTooFarBackError,
)
from ec_core.model import Bar, MarketEvent, Quote, Trade

from ec_cqg.protocol.correlation import Answer
from ec_cqg.protocol.mapping.codes import AGGRESSOR_FROM_SALES_CONDITION
from ec_cqg.protocol.pb import ClientMsg, historical_2, market_data_2
from ec_cqg.protocol.prices import PriceScale, qty_from_cqg
from ec_cqg.protocol.timestamps import BaseTime

__all__ = [
    "BarPage",
    "TickPage",
    "bar_of",
    "bar_unit_of",
    "bars_of",
    "drop_bars_message",
    "ticks_of",
    "time_and_sales_message",
    "time_bar_message",
]

_BU = historical_2.BarUnit
_TBR = historical_2.TimeBarRequest
_Q = market_data_2.Quote
_FAILURE: Final = 100
_MINUTE_NS: Final = 60 * 1_000_000_000
_HOUR_NS: Final = 60 * _MINUTE_NS
_DAY_NS: Final = 24 * _HOUR_NS


class BarPage(NamedTuple):
    bars: list[Bar]
    up_to_ns: int
    truncated: bool


class TickPage(NamedTuple):
    events: list[MarketEvent]
    up_to_ns: int
    truncated: bool


def bar_unit_of(symbol: str, timeframe: Timeframe) -> tuple[int, int]:
    """``(bar_unit, unit_number)`` of a time frame, or a :class:`HistoryRequestError`."""
    size = timeframe.size
    if size == _DAY_NS:
        return _BU.BAR_UNIT_DAY, 1
    if size % _HOUR_NS == 0 and size < _DAY_NS:
        return _BU.BAR_UNIT_HOUR, size // _HOUR_NS
    if size % _MINUTE_NS == 0 and size < _DAY_NS:
        return _BU.BAR_UNIT_MIN, size // _MINUTE_NS
    raise HistoryRequestError(
        f"{timeframe.name}: CQG time bars are minutes, hours or trading days"
        " (cut seconds from history ticks)",
        symbol=symbol,
        field="timeframe",
        value=timeframe.name,
    )


def time_bar_message(
    request_id: int,
    contract_id: int,
    unit: tuple[int, int],
    *,
    base: BaseTime,
    start_ns: int,
    end_ns: int | None,
    subscribe: bool = False,
) -> ClientMsg:
    """``end_ns=None`` sends no ``to_utc_time``: up to the server's now. ``subscribe``
    asks for bar updates after the historical part (no ``end_ns`` then)."""
    msg = ClientMsg()
    request = msg.time_bar_requests.add(request_id=request_id)
    request.request_type = _TBR.REQUEST_TYPE_SUBSCRIBE if subscribe else _TBR.REQUEST_TYPE_GET
    params = request.time_bar_parameters
    params.contract_id = contract_id
    params.bar_unit, count = unit
    if count != 1:
        params.unit_number = count
    params.from_utc_time = base.to_offset_ms(start_ns)
    if end_ns is not None:
        params.to_utc_time = base.to_offset_ms(end_ns)
    return msg


def drop_bars_message(request_id: int) -> ClientMsg:
    """End the time bar subscription made with ``request_id``."""
    msg = ClientMsg()
    msg.time_bar_requests.add(request_id=request_id, request_type=_TBR.REQUEST_TYPE_DROP)
    return msg


def time_and_sales_message(
    request_id: int, contract_id: int, *, base: BaseTime, start_ns: int, end_ns: int | None
) -> ClientMsg:
    """``end_ns=None`` sends no ``to_utc_time``: up to the server's now."""
    msg = ClientMsg()
    request = msg.time_and_sales_requests.add(request_id=request_id)
    request.request_type = historical_2.TimeAndSalesRequest.REQUEST_TYPE_GET
    params = request.time_and_sales_parameters
    params.contract_id = contract_id
    params.level = historical_2.TimeAndSalesParameters.LEVEL_TRADES_BBA_VOLUMES
    params.from_utc_time = base.to_offset_ms(start_ns)
    if end_ns is not None:
        params.to_utc_time = base.to_offset_ms(end_ns)
    return msg


def _check(symbol: str, start_ns: int, code: int, text: str, *, rate: tuple[int, ...]) -> None:
    if code < _FAILURE:
        return
    if code == 103:
        raise HistoryNotEntitledError(
            f"{symbol}: not entitled to history: {text}", symbol=symbol, code=code
        )
    if code == 105:
        raise HistoryTooFarBackError(
            symbol=symbol, start_ns=start_ns, horizon_ns=None, code=code, text=text
        )
    if code in rate:
        raise HistoryRateLimitError(
            f"{symbol}: too many history requests: {text}", symbol=symbol, code=code
        )
    raise HistoryError(f"{symbol}: history refused: {text}", symbol=symbol, code=code)


def _text(report: historical_2.TimeBarReport | historical_2.TimeAndSalesReport) -> str:
    return report.details.text or report.text_message or "no text"


def bar_of(
    bar: historical_2.TimeBar,
    symbol: str,
    timeframe: Timeframe,
    prices: PriceScale,
    base: BaseTime,
    calendar: TradingCalendar | None,
) -> Bar:
    """One ``TimeBar`` as a core :class:`Bar` in ticks (a day bar spans its trading day)."""
    begin = base.to_ns(bar.bar_utc_time)
    if timeframe.size == _DAY_NS:
        begin, end = bar_window(begin, timeframe, calendar)
    else:
        end = begin + timeframe.size
    return Bar(
        symbol=symbol,
        timeframe=timeframe.name,
        start_ns=begin,
        end_ns=end,
        open=prices.scaled_to_ticks(bar.scaled_open_price),
        high=prices.scaled_to_ticks(bar.scaled_high_price),
        low=prices.scaled_to_ticks(bar.scaled_low_price),
        close=prices.scaled_to_ticks(bar.scaled_close_price),
        volume=qty_from_cqg(bar.volume if bar.HasField("volume") else None),
        count=bar.tick_volume,
    )


def bars_of(
    answers: Sequence[Answer],
    *,
    symbol: str,
    timeframe: Timeframe,
    prices: PriceScale,
    base: BaseTime,
    start_ns: int,
    calendar: TradingCalendar | None,
) -> BarPage:
    """The complete bars of one request's reports, in time order."""
    bars: list[Bar] = []
    up_to: int | None = None
    truncated = False
    for answer in answers:
        report: historical_2.TimeBarReport = answer.item  # type: ignore[assignment]
        _check(symbol, start_ns, report.status_code, _text(report), rate=(107, 108, 109))
        for bar in report.time_bars:
            bars.append(bar_of(bar, symbol, timeframe, prices, base, calendar))
        if report.HasField("up_to_utc_time"):
            up_to = base.to_ns(report.up_to_utc_time)
        truncated = truncated or report.truncated
    bars.sort(key=lambda b: b.start_ns)
    if up_to is None:
        up_to = max((b.end_ns for b in bars), default=start_ns)
    complete = [b for b in bars if b.end_ns <= up_to and b.start_ns >= start_ns]
    return BarPage(complete, up_to, truncated)


def ticks_of(
    answers: Sequence[Answer],
    *,
    symbol: str,
    prices: PriceScale,
    base: BaseTime,
    start_ns: int,
    bid: tuple[int | None, int] = (None, 0),
    ask: tuple[int | None, int] = (None, 0),
) -> TickPage:
    """Trades and best bid/ask quotes of one request's reports, in time order.

    Best bid and ask come as separate CQG quotes; each becomes a core :class:`Quote` of
    both sides as they stand then (one per instant when both change together). ``bid``
    and ``ask`` carry the state in from a previous page.
    """
    events: list[MarketEvent] = []
    up_to: int | None = None
    truncated = False
    (bid_px, bid_sz), (ask_px, ask_sz) = bid, ask
    aggressor_of = AGGRESSOR_FROM_SALES_CONDITION.get
    for answer in answers:
        report: historical_2.TimeAndSalesReport = answer.item  # type: ignore[assignment]
        _check(symbol, start_ns, report.result_code, _text(report), rate=(106, 107))
        ts = start_ns
        for quote in report.quotes:
            if quote.HasField("quote_utc_time"):
                ts = base.to_ns(quote.quote_utc_time)
            ticks = prices.scaled_to_ticks(quote.scaled_price)
            size = qty_from_cqg(quote.volume if quote.HasField("volume") else None)
            if quote.type == _Q.TYPE_TRADE:
                aggressor = aggressor_of(quote.sales_condition)
                events.append(
                    Trade(symbol=symbol, ts_ns=ts, price=ticks, size=size, aggressor=aggressor)
                )
                continue
            if quote.type == _Q.TYPE_BESTBID:
                bid_px, bid_sz = ticks, size
            elif quote.type == _Q.TYPE_BESTASK:
                ask_px, ask_sz = ticks, size
            else:
                continue
            merged = Quote(
                symbol=symbol, ts_ns=ts, bid=bid_px, bid_size=bid_sz, ask=ask_px, ask_size=ask_sz
            )
            if events and type(events[-1]) is Quote and events[-1].ts_ns == ts:
                events[-1] = merged
            else:
                events.append(merged)
        if report.HasField("up_to_utc_time"):
            up_to = base.to_ns(report.up_to_utc_time)
        truncated = truncated or report.truncated
    if up_to is None:
        up_to = events[-1].ts_ns + 1 if events else start_ns
    return TickPage([e for e in events if e.ts_ns < up_to], up_to, truncated)
