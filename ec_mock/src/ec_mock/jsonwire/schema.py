"""The ``json`` dialect's messages: what a client sends (``op``) and what it is told (``ev``).

One JSON object per WebSocket text frame. Every request carries ``req`` (the client's
number for it) and is answered once with a message carrying the same ``req``: its
result, ``ok``, or ``error`` naming the field at fault. Prices are decimal strings
(``"4500.25"``), never JSON numbers: a float cannot hold every tick of every grid.
Events of a subscription (``order``, ``position``, ``account``, ``quote``, ``trade``)
carry no ``req``. The reference for a client's author is docs/mock/json-dialect.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = [
    "PRICE_PATTERN",
    "AccountSub",
    "AccountView",
    "CancelAllReq",
    "CancelReq",
    "ErrorMsg",
    "FillView",
    "LiquidateReq",
    "LogonOk",
    "LogonReq",
    "ModifyReq",
    "NewReq",
    "OkMsg",
    "OrderView",
    "OrdersMsg",
    "OrdersReq",
    "PositionView",
    "QuoteSub",
    "QuoteUnsub",
    "QuoteView",
    "Request",
    "SnapshotEnd",
    "SymbolMsg",
    "SymbolReq",
    "TradeView",
]

PRICE_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,12})?$"
MAX_QTY = 1_000_000

ReqId = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Price = Annotated[str, msgspec.Meta(pattern=PRICE_PATTERN)]
Qty = Annotated[int, msgspec.Meta(gt=0, le=MAX_QTY)]
Ns = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
SideCode = Literal["B", "S"]
TypeCode = Literal["LMT", "MKT", "STP", "STL"]
TifCode = Literal["DAY", "GTC", "IOC", "FOK"]


class _Req(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="op"):
    req: ReqId


class LogonReq(_Req, tag="logon", frozen=True, kw_only=True):
    user: Text
    password: Annotated[str, msgspec.Meta(max_length=256)]


class SymbolReq(_Req, tag="symbol", frozen=True, kw_only=True):
    sym: Text


class NewReq(_Req, tag="new", frozen=True, kw_only=True):
    acct: Text
    id: Text
    sym: Text
    side: SideCode
    qty: Qty
    type: TypeCode
    px: Price | None = None
    stop: Price | None = None
    tif: TifCode = "DAY"


class ModifyReq(_Req, tag="modify", frozen=True, kw_only=True):
    acct: Text
    id: Text  # the order's new id
    orig: Text  # the id it has now
    sym: Text
    qty: Qty | None = None
    px: Price | None = None
    stop: Price | None = None


class CancelReq(_Req, tag="cancel", frozen=True, kw_only=True):
    acct: Text
    id: Text
    orig: Text
    sym: Text


class CancelAllReq(_Req, tag="cancel_all", frozen=True, kw_only=True):
    acct: Text
    sym: Text | None = None


class LiquidateReq(_Req, tag="liquidate", frozen=True, kw_only=True):
    """Cancel the working orders, then close the positions at market (of ``sym``, or all)."""

    acct: Text
    id: Text
    sym: Text | None = None


class OrdersReq(_Req, tag="orders", frozen=True, kw_only=True):
    """Orders of ``acct`` alive in ``[since, until]`` (ns), or the one order ``id``."""

    acct: Text
    id: Text | None = None
    since: Ns = 0
    until: Ns = 2**63 - 1


class AccountSub(_Req, tag="account", frozen=True, kw_only=True):
    acct: Text


class QuoteSub(_Req, tag="quotes", frozen=True, kw_only=True):
    sym: Text


class QuoteUnsub(_Req, tag="unquotes", frozen=True, kw_only=True):
    sym: Text


Request = (
    LogonReq
    | SymbolReq
    | NewReq
    | ModifyReq
    | CancelReq
    | CancelAllReq
    | LiquidateReq
    | OrdersReq
    | AccountSub
    | QuoteSub
    | QuoteUnsub
)

# -- what the server sends -----------------------------------------------------------


class _Ev(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="ev"):
    pass


class LogonOk(_Ev, tag="logon", frozen=True, kw_only=True):
    req: int
    user: str
    accounts: list[str]


class ErrorMsg(_Ev, tag="error", frozen=True, kw_only=True):
    req: int | None  # None: the frame could not be read far enough to find its req
    code: str
    field: str | None
    text: str


class OkMsg(_Ev, tag="ok", frozen=True, kw_only=True):
    req: int


class SymbolMsg(_Ev, tag="symbol", frozen=True, kw_only=True):
    req: int
    sym: str
    tick: str
    mult: str
    ccy: str
    max_qty: int
    desc: str


class FillView(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    fid: str
    qty: int
    px: str


class OrderView(_Ev, tag="order", frozen=True, kw_only=True):
    """An order as it stands after one event (``exec`` says which)."""

    acct: str
    id: str
    orig: str = ""
    sym: str
    side: SideCode | None
    qty: int
    type: TypeCode | None
    px: str | None = None
    stop: str | None = None
    tif: str = "DAY"
    state: str
    exec: str
    of: str | None = None  # on a reject: which request (new, modify, cancel, ...)
    filled: int = 0
    avg_px: str | None = None
    fill: FillView | None = None
    code: str = ""
    text: str = ""
    ts: int


class PositionView(_Ev, tag="position", frozen=True, kw_only=True):
    acct: str
    sym: str
    qty: int
    avg_px: str
    pnl: str
    ts: int


class AccountView(_Ev, tag="account", frozen=True, kw_only=True):
    acct: str
    ccy: str
    balance: str
    ts: int


class SnapshotEnd(_Ev, tag="snapshot_end", frozen=True, kw_only=True):
    req: int
    acct: str
    ts: int


class OrdersMsg(_Ev, tag="orders", frozen=True, kw_only=True):
    req: int
    orders: list[OrderView]


class QuoteView(_Ev, tag="quote", frozen=True, kw_only=True):
    sym: str
    bid: str | None
    bid_qty: int
    ask: str | None
    ask_qty: int
    ts: int


class TradeView(_Ev, tag="trade", frozen=True, kw_only=True):
    sym: str
    px: str
    qty: int
    ts: int
