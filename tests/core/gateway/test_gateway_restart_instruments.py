"""A restarted ``ec gateway`` knows the instruments of what its journal holds: a worker
that reconnects after the restart gets them in its snapshot, and its P&L (and the
gateway's own, rebuilt from the journal) stays in money. Real processes: the gateway
restarted over a CQG-dialect venue that outlives it."""

from __future__ import annotations

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


async def _wait(proc: Proc, prefix: str) -> str:
    return await anyio.to_thread.run_sync(proc.wait_for, prefix)


async def test_a_restarted_gateway_prices_what_its_journal_holds(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """The restarted gateway once started with no instrument: its tracker rebuilt the round
    trip's P&L in points, and the reconnected worker's snapshot had no EP, so its pnl()
    refused (PnlUnknownError naming EP) however often it connected again."""
    url = f"{redis_server.url}?namespace=restart"
    env = {PASSWORD_ENV: PASSWORD}
    async with served_venue() as venue:
        config = venue.gateway_toml(redis_server.url, "restart", tmp_path)
        (tmp_path / "gw.toml").write_text(config, encoding="utf-8")
        gateway = [*EC, "gateway", "--config", "gw.toml"]
        with anyio.fail_after(90):
            with Proc(gateway, cwd=tmp_path, env=env) as first:
                await _wait(first, "ec gateway: serving")
                async with ec_core.connect(url, account_id=venue.account_id, worker="w1") as t:
                    bought = await _filled_price(t, _order(venue, Side.BUY, 2))
                    sold = await _filled_price(t, _order(venue, Side.SELL, 2))
                    await _filled_price(t, _order(venue, Side.BUY, 1))  # held
                    working = await t.execute(_order(venue, Side.BUY, 1, venue.far_bid))
                    assert working is not None
                    points = sold - bought
                    assert points != 0  # the spread at least
                    before = t.pnl()
                    assert before == points * 2 * 50
                assert await anyio.to_thread.run_sync(first.finish) == 0, first.output
            with Proc(gateway, cwd=tmp_path, env=env) as second:
                await _wait(second, "ec gateway: serving")
                async with ec_core.connect(url, account_id=venue.account_id, worker="w1") as t:
                    assert isinstance(t.executor, WorkerLink)
                    assert "EP" in t.executor.instruments
                    assert t.pnl() == before  # money, as before the restart
                    [ep] = [p for p in t.positions() if p.symbol == "EP"]
                    assert ep.qty == 1
                    assert ep.realized_pnl == before
                    assert [o.cl_order_id for o in t.orders() if o.state.is_open] == [
                        working.cl_order_id
                    ]
                assert await anyio.to_thread.run_sync(second.finish) == 0, second.output
