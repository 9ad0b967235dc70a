"""A restarted ``ec gateway`` knows the instruments of what its journal holds: a worker
that reconnects after the restart gets them in its snapshot, and its P&L (and the
gateway's own, rebuilt from the journal) stays in money. Real processes: the gateway
restarted over a CQG-dialect venue that outlives it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.gateway.link import WorkerLink
from ec_core.testing.redis_server import RedisServer
from processes import EC, Proc
from venue_support import PASSWORD, PASSWORD_ENV, ServedVenue, served_venue

import ec_core
from ec_core import NewOrder, OrderType, Side, Trader

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _order(venue: ServedVenue, side: Side, qty: int, price: Decimal | None = None) -> NewOrder:
    return NewOrder(
        account_id=venue.account_id,
        symbol="EP",
        side=side,
        qty=qty,
        order_type=OrderType.MKT if price is None else OrderType.LMT,
        limit_price=price,
    )


async def _filled_price(trader: Trader, order: NewOrder) -> Decimal:
    done = await trader.wait_final(await trader.execute(order) or "")
    assert done.avg_fill_price is not None
    return done.avg_fill_price


@asynccontextmanager
async def _serving(venue: ServedVenue, redis_url: str, folder: Path) -> AsyncIterator[str]:
    """An ``ec gateway`` process on ``venue`` (journal in ``folder``), serving until the
    block ends, then stopped by SIGINT with exit code 0; yields the workers' url."""
    config = venue.gateway_toml(redis_url, folder.name, folder)
    (folder / "gw.toml").write_text(config, encoding="utf-8")
    command = [*EC, "gateway", "--config", "gw.toml"]
    with Proc(command, cwd=folder, env={PASSWORD_ENV: PASSWORD}) as gateway:
        await anyio.to_thread.run_sync(gateway.wait_for, "ec gateway: serving")
        yield f"{redis_url}?namespace={folder.name}"
        assert await anyio.to_thread.run_sync(gateway.finish) == 0, gateway.output


async def test_a_restarted_gateway_prices_what_its_journal_holds(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """The restarted gateway once started with no instrument: its tracker rebuilt the round
    trip's P&L in points, and the reconnected worker's snapshot had no EP, so its pnl()
    refused (PnlUnknownError naming EP) however often it connected again."""
    async with served_venue() as venue:
        with anyio.fail_after(90):
            async with (
                _serving(venue, redis_server.url, tmp_path) as url,
                ec_core.connect(url, account_id=venue.account_id, worker="w1") as t,
            ):
                bought = await _filled_price(t, _order(venue, Side.BUY, 2))
                sold = await _filled_price(t, _order(venue, Side.SELL, 2))
                await _filled_price(t, _order(venue, Side.BUY, 1))  # held
                working = await t.execute(_order(venue, Side.BUY, 1, venue.far_bid))
                assert working is not None
                points = sold - bought
                assert points != 0  # the spread at least
                before = t.pnl()
                assert before == points * 2 * 50
            async with (
                _serving(venue, redis_server.url, tmp_path) as url,
                ec_core.connect(url, account_id=venue.account_id, worker="w1") as t,
            ):
                assert isinstance(t.executor, WorkerLink)
                assert "EP" in t.executor.instruments
                assert t.pnl() == before  # money, as before the restart
                [ep] = [p for p in t.positions() if p.symbol == "EP"]
                assert ep.qty == 1
                assert ep.realized_pnl == before
                assert [o.cl_order_id for o in t.orders() if o.state.is_open] == [
                    working.cl_order_id
                ]


async def test_a_restarted_gateway_knows_the_instrument_of_an_order_still_working(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """An order working across the restart, nothing filled: its symbol was not resolved
    (only those of recovered fills were), so its first fill after the restart was booked
    in price points, outside the daily loss limit's money, and the reconnected worker's
    snapshot lacked the instrument."""
    async with served_venue() as venue:
        with anyio.fail_after(90):
            async with (
                _serving(venue, redis_server.url, tmp_path) as url,
                ec_core.connect(url, account_id=venue.account_id, worker="w1") as t,
            ):
                working = await t.execute(_order(venue, Side.BUY, 1, venue.far_bid))
                assert working is not None
            async with (
                _serving(venue, redis_server.url, tmp_path) as url,
                ec_core.connect(url, account_id=venue.account_id, worker="w1") as t,
            ):
                assert [o.cl_order_id for o in t.orders() if o.state.is_open] == [
                    working.cl_order_id
                ]
                assert isinstance(t.executor, WorkerLink)
                assert "EP" in t.executor.instruments  # in the hello's snapshot
