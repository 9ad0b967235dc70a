"""The replay chart: price and equity panels, a time axis, a marker per fill, the symbol."""

from __future__ import annotations

import xml.dom.minidom
from decimal import Decimal

import msgspec
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


def test_each_instrument_has_a_price_pane_with_its_own_fills_on_one_time_axis() -> None:
    es = Instrument(symbol="ES", tick_size=Decimal("0.25"), multiplier=Decimal(50))
    fills = [fill(T0 + 2 * SEC, Side.BUY, "70.00"), fill(T0 + 6 * SEC, Side.SELL, "70.20")]
    fills.append(msgspec.structs.replace(fills[0], symbol="ES", price=Decimal("4500.25")))
    marks = [(T0 + i * SEC, "CL", Decimal("70.00") + Decimal(i) / 50) for i in range(10)]
    marks += [(T0 + i * SEC, "ES", Decimal("4500.00") + Decimal(i) / 4) for i in range(10)]
    report = build_report(
        fills=fills, marks=marks, instruments={"CL": CL, "ES": es}, signals=[], errors=[],
        ticks=20, first_ns=T0, last_ns=T0 + 9 * SEC, wall_s=0.0, orders_sent=3,
    )  # fmt: skip
    svg = xml.dom.minidom.parseString(render_svg(report))
    panes = {
        g.getAttribute("data-symbol"): g
        for g in svg.getElementsByTagName("g")
        if "price" in g.getAttribute("class")
    }
    assert list(panes) == ["CL", "ES"]
    titles = {s: p.getElementsByTagName("text")[0].firstChild for s, p in panes.items()}
    assert {s: t.nodeValue for s, t in titles.items() if t is not None} == {
        "CL": "price CL: 70.00 .. 70.18",
        "ES": "price ES: 4500.00 .. 4502.25",
    }
    sides = {
        s: [m.getAttribute("class") for m in p.getElementsByTagName("polygon")]
        for s, p in panes.items()
    }
    assert sides == {"CL": ["fill buy", "fill sell"], "ES": ["fill buy"]}
    assert len(svg.getElementsByTagName("polyline")) == 3  # two prices and equity
    # one time axis: the same time sits at the same x in both panes
    xs = {
        s: p.getElementsByTagName("polyline")[0].getAttribute("points").split()[0].split(",")[0]
        for s, p in panes.items()
    }
    assert xs["CL"] == xs["ES"]
    assert svg.documentElement is not None
    assert (
        int(svg.documentElement.getAttribute("height")) > 520
    )  # a pane more than one instrument's chart
