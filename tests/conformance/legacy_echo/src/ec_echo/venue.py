"""The other side of the wire: a tiny in-memory exchange that every echo session shares.

A real plugin talks to its venue over a socket; echo's sessions call this object
instead, so the tutorial runs anywhere. One book per listed contract: a limit order
rests until an order of the other side crosses it, then both fill at the resting
price, best price first, oldest first. A toy: no self-trade check, no risk limits.
"""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal
from typing import TypeVar

import msgspec
from anyio import BrokenResourceError, ClosedResourceError
from anyio.streams.memory import MemoryObjectSendStream
from ec_core.clock import Clock, WallClock
from ec_core.model import (
    Account,
    AccountReport,
    CancelAll,
    CancelOrder,
    ExecutionReport,
    Fill,
    GoFlat,
    Instrument,
    LiquidateAll,
    MarketEvent,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Position,
    PositionReport,
    Quote,
    ReportKind,
    RequestType,
    Side,
    SnapshotComplete,
    Trade,
    TradeEvent,
)

LISTED = (
    Instrument(symbol="ESZ5", tick_size=Decimal("0.25"), multiplier=Decimal(50)),
    Instrument(symbol="ZNZ5", tick_size=Decimal("0.015625"), multiplier=Decimal(1000)),
)

E = TypeVar("E")


