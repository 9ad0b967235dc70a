"""The other side of the wire: a tiny in-memory exchange that every echo session shares.

A real plugin talks to its venue over a socket; echo's sessions call this object
instead, so the tutorial runs anywhere. One book per listed contract: a limit order
rests until an order of the other side crosses it, then both fill at the resting
price, best price first, oldest first. Every report is made by :mod:`ec_core.reports`
from what changed; the sessions' :class:`~ec_core.streams.TradeHub` objects fan them out.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import msgspec
from ec_core.clock import Clock, WallClock
from ec_core.model import (
    Account,
    AccountReport,
    CancelAll,
    CancelOrder,
    ExecutionReport,
    GoFlat,
    Instrument,
    LiquidateAll,
    MarketEvent,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
    Position,
    PositionReport,
    Quote,
    Side,
    Trade,
    TradeEvent,
)
from ec_core.reports import (
    accepted,
    cancelled,
    filled,
    modified,
    refused,
    rejected,
    status,
    unknown_order,
)
from ec_core.streams import MarketChannel, TradeHub

LISTED = (
    Instrument(symbol="ESZ5", tick_size=Decimal("0.25"), multiplier=Decimal(50)),
    Instrument(symbol="ZNZ5", tick_size=Decimal("0.015625"), multiplier=Decimal(1000)),
)


class EchoVenue:
    """Books, orders, positions and listeners. Every request is handled at once, in full."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.instruments = {i.symbol: i for i in LISTED}
        self.clock = clock or WallClock()
        self._last_ns = 0
        self._live: dict[str, ExecutionReport] = {}  # by current client id, oldest first
        self._done: list[ExecutionReport] = []  # the last report of every finished order
        self._used: set[str] = set()  # client ids of new orders, never reused
        self._positions: dict[tuple[str, str], Position] = {}
        self._fill_ids = itertools.count(1)
        self.hubs: list[TradeHub] = []  # one per open session
        self.watchers: list[tuple[frozenset[str], MarketChannel[MarketEvent]]] = []

    def submit(self, request: OrderRequest) -> None:
        match request:
            case NewOrder():
                self._new(request)
            case ModifyOrder():
                if (order := self._named_by(request)) is not None:
                    self._modify(order, request)
            case CancelOrder():
                if (order := self._named_by(request)) is not None:
                    self._cancel(order, request)
            case CancelAll() | LiquidateAll() | GoFlat():
                symbol = None if isinstance(request, GoFlat) else request.symbol
                for order in list(self._live.values()):
                    if order.account_id == request.account_id and symbol in (None, order.symbol):
                        self._cancel(order)
                if not isinstance(request, CancelAll):
                    self._flatten(request.account_id, symbol, request.cl_order_id)

    def _new(self, order: NewOrder) -> None:
        if (refusal := self._refusal(order)) is not None:
            self._tell(rejected(order, *refusal, ts_ns=self.now()))
            return
        self._used.add(order.cl_order_id)
        self._match(self._settle(accepted(order, ts_ns=self.now())))

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

    def _named_by(self, request: ModifyOrder | CancelOrder) -> ExecutionReport | None:
        """The working order a modify or cancel names; ``None`` once the request is refused."""
        order = self._live.get(request.orig_cl_order_id)
        if order is None or order.account_id != request.account_id:
            text = f"no working order {request.orig_cl_order_id!r} in {request.account_id!r}"
            self._tell(unknown_order(request, "UNKNOWN_ORDER", text, ts_ns=self.now()))
            return None
        if order.symbol != request.symbol:
            text = f"{order.cl_order_id!r} is an order in {order.symbol}, not {request.symbol}"
            self._tell(refused(order, request, "SYMBOL_MISMATCH", text, ts_ns=self.now()))
            return None
        return order

    def _modify(self, order: ExecutionReport, request: ModifyOrder) -> None:
        qty = order.qty if request.qty is None else request.qty
        if not order.filled_qty < qty <= self.instruments[order.symbol].max_order_qty:
            text = f"qty {qty} is not above the {order.filled_qty} filled or over the maximum"
            self._tell(refused(order, request, "BAD_QTY", text, ts_ns=self.now()))
            return
        del self._live[order.cl_order_id]  # under its new client id, at the back of the queue
        self._match(self._settle(modified(order, request, ts_ns=self.now())))

    def _cancel(self, order: ExecutionReport, request: CancelOrder | None = None) -> None:
        del self._live[order.cl_order_id]
        self._settle(cancelled(order, ts_ns=self.now(), request=request))
        self._show(self.quote(order.symbol))

    def _flatten(self, account_id: str, symbol: str | None, cl_order_id: str) -> None:
        """Liquidation: a market order against each open position of the account."""
        for p in self.positions(account_id):
            if p.qty != 0 and symbol in (None, p.symbol):
                side = Side.SELL if p.qty > 0 else Side.BUY
                self._new(
                    NewOrder(
                        account_id=account_id, symbol=p.symbol, side=side, qty=abs(p.qty),
                        order_type=OrderType.MKT, cl_order_id=f"{cl_order_id}.{p.symbol}",
                    )
                )  # fmt: skip

    # -- matching ----------------------------------------------------------------

    def _match(self, taker: ExecutionReport) -> None:
        makers = [o for o in self._live.values() if _crosses(taker, o)]
        for maker in sorted(makers, key=_best_first):
            if taker.state.is_final:
                break
            qty = min(taker.qty - taker.filled_qty, maker.qty - maker.filled_qty)
            price = maker.limit_price
            assert price is not None
            self._fill(maker, qty, price)
            taker = self._fill(taker, qty, price)
            ticks = self.instruments[taker.symbol].to_ticks(price)
            self._show(Trade(symbol=taker.symbol, ts_ns=self._last_ns, price=ticks, size=qty))
        if taker.order_type is OrderType.MKT and not taker.state.is_final:
            self._cancel(taker)  # what a market order cannot fill now, it never fills
        self._show(self.quote(taker.symbol))

    def _fill(self, order: ExecutionReport, qty: int, price: Decimal) -> ExecutionReport:
        fill_id = f"E{next(self._fill_ids)}"
        report = filled(order, qty=qty, price=price, fill_id=fill_id, ts_ns=self.now())
        if report.state.is_final:
            del self._live[order.cl_order_id]
        self._settle(report)
        assert report.fill is not None
        key = (order.account_id, order.symbol)
        old = self._positions.get(key) or Position(account_id=key[0], symbol=key[1])
        signed = qty if order.side is Side.BUY else -qty
        new_qty = old.qty + signed
        if old.qty * signed > 0:  # adding to the position: average the prices
            avg = (old.avg_price * old.qty + price * signed) / new_qty
        else:  # reducing keeps the average; opened, closed or flipped through zero
            avg = old.avg_price if old.qty * new_qty > 0 else (price if new_qty else Decimal(0))
        self._positions[key] = new = msgspec.structs.replace(old, qty=new_qty, avg_price=avg)
        self._tell(PositionReport(position=new, ts_ns=self._last_ns))  # as of the fill
        return report

    def _settle(self, report: ExecutionReport) -> ExecutionReport:
        if report.state.is_final:
            self._done.append(report)
        else:
            self._live[report.cl_order_id] = report
        self._tell(report)
        return report

    # -- what sessions read --------------------------------------------------------

    def orders(self, account_id: str) -> list[ExecutionReport]:
        """Every order of the account, finished ones first."""
        return [r for r in [*self._done, *self._live.values()] if r.account_id == account_id]

    def open_orders(self, account_id: str) -> list[ExecutionReport]:
        return [r for r in self._live.values() if r.account_id == account_id]

    def positions(self, account_id: str) -> list[Position]:
        return [p for p in self._positions.values() if p.account_id == account_id]

    def snapshot(self, account_id: str, now_ns: int) -> list[TradeEvent]:
        """The hub's snapshot callback: the account, its working orders and positions."""
        account = AccountReport(account=Account(account_id=account_id, name="echo"), ts_ns=now_ns)
        orders = [status(r, ts_ns=now_ns) for r in self.open_orders(account_id)]
        positions = [PositionReport(position=p, ts_ns=now_ns) for p in self.positions(account_id)]
        return [account, *orders, *positions]

    def quote(self, symbol: str) -> Quote:
        """The top of the book, in ticks, with the quantity at each price."""
        to_ticks = self.instruments[symbol].to_ticks
        size: dict[tuple[Side | None, int], int] = {}  # (side, ticks) -> quantity left
        for o in self._live.values():
            if o.symbol == symbol and o.limit_price is not None:
                key = (o.side, to_ticks(o.limit_price))
                size[key] = size.get(key, 0) + o.qty - o.filled_qty
        bid = max((t for s, t in size if s is Side.BUY), default=None)
        ask = min((t for s, t in size if s is Side.SELL), default=None)
        return Quote(
            symbol=symbol, ts_ns=self._last_ns,  # as of the book's last change
            bid=bid, bid_size=size.get((Side.BUY, bid or 0), 0),
            ask=ask, ask_size=size.get((Side.SELL, ask or 0), 0),
        )  # fmt: skip

    def now(self) -> int:
        self._last_ns = max(self._last_ns, self.clock.now_ns())  # never backwards
        return self._last_ns

    def _tell(self, event: TradeEvent) -> None:
        for hub in self.hubs:
            hub.publish(event)

    def _show(self, event: MarketEvent) -> None:
        for symbols, channel in self.watchers:
            if event.symbol in symbols:
                channel.push(event)


def _best_first(order: ExecutionReport) -> Decimal:
    price = order.limit_price or Decimal(0)
    return price if order.side is Side.SELL else -price


def _crosses(taker: ExecutionReport, maker: ExecutionReport) -> bool:
    """Whether resting ``maker`` (other side, same book) trades with ``taker``."""
    if maker.symbol != taker.symbol or maker.side is taker.side or maker.limit_price is None:
        return False
    if taker.limit_price is None:  # a market order takes any price
        return True
    if taker.side is Side.BUY:
        return maker.limit_price <= taker.limit_price
    return maker.limit_price >= taker.limit_price
