"""A recording implementation of the strategy layer's OrderRouter protocol, and helpers."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from ec_core.data import FeedSet
from ec_core.errors import OrderError, OrderRejectedError
from ec_core.execution import Payload
from ec_core.model import (
    CancelOrder,
    Instrument,
    ModifyOrder,
    NewOrder,
    Order,
    OrderRequest,
    OrderState,
    OrderType,
    Position,
    Quote,
    Side,
)
from ec_core.strategy import StrategyContext

SEC = 1_000_000_000
T0 = 1_700_000_000 * SEC
SYMBOL = "Asset_A"
ACCOUNT = "ACC1"
INSTRUMENT = Instrument(symbol=SYMBOL, tick_size=Decimal("1"))


class RecordingRouter:
    """Keeps orders in memory the way a venue would, and records every request."""

    def __init__(self) -> None:
        self.requests: list[OrderRequest] = []
        self.orders: dict[str, Order] = {}  # by chain id
        self.fail: dict[type, OrderError] = {}

    async def execute(self, payload: Payload) -> Order | None:
        request = payload.request
        self.requests.append(request)
        error = self.fail.get(type(request))
        if error is not None:
            raise error
        if isinstance(request, NewOrder):
            order = Order(
                chain_id=request.cl_order_id,
                cl_order_id=request.cl_order_id,
                account_id=request.account_id,
                symbol=request.symbol,
                side=request.side,
                order_type=request.order_type,
                qty=request.qty,
                limit_price=request.limit_price,
                state=OrderState.WORKING,
            )
            self.orders[order.chain_id] = order
            return order
        if isinstance(request, ModifyOrder | CancelOrder):
            for chain, order in self.orders.items():
                if order.cl_order_id == request.orig_cl_order_id and order.state.is_open:
                    if isinstance(request, CancelOrder):
                        changed = msgspec.structs.replace(order, state=OrderState.CANCELLED)
                    else:
                        changed = msgspec.structs.replace(
                            order,
                            cl_order_id=request.cl_order_id,
                            limit_price=request.limit_price or order.limit_price,
                        )
                    self.orders[chain] = changed
                    return changed
            raise OrderRejectedError(
                "unknown order", code="UNKNOWN_ORDER", cl_order_id=request.orig_cl_order_id
            )
        return None

    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.state.is_open
            and (account_id is None or o.account_id == account_id)
            and (symbol is None or o.symbol == symbol)
        ]

    def position(self, account_id: str, symbol: str) -> Position:
        return Position(account_id=account_id, symbol=symbol)

    def order(self, order_id: str) -> Order | None:
        """By chain or current client id, final orders too."""
        found = self.orders.get(order_id)
        if found is None:
            found = next((o for o in self.orders.values() if o.cl_order_id == order_id), None)
        return found

    def cancel(self, chain_id: str) -> None:
        """The venue cancels the order on its own."""
        order = self.orders[chain_id]
        self.orders[chain_id] = msgspec.structs.replace(order, state=OrderState.CANCELLED)

    def fill(self, chain_id: str) -> None:
        order = self.orders[chain_id]
        self.orders[chain_id] = msgspec.structs.replace(
            order, state=OrderState.FILLED, filled_qty=order.qty
        )

    def kinds(self) -> list[str]:
        return [r.request_type.value for r in self.requests]


def limit(side: Side, price: int, qty: int = 1, cl_order_id: str = "") -> NewOrder:
    return NewOrder(
        account_id=ACCOUNT,
        symbol=SYMBOL,
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl_order_id,
    )


CLE_T0 = 1_704_898_800_000_000_000 + SEC  # a Wednesday morning in Chicago: CLE trades


def cle_quote(second: float, bid: str, ask: str, size: int = 10) -> Quote:
    """A CLE quote ``second`` seconds after ``CLE_T0``, prices as decimals (cents)."""
    return Quote(
        symbol="CLE",
        ts_ns=CLE_T0 + int(second * SEC),
        bid=int(Decimal(bid) * 100),
        ask=int(Decimal(ask) * 100),
        bid_size=size,
        ask_size=size,
    )


def cle_limit(account_id: str, side: Side, price: str, qty: int = 1) -> NewOrder:
    """A limit order on the mock's crude oil contract (CLE), for the replays on the venue."""
    return NewOrder(
        account_id=account_id,
        symbol="CLE",
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
    )


def quote(ts: int, price: int) -> Quote:
    """A quote whose mid (rounded down) is ``price``."""
    return Quote(symbol=SYMBOL, ts_ns=ts, bid=price, ask=price + 1, bid_size=1, ask_size=1)


def context(feeds: FeedSet, ts: int = T0) -> StrategyContext:
    from ec_core.strategy import MarketClock

    return StrategyContext(feeds=feeds, clock=MarketClock(ts), account_id=ACCOUNT)


def close(ctx: StrategyContext) -> Decimal:
    return ctx.feeds[SYMBOL].tick_buffer.ohlc()["Close"]
