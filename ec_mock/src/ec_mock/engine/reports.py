"""Reports and queries: snapshots of orders as execution reports, rejects, status.

The only place Decimal prices of an order are built (:meth:`_report`).
"""

from __future__ import annotations

import msgspec
from ec_core.model import (
    BookDepth,
    BookLevel,
    ExecutionReport,
    Fill,
    NewOrder,
    OrderState,
    OrderType,
    Position,
    Quote,
    ReportKind,
    RequestType,
    Trade,
)

from ec_mock.engine.book import BookView
from ec_mock.engine.core import (
    _BUY,
    _NEW,
    _R_REJECTED,
    _R_STATUS,
    _SELL,
    ExchangeCore,
    Reject,
    _force,
)
from ec_mock.engine.ledger import average_price
from ec_mock.engine.records import OrderRecord

_STOP_TYPES = (OrderType.STP, OrderType.STL)

DEPTH_LEVELS = 10
"""Levels per side of :meth:`ReportsLayer.book_depth`: CME Globex's MBP book shows 10."""


class ReportsLayer(ExchangeCore):
    """Builds execution reports and answers status, history and book queries."""

    def _reject_new(
        self,
        request: NewOrder,
        reject: Reject,
        *,
        cl_order_id: str | None = None,
    ) -> None:
        cl = cl_order_id if cl_order_id is not None else request.cl_order_id
        report = ExecutionReport(
            kind=_R_REJECTED,
            account_id=request.account_id,
            symbol=request.symbol,
            cl_order_id=cl,
            state=OrderState.REJECTED,
            side=request.side,
            order_type=request.order_type,
            qty=request.qty,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            duration=request.duration,
            good_thru_date=request.good_thru_date,
            chain_id=cl,
            request_type=_NEW,
            ts_ns=self._ts,
        )  # 15 keywords at most (see _report)
        _force(report, "reject_code", reject.code)
        _force(report, "reject_text", reject.text)
        acct = self._accounts.get(request.account_id)
        if acct is not None and cl and cl not in acct.orders_by_cl:
            acct.keep_reject(cl, report)  # answers later status queries
        self._emit(report)

    def _reject_on_order(
        self,
        account_id: str,
        symbol: str,
        cl_order_id: str,
        orig_cl_order_id: str,
        request_type: RequestType,
        reject: Reject,
    ) -> None:
        """Reject a modify or cancel: the order's state is unchanged (or unknown)."""
        if not self._sinks:
            return  # nothing keeps these rejects: with nobody to tell, there is nothing to do
        ids = self._ids.get(account_id)
        order = ids.get(orig_cl_order_id) if ids is not None else None
        if order is not None:
            report = self._report(
                _R_REJECTED,
                order,
                self._ts,
                request_type=request_type,
                code=reject.code,
                text=reject.text,
            )
            report = msgspec.structs.replace(
                report,
                cl_order_id=cl_order_id or order.cl_order_id,
                orig_cl_order_id=orig_cl_order_id,
            )
        else:  # no such order: side, type and qty stay unset (ec_core.reports.unknown_order)
            report = ExecutionReport(
                kind=_R_REJECTED,
                account_id=account_id,
                symbol=symbol,
                cl_order_id=cl_order_id,
                orig_cl_order_id=orig_cl_order_id,
                state=OrderState.REJECTED,
                request_type=request_type,
                reject_code=reject.code,
                reject_text=reject.text,
                ts_ns=self._ts,
            )
        self._emit(report)

    # ------------------------------------------------------------------ reports and queries
    def _report(
        self,
        kind: ReportKind,
        order: OrderRecord,
        ts_ns: int,
        *,
        fill: Fill | None = None,
        request_type: RequestType | None = None,
        code: str = "",
        text: str = "",
    ) -> ExecutionReport:
        """A snapshot of ``order`` as a report: the only place Decimal prices are built.

        At most 15 keyword arguments: CPython compiles a call with more into one
        through a dict, which costs three times as much. The fields most reports
        leave at their default are filled in afterwards, only when set.
        """
        symbol = order.symbol
        filled = order.filled
        price = order.price
        if price is not None:
            limit_price = self._to_price[symbol].get(price)
            if limit_price is None:
                limit_price = self._price(symbol, price)
        else:
            limit_price = None
        if filled:
            cost = order.cost
            average = None
            if cost % filled == 0:
                # cost * tick / filled is then exactly the price of cost // filled ticks,
                # written alike (same digits and exponent): the cached Decimal
                average = self._to_price[symbol].get(cost // filled)
            if average is None:
                average = average_price(cost, filled, self._instruments[symbol].tick_size)
        else:
            average = None
        report = ExecutionReport(
            kind=kind,
            account_id=order.account_id,
            symbol=symbol,
            cl_order_id=order.cl_order_id,
            state=order.state,
            side=_BUY if order.side > 0 else _SELL,
            order_type=order.order_type,
            qty=order.qty,
            filled_qty=filled,
            avg_fill_price=average,
            limit_price=limit_price,
            duration=order.duration,
            chain_id=order.chain_id,
            venue_order_id=f"V{order.oid}",
            ts_ns=ts_ns,
        )
        if order.stop is not None:
            _force(report, "stop_price", self._price(symbol, order.stop))
        if order.gtd is not None:
            _force(report, "good_thru_date", order.gtd)
        if order.orig_cl_order_id:
            _force(report, "orig_cl_order_id", order.orig_cl_order_id)
        if fill is not None:
            _force(report, "fill", fill)
        if request_type is not None:
            _force(report, "request_type", request_type)
        if code or text:
            _force(report, "reject_code", code)
            _force(report, "reject_text", text)
        return report

    def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        """The order's state now (kind STATUS), looked up by any client id of its chain."""
        ids = self._ids.get(account_id)
        if ids is None:
            return None
        order = ids.get(cl_order_id)
        if order is None:
            return self._rejected[account_id].get(cl_order_id)
        return self._report(_R_STATUS, order, self._now())

    def open_orders(self, account_id: str) -> list[ExecutionReport]:
        now = self._now()
        return [self._report(_R_STATUS, o, now) for o in self._open.get(account_id, {}).values()]

    def historical_orders(
        self, account_id: str, start_ns: int, end_ns: int
    ) -> list[ExecutionReport]:
        """Orders of the account alive at some time in ``[start_ns, end_ns]``, oldest first,
        including those rejected in that window."""
        out: list[tuple[int, ExecutionReport]] = []
        now = self._now()
        for order in self._all_orders(account_id):
            if order.created_ns <= end_ns and (order.state.is_open or order.updated_ns >= start_ns):
                out.append((order.created_ns, self._report(_R_STATUS, order, now)))
        for report in self._rejected.get(account_id, {}).values():
            if start_ns <= report.ts_ns <= end_ns:
                out.append((report.ts_ns, report))
        out.sort(key=lambda item: item[0])
        return [report for _, report in out]

    def _all_orders(self, account_id: str | None = None) -> list[OrderRecord]:
        """Every order ever accepted (of one account), oldest first."""
        found: dict[int, OrderRecord] = {}
        if account_id is None:
            accounts = list(self._accounts.values())
        else:
            one = self._accounts.get(account_id)
            accounts = [one] if one is not None else []
        for acct in accounts:
            for order in acct.orders_by_cl.values():
                found[order.oid] = order
        for order in self._unindexed:
            if account_id is None or order.account_id == account_id:
                found[order.oid] = order
        return [found[oid] for oid in sorted(found)]

    def positions(self, account_id: str) -> list[Position]:
        """Every instrument the account has traded (flat ones too, with their realized P&L)."""
        acct = self._accounts[account_id]
        return [pos.to_position(account_id) for pos in acct.positions.values() if pos.volume]

    def best_quote(self, symbol: str) -> Quote | None:
        book = self._books.get(symbol)
        if book is None:
            return None
        bid, bid_size, ask, ask_size = book.touch()
        return Quote(
            symbol=symbol, ts_ns=self._now(), bid=bid, bid_size=bid_size, ask=ask, ask_size=ask_size
        )

    def last_trade(self, symbol: str) -> Trade | None:
        last = self._last.get(symbol)
        if last is None:
            return None
        ts_ns, price, size, aggressor = last
        return Trade(symbol=symbol, ts_ns=ts_ns, price=price, size=size, aggressor=aggressor)

    def book(self, symbol: str, depth: int | None = None) -> BookView:
        return self._books[symbol].view(depth)

    def book_depth(self, symbol: str, levels: int = DEPTH_LEVELS) -> BookDepth | None:
        """The top ``levels`` prices of each side as the core's depth event (what the mock
        vendor streams and the CQG-dialect server serves as DOM), or ``None`` for an
        unknown symbol. Displayed quantity only: AON orders and stops are not in the book.

        Built once per request that changed the book: every reader of that request's
        events (a fill is 3-4 of them, each subscriber reads) gets the same object, so
        ``depth is last`` tells a reader nothing moved. ``ts_ns`` is when it was built.
        """
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        book = self._books.get(symbol)
        if book is None:
            return None
        # A symbol still in _touched changed after the last _settle (nobody listens):
        # what the cache holds may be stale, so build without keeping it.
        cached = levels == DEPTH_LEVELS and symbol not in self._touched
        if cached:
            depth = self._depths.get(symbol)
            if depth is not None:
                return depth
        # Best prices sit last in the sorted keys (asks stored negated): read the top
        # ``levels`` straight into core levels, no intermediate view.
        bids, asks = book.bids, book.asks
        depth = BookDepth(
            symbol=symbol,
            ts_ns=self._now(),
            bids=tuple(
                BookLevel(price=p, size=bids[p].qty) for p in reversed(book.bid_keys[-levels:])
            ),
            asks=tuple(
                BookLevel(price=-k, size=asks[-k].qty) for k in reversed(book.ask_keys[-levels:])
            ),
        )
        if cached:
            self._depths[symbol] = depth
        return depth

    def client_id_used(self, account_id: str, cl_order_id: str) -> bool:
        """Whether the account already used ``cl_order_id`` (any order of any chain, or a
        rejected new order): a new order with it would be rejected ``DUPLICATE_ORDER_ID``."""
        acct = self._accounts.get(account_id)
        return acct is not None and (
            cl_order_id in acct.orders_by_cl or cl_order_id in acct.rejected
        )

    def remaining_qty(self, account_id: str, cl_order_id: str) -> int:
        """Unfilled quantity of an open order (0 if final or unknown): cheap, no report built."""
        ids = self._ids.get(account_id)
        order = ids.get(cl_order_id) if ids is not None else None
        if order is None or order.state.is_final:
            return 0
        return order.qty - order.filled

    def resting(self, symbol: str) -> list[ExecutionReport]:
        """Resting orders of ``symbol`` in priority order (bids best first, then asks)."""
        now = self._now()
        return [self._report(_R_STATUS, o, now) for o in self._books[symbol].resting_orders()]

    def waiting_all_or_none(self, symbol: str) -> list[ExecutionReport]:
        """All-or-none orders of ``symbol`` waiting off the book for enough liquidity to
        fill whole (not in :meth:`book` nor :meth:`resting`), oldest first."""
        now = self._now()
        return [self._report(_R_STATUS, o, now) for o in self._books[symbol].aon]

    def best_prices(self, symbol: str) -> tuple[int | None, int | None]:
        """The best bid and ask of ``symbol``'s book in ticks (displayed levels; ``None``:
        an empty side): the touch of :meth:`book` without building a view."""
        return self._books[symbol].best()

    def open_stops(self, symbol: str) -> list[tuple[str, int, int, int]]:
        """``(account_id, side, stop, left)`` of every open stop order (``STP``, ``STL``) of
        ``symbol``: side +1 buy, -1 sell, the stop in ticks and the quantity not filled, read
        from the orders without building reports. A fired stop-limit resting as a limit is
        one too: its reports still carry the stop (:meth:`open_orders`)."""
        found = []  # a loop, not a comprehension: no frame of its own (this runs per re-read)
        for o in self._books[symbol].open_orders.values():
            if o.stop is not None and o.order_type in _STOP_TYPES:
                found.append((o.account_id, o.side, o.stop, o.qty - o.filled))
        return found

    def waiting_aon_limits(self, symbol: str) -> list[tuple[str, int, int, int]]:
        """``(account_id, side, limit, left)`` of the all-or-none limit orders of ``symbol``
        waiting off the book (:meth:`waiting_all_or_none` without building reports), oldest
        first; the limit in ticks."""
        waiting = self._books[symbol].aon
        if not waiting:
            return []
        return [
            (o.account_id, o.side, o.price, o.qty - o.filled)
            for o in waiting
            if o.price is not None
        ]
