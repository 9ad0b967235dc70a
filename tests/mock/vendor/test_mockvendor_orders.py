"""Order entry through the ``mock`` vendor loaded by the plugin host, end to end.

Two logons share one quiet venue: ``house`` makes the market, ``trader`` trades.
Every outcome is read from the trade stream, as a strategy would read it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ec_core.errors import ConnectionLostError
from ec_core.model import (
    AccountReport,
    CancelAll,
    CancelOrder,
    Duration,
    ExecutionReport,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    PositionReport,
    ReportKind,
    Side,
    SnapshotComplete,
)
from ec_core.vendor import Session
from ec_mock.vendor import MockVenue
from mockvendor_support import ESX, HOUSE, START_NS, TRADER, next_matching, next_report

P = Decimal


def limit(account: str, side: Side, qty: int, price: str, cl: str, **kw: object) -> NewOrder:
    return NewOrder(
        account_id=account,
        symbol=ESX.symbol,
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=P(price),
        cl_order_id=cl,
        **kw,  # type: ignore[arg-type]
    )


async def make_market(house: Session, bid: str = "4999.75", ask: str = "5000.25") -> None:
    """Resting house liquidity: 10 lots bid and 10 offered."""
    await house.orders.send(limit(HOUSE, Side.BUY, 10, bid, "h-bid"))
    await house.orders.send(limit(HOUSE, Side.SELL, 10, ask, "h-ask"))


@pytest.mark.anyio
async def test_trade_stream_starts_with_a_snapshot(trader: Session, house: Session) -> None:
    await trader.orders.send(limit(TRADER, Side.BUY, 1, "4990", "t-rest"))
    async with trader.trades.stream(TRADER) as events:
        first = await next_matching(events)
        assert isinstance(first, ExecutionReport)
        assert first.kind is ReportKind.STATUS
        assert first.cl_order_id == "t-rest"
        account = await next_matching(events, lambda e: not isinstance(e, ExecutionReport))
        assert isinstance(account, AccountReport)
        assert isinstance(await next_matching(events), SnapshotComplete)


@pytest.mark.anyio
async def test_limit_order_accept_modify_cancel(trader: Session) -> None:
    async with trader.trades.stream(TRADER) as events:
        await trader.orders.send(limit(TRADER, Side.BUY, 2, "4990", "t1"))
        accepted = await next_report(events, "t1", ReportKind.ACCEPTED)
        assert accepted.state is OrderState.WORKING
        assert accepted.limit_price == P("4990")

        await trader.orders.send(
            ModifyOrder(
                account_id=TRADER,
                symbol=ESX.symbol,
                orig_cl_order_id="t1",
                cl_order_id="t2",
                qty=3,
                limit_price=P("4991.25"),
            )
        )
        modified = await next_report(events, "t2", ReportKind.MODIFIED)
        assert (modified.qty, modified.limit_price, modified.orig_cl_order_id) == (
            3,
            P("4991.25"),
            "t1",
        )

        await trader.orders.send(
            CancelOrder(
                account_id=TRADER, symbol=ESX.symbol, orig_cl_order_id="t2", cl_order_id="t3"
            )
        )
        cancelled = await next_matching(
            events, lambda e: isinstance(e, ExecutionReport) and e.kind is ReportKind.CANCELLED
        )
        assert isinstance(cancelled, ExecutionReport)
        assert cancelled.state is OrderState.CANCELLED
    assert await trader.orders.open_orders(TRADER) == []
    status = await trader.orders.order_status(TRADER, "t2")
    assert status is not None
    assert status.state is OrderState.CANCELLED


@pytest.mark.anyio
async def test_market_order_fills_against_another_session(trader: Session, house: Session) -> None:
    await make_market(house)
    async with trader.trades.stream(TRADER) as events, house.trades.stream(HOUSE) as other:
        await trader.orders.send(
            NewOrder(
                account_id=TRADER,
                symbol=ESX.symbol,
                side=Side.BUY,
                qty=3,
                order_type=OrderType.MKT,
                duration=Duration.IOC,
                cl_order_id="m1",
            )
        )
        fill = await next_report(events, "m1", ReportKind.FILL)
        assert fill.fill is not None
        assert fill.fill.price == P("5000.25")
        assert fill.state is OrderState.FILLED
        position = await next_matching(events, lambda e: isinstance(e, PositionReport))
        assert isinstance(position, PositionReport)
        assert position.position.qty == 3
        house_fill = await next_report(other, "h-ask", ReportKind.FILL)
        assert house_fill.filled_qty == 3
    positions = await trader.trades.positions(TRADER)
    assert [(p.symbol, p.qty, p.avg_price) for p in positions] == [("ESX", 3, P("5000.25"))]


@pytest.mark.anyio
async def test_stop_and_stop_limit_trigger_on_a_trade(
    trader: Session, house: Session, venue: MockVenue
) -> None:
    await make_market(house)
    await house.orders.send(limit(HOUSE, Side.SELL, 5, "5000.50", "h-ask2"))
    async with trader.trades.stream(TRADER) as events:
        await trader.orders.send(
            NewOrder(
                account_id=TRADER,
                symbol=ESX.symbol,
                side=Side.BUY,
                qty=1,
                order_type=OrderType.STP,
                stop_price=P("5000.50"),
                cl_order_id="s1",
            )
        )
        assert (await next_report(events, "s1", ReportKind.ACCEPTED)).state is OrderState.WORKING
        await trader.orders.send(
            NewOrder(
                account_id=TRADER,
                symbol=ESX.symbol,
                side=Side.BUY,
                qty=1,
                order_type=OrderType.STL,
                stop_price=P("5000.50"),
                limit_price=P("5000.75"),
                cl_order_id="s2",
            )
        )
        await next_report(events, "s2", ReportKind.ACCEPTED)
        # the house lifts the offer through 5000.50: a print at the stop triggers both
        await house.orders.send(
            NewOrder(
                account_id=HOUSE,
                symbol=ESX.symbol,
                side=Side.BUY,
                qty=11,
                order_type=OrderType.MKT,
                duration=Duration.IOC,
                cl_order_id="h-lift",
            )
        )
        stop_fill = await next_report(events, "s1", ReportKind.FILL)
        stl_fill = await next_report(events, "s2", ReportKind.FILL)
    assert stop_fill.fill is not None
    assert stl_fill.fill is not None
    assert stop_fill.fill.price == P("5000.50")
    assert stl_fill.fill.price == P("5000.50")


@pytest.mark.anyio
async def test_rejects_carry_code_and_text(trader: Session) -> None:
    async with trader.trades.stream(TRADER) as events:
        await trader.orders.send(limit(TRADER, Side.BUY, 1, "4990.10", "bad-tick"))
        reject = await next_report(events, "bad-tick", ReportKind.REJECTED)
    assert reject.state is OrderState.REJECTED
    assert reject.reject_code == "PRICE_OFF_TICK"
    assert reject.reject_text


@pytest.mark.anyio
async def test_cancel_all_liquidate_all_and_go_flat(trader: Session, house: Session) -> None:
    await make_market(house)
    async with trader.trades.stream(TRADER) as events:
        for n in range(3):
            await trader.orders.send(limit(TRADER, Side.BUY, 1, f"499{n}", f"w{n}"))
        await trader.orders.send(CancelAll(account_id=TRADER, cl_order_id="ca"))
        for n in range(3):
            await next_report(events, f"w{n}", ReportKind.CANCELLED)
        assert await trader.orders.open_orders(TRADER) == []

        await trader.orders.send(
            NewOrder(
                account_id=TRADER,
                symbol=ESX.symbol,
                side=Side.BUY,
                qty=2,
                order_type=OrderType.MKT,
                duration=Duration.IOC,
                cl_order_id="b",
            )
        )
        await next_report(events, "b", ReportKind.FILL)
        await trader.orders.send(limit(TRADER, Side.BUY, 1, "4980", "w9"))
        await trader.orders.send(
            LiquidateAll(account_id=TRADER, symbol=ESX.symbol, cl_order_id="liq")
        )
        await next_report(events, "w9", ReportKind.CANCELLED)
        flat = await next_matching(
            events, lambda e: isinstance(e, PositionReport) and e.position.qty == 0
        )
        assert isinstance(flat, PositionReport)

        await trader.orders.send(
            NewOrder(
                account_id=TRADER,
                symbol=ESX.symbol,
                side=Side.SELL,
                qty=1,
                order_type=OrderType.MKT,
                duration=Duration.IOC,
                cl_order_id="s",
            )
        )
        await next_matching(
            events, lambda e: isinstance(e, PositionReport) and e.position.qty == -1
        )
        await trader.orders.send(GoFlat(account_id=TRADER, cl_order_id="gf"))
        await next_matching(events, lambda e: isinstance(e, PositionReport) and e.position.qty == 0)
    assert all(p.qty == 0 for p in await trader.trades.positions(TRADER))


@pytest.mark.anyio
async def test_historical_orders_and_accounts(trader: Session, venue: MockVenue) -> None:
    await trader.orders.send(limit(TRADER, Side.BUY, 1, "4990", "h1"))
    await trader.orders.send(
        CancelOrder(account_id=TRADER, symbol=ESX.symbol, orig_cl_order_id="h1", cl_order_id="h1c")
    )
    venue.advance(60 * 1_000_000_000)
    await trader.orders.send(limit(TRADER, Side.BUY, 1, "4991", "h2"))
    start = datetime.fromtimestamp(START_NS / 1e9, UTC)
    everything = await trader.orders.historical_orders(TRADER, start, start + timedelta(hours=1))
    assert [r.cl_order_id for r in everything][-1] == "h2"
    assert {"h2"} < {r.cl_order_id for r in everything} | {r.chain_id for r in everything}
    later = await trader.orders.historical_orders(
        TRADER, start + timedelta(seconds=30), start + timedelta(hours=1)
    )
    assert [r.cl_order_id for r in later] == ["h2"]
    naive = (start + timedelta(seconds=30)).replace(tzinfo=None)  # naive means UTC
    assert await trader.orders.historical_orders(TRADER, naive, start + timedelta(hours=1)) == later
    accounts = await trader.accounts()
    assert [a.account_id for a in accounts] == [TRADER]


@pytest.mark.anyio
async def test_empty_client_order_id_gets_one(trader: Session) -> None:
    async with trader.trades.stream(TRADER) as events:
        await trader.orders.send(limit(TRADER, Side.BUY, 1, "4990", ""))
        report = await next_matching(
            events, lambda e: isinstance(e, ExecutionReport) and e.kind is ReportKind.ACCEPTED
        )
    assert isinstance(report, ExecutionReport)
    assert report.cl_order_id.startswith("mock-")


@pytest.mark.anyio
async def test_requests_after_close_fail_with_connection_lost(
    host: object, venue: MockVenue
) -> None:
    from ec_core.plugins import PluginHost

    assert isinstance(host, PluginHost)
    async with host.open_session("mock", {"venue": venue, "account_id": TRADER}) as session:
        pass
    with pytest.raises(ConnectionLostError, match="CLOSED"):
        await session.orders.send(limit(TRADER, Side.BUY, 1, "4990", "late"))
