"""The interactive replay report: ``report.html`` (the optional extra ``ec-core[html]``).

One page: price as candles of a chosen time frame (``ec replay --candles``) with a marker
per fill (buy up, sell down) and one per order that did not fill (at its limit or stop
price, at the time of its last report: when it was cancelled, rejected or expired), then
equity, drawdown and position panes sharing one zoomable time axis (plotly), then the
statistics and the round-trip table. Candles are built from the report's
equity samples (the mid at each close of the smallest bar time frame and at each fill),
so the page needs nothing the report does not have. plotly.js is embedded, so the file
opens offline; without plotly installed the page is not written and ``ec replay`` says
what to install. The dependency-free ``chart.svg`` is always written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from ec_core.errors import ConfigError

if TYPE_CHECKING:
    from ec_core.strategy.report import ReplayReport

__all__ = ["candles", "render_html", "report_figure"]

_NS = 1_000_000_000


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        raise ConfigError(
            "the HTML report needs plotly: pip install 'ec-core[html]'", path="report.html"
        ) from None
    return go, make_subplots


def candles(report: ReplayReport, timeframe_s: int) -> list[tuple[int, float, float, float, float]]:
    """``(start_ns, open, high, low, close)`` of the chart symbol's mid per ``timeframe_s``."""
    size = timeframe_s * _NS
    out: list[tuple[int, float, float, float, float]] = []
    for point in report.equity:
        start = point.ts_ns - point.ts_ns % size
        if out and out[-1][0] == start:
            _, o, h, low, _ = out[-1]
            out[-1] = (start, o, max(h, point.price), min(low, point.price), point.price)
        else:
            out.append((start, point.price, point.price, point.price, point.price))
    return out


def _time(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / _NS, tz=UTC)


def report_figure(report: ReplayReport, *, timeframe_s: int = 60) -> Any:
    """The plotly figure: candles + fills, equity, drawdown, position; one time axis."""
    go, make_subplots = _plotly()
    figure = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[0.5, 0.2, 0.15, 0.15],
        subplot_titles=(
            f"{report.chart_symbol} mid, {_frame_name(timeframe_s)} candles".strip(),
            "equity",
            "drawdown",
            "position",
        ),
    )
    bars = candles(report, timeframe_s)
    figure.add_trace(
        go.Candlestick(
            x=[_time(b[0]) for b in bars],
            open=[b[1] for b in bars],
            high=[b[2] for b in bars],
            low=[b[3] for b in bars],
            close=[b[4] for b in bars],
            name="price",
        ),
        row=1,
        col=1,
    )
    markers = (("BUY", "triangle-up", "#2ca02c"), ("SELL", "triangle-down", "#d62728"))
    for side, symbol, colour in markers:
        fills = [f for f in report.fills if f.side == side and f.symbol == report.chart_symbol]
        figure.add_trace(
            go.Scatter(
                x=[_time(f.ts_ns) for f in fills],
                y=[float(f.price) for f in fills],
                mode="markers",
                marker={"symbol": symbol, "color": colour, "size": 10},
                name=side.lower(),
                text=[f"{f.side} {f.qty} @ {f.price} ({f.cl_order_id})" for f in fills],
            ),
            row=1,
            col=1,
        )
    _add_orders(figure, go, report)
    times = [_time(p.ts_ns) for p in report.equity]
    equity = [p.equity for p in report.equity]
    peak = float("-inf")
    drawdown = []
    for value in equity:
        peak = max(peak, value)
        drawdown.append(value - peak)
    figure.add_trace(go.Scatter(x=times, y=equity, name="equity"), row=2, col=1)
    figure.add_trace(go.Scatter(x=times, y=drawdown, name="drawdown", fill="tozeroy"), row=3, col=1)
    held, steps_x, steps_y = 0, [], []
    for fill in report.fills:
        if fill.symbol != report.chart_symbol:
            continue
        held += fill.qty if fill.side == "BUY" else -fill.qty
        steps_x.append(_time(fill.ts_ns))
        steps_y.append(held)
    figure.add_trace(
        go.Scatter(x=steps_x, y=steps_y, name="position", line={"shape": "hv"}), row=4, col=1
    )
    figure.update_layout(height=900, xaxis_rangeslider_visible=False, hovermode="x unified")
    return figure


def _frame_name(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _add_orders(figure: Any, go: Any, report: ReplayReport) -> None:
    """The chart symbol's orders that did not fill, at their limit (else stop) price and
    the time of their last report: a cancelled target, a stop still working at the end."""
    orders = [
        o
        for o in report.orders
        if o.symbol == report.chart_symbol
        and o.outcome != "FILLED"
        and o.updated_ns
        and (o.limit_price is not None or o.stop_price is not None)
    ]
    prices = [o.limit_price if o.limit_price is not None else o.stop_price for o in orders]
    figure.add_trace(
        go.Scatter(
            x=[_time(o.updated_ns) for o in orders],
            y=[float(p) for p in prices if p is not None],
            mode="markers",
            marker={"symbol": "x-thin-open", "color": "#7f7f7f", "size": 9},
            name="orders",
            text=[
                f"{o.outcome} {o.side} {o.qty} {o.order_type} @ {p} ({o.cl_order_id})"
                for o, p in zip(orders, prices, strict=True)
            ],
        ),
        row=1,
        col=1,
    )


def render_html(report: ReplayReport, *, timeframe_s: int = 60) -> str:
    """The whole page: the figure (plotly.js embedded), the statistics, the round trips."""
    figure = report_figure(report, timeframe_s=timeframe_s)
    chart = figure.to_html(full_html=False, include_plotlyjs=True, div_id="ec-report-chart")
    stats = report.stats
    rows = "".join(
        f"<tr><th>{escape(name)}</th><td>{escape(str(value))}</td></tr>"
        for name, value in (
            [(f, getattr(stats, f)) for f in stats.__struct_fields__] if stats else []
        )
    )
    columns = ("entry_time", "exit_time", "symbol", "side", "qty", "entry_price", "exit_price",
               "pnl_ticks", "pnl", "holding_s", "mae_ticks", "mfe_ticks")  # fmt: skip
    trips = "".join(
        "<tr>" + "".join(f"<td>{escape(str(getattr(t, c)))}</td>" for c in columns) + "</tr>"
        for t in report.trades
    )
    titles = ("entry", "exit", "symbol", "side", "qty", "entry price", "exit price",
              "P&amp;L ticks", "P&amp;L", "held s", "MAE", "MFE")  # fmt: skip
    head = "".join(f"<th>{h}</th>" for h in titles)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>ec replay report</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>\n"
        f"<h1>ec replay: {escape(report.chart_symbol)}</h1>\n{chart}\n"
        f"<h2>Statistics</h2>\n<table id='ec-stats'>{rows}</table>\n"
        f"<h2>Round trips</h2>\n<table id='ec-trades'><tr>{head}</tr>{trips}</table>\n"
        "</body></html>\n"
    )
