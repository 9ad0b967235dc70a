"""The interactive HTML report: candles with fill markers, equity, drawdown, position, tables."""

from __future__ import annotations

import re
from decimal import Decimal

import msgspec
import pytest
from ec_core.model import Fill, Instrument, Side
from ec_core.strategy.analytics import OrderRow
from ec_core.strategy.html_report import candles, render_html, report_figure
from ec_core.strategy.report import ReplayReport, build_report
from strategy_support import SEC, T0

pytest.importorskip("plotly")

CL = Instrument(symbol="CL", tick_size=Decimal("0.01"), multiplier=Decimal(1000))


def fill(ts: int, side: Side, price: str) -> Fill:
    return Fill(
        fill_id=f"f{ts}", account_id="A", symbol="CL", side=side, qty=1,
        price=Decimal(price), ts_ns=ts, cl_order_id=f"o{ts}",
    )  # fmt: skip


def replay_report() -> ReplayReport:
    fills = [fill(T0 + 30 * SEC, Side.BUY, "70.00"), fill(T0 + 150 * SEC, Side.SELL, "70.20")]
    marks = [(T0 + i * SEC, "CL", Decimal("70.00") + Decimal(i % 7) / 100) for i in range(180)]
    return build_report(
        fills=fills, marks=marks, instruments={"CL": CL}, signals=[], errors=[],
        ticks=180, first_ns=T0, last_ns=T0 + 179 * SEC, wall_s=0.0, orders_sent=2,
    )  # fmt: skip


def test_candles_fold_the_samples_per_time_frame() -> None:
    bars = candles(replay_report(), 60)
    assert len(bars) in (3, 4)  # 180 s of samples, aligned to the minute
    assert all(low <= min(o, c) and high >= max(o, c) for _, o, high, low, c in bars)


def test_the_figure_shares_one_time_axis_and_marks_every_fill() -> None:
    figure = report_figure(replay_report(), timeframe_s=60)
    kinds = [trace.type for trace in figure.data]
    assert kinds[0] == "candlestick"
    buys, sells = (t for t in figure.data if t.name in ("buy", "sell"))
    assert (len(buys.x), len(sells.x)) == (1, 1)
    assert [t.name for t in figure.data][3:] == ["orders", "equity", "drawdown", "position"]
    # one zoomable time axis: the upper panes follow the bottom one's
    assert [figure.layout[f"xaxis{n}"].matches for n in ("", 2, 3)] == ["x4"] * 3


def test_the_page_carries_the_chart_the_statistics_and_the_round_trips() -> None:
    page = render_html(replay_report())
    assert "ec-report-chart" in page
    assert "Plotly.newPlot" in page
    stats = re.search(r"<table id='ec-stats'>(.*?)</table>", page, re.S)
    assert stats is not None
    assert "<th>win_rate</th><td>1.0</td>" in stats.group(1)
    trades = re.search(r"<table id='ec-trades'>(.*?)</table>", page, re.S)
    assert trades is not None
    assert trades.group(1).count("<tr>") == 2  # the header and one round trip


def test_the_price_pane_marks_the_orders_that_did_not_fill_at_their_price() -> None:
    base = replay_report()
    cancelled = OrderRow(
        cl_order_id="c1", symbol="CL", side="SELL", qty=1, order_type="LMT",
        limit_price=Decimal("70.30"), stop_price=None, outcome="CANCELLED", filled_qty=0,
        avg_fill_price=None, code="", text="", updated_ns=T0 + 100 * SEC,
    )  # fmt: skip
    stop = msgspec.structs.replace(
        cancelled, cl_order_id="s1", order_type="STP", limit_price=None,
        stop_price=Decimal("69.80"), outcome="WORKING",
    )  # fmt: skip
    other = msgspec.structs.replace(cancelled, cl_order_id="x1", symbol="ES")
    report = msgspec.structs.replace(base, orders=(cancelled, stop, other))
    figure = report_figure(report, timeframe_s=60)
    (orders,) = (t for t in figure.data if t.name == "orders")
    assert list(orders.y) == [70.30, 69.80]  # the chart symbol's only, at limit or stop
    assert [t.split(" ")[0] for t in orders.text] == ["CANCELLED", "WORKING"]


def test_the_candles_time_frame_is_chosen_and_named() -> None:
    figure = report_figure(replay_report(), timeframe_s=300)
    assert "5m candles" in figure.layout.annotations[0].text
    assert len(candles(replay_report(), 300)) in (1, 2)
