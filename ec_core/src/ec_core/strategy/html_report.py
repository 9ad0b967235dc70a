"""The interactive replay report: ``report.html`` (the optional extra ``ec-core[html]``).

One page: a price pane per instrument, as candles of a chosen time frame (``ec replay
--candles``) with a marker per fill of that instrument (buy up, sell down) and one per
order of it that did not fill (at its limit or stop price, at the time of its last
report: when it was cancelled, rejected or expired), then equity, drawdown and position
(a line per instrument) panes, all sharing one zoomable time axis (plotly), then the
statistics and the round-trip table. With several instruments each trace's name carries
its symbol (``buy TYA``). Candles are built from the report's ``prices`` (each
instrument's mid at each close of the smallest bar time frame), so the page needs
nothing the report does not have. plotly.js is embedded, so the file
opens offline; without plotly installed the page is not written and ``ec replay`` says
what to install. The dependency-free ``chart.svg`` is always written.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from ec_core.calendar import ns_datetime
from ec_core.errors import ConfigError
from ec_core.strategy.chart import chart_symbols, symbol_fills, unfilled_orders

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


def candles(
    report: ReplayReport, timeframe_s: int, symbol: str | None = None
) -> list[tuple[int, float, float, float, float]]:
    """``(start_ns, open, high, low, close)`` of ``symbol``'s mid (the chart symbol's by
    default) per ``timeframe_s``."""
    size = timeframe_s * _NS
    out: list[tuple[int, float, float, float, float]] = []
    for point in report.prices.get(report.chart_symbol if symbol is None else symbol, ()):
        start = point.ts_ns - point.ts_ns % size
        price = point.mid
        if out and out[-1][0] == start:
            _, o, h, low, _ = out[-1]
            out[-1] = (start, o, max(h, price), min(low, price), price)
        else:
            out.append((start, price, price, price, price))
    return out


def _time(ts_ns: int) -> datetime:
    return ns_datetime(ts_ns)


def report_figure(report: ReplayReport, *, timeframe_s: int = 60) -> Any:
    """The plotly figure: a candle pane per instrument with its fills and orders, then
    equity, drawdown and position (a line per instrument); one time axis."""
    go, make_subplots = _plotly()
    symbols = chart_symbols(report) or [report.chart_symbol]
    n = len(symbols)
    frame = _frame_name(timeframe_s)
    figure = make_subplots(
        rows=n + 3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[0.5 if n == 1 else 0.35] * n + [0.2, 0.15, 0.15],  # relative
        subplot_titles=(
            *(f"{symbol} mid, {frame} candles".strip() for symbol in symbols),
            "equity",
            "drawdown",
            "position",
        ),
    )
    for row, symbol in enumerate(symbols, start=1):
        _add_price_pane(figure, go, report, symbol, row, timeframe_s, "" if n == 1 else symbol)
    times = [_time(p.ts_ns) for p in report.equity]
    equity = [p.equity for p in report.equity]
    peak = float("-inf")
    drawdown = []
    for value in equity:
        peak = max(peak, value)
        drawdown.append(value - peak)
    figure.add_trace(go.Scatter(x=times, y=equity, name="equity"), row=n + 1, col=1)
    figure.add_trace(
        go.Scatter(x=times, y=drawdown, name="drawdown", fill="tozeroy"), row=n + 2, col=1
    )
    for symbol in symbols:
        held, steps_x, steps_y = 0, [], []
        for fill in symbol_fills(report, symbol):
            held += fill.qty if fill.side == "BUY" else -fill.qty
            steps_x.append(_time(fill.ts_ns))
            steps_y.append(held)
        figure.add_trace(
            go.Scatter(
                x=steps_x, y=steps_y, name=_named("position", "" if n == 1 else symbol),
                line={"shape": "hv"},
            ),
            row=n + 3,
            col=1,
        )  # fmt: skip
    figure.update_layout(height=900 + 250 * (n - 1), hovermode="x unified")
    figure.update_xaxes(rangeslider_visible=False)  # each candle pane would get its own
    return figure


def _named(kind: str, symbol: str) -> str:
    """A trace's name: the kind alone with one instrument, with the symbol beside it
    when several share the page."""
    return f"{kind} {symbol}" if symbol else kind


def _frame_name(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _add_price_pane(
    figure: Any, go: Any, report: ReplayReport, symbol: str, row: int, timeframe_s: int,
    label: str,
) -> None:  # fmt: skip
    """``symbol``'s candles, a marker per fill (buy up, sell down) and one per order that
    did not fill, at its limit (else stop) price and the time of its last report."""
    bars = candles(report, timeframe_s, symbol)
    figure.add_trace(
        go.Candlestick(
            x=[_time(b[0]) for b in bars],
            open=[b[1] for b in bars],
            high=[b[2] for b in bars],
            low=[b[3] for b in bars],
            close=[b[4] for b in bars],
            name=_named("price", label),
        ),
        row=row,
        col=1,
    )
    fills = symbol_fills(report, symbol)
    markers = (("BUY", "triangle-up", "#2ca02c"), ("SELL", "triangle-down", "#d62728"))
    for side, shape, colour in markers:
        sided = [f for f in fills if f.side == side]
        figure.add_trace(
            go.Scatter(
                x=[_time(f.ts_ns) for f in sided],
                y=[float(f.price) for f in sided],
                mode="markers",
                marker={"symbol": shape, "color": colour, "size": 10},
                name=_named(side.lower(), label),
                text=[f"{f.side} {f.qty} @ {f.price} ({f.cl_order_id})" for f in sided],
            ),
            row=row,
            col=1,
        )
    orders = unfilled_orders(report, symbol)
    figure.add_trace(
        go.Scatter(
            x=[_time(o.updated_ns) for o, _ in orders],
            y=[float(p) for _, p in orders],
            mode="markers",
            marker={"symbol": "x-thin-open", "color": "#7f7f7f", "size": 9},
            name=_named("orders", label),
            text=[
                f"{o.outcome} {o.side} {o.qty} {o.order_type} @ {p} ({o.cl_order_id})"
                for o, p in orders
            ],
        ),
        row=row,
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
        f"<h1>ec replay: {escape(', '.join(chart_symbols(report)) or report.chart_symbol)}</h1>\n"
        f"{chart}\n"
        f"<h2>Statistics</h2>\n<table id='ec-stats'>{rows}</table>\n"
        f"<h2>Round trips</h2>\n<table id='ec-trades'><tr>{head}</tr>{trips}</table>\n"
        "</body></html>\n"
    )
