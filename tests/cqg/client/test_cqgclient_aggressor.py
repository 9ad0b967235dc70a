"""Aggressor or passive on each fill, and the aggressor side of each print, over CQG.

The server sets ``is_aggressive`` on the fill transaction and its trades from the
engine's fill, and a trade quote's ``sales_condition`` from the print's aggressor; the
client's protocol core reads them back into ``Fill.is_aggressor`` and ``Trade.aggressor``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from cqgclient_loop import SYMBOL, Loop
from ec_core.model import ExecutionReport, ReportKind, Side, Trade
from ec_cqg.client.core import ListSink
from ec_cqg.client.marketdata import ContractQuotes
from ec_cqg.protocol.pb import market_data_2
from ec_cqg.protocol.prices import PriceScale
from ec_cqg.protocol.timestamps import BaseTime


def _fills(loop: Loop, cl_order_id: str) -> list[bool | None]:
    return [
        e.fill.is_aggressor
        for e in loop.sink.items
        if isinstance(e, ExecutionReport)
        and e.kind is ReportKind.FILL
        and e.fill is not None
        and e.cl_order_id == cl_order_id
    ]


def test_a_market_order_is_aggressor_and_a_resting_bid_hit_later_is_passive() -> None:
    loop = Loop()
    loop.connect()
    assert loop.send(loop.new_order("take", Side.BUY, offset_ticks=None))
    loop.pump()
    assert _fills(loop, "take") == [True]
    quote = loop.venue.exchange.best_quote(SYMBOL)
    assert quote is not None
    assert quote.bid is not None
    assert loop.send(loop.new_order("rest", Side.BUY, offset_ticks=-1))  # joins the best bid
    loop.pump()
    loop.venue_limit("hit", Side.SELL, quote.bid_size + 1, quote.bid)  # ours last in the level
    assert _fills(loop, "rest") == [False]


def test_a_print_of_the_clients_market_order_says_the_buyer_was_the_aggressor() -> None:
    loop = Loop()
    loop.connect()
    sink: ListSink[object] = ListSink()
    loop.subscribe_market(sink, depth=False)
    sink.items.clear()
    assert loop.send(loop.new_order("take", Side.BUY, offset_ticks=None))
    loop.pump()
    prints = [e for e in sink.items if isinstance(e, Trade)]
    assert [t.aggressor for t in prints] == [Side.BUY]


@pytest.mark.parametrize(
    ("condition", "aggressor"),
    [(None, None), (1, Side.SELL), (2, Side.BUY), (3, None), (4, Side.BUY), (5, Side.SELL)],
)
def test_a_trade_quotes_sales_condition_maps_to_the_aggressor(
    condition: int | None, aggressor: Side | None
) -> None:
    """Hit (sold into the bid) and sell-side aggressor: SELL; take and buy-side: BUY; a
    spread leg or no condition: not known."""
    prices = PriceScale(correct_price_scale=Decimal("0.01"), tick_size=Decimal("0.25"))
    quotes = ContractQuotes(SYMBOL, prices)
    data = market_data_2.RealTimeMarketData(contract_id=1)
    quote = data.quotes.add(type=0, scaled_price=450025)
    quote.volume.significand = 1
    if condition is not None:
        quote.sales_condition = condition
    (trade,) = quotes.apply(data, BaseTime("2024-01-01T00:00:00"), 0)
    assert isinstance(trade, Trade)
    assert trade.aggressor is aggressor
