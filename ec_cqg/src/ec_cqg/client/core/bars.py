"""Time bar subscriptions of the client: the updates after the historical part, as
complete core bars.

A ``SUBSCRIBE`` time bar request is answered with the historical part (complete bars,
up to ``up_to_utc_time``), then the server keeps sending ``UPDATE`` reports with the
same ``request_id``: the bar in progress as it stands, again and again. A
:class:`LiveBars` entry turns them into complete bars, each delivered once, in order:

* an update whose bar starts later than the bar in progress completes the one before;
* an ``up_to_utc_time`` at or after the end of the bar in progress completes it;
* an update for a bar already delivered (or older than the one in progress) is counted
  (``bar_updates_stale``) and dropped: a bar is never delivered twice.

The bar in progress is :attr:`LiveBar.current`. A report with status ``DROPPED``,
``DISCONNECTED``, ``INVALIDATED`` or a failure ends the subscription, as does a lost line
(the server ends a connection's subscriptions with it): :attr:`LiveBar.ended` says why
and the sink is closed.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Final, Protocol, final

from ec_core.calendar import TradingCalendar
from ec_core.data.timeframe import Timeframe
from ec_core.errors import PriceError, ProtocolError
from ec_core.model import Bar

from ec_cqg.client.core.history import BarPage, bar_of
from ec_cqg.protocol.pb import historical_2
from ec_cqg.protocol.prices import PriceScale
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["BarSink", "LiveBar", "LiveBars"]

log = logging.getLogger("ec_cqg.client")

_BS = historical_2.BarReportStatusCode
_ENDS: Final[dict[int, str]] = {
    _BS.BAR_REPORT_STATUS_CODE_DROPPED: "dropped",
    _BS.BAR_REPORT_STATUS_CODE_DISCONNECTED: "disconnected by the server",
    _BS.BAR_REPORT_STATUS_CODE_INVALIDATED: "invalidated by the server (bars corrected)",
}
_FAILURE: Final = 100


class BarSink(Protocol):
    """Where complete bars go (the session's channel); closed when the subscription ends."""

    def push(self, item: Bar, /) -> None: ...

    def close(self) -> None: ...


@final
class LiveBar:
    """One subscription: what the wire says becomes complete bars for ``sink``."""

    __slots__ = (
        "base",
        "calendar",
        "current",
        "delivered",
        "ended",
        "frame",
        "last_start",
        "live",
        "prices",
        "request_id",
        "sink",
        "symbol",
    )

    def __init__(
        self,
        request_id: int,
        *,
        symbol: str,
        frame: Timeframe,
        prices: PriceScale,
        calendar: TradingCalendar | None,
        sink: BarSink,
    ) -> None:
        self.request_id = request_id
        self.symbol = symbol
        self.frame = frame
        self.prices = prices
        self.calendar = calendar
        self.sink = sink
        self.base: BaseTime | None = None
        self.current: Bar | None = None  # the bar in progress, as last updated
        self.last_start = -(1 << 62)  # start of the last bar delivered
        self.delivered = 0
        self.live = False  # the historical part arrived
        self.ended: str | None = None

    def begin(self, page: BarPage, base: BaseTime) -> None:
        """The historical part: its bars are delivered first, then updates follow."""
        self.base = base
        for bar in page.bars:
            self._deliver(bar)
        self.live = True

    def _deliver(self, bar: Bar) -> None:
        self.sink.push(bar)
        self.last_start = bar.start_ns
        self.delivered += 1

    def on_report(self, report: historical_2.TimeBarReport, counters: Counter[str]) -> None:
        code = report.status_code
        if code in _ENDS or code >= _FAILURE:
            text = report.details.text or report.text_message
            reason = _ENDS.get(code, f"failed with status {code}")
            self.end(f"{reason}: {text}" if text else reason)
            return
        base = self.base
        if base is None:  # an update before the historical part: not ours to guess
            counters["bar_updates_early"] += 1
            return
        for wire in report.time_bars:
            bar = bar_of(wire, self.symbol, self.frame, self.prices, base, self.calendar)
            current = self.current
            if bar.start_ns <= self.last_start or (
                current is not None and bar.start_ns < current.start_ns
            ):
                counters["bar_updates_stale"] += 1
                continue
            if current is not None and bar.start_ns > current.start_ns:
                self._deliver(current)
            self.current = bar
        if report.HasField("up_to_utc_time"):
            current = self.current
            if current is not None and current.end_ns <= base.to_ns(report.up_to_utc_time):
                self._deliver(current)
                self.current = None

    def end(self, reason: str) -> None:
        if self.ended is None:
            self.ended = reason
            self.sink.close()


@final
class LiveBars:
    """The client's time bar subscriptions by request id."""

    __slots__ = ("_by_id", "_counters")

    def __init__(self, counters: Counter[str]) -> None:
        self._counters = counters
        self._by_id: dict[int, LiveBar] = {}

    def open(self, live: LiveBar) -> LiveBar:
        self._by_id[live.request_id] = live
        return live

    def close(self, request_id: int, reason: str) -> None:
        live = self._by_id.pop(request_id, None)
        if live is not None:
            live.end(reason)

    def on_report(self, report: historical_2.TimeBarReport) -> None:
        live = self._by_id.get(report.request_id)
        if live is None:
            self._counters["bar_updates_unsubscribed"] += 1
            return
        try:
            live.on_report(report, self._counters)
        except (ProtocolError, PriceError, ValueError) as exc:
            self._counters["bad_items"] += 1
            log.warning("cqg: dropped a time bar update of %s: %s", live.symbol, exc)
        if live.ended is not None:
            self._by_id.pop(report.request_id, None)

    def line_lost(self, reason: str) -> None:
        """Every subscription ends with the line (the server ends them too)."""
        for request_id in list(self._by_id):
            self.close(request_id, f"connection lost ({reason}): subscribe again")
