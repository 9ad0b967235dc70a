"""The client's bar subscription core: updates (repeated, duplicated, reordered) become
complete bars, each delivered once, oldest first."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from ec_core.data.timeframe import Timeframe
from ec_core.model import Bar
from ec_cqg.client.core.bars import LiveBar
from ec_cqg.client.core.history import BarPage
from ec_cqg.protocol.pb import historical_2
from ec_cqg.protocol.prices import PriceScale
from ec_cqg.protocol.timestamps import BaseTime
from hypothesis import given
from hypothesis import strategies as st

BASE = BaseTime("2024-01-10T15:00:00")
START = BASE.to_ns(0)
MINUTE_MS = 60_000
FRAME = Timeframe.parse("1m")


class Sink:
    def __init__(self) -> None:
        self.bars: list[Bar] = []
        self.closed = False

    def push(self, item: Bar, /) -> None:
        self.bars.append(item)

    def close(self) -> None:
        self.closed = True


def _live() -> tuple[LiveBar, Sink]:
    sink = Sink()
    live = LiveBar(
        7,
        symbol="EP",
        frame=FRAME,
        prices=PriceScale(correct_price_scale=Decimal(1), tick_size=Decimal(1)),
        calendar=None,
        sink=sink,
    )
    live.begin(BarPage([], START, False), BASE)
    return live, sink


def _update(
    minute: int, close: int, *, up_to_ms: int | None = None, code: int = 3
) -> historical_2.TimeBarReport:
    report = historical_2.TimeBarReport(request_id=7, status_code=code)
    if minute >= 0:
        report.time_bars.add(
            bar_utc_time=minute * MINUTE_MS,
            scaled_open_price=1,
            scaled_high_price=max(1, close),
            scaled_low_price=1,
            scaled_close_price=close,
            tick_volume=close,
        )
    if up_to_ms is not None:
        report.up_to_utc_time = up_to_ms
    return report


@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(1, 9)), min_size=1, max_size=40),
)
def test_each_bar_is_delivered_once_in_order(updates: list[tuple[int, int]]) -> None:
    live, sink = _live()
    counters: Counter[str] = Counter()
    for minute, close in updates:
        live.on_report(_update(minute, close), counters)
    starts = [b.start_ns for b in sink.bars]
    assert starts == sorted(set(starts))  # strictly increasing: once each, oldest first
    if live.current is not None:
        assert all(s < live.current.start_ns for s in starts)
    # completing by time delivers the bar in progress, once
    live.on_report(_update(-1, 0, up_to_ms=10 * MINUTE_MS), counters)
    live.on_report(_update(-1, 0, up_to_ms=10 * MINUTE_MS), counters)
    final = [b.start_ns for b in sink.bars]
    assert final == sorted(set(final))
    assert live.current is None


def test_the_last_update_of_a_bar_is_the_one_delivered() -> None:
    live, sink = _live()
    counters: Counter[str] = Counter()
    for close in (3, 5, 4):
        live.on_report(_update(0, close), counters)
    live.on_report(_update(1, 2), counters)
    live.on_report(_update(0, 9), counters)  # too late: minute 0 was delivered
    assert [(b.close, b.count) for b in sink.bars] == [(4, 4)]
    assert counters["bar_updates_stale"] == 1
    live.on_report(_update(-1, 0, code=2), counters)
    assert sink.closed
    assert live.ended == "dropped"
