"""Book depth on the mock vendor: stream(..., depth=True) yields BookDepth (issue 17 item 9)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.model import BookDepth, BookLevel, NewOrder, OrderType, Quote, Side
from ec_core.vendor import Capability, Session
from ec_mock.vendor import MOCK_INFO, MarketDataChannel
from mockvendor_support import ESX, HOUSE, TRADER, next_matching


def _order(account: str, side: Side, price: str, cl: str, qty: int = 1) -> NewOrder:
    return NewOrder(
        account_id=account,
        symbol=ESX.symbol,
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl,
    )


def _is_depth(event: object) -> bool:
    return isinstance(event, BookDepth)


def test_mock_declares_depth() -> None:
    assert Capability.DEPTH in MOCK_INFO.capabilities


@pytest.mark.anyio
async def test_depth_snapshot_aggregates_per_price_best_first(
    trader: Session, house: Session
) -> None:
    await house.orders.send(_order(HOUSE, Side.BUY, "4999.75", "b1", qty=2))
    await house.orders.send(_order(HOUSE, Side.BUY, "4999.75", "b2", qty=3))
    await house.orders.send(_order(HOUSE, Side.BUY, "4999.50", "b3"))
    await house.orders.send(_order(HOUSE, Side.SELL, "5000.25", "a1", qty=4))
    es = await trader.resolve(ESX.symbol)
    tick = es.to_ticks
    async with trader.market_data.stream([es], depth=True) as events:
        depth = await next_matching(events, _is_depth)
        assert isinstance(depth, BookDepth)
        assert depth.symbol == ESX.symbol
        assert depth.bids == (
            BookLevel(price=tick(Decimal("4999.75")), size=5),
            BookLevel(price=tick(Decimal("4999.50")), size=1),
        )
        assert depth.asks == (BookLevel(price=tick(Decimal("5000.25")), size=4),)


@pytest.mark.anyio
async def test_depth_follows_changes_below_the_touch(trader: Session, house: Session) -> None:
    await house.orders.send(_order(HOUSE, Side.BUY, "4999.75", "b1"))
    es = await trader.resolve(ESX.symbol)
    async with trader.market_data.stream([es], depth=True) as events:
        await next_matching(events, _is_depth)
        # a new level behind the touch changes no quote, but changes the depth
        await house.orders.send(_order(HOUSE, Side.BUY, "4999.00", "b2", qty=6))
        depth = await next_matching(events, _is_depth)
        assert isinstance(depth, BookDepth)
        assert [level.size for level in depth.bids] == [1, 6]


@pytest.mark.anyio
async def test_depth_is_capped_at_ten_levels(trader: Session, house: Session) -> None:
    for i in range(12):
        await house.orders.send(_order(HOUSE, Side.SELL, str(Decimal("5001") + i), f"a{i}"))
    es = await trader.resolve(ESX.symbol)
    async with trader.market_data.stream([es], depth=True) as events:
        depth = await next_matching(events, _is_depth)
        assert isinstance(depth, BookDepth)
        assert len(depth.asks) == 10
        assert depth.asks[0].price == es.to_ticks(Decimal("5001"))


@pytest.mark.anyio
async def test_without_depth_no_book_depth_is_streamed(trader: Session, house: Session) -> None:
    es = await trader.resolve(ESX.symbol)
    async with trader.market_data.stream([es]) as events:
        await house.orders.send(_order(HOUSE, Side.BUY, "4999.00", "b"))
        await trader.orders.send(_order(TRADER, Side.BUY, "4998.00", "t"))
        quote = await next_matching(events)
        assert isinstance(quote, Quote)
        assert isinstance(events, MarketDataChannel)
        assert not [e for e in events.drain() if isinstance(e, BookDepth)]
