"""The done-when test of issue 12: ``ec mock serve --dialect cqg`` as a real subprocess,
ec's own cqg client, and a strategy that warms its 1-minute bars from the server's
backfilled history and then trades live: no gap and no double count at the seam.

The server runs as of a Wednesday morning in Chicago (``--start``), so the market trades
whatever the real date, with six minutes of simulated past (``--history 6m``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from ec_core.data import BarSource, FeedSet
from ec_core.data.warmup import seamed, warm_up
from ec_core.model import ExecutionReport, NewOrder, OrderType, ReportKind, Side
from ec_core.plugins import PluginHost
from ec_core.secrets import Secret
from mock_serve import serve_subprocess

USER, PASSWORD, ACCOUNT = "warm", "warm-password", "S-1"
START = "2024-01-10T15:10:50Z"  # 09:10:50 in Chicago: a live minute closes in seconds
HISTORY = ("--start", START, "--history", "6m")


@pytest.fixture
def server_url() -> Iterator[str]:
    args = ("--user", USER, "--account", ACCOUNT, "--seed", "5", *HISTORY)
    with serve_subprocess("--dialect", "cqg", *args, password=PASSWORD, ready="history:") as (
        lines,
        url,
    ):
        assert "6m of simulated market" in lines[-1], lines
        yield url


@pytest.mark.anyio
async def test_a_strategy_warms_from_ec_mock_serve_history_and_trades_live(
    server_url: str,
) -> None:
    settings = {"url": server_url, "user": USER, "password": Secret(PASSWORD)}
    session: Any
    async with PluginHost.load().open_session("cqg", settings) as session:
        instrument = await session.resolve("EP")
        account = next(a.account_id for a in await session.accounts() if a.name == ACCOUNT)
        assert session.base_time is not None
        server_now = session.base_time.to_ns(0)  # the server's clock at logon (to the second)
        feeds = FeedSet.of([instrument], timeframes=("1m",), source=BarSource.TRADE)
        buffer = feeds["EP"].tick_buffer
        async with (
            session.trades.stream(account) as trades,
            session.market_data.stream([instrument]) as stream,
        ):
            report = await warm_up(feeds, session.history, now_ns=server_now, lookback={"1m": 5})
            warmed = list(buffer.bars("1m"))
            assert len(warmed) >= 4, report  # five minutes asked of six: four or five closed
            seam = report.seams["EP"]
            average = sum(b.close for b in warmed) / len(warmed)
            # live ticks until a minute that the seam cut in two has closed
            with anyio.fail_after(90):
                async for event in seamed(stream, report.seams):
                    feeds.on_event(event)
                    if buffer.bars("1m")[-1].end_ns > seam:
                        break
            last = buffer.bars("1m")[-1]
            side = Side.BUY if last.close >= average else Side.SELL
            order = NewOrder(
                account_id=account,
                symbol="EP",
                side=side,
                qty=1,
                order_type=OrderType.MKT,
                cl_order_id="warm-live-1",
            )
            await session.orders.send(order)
            with anyio.fail_after(30):
                async for told in trades:
                    if isinstance(told, ExecutionReport) and told.kind is ReportKind.FILL:
                        assert told.cl_order_id == "warm-live-1"
                        break
        # warmed + live bars are the server's own bars of those minutes, to the tick
        built = list(buffer.bars("1m"))
        served = await session.history.bars(instrument, "1m", report.since_ns["EP"])
        assert built == list(served)[: len(built)]
        assert len(built) > len(warmed)
