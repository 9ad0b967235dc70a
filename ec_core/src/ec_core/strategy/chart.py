"""The replay's chart: a small hand-written SVG, no plotting dependency.

Price (the mid of the report's chart symbol) above equity, against market time, with
the time axis labelled in UTC and a marker per fill of that symbol (a green triangle up
for a buy, a red one down for a sell). A browser or any image viewer shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ec_core.strategy.report import ReplayReport

__all__ = ["render_svg"]

_TICKS = 5  # labels on the time axis


def _polyline(values: Sequence[float], xs: Sequence[float], top: float, height: float) -> str:
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    pairs = zip(xs, values, strict=True)
    return " ".join(f"{x:.1f},{top + height - (v - low) / span * height:.1f}" for x, v in pairs)


def render_svg(report: ReplayReport, *, width: int = 900, height: int = 520) -> str:
    """Price (top) and equity (bottom) against market time, as a standalone SVG."""
    points = report.equity
    pad, gap = 50.0, 30.0
    panel = (height - 2 * pad - gap - 20) / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if points:
        t0, t1 = points[0].ts_ns, points[-1].ts_ns
        span = (t1 - t0) or 1
        inner = width - 2 * pad

        def x_of(ts: int) -> float:
            return pad + (ts - t0) / span * inner

        xs = [x_of(p.ts_ns) for p in points]
        prices = [p.price for p in points]
        symbol = report.chart_symbol
        for title, values, top, colour in (
            (f"price {symbol}".strip(), prices, pad, "#1f77b4"),
            ("equity", [p.equity for p in points], pad + panel + gap, "#2ca02c"),
        ):
            parts.append(
                f'<rect x="{pad}" y="{top:.1f}" width="{inner}" height="{panel:.1f}"'
                ' fill="none" stroke="#ccc"/>'
            )
            parts.append(
                f'<text x="{pad}" y="{top - 6:.1f}">{escape(title)}: {min(values):.2f}'
                f" .. {max(values):.2f}</text>"
            )
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.2"'
                f' points="{_polyline(values, xs, top, panel)}"/>'
            )
        parts += _markers(report, x_of, prices, pad, panel, t0, t1)
        axis = pad + 2 * panel + gap + 16
        for i in range(_TICKS):
            ts = t0 + (t1 - t0) * i // (_TICKS - 1)
            label = datetime.fromtimestamp(ts / 1e9, tz=UTC).strftime("%H:%M:%S")
            anchor = "start" if i == 0 else "end" if i == _TICKS - 1 else "middle"
            parts.append(
                f'<text x="{x_of(ts):.1f}" y="{axis:.1f}" text-anchor="{anchor}"'
                f' fill="#555">{label}</text>'
            )
        day = datetime.fromtimestamp(t0 / 1e9, tz=UTC).strftime("%Y-%m-%d")
        parts.append(f'<text x="{width - pad}" y="{pad - 6}" text-anchor="end">{day} UTC</text>')
    else:
        parts.append(f'<text x="{pad}" y="{pad}">no data</text>')
    net = escape(f"net P&L {report.net_pnl:.2f}, max drawdown {report.max_drawdown:.2f}")
    parts.append(f'<text x="{pad}" y="{height - 12}">{net}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _markers(
    report: ReplayReport,
    x_of: Callable[[int], float],
    prices: Sequence[float],
    top: float,
    panel: float,
    t0: int,
    t1: int,
) -> list[str]:
    """A triangle per fill of the chart symbol, at its time and price."""
    low, high = min(prices), max(prices)
    span = (high - low) or 1.0
    out = []
    for fill in report.fills:
        if fill.symbol != report.chart_symbol or not t0 <= fill.ts_ns <= t1:
            continue
        x = x_of(fill.ts_ns)
        price = min(max(float(fill.price), low), high)
        y = top + panel - (price - low) / span * panel
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
    return out
