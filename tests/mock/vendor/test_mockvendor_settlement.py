"""Daily settlement through the mock vendor: margin calls on the trade stream, and the
margins of a user's TOML instruments reaching the venue (issue 17 item 8)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.model import AccountReport, MarginCall, NewOrder, OrderType, Side, TradeEvent
from ec_core.plugins import PluginHost
from ec_mock.vendor import MockVenue
from mockvendor_support import ESX, HOUSE, TRADER, next_matching, quiet_venue


def _limit(account: str, side: Side, cl: str) -> NewOrder:
    return NewOrder(
        account_id=account,
        symbol=ESX.symbol,
        side=side,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=Decimal(5000),
        cl_order_id=cl,
    )


def _is_call(event: TradeEvent) -> bool:
    return isinstance(event, MarginCall)


@pytest.mark.anyio
async def test_a_margin_call_reaches_the_accounts_trade_stream(host: PluginHost) -> None:
    """CME Rule 930: the account below maintenance hears its call; the other does not."""
    venue = quiet_venue(balance=Decimal(20_000))  # ESX margin: 1000 ticks = $12,500
    async with (
        host.open_session("mock", {"venue": venue, "account_id": TRADER}) as trader,
        host.open_session("mock", {"venue": venue, "account_id": HOUSE}) as house,
        trader.trades.stream(TRADER) as events,
        house.trades.stream(HOUSE) as other,
    ):
        await house.orders.send(_limit(HOUSE, Side.SELL, "h1"))
        await trader.orders.send(_limit(TRADER, Side.BUY, "t1"))
        venue.exchange.settle(ESX.symbol, Decimal(4800))  # a $10,000 loss for the trader
        call = await next_matching(events, _is_call)
        assert isinstance(call, MarginCall)
        assert (call.account_id, call.equity, call.call_amount) == (
            TRADER,
            Decimal("10000.00"),
            Decimal("2500.00"),
        )
        settled = await next_matching(other, lambda e: isinstance(e, AccountReport))
        while not (isinstance(settled, AccountReport) and settled.account.balance > 20_000):
            settled = await next_matching(other, lambda e: isinstance(e, AccountReport))
        assert settled.account.balance == Decimal("30000.00")  # the house's gain, no call
    venue.check()


def test_a_toml_file_gives_the_venue_its_margins_and_rules(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[instrument]]\nsymbol = "MYES"\ntick_size = "0.25"\nmultiplier = "50"\n'
        'margin = "1500"\nmaintenance_margin = "1200"\n'
        'rules = { band_points = "10.00", settlement_seconds = 60 }\n',
        encoding="utf-8",
    )
    venue = MockVenue.create(instruments=path, market=False)
    exchange = venue.exchange
    assert (exchange.margin("MYES"), exchange.maintenance_margin("MYES")) == (
        Decimal(1500),
        Decimal(1200),
    )
    rules = exchange.product_rules("MYES")
    assert rules is not None
    assert rules.settlement_seconds == 60
