"""``ec run``'s live view: log records print above the table, never into it."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
from ec_core.cli.run_view import (
    instrument_lines,
    live_logging,
    market_time,
    unknown_lines,
    view,
    working_lines,
)
from ec_core.model import (
    ExecutionReport,
    Fill,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    Side,
)
from ec_core.plugins import PluginHost
from ec_core.strategy import OpSignal, OpStrategy, StrategyContext
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_feed
from ec_core.strategy.rig import TradingRig, trading_rig
from rich.console import Console
from rich.live import Live
from rich.table import Table


def test_log_records_go_through_the_live_console() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, record=True)
    root = logging.getLogger()
    before = root.handlers[:]
    table = Table("what", "value")
    table.add_row("ticks", "1")
    with Live(table, console=console, auto_refresh=False) as live, live_logging(live.console):
        assert root.handlers != before
        logging.getLogger("ec_core.strategy.engine").error("Bad failed in generate")
        live.refresh()
    assert root.handlers == before
    text = console.export_text()
    assert "Bad failed in generate" in text
    # the record is printed whole, on its own line, above the table
    assert text.index("Bad failed in generate") < text.rindex("ticks")


def test_market_time_is_iso_8601_with_its_zone() -> None:
    assert market_time(1_704_898_801_250_000_000) == "2024-01-10T15:00:01.250+00:00"


def _elsewhere(n: int, side: Side, price: str) -> ExecutionReport:
    """A fill of EP (which the run does not trade) placed from another terminal."""
    fill = Fill(
        fill_id=f"F{n}", account_id="RUN-1", symbol="EP", side=side, qty=1,
        price=Decimal(price), ts_ns=n, cl_order_id=f"elsewhere.{n}",
    )  # fmt: skip
    return ExecutionReport(
        kind=ReportKind.FILL, account_id="RUN-1", symbol="EP", cl_order_id=f"elsewhere.{n}",
        state=OrderState.FILLED, side=side, order_type=OrderType.MKT, qty=1, filled_qty=1,
        avg_fill_price=Decimal(price), fill=fill,
    )  # fmt: skip


class _Watch(OpStrategy):
    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return None


@asynccontextmanager
async def _cle_rig() -> AsyncIterator[TradingRig]:
    """``ec run``'s rig for account RUN-1 trading CLE on the mock, on event time."""
    host = PluginHost.load()
    settings = {"clock": "simulated", "market": False, "account_id": "RUN-1"}
    async with host.open_session("mock", settings) as session:
        market = replay_feed(session)
        async with trading_rig(
            host,
            session,
            StrategyPlan([_Watch(symbols=["CLE"])]),
            account_id="RUN-1",
            clock=market.clock,
            engine_clock=None,
        ) as rig:
            yield rig


@pytest.mark.anyio
async def test_a_symbol_traded_elsewhere_is_shown_in_price_points_not_money() -> None:
    """The run trades CLE; EP's fills (another terminal's) are booked in points: its line
    says so, instead of a USD figure that is points."""
    async with _cle_rig() as rig:
        rig.tracker.apply(_elsewhere(1, Side.BUY, "5000.00"))
        rig.tracker.apply(_elsewhere(2, Side.SELL, "5001.25"))
        lines = instrument_lines(rig)
    assert lines[0].startswith("CLE: position +0")
    assert lines[1] == (
        "EP: position +0, realized +1.25 price points (its instrument is not known here: not money)"
    )


@pytest.mark.anyio
async def test_an_unknown_order_is_listed_apart_from_the_working_ones() -> None:
    """An order whose fate is not known may or may not be working: the live view lists it
    on its own UNKNOWN row, never among the working orders."""
    async with _cle_rig() as rig:
        for n in (1, 2):
            rig.tracker.track_new(
                NewOrder(
                    account_id="RUN-1",
                    symbol="CLE",
                    side=Side.BUY,
                    qty=n,
                    order_type=OrderType.LMT,
                    limit_price=Decimal("70.00"),
                    cl_order_id=f"view{n}",
                )
            )
        rig.tracker.mark_unknown("view2", "no answer")
        working, unknown = working_lines(rig), unknown_lines(rig)
        table = view(rig, "test")
    assert working == ["BUY 1 CLE LMT @ 70.00 (view1, PENDING_NEW)"]
    assert unknown == ["BUY 2 CLE LMT @ 70.00 (view2, UNKNOWN)"]
    rows = dict(zip(table.columns[0].cells, table.columns[1].cells, strict=True))
    assert rows["working"] == working[0]
    assert rows["UNKNOWN"] == unknown[0]
