"""Time bar subscriptions: bar updates after the historical part of a ``SUBSCRIBE``.

A ``time_bar_request`` with ``REQUEST_TYPE_SUBSCRIBE`` gets the historical part as a GET
does (complete bars up to ``up_to_utc_time``, status ``SUBSCRIBED``), then reports of
status ``UPDATE`` (3) with the same ``request_id`` while the subscription lasts:

* every trade of the contract sends the bar in progress as it stands (open, high, low,
  close, volume, tick volume so far). A bar with a later ``bar_utc_time`` than the one
  before means the one before is complete;
* once the venue clock passes the end of the bar in progress, an update without bars
  and with ``up_to_utc_time`` at that end says it is complete (no trade needed).

The bar in progress is seeded from the venue's tape at the moment of the request, and
every trade after it comes through :meth:`BarFeeds.on_trade`: the venue is synchronous,
so nothing is counted twice and nothing is missed at the seam. ``update_interval`` is
accepted and not used: updates go out as trades happen. Minute, hour and day bars can be
subscribed (day: the instrument's trading day); longer units answer ``NOT_SUPPORTED``.
``REQUEST_TYPE_DROP`` with the subscription's ``request_id`` ends it (``DROPPED``); a
connection that drops ends its subscriptions (a restored session subscribes again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import final

from ec_core.calendar import TradingCalendar
from ec_core.data.bars import BarBuilder
from ec_core.data.timeframe import Timeframe
from ec_core.model import Bar, MarketEvent, Trade

from ec_cqg.protocol.pb import ServerMsg, historical_2
from ec_cqg.protocol.prices import qty_to_cqg
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.sessions import Session

__all__ = ["BarFeed", "BarFeeds", "add_time_bar"]

_BS = historical_2.BarReportStatusCode
_MS = 1_000_000


def add_time_bar(
    report: historical_2.TimeBarReport,
    bar: Bar,
    base: BaseTime,
    scaled: Callable[[int], int],
    *,
    trade_date_ns: int | None,
) -> None:
    """``bar`` as one ``TimeBar`` of ``report``: OHLC scaled as market data is, ``volume``
    and ``tick_volume``, ``trade_date`` for bars of a trading day."""
    out = report.time_bars.add(
        bar_utc_time=base.to_offset_ms(bar.start_ns),
        scaled_open_price=scaled(bar.open),
        scaled_high_price=scaled(bar.high),
        scaled_low_price=scaled(bar.low),
        scaled_close_price=scaled(bar.close),
        tick_volume=bar.count,
    )
    qty_to_cqg(bar.volume, out.volume)
    if trade_date_ns is not None:
        out.trade_date = base.to_offset_ms(trade_date_ns)


@final
@dataclass(slots=True)
class BarFeed:
    """One subscription: its bar in progress, cut as ``frame`` (and ``calendar``) say by
    core's :class:`~ec_core.data.bars.BarBuilder` (the fold history bars come from too)."""

    request_id: int
    symbol: str
    frame: Timeframe
    calendar: TradingCalendar | None
    scaled: Callable[[int], int]
    trade_date: Callable[[int], int] | None  # day bars: the bar's trade date on the wire
    builder: BarBuilder = field(init=False)
    closed: bool = True  # the bar in progress was told complete (or there is none)

    def __post_init__(self) -> None:
        self.builder = BarBuilder(self.frame, symbol=self.symbol, calendar=self.calendar)

    @property
    def end(self) -> int:
        """The end of the bar in progress (-1: none yet)."""
        return self.builder.end_ns

    def add(self, trade: Trade) -> None:
        """Count ``trade`` in its bar (one stamped before the bar in progress counts in it)."""
        end = self.builder.end_ns
        self.builder.add(trade)
        if self.builder.end_ns != end:
            self.closed = False

    def seed(self, events: Iterable[MarketEvent]) -> None:
        for event in events:
            if type(event) is Trade:
                self.add(event)

    def update(self, base: BaseTime, *, up_to_ns: int | None, bar: bool = True) -> ServerMsg:
        """An ``UPDATE`` report: the bar in progress (if ``bar``) and ``up_to_utc_time``."""
        msg = ServerMsg()
        report = msg.time_bar_reports.add(
            request_id=self.request_id, status_code=_BS.BAR_REPORT_STATUS_CODE_UPDATE
        )
        current = self.builder.current() if bar else None
        if current is not None:
            day = None if self.trade_date is None else self.trade_date(current.end_ns - 1)
            add_time_bar(report, current, base, self.scaled, trade_date_ns=day)
        if up_to_ns is not None:
            report.up_to_utc_time = base.to_offset_ms(up_to_ns)
        return msg


@final
class BarFeeds:
    """The live bar subscriptions of every session, by session and request id."""

    def __init__(self) -> None:
        self._by_session: dict[Session, dict[int, BarFeed]] = {}

    def __len__(self) -> int:
        return sum(len(feeds) for feeds in self._by_session.values())

    def count(self, session: Session) -> int:
        return len(self._by_session.get(session, ()))

    def has(self, session: Session, request_id: int) -> bool:
        return request_id in self._by_session.get(session, {})

    def open(self, session: Session, feed: BarFeed) -> ServerMsg | None:
        """Register ``feed``; the first update (the bar in progress) if it has one."""
        self._by_session.setdefault(session, {})[feed.request_id] = feed
        return feed.update(session.base, up_to_ns=None) if feed.builder.count else None

    def drop(self, session: Session, request_id: int) -> bool:
        feeds = self._by_session.get(session)
        if feeds is None or feeds.pop(request_id, None) is None:
            return False
        if not feeds:
            del self._by_session[session]
        return True

    def forget(self, session: Session) -> None:
        """The session's connection is gone: its subscriptions end with it."""
        self._by_session.pop(session, None)

    def on_trade(self, trade: Trade) -> Iterator[tuple[Session, ServerMsg]]:
        """The updates ``trade`` makes, per session."""
        symbol = trade.symbol
        ms = trade.ts_ns // _MS * _MS
        for session, feeds in self._by_session.items():
            for feed in feeds.values():
                if feed.symbol == symbol:
                    feed.add(trade)
                    yield session, feed.update(session.base, up_to_ns=ms)

    def on_time(self, now_ns: int) -> Iterator[tuple[Session, ServerMsg]]:
        """Updates saying a bar is complete, once the clock passed its end."""
        for session, feeds in self._by_session.items():
            for feed in feeds.values():
                if not feed.closed and feed.end <= now_ns:
                    feed.closed = True
                    yield session, feed.update(session.base, up_to_ns=feed.end, bar=False)
