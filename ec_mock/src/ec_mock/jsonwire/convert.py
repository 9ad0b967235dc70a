"""Between the engine's core objects and the ``json`` dialect's messages (no I/O).

The wire speaks the venue's own words (``"B"``/``"S"``, ``"open"``, ``"partial"``...)
and prices as decimal strings; the engine speaks ec's model. Every function here is
pure, so the dialect's vocabulary is tested without a socket.
"""

from __future__ import annotations

from decimal import Decimal

from ec_core.model import (
    Account,
    CancelAll,
    CancelOrder,
    Duration,
    ExecutionReport,
    Instrument,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    Position,
    Quote,
    Side,
    Trade,
)

from ec_mock.jsonwire.schema import (
    AccountView,
    CancelAllReq,
    CancelReq,
    FillView,
    LiquidateReq,
    ModifyReq,
    NewReq,
    OrderView,
    PositionView,
    QuoteView,
    SideCode,
    TradeView,
    TypeCode,
)

__all__ = [
    "STATE_WORDS",
    "account_view",
    "core_request",
    "order_view",
    "position_view",
    "quote_view",
    "trade_view",
]

STATE_WORDS = {
    OrderState.PENDING_NEW: "pending",
    OrderState.WORKING: "open",
    OrderState.PARTIALLY_FILLED: "partial",
    OrderState.PENDING_MODIFY: "pending",
    OrderState.PENDING_CANCEL: "pending",
    OrderState.FILLED: "filled",
    OrderState.CANCELLED: "cancelled",
    OrderState.REJECTED: "rejected",
    OrderState.EXPIRED: "expired",
    OrderState.UNKNOWN: "unknown",
    OrderState.VOIDED: "cancelled",
}
_SIDE: dict[Side, SideCode] = {Side.BUY: "B", Side.SELL: "S"}
_SIDE_OF = {"B": Side.BUY, "S": Side.SELL}
_TYPES: dict[OrderType, TypeCode] = {
    OrderType.LMT: "LMT",
    OrderType.MKT: "MKT",
    OrderType.STP: "STP",
    OrderType.STL: "STL",
}  # the dialect has no word for the others: such an order shows "type": null


def _text(price: Decimal | None) -> str | None:
    return None if price is None else str(price)


def _decimal(price: str | None) -> Decimal | None:
    return None if price is None else Decimal(price)


def core_request(
    request: NewReq | ModifyReq | CancelReq | CancelAllReq | LiquidateReq,
) -> NewOrder | ModifyOrder | CancelOrder | CancelAll | LiquidateAll:
    """The engine's request for an order request read off the wire."""
    match request:
        case NewReq():
            return NewOrder(
                account_id=request.acct,
                symbol=request.sym,
                side=_SIDE_OF[request.side],
                qty=request.qty,
                order_type=OrderType(request.type),
                limit_price=_decimal(request.px),
                stop_price=_decimal(request.stop),
                duration=Duration(request.tif),
                cl_order_id=request.id,
            )
        case ModifyReq():
            return ModifyOrder(
                account_id=request.acct,
                symbol=request.sym,
                orig_cl_order_id=request.orig,
                cl_order_id=request.id,
                qty=request.qty,
                limit_price=_decimal(request.px),
                stop_price=_decimal(request.stop),
            )
        case CancelReq():
            return CancelOrder(
                account_id=request.acct,
                symbol=request.sym,
                orig_cl_order_id=request.orig,
                cl_order_id=request.id,
            )
        case CancelAllReq():
            return CancelAll(account_id=request.acct, symbol=request.sym)
        case LiquidateReq():
            return LiquidateAll(account_id=request.acct, symbol=request.sym, cl_order_id=request.id)


def order_view(report: ExecutionReport) -> OrderView:
    """``report`` in the venue's words (``exec``: what happened; ``state``: where it stands)."""
    fill = report.fill
    return OrderView(
        acct=report.account_id,
        id=report.cl_order_id,
        orig=report.orig_cl_order_id,
        sym=report.symbol,
        side=_SIDE[report.side] if report.side is not None else None,
        qty=report.qty,
        type=_TYPES.get(report.order_type) if report.order_type is not None else None,
        px=_text(report.limit_price),
        stop=_text(report.stop_price),
        tif=report.duration.value,
        state=STATE_WORDS[report.state],
        exec=report.kind.value.lower(),
        of=None if report.request_type is None else report.request_type.value.lower(),
        filled=report.filled_qty,
        avg_px=_text(report.avg_fill_price),
        fill=None if fill is None else FillView(fid=fill.fill_id, qty=fill.qty, px=str(fill.price)),
        code=report.reject_code,
        text=report.reject_text,
        ts=report.ts_ns,
    )


def position_view(position: Position, ts_ns: int) -> PositionView:
    return PositionView(
        acct=position.account_id,
        sym=position.symbol,
        qty=position.qty,
        avg_px=str(position.avg_price),
        pnl=str(position.realized_pnl),
        ts=ts_ns,
    )


def account_view(account: Account, ts_ns: int) -> AccountView:
    return AccountView(
        acct=account.account_id, ccy=account.currency, balance=str(account.balance), ts=ts_ns
    )


def quote_view(quote: Quote, instrument: Instrument) -> QuoteView:
    """Ticks back to prices: the dialect's clients see prices, as a real venue's do."""
    to_price = instrument.to_price
    return QuoteView(
        sym=quote.symbol,
        bid=None if quote.bid is None else str(to_price(quote.bid)),
        bid_qty=quote.bid_size,
        ask=None if quote.ask is None else str(to_price(quote.ask)),
        ask_qty=quote.ask_size,
        ts=quote.ts_ns,
    )


def trade_view(trade: Trade, instrument: Instrument) -> TradeView:
    price = str(instrument.to_price(trade.price))
    return TradeView(sym=trade.symbol, px=price, qty=trade.size, ts=trade.ts_ns)
