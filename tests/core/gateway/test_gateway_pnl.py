"""A remote trader's P&L is money, as the gateway's own: ``connect("redis://…")``'s
tracker books each fill with the instrument's multiplier, also for a symbol it trades
without ever subscribing to it; a fill whose instrument it was not told is never summed
as if it were money."""

from __future__ import annotations

import logging
from decimal import Decimal

import anyio
import pytest
from ec_core.gateway.link import WorkerLink
from ec_core.model import ExecutionReport, Fill, OrderState, ReportKind
from ec_core.testing.redis_server import RedisServer
from gateway_support import gateway_config, new_namespace, running_gateway, served_trader

import ec_core
from ec_core import (
    NewOrder,
    OrderDeniedError,
    OrderType,
    PnlUnknownError,
    Side,
    SymbolNotFoundError,
    Trader,
)

pytestmark = pytest.mark.anyio


def _market(side: Side, symbol: str = "EP") -> NewOrder:
    return NewOrder(account_id="MOCK-1", symbol=symbol, side=side, qty=2, order_type=OrderType.MKT)


def _foreign_fill(symbol: str) -> ExecutionReport:
    """A fill of an order placed elsewhere on the account, as its stream brings it."""
    fill = Fill(
        fill_id="F-ELSEWHERE", account_id="MOCK-1", symbol=symbol, side=Side.BUY, qty=1,
        price=Decimal(100), ts_ns=1, cl_order_id="elsewhere.1",
    )  # fmt: skip
    return ExecutionReport(
        kind=ReportKind.FILL, account_id="MOCK-1", symbol=symbol, cl_order_id="elsewhere.1",
        state=OrderState.FILLED, side=Side.BUY, order_type=OrderType.MKT, qty=1, filled_qty=1,
        avg_fill_price=Decimal(100), fill=fill,
    )  # fmt: skip


async def _round_trips(trader: Trader, symbol: str) -> Decimal:
    """Buy 2 then sell 2 at market until the points gained or lost are not 0 (bought at the
    ask, sold at the bid: the spread, unless the market moved by as much between)."""
    points = Decimal(0)
    for _ in range(5):
        bought = await trader.wait_final(await trader.execute(_market(Side.BUY, symbol)) or "")
        sold = await trader.wait_final(await trader.execute(_market(Side.SELL, symbol)) or "")
        assert bought.avg_fill_price is not None
        assert sold.avg_fill_price is not None
        points += sold.avg_fill_price - bought.avg_fill_price
        if points:
            break
    assert points != 0
    return points


async def test_pnl_of_a_symbol_never_subscribed_is_money_as_the_gateway_s(
    redis_server: RedisServer,
) -> None:
    """EP is $50 a point: the round trips of 2 lose points x 2 x 50. The remote tracker had
    no multiplier: pnl() read it in points (-2.50 for -125.00 USD)."""
    with anyio.fail_after(30):
        async with served_trader(redis_server) as (gateway, trader):
            assert "EP" not in trader.feeds  # never subscribed
            points = await _round_trips(trader, "EP")
            assert trader.pnl() == points * 2 * 50
            assert trader.pnl() == gateway.snapshot("", "MOCK-1").realized_pnl
            [ep] = [p for p in trader.positions() if p.symbol == "EP"]
            assert ep.realized_pnl == points * 2 * 50


async def test_a_symbol_the_gateway_cannot_resolve_is_denied_and_pnl_stays_money(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server) as (_, trader):
            with pytest.raises(OrderDeniedError, match="SYMBOL_NOT_FOUND"):
                await trader.execute(_market(Side.BUY, "NOPE"))
            assert trader.pnl() == 0


async def test_another_worker_s_first_fill_of_a_symbol_is_priced_without_a_reconnect(
    redis_server: RedisServer,
) -> None:
    """w1 follows the account; w2 trades CLE, which w1 was never told: w1's tracker books
    those fills in price points and lists CLE as unpriced (pnl() would refuse), and asks
    the gateway for CLE at once: priced then ($1,000 a point), its P&L is the gateway's,
    with no reconnect (it took one before)."""
    namespace = new_namespace()
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with (
            running_gateway(gateway_config(redis_server.url, namespace)) as gateway,
            ec_core.connect(url, account_id="MOCK-1", worker="w1") as watcher,
            ec_core.connect(url, account_id="MOCK-1", worker="w2") as trader,
        ):
            link = watcher.executor
            assert isinstance(link, WorkerLink)
            points = await _round_trips(trader, "CLE")
            assert trader.pnl() == points * 2 * 1000
            last = trader.orders()[-1].cl_order_id
            await watcher.tracker.wait_outcome(last)  # the account stream brought it
            await watcher.wait_final(last)
            await link.unpriced_asked()
            assert link.counters["unpriced_lookups"] == 1  # booked unpriced, then asked
            assert watcher.tracker.unpriced() == ()
            assert watcher.pnl() == points * 2 * 1000
            assert watcher.pnl() == gateway.snapshot("", "MOCK-1").realized_pnl


async def test_a_fill_the_gateway_cannot_price_makes_pnl_refuse_naming_it(
    redis_server: RedisServer,
) -> None:
    """A symbol the worker booked in points and the gateway cannot resolve either stays
    unpriced: pnl() raises naming it, never adds its points to money."""
    async with served_trader(redis_server) as (_, trader):
        link = trader.executor
        assert isinstance(link, WorkerLink)
        link.tracker.apply(_foreign_fill("NOPE"))
        with anyio.fail_after(30):
            await link.unpriced_asked()
        assert link.counters["unpriced_lookups"] == 1
        with pytest.raises(PnlUnknownError, match="NOPE") as caught:
            trader.pnl()
        assert caught.value.symbols == ("NOPE",)
        with anyio.fail_after(30), pytest.raises(SymbolNotFoundError, match="NOPE"):
            await trader.instrument("NOPE")  # asked again: still not listed
        with anyio.fail_after(30):
            assert (await trader.instrument("EP")).multiplier == 50


async def test_a_worker_connected_again_books_its_previous_run_s_events_in_money(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Its replies stream still holds the first run's order events; read before the new
    hello's snapshot (which has them and the instruments) they were booked in points: an
    error logged at every reconnect naming EP as unpriced, and a lookup to price it."""
    namespace = new_namespace()
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with running_gateway(gateway_config(redis_server.url, namespace)) as gateway:
            async with ec_core.connect(url, account_id="MOCK-1", worker="w1") as trader:
                points = await _round_trips(trader, "EP")
            caplog.clear()
            async with ec_core.connect(url, account_id="MOCK-1", worker="w1") as again:
                assert again.tracker.unpriced() == ()
                assert again.pnl() == points * 2 * 50
                assert again.pnl() == gateway.snapshot("", "MOCK-1").realized_pnl
            assert [r.message for r in caplog.records if r.levelno >= logging.ERROR] == []
