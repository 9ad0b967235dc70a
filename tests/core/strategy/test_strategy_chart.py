"""The replay chart: price and equity panels, a time axis, a marker per fill, the symbol."""

from __future__ import annotations

import xml.dom.minidom
from decimal import Decimal

from ec_core.model import Fill, Instrument, Side
from ec_core.strategy.report import build_report, render_svg
from strategy_support import SEC, T0

CL = Instrument(symbol="CL", tick_size=Decimal("0.01"), multiplier=Decimal(1000))


def fill(ts: int, side: Side, price: str) -> Fill:
    return Fill(
        fill_id=f"f{ts}", account_id="A", symbol="CL", side=side, qty=1,
        price=Decimal(price), ts_ns=ts,
    )  # fmt: skip


def test_the_chart_names_the_symbol_marks_each_fill_and_labels_time() -> None:
    fills = [fill(T0 + 2 * SEC, Side.BUY, "70.00"), fill(T0 + 6 * SEC, Side.SELL, "70.20")]
    marks = [(T0 + i * SEC, "CL", Decimal("70.00") + Decimal(i) / 50) for i in range(10)]
    report = build_report(
        fills=fills, marks=marks, instruments={"CL": CL}, signals=[], errors=[],
        ticks=10, first_ns=T0, last_ns=T0 + 9 * SEC, wall_s=0.0, orders_sent=2,
    )  # fmt: skip
    svg = xml.dom.minidom.parseString(render_svg(report))
    texts = [t.firstChild.nodeValue or "" for t in svg.getElementsByTagName("text") if t.firstChild]
    assert any(text.startswith("price CL:") for text in texts)
    markers = svg.getElementsByTagName("polygon")
    assert [m.getAttribute("class") for m in markers] == ["fill buy", "fill sell"]
    assert sum(1 for text in texts if text.count(":") == 2 and len(text) == 8) == 5  # HH:MM:SS
    assert len(svg.getElementsByTagName("polyline")) == 2