class EchoVenue:
    """Books, orders, positions and subscribers. Every request is handled at once, in full."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.instruments = {i.symbol: i for i in LISTED}
        self._clock = clock or WallClock()
        self._now = 0
        self._live: dict[str, ExecutionReport] = {}  # by current client id, oldest first
        self._done: list[ExecutionReport] = []  # the last report of every finished order
        self._used: set[str] = set()  # client ids of new orders, never reused
        self._positions: dict[tuple[str, str], Position] = {}
        self._fill_ids = itertools.count(1)
        self._accounts: list[tuple[str, MemoryObjectSendStream[TradeEvent]]] = []
        self._markets: list[tuple[frozenset[str], MemoryObjectSendStream[MarketEvent]]] = []

    # -- requests ----------------------------------------------------------------

    def submit(self, request: OrderRequest) -> None:
        match request:
            case NewOrder():
                self._new(request)
            case ModifyOrder():
                self._modify(request)
            case CancelOrder():
                if (order := self._named_by(request)) is not None:
                    self._cancel(
                        order, cl_order_id=request.cl_order_id, orig_cl_order_id=order.cl_order_id
                    )
            case CancelAll():
                self._cancel_all(request.account_id, request.symbol)
            case LiquidateAll() | GoFlat():
                symbol = request.symbol if isinstance(request, LiquidateAll) else None
                self._cancel_all(request.account_id, symbol)
                self._flatten(request.account_id, symbol, request.cl_order_id)

    def _new(self, order: NewOrder) -> None:
        report = ExecutionReport(
            kind=ReportKind.ACCEPTED,
            account_id=order.account_id,
            symbol=order.symbol,
            cl_order_id=order.cl_order_id,
            chain_id=order.cl_order_id,
            state=OrderState.WORKING,
            side=order.side,
            order_type=order.order_type,
            qty=order.qty,
            limit_price=order.limit_price,
            duration=order.duration,
            ts_ns=self._stamp(),
        )
        refusal = self._refusal(order)
        if refusal is not None:
            code, text = refusal
            self._tell(_refused(report, RequestType.NEW, code, text, state=OrderState.REJECTED))
            return
        self._used.add(order.cl_order_id)
        self._settle(report)
        self._match(report)

    def _refusal(self, order: NewOrder) -> tuple[str, str] | None:
        if order.symbol not in self.instruments:
            return "UNKNOWN_SYMBOL", f"{order.symbol!r} is not listed"
        if order.order_type is OrderType.LMT and order.limit_price is None:
            return "NO_LIMIT_PRICE", "a limit order needs a limit price"
        if order.order_type not in (OrderType.LMT, OrderType.MKT):
            return "ORDER_TYPE", f"{order.order_type} orders are not supported"
        if not 0 < order.qty <= self.instruments[order.symbol].max_order_qty:
            return "BAD_QTY", f"qty {order.qty} is not positive or over the maximum"
        if order.cl_order_id in self._used:
            return "DUPLICATE_ID", f"client id {order.cl_order_id!r} was used before"
        return None

    def _modify(self, request: ModifyOrder) -> None:
        order = self._named_by(request)
        if order is None:
            return
        qty = order.qty if request.qty is None else request.qty
        if not order.filled_qty < qty <= self.instruments[order.symbol].max_order_qty:
            text = f"qty {qty} is not above the {order.filled_qty} filled or over the maximum"
            ids = {"cl_order_id": request.cl_order_id, "orig_cl_order_id": order.cl_order_id}
            self._tell(_refused(order, RequestType.MODIFY, "BAD_QTY", text, **ids))
            return
        del self._live[order.cl_order_id]  # under its new client id, at the back of the queue
        modified = _next(
            order,
            ReportKind.MODIFIED,
            ts_ns=self._stamp(),
            cl_order_id=request.cl_order_id,
            orig_cl_order_id=order.cl_order_id,
            qty=qty,
            limit_price=order.limit_price if request.limit_price is None else request.limit_price,
        )
        self._settle(modified)
        self._match(modified)

    def _named_by(self, request: ModifyOrder | CancelOrder) -> ExecutionReport | None:
        """The working order a modify or cancel names; ``None`` once the request is rejected."""
        order = self._live.get(request.orig_cl_order_id)
        if order is not None and order.account_id == request.account_id:
            if order.symbol == request.symbol:
                return order
            text = (
                f"{request.orig_cl_order_id!r} is an order in {order.symbol}, not {request.symbol}"
            )
            ids = {"cl_order_id": request.cl_order_id, "orig_cl_order_id": order.cl_order_id}
            self._tell(_refused(order, request.request_type, "SYMBOL_MISMATCH", text, **ids))
            return None
        unknown = ExecutionReport(  # nothing to report but the refusal
            kind=ReportKind.REJECTED,
            account_id=request.account_id,
            symbol=request.symbol,
            cl_order_id=request.cl_order_id,
            state=OrderState.REJECTED,
            side=Side.BUY,
            order_type=OrderType.LMT,
            qty=0,
            ts_ns=self._stamp(),
        )
        text = f"no working order {request.orig_cl_order_id!r} in {request.account_id!r}"
        orig = request.orig_cl_order_id
        self._tell(
            _refused(unknown, request.request_type, "UNKNOWN_ORDER", text, orig_cl_order_id=orig)
        )
        return None

    def _cancel(self, order: ExecutionReport, **changes: object) -> None:
        """End ``order``, keeping what it filled."""
        del self._live[order.cl_order_id]
        state = OrderState.CANCELLED
        self._settle(
            _next(order, ReportKind.CANCELLED, state=state, ts_ns=self._stamp(), **changes)
        )
        self._show(self._quote(order.symbol))

    def _cancel_all(self, account_id: str, symbol: str | None) -> None:
        for order in list(self._live.values()):
            if order.account_id == account_id and symbol in (None, order.symbol):
                self._cancel(order)

    def _flatten(self, account_id: str, symbol: str | None, cl_order_id: str) -> None:
        """Liquidation: a market order against each open position of the account."""
        for position in self.positions(account_id):
            if position.qty != 0 and symbol in (None, position.symbol):
                self._new(
                    NewOrder(
                        account_id=account_id,
                        symbol=position.symbol,
                        side=Side.SELL if position.qty > 0 else Side.BUY,
                        qty=abs(position.qty),
                        order_type=OrderType.MKT,
                        cl_order_id=f"{cl_order_id}.{position.symbol}",
                    )
                )

    # -- matching ----------------------------------------------------------------

    def _match(self, taker: ExecutionReport) -> None:
        for maker in sorted(self._crossed_by(taker), key=_best_first):
            if taker.state.is_final:
                break
            qty = min(_left(taker), _left(maker))
            assert maker.limit_price is not None
            self._fill(maker, qty, maker.limit_price)
            taker = self._fill(taker, qty, maker.limit_price)
            ticks = self.instruments[taker.symbol].to_ticks(maker.limit_price)
            self._show(Trade(symbol=taker.symbol, ts_ns=self._now, price=ticks, size=qty))
        if taker.order_type is OrderType.MKT and not taker.state.is_final:
            self._cancel(taker)  # what a market order cannot fill now, it never fills
        self._show(self._quote(taker.symbol))

    def _crossed_by(self, taker: ExecutionReport) -> list[ExecutionReport]:
        """Resting orders of the other side at the taker's limit or better."""

        def crosses(price: Decimal) -> bool:
            limit = taker.limit_price
            if limit is None:  # a market order takes any price
                return True
            return price <= limit if taker.side is Side.BUY else price >= limit

        return [
            order
            for order in self._live.values()
            if order.symbol == taker.symbol
            and order.side is not taker.side
            and order.limit_price is not None
            and crosses(order.limit_price)
        ]

    def _fill(self, order: ExecutionReport, qty: int, price: Decimal) -> ExecutionReport:
        filled = order.filled_qty + qty
        paid = (order.avg_fill_price or Decimal(0)) * order.filled_qty + price * qty
        fill = Fill(
            fill_id=f"E{next(self._fill_ids)}",
            account_id=order.account_id,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            price=price,
            ts_ns=self._stamp(),
            cl_order_id=order.cl_order_id,
            chain_id=order.chain_id,
        )
        report = _next(
            order,
            ReportKind.FILL,
            ts_ns=self._now,
            state=OrderState.FILLED if filled == order.qty else OrderState.PARTIALLY_FILLED,
            filled_qty=filled,
            avg_fill_price=paid / filled,
            fill=fill,
        )
        if report.state.is_final:
            del self._live[order.cl_order_id]
        self._settle(report)
        self._move_position(fill)
        return report

    def _move_position(self, fill: Fill) -> None:
        key = (fill.account_id, fill.symbol)
        old = self._positions.get(key) or Position(account_id=fill.account_id, symbol=fill.symbol)
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        qty = old.qty + signed
        if old.qty * signed > 0:  # adding to the position: average the prices
            avg = (old.avg_price * old.qty + fill.price * signed) / qty
        elif old.qty * qty > 0:  # reducing it: the average stays
            avg = old.avg_price
        else:  # opened, closed, or flipped through zero
            avg = fill.price if qty else Decimal(0)
        self._positions[key] = new = msgspec.structs.replace(old, qty=qty, avg_price=avg)
        self._tell(PositionReport(position=new, ts_ns=self._now))

    def _settle(self, report: ExecutionReport) -> None:
        if report.state.is_final:
            self._done.append(report)
        else:
            self._live[report.cl_order_id] = report
        self._tell(report)

    # -- what sessions read --------------------------------------------------------

    def status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        for report in [*self._done, *self._live.values()]:
            if (report.account_id, report.cl_order_id) == (account_id, cl_order_id):
                return report
        return None

    def open_orders(self, account_id: str) -> list[ExecutionReport]:
        return [r for r in self._live.values() if r.account_id == account_id]

    def orders_between(self, account_id: str, start_ns: int, end_ns: int) -> list[ExecutionReport]:
        every = [*self._done, *self._live.values()]
        return [r for r in every if r.account_id == account_id and start_ns <= r.ts_ns <= end_ns]

    def positions(self, account_id: str) -> list[Position]:
        return [p for p in self._positions.values() if p.account_id == account_id]

    def subscribe(self, account: Account, stream: MemoryObjectSendStream[TradeEvent]) -> None:
        """Send the account's snapshot into ``stream``, then every change."""
        account_id = account.account_id
        stream.send_nowait(AccountReport(account=account))
        for report in self.open_orders(account_id):
            stream.send_nowait(_next(report, ReportKind.STATUS))
        for position in self.positions(account_id):
            stream.send_nowait(PositionReport(position=position))
        stream.send_nowait(SnapshotComplete(account_id=account_id))
        self._accounts.append((account_id, stream))

    def watch(self, symbols: frozenset[str], stream: MemoryObjectSendStream[MarketEvent]) -> None:
        """Send a quote of each book into ``stream``, then every change."""
        for symbol in sorted(symbols):
            stream.send_nowait(self._quote(symbol))
        self._markets.append((symbols, stream))

    def _tell(self, event: ExecutionReport | PositionReport) -> None:
        account_id = (
            event.account_id if isinstance(event, ExecutionReport) else event.position.account_id
        )
        self._accounts = [
            (a, s) for a, s in self._accounts if a != account_id or _deliver(s, event)
        ]

    def _show(self, event: MarketEvent) -> None:
        self._markets = [
            (w, s) for w, s in self._markets if event.symbol not in w or _deliver(s, event)
        ]

    def _quote(self, symbol: str) -> Quote:
        """The top of the book, in ticks, with the quantity at each price."""
        to_ticks = self.instruments[symbol].to_ticks
        sizes: Counter[tuple[Side, int]] = Counter()
        for order in self._live.values():
            if order.symbol == symbol and order.limit_price is not None:
                sizes[order.side, to_ticks(order.limit_price)] += _left(order)
        bid = max((ticks for side, ticks in sizes if side is Side.BUY), default=None)
        ask = min((ticks for side, ticks in sizes if side is Side.SELL), default=None)
        return Quote(
            symbol=symbol,
            ts_ns=self._now,
            bid=bid,
            bid_size=0 if bid is None else sizes[Side.BUY, bid],
            ask=ask,
            ask_size=0 if ask is None else sizes[Side.SELL, ask],
        )

    def _stamp(self) -> int:
        self._now = max(self._now, self._clock.now_ns())  # never backwards
        return self._now


def _next(report: ExecutionReport, kind: ReportKind, /, **changes: object) -> ExecutionReport:
    """The order's next report: what happened (``kind``) and its whole state after it."""
    cleared = {"fill": None, "request_type": None, "reject_code": "", "reject_text": ""}
    return msgspec.structs.replace(report, kind=kind, **{**cleared, **changes})


def _refused(
    report: ExecutionReport, request_type: RequestType, code: str, text: str, /, **changes: object
) -> ExecutionReport:
    """A reject. A new order ends REJECTED; an order that refuses a modify keeps its state."""
    return _next(
        report,
        ReportKind.REJECTED,
        request_type=request_type,
        reject_code=code,
        reject_text=text,
        **changes,
    )


def _left(order: ExecutionReport) -> int:
    return order.qty - order.filled_qty


def _best_first(order: ExecutionReport) -> Decimal:
    assert order.limit_price is not None
    return order.limit_price if order.side is Side.SELL else -order.limit_price


def _deliver(stream: MemoryObjectSendStream[E], event: E) -> bool:
    """``False`` once the subscriber has gone away, so it is forgotten."""
    try:
        stream.send_nowait(event)
    except (BrokenResourceError, ClosedResourceError):
        return False
    return True
