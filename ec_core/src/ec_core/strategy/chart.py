"""The replay's chart: a small hand-written SVG, no plotting dependency.

One price pane per instrument (its mid, named), then equity, all against one market
time axis labelled in UTC. Each price pane marks its own symbol's fills (a green
triangle up for a buy, a red one down for a sell) and its orders that did not fill (a
grey cross at the limit or stop price, at the time of their last report). A browser or
any image viewer shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from ec_core.calendar import ns_datetime

if TYPE_CHECKING:
    from ec_core.strategy.analytics import OrderRow
    from ec_core.strategy.report import ReplayReport, TradeRecord

__all__ = ["chart_symbols", "render_svg", "symbol_fills", "unfilled_orders"]

_TICKS = 5  # labels on the time axis
_PAD, _GAP, _PANEL = 50.0, 30.0, 185.0  # margin, space between panes, pane height


def chart_symbols(report: ReplayReport) -> list[str]:
    """The symbols with a price pane, the chart symbol first (the instruments' order)."""
    return list(report.prices)


def symbol_fills(report: ReplayReport, symbol: str) -> list[TradeRecord]:
    """The fills of ``symbol``, in time order."""
    return [f for f in report.fills if f.symbol == symbol]


def unfilled_orders(report: ReplayReport, symbol: str) -> list[tuple[OrderRow, Decimal]]:
    """``symbol``'s orders that did not fill, with the price to mark them at (limit, else
    stop): a cancelled target, a stop still working at the end. Orders never reported
    (denied before sending) and market orders have no place on the price pane."""
    out = []
    for order in report.orders:
        if order.symbol != symbol or order.outcome == "FILLED" or not order.updated_ns:
            continue
        price = order.limit_price if order.limit_price is not None else order.stop_price
        if price is not None:
            out.append((order, price))
    return out


def _polyline(values: Sequence[float], xs: Sequence[float], top: float, height: float) -> str:
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    pairs = zip(xs, values, strict=True)
    return " ".join(f"{x:.1f},{top + height - (v - low) / span * height:.1f}" for x, v in pairs)


def render_svg(report: ReplayReport, *, width: int = 900, height: int | None = None) -> str:
    """A price pane per instrument above equity, against market time, as a standalone SVG
    (``height``: by default tall enough for every pane)."""
    symbols = chart_symbols(report)
    panes = len(symbols) + 1
    if height is None:
        height = int(2 * _PAD + 20 + panes * _PANEL + (panes - 1) * _GAP)
    panel = (height - 2 * _PAD - (panes - 1) * _GAP - 20) / panes
    pad = _PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    points = report.equity
    if points:
        # the replayed span: a fill before the first mark (the first bar's close) is drawn
        ends = [s[i].ts_ns for s in report.prices.values() for i in (0, -1)]
        ends += [points[0].ts_ns, points[-1].ts_ns]
        t0 = min(report.first_ns or ends[0], *ends)
        t1 = max(report.last_ns, *ends)
        span = (t1 - t0) or 1
        inner = width - 2 * pad

        def x_of(ts: int) -> float:
            return pad + (ts - t0) / span * inner

        for i, symbol in enumerate(symbols):
            series = report.prices[symbol]
            top = pad + i * (panel + _GAP)
            prices = [p.mid for p in series]
            parts.append(f'<g class="pane price" data-symbol="{escape(symbol)}">')
            parts += _pane(f"price {symbol}", prices, [x_of(p.ts_ns) for p in series], top, panel,
                           inner, "#1f77b4")  # fmt: skip
            parts += _markers(report, symbol, x_of, prices, top, panel, t0, t1)
            parts.append("</g>")
        top = pad + (panes - 1) * (panel + _GAP)
        equity = [p.equity for p in points]
        parts.append('<g class="pane equity">')
        parts += _pane("equity", equity, [x_of(p.ts_ns) for p in points], top, panel, inner,
                       "#2ca02c")  # fmt: skip
        parts.append("</g>")
        axis = top + panel + 16
        for i in range(_TICKS):
            ts = t0 + (t1 - t0) * i // (_TICKS - 1)
            label = ns_datetime(ts).strftime("%H:%M:%S")
            anchor = "start" if i == 0 else "end" if i == _TICKS - 1 else "middle"
            parts.append(
                f'<text x="{x_of(ts):.1f}" y="{axis:.1f}" text-anchor="{anchor}"'
                f' fill="#555">{label}</text>'
            )
        day = ns_datetime(t0).strftime("%Y-%m-%d")
        parts.append(f'<text x="{width - pad}" y="{pad - 6}" text-anchor="end">{day} UTC</text>')
    else:
        parts.append(f'<text x="{pad}" y="{pad}">no data</text>')
    net = escape(f"net P&L {report.net_pnl:.2f}, max drawdown {report.max_drawdown:.2f}")
    parts.append(f'<text x="{pad}" y="{height - 12}">{net}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _pane(
    title: str,
    values: Sequence[float],
    xs: Sequence[float],
    top: float,
    panel: float,
    inner: float,
    colour: str,
) -> list[str]:
    """A framed pane: its title with the range, the line."""
    return [
        f'<rect x="{_PAD}" y="{top:.1f}" width="{inner}" height="{panel:.1f}"'
        ' fill="none" stroke="#ccc"/>',
        f'<text x="{_PAD}" y="{top - 6:.1f}">{escape(title)}: {min(values):.2f}'
        f" .. {max(values):.2f}</text>",
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.2"'
        f' points="{_polyline(values, xs, top, panel)}"/>',
    ]


def _markers(
    report: ReplayReport,
    symbol: str,
    x_of: Callable[[int], float],
    prices: Sequence[float],
    top: float,
    panel: float,
    t0: int,
    t1: int,
) -> list[str]:
    """A triangle per fill of ``symbol`` and a cross per order of it that did not fill,
    at its time and price (clamped to the pane)."""
    low, high = min(prices), max(prices)
    span = (high - low) or 1.0

    def y_of(price: Decimal) -> float:
        return top + panel - (min(max(float(price), low), high) - low) / span * panel

    out = []
    for fill in symbol_fills(report, symbol):
        if not t0 <= fill.ts_ns <= t1:
            continue
        x, y = x_of(fill.ts_ns), y_of(fill.price)
        if fill.side == "BUY":
            shape, colour = (
                f"{x:.1f},{y - 7:.1f} {x - 5:.1f},{y + 2:.1f} {x + 5:.1f},{y + 2:.1f}",
                "#2ca02c",
            )
        else:
            shape, colour = (
                f"{x:.1f},{y + 7:.1f} {x - 5:.1f},{y - 2:.1f} {x + 5:.1f},{y - 2:.1f}",
                "#d62728",
            )
        out.append(
            f'<polygon class="fill {fill.side.lower()}" points="{shape}" fill="{colour}">'
            f"<title>{escape(fill.side)} {fill.qty} @ {fill.price}</title></polygon>"
        )
    for order, price in unfilled_orders(report, symbol):
        if not t0 <= order.updated_ns <= t1:
            continue
        x, y = x_of(order.updated_ns), y_of(price)
        out.append(
            f'<path class="order {order.outcome.lower()}" d="M{x - 4:.1f},{y - 4:.1f}'
            f' l8,8 m0,-8 l-8,8" stroke="#7f7f7f" fill="none"><title>{escape(order.outcome)}'
            f" {escape(order.side)} {order.qty} {escape(order.order_type)} @ {price}"
            f" ({escape(order.cl_order_id)})</title></path>"
        )
    return out
