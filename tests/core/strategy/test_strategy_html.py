"""The interactive HTML report: candles with fill markers, equity, drawdown, position, tables."""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from ec_core.model import Fill, Instrument, Side
from ec_core.strategy.analytics import OrderRow
from ec_core.strategy.html_report import candles, render_html, report_figure
from ec_core.strategy.report import ReplayReport, build_report
from strategy_support import SEC, T0

pytest.importorskip("plotly")

CL = Instrument(symbol="CL", tick_size=Decimal("0.01"), multiplier=Decimal(1000))


ES = Instrument(symbol="ES", tick_size=Decimal("0.25"), multiplier=Decimal(50))


def fill(ts: int, side: Side, price: str, symbol: str = "CL") -> Fill:
    return Fill(
        fill_id=f"f{ts}", account_id="A", symbol=symbol, side=side, qty=1,
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


def two_instrument_report() -> ReplayReport:
    """CL: a buy and a sell; ES: two buys and a sell, on interleaved marks."""
    fills = [
        fill(T0 + 30 * SEC, Side.BUY, "70.00"), fill(T0 + 150 * SEC, Side.SELL, "70.20"),
        fill(T0 + 40 * SEC, Side.BUY, "4500.00", "ES"),
        fill(T0 + 50 * SEC, Side.BUY, "4500.25", "ES"),
        fill(T0 + 170 * SEC, Side.SELL, "4501.00", "ES"),
    ]  # fmt: skip
    marks = [(T0 + i * SEC, "CL", Decimal("70.00") + Decimal(i % 7) / 100) for i in range(180)]
    marks += [(T0 + i * SEC, "ES", Decimal("4500.00") + Decimal(i % 5) / 4) for i in range(180)]
    report = build_report(
        fills=fills, marks=marks, instruments={"CL": CL, "ES": ES}, signals=[], errors=[],
        ticks=360, first_ns=T0, last_ns=T0 + 179 * SEC, wall_s=0.0, orders_sent=5,
    )  # fmt: skip
    cancelled = OrderRow(
        cl_order_id="c1", symbol="ES", side="SELL", qty=1, order_type="LMT",
        limit_price=Decimal("4502.00"), stop_price=None, outcome="CANCELLED", filled_qty=0,
        avg_fill_price=None, code="", text="", updated_ns=T0 + 100 * SEC,
    )  # fmt: skip
    return msgspec.structs.replace(report, orders=(cancelled,))


def plotly_traces(page: str) -> dict[str, dict[str, Any]]:
    """The traces the page hands to ``Plotly.newPlot``, by name (what a browser draws)."""
    start = page.index("Plotly.newPlot(") + len("Plotly.newPlot(")
    start = page.index("[", start)
    data, _ = json.JSONDecoder().raw_decode(page, start)
    return {trace["name"]: trace for trace in data}


def test_the_report_keeps_each_instruments_mid_in_time_order() -> None:
    report = two_instrument_report()
    assert list(report.prices) == ["CL", "ES"]  # the instruments' order: the chart symbol first
    assert [p.mid for p in report.prices["ES"][:3]] == [4500.0, 4500.25, 4500.5]
    assert all(a.ts_ns <= b.ts_ns for a, b in itertools.pairwise(report.prices["CL"]))
    assert json.loads(report.to_json())["prices"]["ES"][1] == [T0 + SEC, 4500.25]


def test_every_instrument_has_its_own_price_pane_with_its_fills_and_orders() -> None:
    page = render_html(two_instrument_report(), timeframe_s=60)
    traces = plotly_traces(page)
    cl, es = traces["price CL"], traces["price ES"]
    assert (cl["type"], es["type"]) == ("candlestick", "candlestick")
    assert max(cl["high"]) < 71
    assert min(es["low"]) >= 4500
    assert (len(traces["buy CL"]["x"]), len(traces["sell CL"]["x"])) == (1, 1)
    assert (len(traces["buy ES"]["x"]), len(traces["sell ES"]["x"])) == (2, 1)
    assert traces["buy ES"]["y"] == [4500.0, 4500.25]
    assert traces["orders ES"]["y"] == [4502.0]
    assert traces["orders CL"]["y"] == []
    assert traces["position ES"]["y"] == [1, 2, 1]
    assert traces["position CL"]["y"] == [1, 0]
    # each pane on its own y axis, every pane on the one time axis
    assert cl["yaxis"] != es["yaxis"]
    assert traces["buy ES"]["yaxis"] == es["yaxis"]
    layout = report_figure(two_instrument_report()).layout
    assert [layout[f"xaxis{n}"].matches for n in ("", 2, 3, 4)] == ["x5"] * 4
    # no candle pane draws a range slider (one under the second would cover equity)
    assert [layout[f"xaxis{n}"].rangeslider.visible for n in ("", 2)] == [False, False]
    titles = [a.text for a in layout.annotations]
    assert titles[:2] == ["CL mid, 1m candles", "ES mid, 1m candles"]
    assert "<h1>ec replay: CL, ES</h1>" in page
