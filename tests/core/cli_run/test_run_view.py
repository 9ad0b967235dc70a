"""``ec run``'s live view: log records print above the table, never into it."""

from __future__ import annotations

import io
import logging

from ec_core.cli.run_view import live_logging, market_time
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
