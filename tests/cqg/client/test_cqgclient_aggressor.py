"""Aggressor or passive on each fill, from the CQG-dialect server's frames to core Fills.

The server sets ``is_aggressive`` on the fill transaction and its trades from the
engine's fill; the client's protocol core reads it back into ``Fill.is_aggressor``.
"""

from __future__ import annotations

from cqgclient_loop import SYMBOL, Loop
from ec_core.model import ExecutionReport, NewOrder, OrderType, ReportKind, Side


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
    assert loop.instrument is not None
    loop.venue.exchange.submit(
        NewOrder(
            account_id="HOUSE",
            symbol=SYMBOL,
            side=Side.SELL,
            qty=quote.bid_size + 1,  # the whole level, ours last in it
            order_type=OrderType.LMT,
            limit_price=loop.instrument.to_price(quote.bid),
            cl_order_id="hit",
        )
    )
    loop.pump()
    assert _fills(loop, "rest") == [False]
