"""The interactive HTML report: candles with fill markers, equity, drawdown, position, tables."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from ec_core.model import Fill, Instrument, Side
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
    assert [t.name for t in figure.data][3:] == ["equity", "drawdown", "position"]
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
