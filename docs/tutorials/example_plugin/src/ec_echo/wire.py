"""The venue's words and ec's model, both ways: the mapping that makes this plugin echo's.

The venue (``ec mock serve --dialect json``; its schema is docs/mock/json-dialect.md)
sends one JSON object per frame and writes prices as decimal strings; ec counts money
in ``Decimal`` and market data in integer ticks of the instrument.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from ec_core.errors import AuthError, SymbolNotFoundError

from ec_core import model as ec

Message = dict[str, Any]  # one decoded frame
SIDES, CODES = {"B": ec.Side.BUY, "S": ec.Side.SELL}, {ec.Side.BUY: "B", ec.Side.SELL: "S"}
STATES = {
    "pending": ec.OrderState.PENDING_NEW, "open": ec.OrderState.WORKING,
    "partial": ec.OrderState.PARTIALLY_FILLED, "filled": ec.OrderState.FILLED,
    "cancelled": ec.OrderState.CANCELLED, "rejected": ec.OrderState.REJECTED,
    "expired": ec.OrderState.EXPIRED,
}  # fmt: skip
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(message: Message, req: int) -> str:
    return msgspec.json.encode({**message, "req": req}).decode()


def refusal(kind: type[Exception], asked: Message, answer: Message) -> Exception:
    """The ec error ``kind`` for the venue's ``error`` answer to ``asked``."""
    code, text = answer["code"], answer["text"]
    if kind is SymbolNotFoundError:
        return SymbolNotFoundError(asked["sym"], code=code, text=text)
    return AuthError(text, code=code) if kind is AuthError else kind(f"{code}: {text}")


def request(r: ec.OrderRequest) -> Message:
    """The venue's message for an order request (a ``None`` field is left out)."""
    m: Message = {"acct": r.account_id}
    match r:
        case ec.NewOrder():
            m |= {"op": "new", "id": r.cl_order_id, "sym": r.symbol, "side": CODES[r.side]}
            m |= {"qty": r.qty, "type": r.order_type.value, "tif": r.duration.value}
            m |= {"px": _text(r.limit_price), "stop": _text(r.stop_price)}
        case ec.ModifyOrder():
            m |= {"op": "modify", "id": r.cl_order_id, "orig": r.orig_cl_order_id}
            m |= {"sym": r.symbol, "qty": r.qty, "px": _text(r.limit_price)}
            m |= {"stop": _text(r.stop_price)}
        case ec.CancelOrder():
            m |= {"op": "cancel", "id": r.cl_order_id, "orig": r.orig_cl_order_id, "sym": r.symbol}
        case ec.CancelAll():
            m |= {"op": "cancel_all", "sym": r.symbol}
        case ec.LiquidateAll() | ec.GoFlat():
            m |= {"op": "liquidate", "id": r.cl_order_id, "sym": getattr(r, "symbol", None)}
    return {k: v for k, v in m.items() if v is not None}


def instrument(m: Message) -> ec.Instrument:
    return ec.Instrument(
        symbol=m["sym"], tick_size=Decimal(m["tick"]), multiplier=Decimal(m["mult"]),
        currency=m["ccy"], max_order_qty=m["max_qty"], description=m["desc"],
    )  # fmt: skip


def trade_event(m: Message) -> ec.TradeEvent | None:
    """The trade event an ``order``, ``position`` or ``account`` message is (else ``None``)."""
    if m["ev"] == "order":
        return report(m)
    if m["ev"] == "position":
        position = ec.Position(
            account_id=m["acct"], symbol=m["sym"], qty=m["qty"],
            avg_price=Decimal(m["avg_px"]), realized_pnl=Decimal(m["pnl"]),
        )  # fmt: skip
        return ec.PositionReport(position=position, ts_ns=m["ts"])
    if m["ev"] == "account":
        account = ec.Account(account_id=m["acct"], currency=m["ccy"], balance=Decimal(m["balance"]))
        return ec.AccountReport(account=account, ts_ns=m["ts"])
    return None


def report(m: Message) -> ec.ExecutionReport:
    """An ``order`` message: the order as it stands after one event (``exec``)."""
    fill, side = m["fill"], SIDES.get(m["side"])
    return ec.ExecutionReport(
        kind=ec.ReportKind(m["exec"].upper()), account_id=m["acct"], symbol=m["sym"],
        cl_order_id=m["id"], orig_cl_order_id=m["orig"], state=STATES[m["state"]],
        side=side, order_type=m["type"] and ec.OrderType(m["type"]), qty=m["qty"],
        filled_qty=m["filled"], avg_fill_price=_price(m["avg_px"]),
        limit_price=_price(m["px"]), stop_price=_price(m["stop"]), duration=ec.Duration(m["tif"]),
        request_type=m["of"] and ec.RequestType(m["of"].upper()),
        reject_code=m["code"], reject_text=m["text"], ts_ns=m["ts"],
        fill=None if fill is None or side is None else ec.Fill(
            fill_id=fill["fid"], account_id=m["acct"], symbol=m["sym"], side=side,
            qty=fill["qty"], price=Decimal(fill["px"]), ts_ns=m["ts"], cl_order_id=m["id"],
        ),
    )  # fmt: skip


def market(m: Message, contract: ec.Instrument) -> ec.Quote | ec.Trade:
    """A ``quote`` or ``trade`` message, its prices in ticks of ``contract``."""
    ticks = contract.to_ticks
    if m["ev"] == "trade":
        return ec.Trade(
            symbol=m["sym"], ts_ns=m["ts"], price=ticks(Decimal(m["px"])), size=m["qty"]
        )
    return ec.Quote(
        symbol=m["sym"], ts_ns=m["ts"], bid_size=m["bid_qty"], ask_size=m["ask_qty"],
        bid=None if m["bid"] is None else ticks(Decimal(m["bid"])),
        ask=None if m["ask"] is None else ticks(Decimal(m["ask"])),
    )  # fmt: skip


def ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exactly (a naive datetime is taken as UTC)."""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1) * 1_000


def _price(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _text(price: Decimal | None) -> str | None:
    return None if price is None else str(price)
