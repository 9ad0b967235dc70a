"""Modify and cancel: find the order a request names, check the change, apply it.

Also cancel-all and liquidation (a cancel-all, then market orders that flatten).
"""

from __future__ import annotations

from datetime import date

from ec_core.model import (
    Duration,
    ModifyOrder,
    RequestType,
)

from ec_mock.engine.codes import VENUE_ID_MARK, RejectCode
from ec_mock.engine.core import (
    _BUY,
    _CANCEL,
    _CANCELLED,
    _DAY,
    _EVENT_EXPIRE,
    _F,
    _FINAL,
    _GTD,
    _MKT,
    _MODIFY,
    _NO_INSTRUCTIONS,
    _PF,
    _R_MODIFIED,
    _SELL,
    _W,
    Reject,
    reserved_id,
)
from ec_mock.engine.entry_checks import check_buying_power
from ec_mock.engine.ledger import AccountLedger
from ec_mock.engine.modify_rules import Listing, ModifyAsk, ModifyCheck, modify_plans
from ec_mock.engine.orders import OrderEntryLayer
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.sessions import end_of_date_ns


class AmendLayer(OrderEntryLayer):
    """Modify, cancel, cancel-all and liquidate."""

    def _find(
        self,
        acct: AccountLedger | None,
        account_id: str,
        cl_order_id: str,
        request_type: RequestType,
        symbol: str | None,
    ) -> OrderRecord:
        """The open order a modify or cancel names, or the reject that says why not."""
        if acct is None:
            raise Reject(RejectCode.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}")
        order = acct.orders_by_cl.get(cl_order_id)
        if order is None:
            raise Reject(
                RejectCode.UNKNOWN_ORDER,
                f"{request_type.lower()}: no order {cl_order_id!r} in account {account_id!r}",
            )
        if symbol and symbol != order.symbol:
            raise Reject(
                RejectCode.SYMBOL_MISMATCH,
                f"order {cl_order_id!r} is for {order.symbol}, not {symbol}",
            )
        if order.state in _FINAL:
            raise Reject(
                RejectCode.ORDER_FINAL,
                f"{request_type.lower()}: order {cl_order_id!r} is already {order.state}",
            )
        if self.faults is not None:
            code = self.faults.order_reject(request_type, self._ts)
            if code is not None:
                raise Reject(code, f"rejected by the fault plan ({code})")
        return order

    def cancel(self, account_id: str, cl_order_id: str, *, cancel_cl_order_id: str = "") -> None:
        """Tick-level cancel (the fast path)."""
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        self._cancel(account_id, cl_order_id, cancel_cl_order_id, None)
        if self._touched and (self._sinks or self._armed):
            self._settle()
        if self._outbox:
            self._flush()

    def _cancel(self, account_id: str, orig_cl: str, cancel_cl: str, symbol: str | None) -> None:
        acct = self._accounts.get(account_id)
        if acct is not None and self.faults is None:
            # The usual case, decided without raising: a working order, a fresh cancel id.
            ids = acct.orders_by_cl
            order = ids.get(orig_cl)
            if (
                order is not None
                and (order.state is _W or order.state is _PF)
                and (not symbol or symbol == order.symbol)
                and (not cancel_cl or (cancel_cl not in ids and cancel_cl[0] != VENUE_ID_MARK))
            ):
                if cancel_cl:
                    order.orig_cl_order_id = order.cl_order_id
                    order.cl_order_id = cancel_cl
                    ids[cancel_cl] = order
                self._finish(order, _CANCELLED)
                return
            if not self._sinks:
                # Anything else is a reject, which changes nothing: with nobody to
                # tell, there is nothing to do.
                return
        try:
            if cancel_cl and cancel_cl[0] == VENUE_ID_MARK:
                raise reserved_id(cancel_cl)
            if cancel_cl and acct is not None and cancel_cl in acct.orders_by_cl:
                raise Reject(
                    RejectCode.DUPLICATE_ORDER_ID, f"client order id {cancel_cl!r} already used"
                )
            order = self._find(acct, account_id, orig_cl, _CANCEL, symbol)
        except Reject as reject:
            self._reject_on_order(account_id, symbol or "", cancel_cl, orig_cl, _CANCEL, reject)
            return
        if cancel_cl and cancel_cl != order.cl_order_id:
            order.orig_cl_order_id = order.cl_order_id
            order.cl_order_id = cancel_cl
            order.pos.account.orders_by_cl[cancel_cl] = order
        self._finish(order, _CANCELLED)

    def _cancel_all(self, account_id: str, symbol: str | None, request_type: RequestType) -> bool:
        if account_id not in self._accounts:
            self._reject_on_order(
                account_id,
                symbol or "",
                "",
                "",
                request_type,
                Reject(RejectCode.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}"),
            )
            return False
        if symbol and symbol not in self._instruments:
            self._reject_on_order(
                account_id,
                symbol,
                "",
                "",
                request_type,
                Reject(RejectCode.UNKNOWN_INSTRUMENT, f"unknown instrument {symbol!r}"),
            )
            return False
        for order in list(self._open[account_id].values()):
            if symbol is None or order.symbol == symbol:
                self._finish(order, _CANCELLED, f"{request_type.lower()}")
        return True

    def _liquidate(
        self, account_id: str, symbol: str | None, cl_order_id: str, request_type: RequestType
    ) -> None:
        if not self._cancel_all(account_id, symbol, request_type):
            return
        prefix = cl_order_id or f"{request_type.lower()}-{self._next_oid}"
        for pos in list(self._accounts[account_id].positions.values()):
            if pos.qty == 0 or (symbol is not None and pos.symbol != symbol):
                continue
            self._new(
                account_id,
                pos.symbol,
                _SELL if pos.qty > 0 else _BUY,
                abs(pos.qty),
                _MKT,
                None,
                None,
                _DAY,
                None,
                _NO_INSTRUCTIONS,
                f"{VENUE_ID_MARK}{prefix}:{pos.symbol}",
                None,
                liquidation=True,
            )

    # ------------------------------------------------------------------ modify
    def _on_modify_request(self, request: ModifyOrder) -> None:
        symbol = request.symbol
        limit_price = request.limit_price
        stop_price = request.stop_price
        try:
            price = None if limit_price is None else self._ticks(symbol, limit_price)
            stop = None if stop_price is None else self._ticks(symbol, stop_price)
        except Reject as reject:
            self._reject_on_order(
                request.account_id,
                symbol,
                request.cl_order_id,
                request.orig_cl_order_id,
                _MODIFY,
                reject,
            )
            return
        self._modify(
            request.account_id,
            request.orig_cl_order_id,
            request.cl_order_id,
            request.qty,
            price,
            stop,
            request.duration,
            request.good_thru_date,
            symbol,
        )

    def amend(
        self,
        account_id: str,
        cl_order_id: str,
        *,
        new_cl_order_id: str = "",
        qty: int | None = None,
        price: int | None = None,
        stop: int | None = None,
        duration: Duration | None = None,
        good_thru_date: date | None = None,
    ) -> str:
        """Tick-level modify (the fast path); returns the order's new client id."""
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        cl = self._modify(
            account_id,
            cl_order_id,
            new_cl_order_id,
            qty,
            price,
            stop,
            duration,
            good_thru_date,
            None,
        )
        if self._touched and (self._sinks or self._armed):
            self._settle()
        if self._outbox:
            self._flush()
        return cl

    def _listing_plans(self, symbol: str) -> tuple[tuple[ModifyCheck, ...], ...]:
        instrument = self._instruments[symbol]
        sessions = self.enforce_sessions and instrument.trading_calendar is not None
        return modify_plans(Listing(instrument, self._limits[symbol], sessions))

    def _modify(
        self,
        account_id: str,
        orig_cl: str,
        new_cl: str,
        qty: int | None,
        price: int | None,
        stop: int | None,
        duration: Duration | None,
        gtd: date | None,
        symbol: str | None,
    ) -> str:
        """Check a modify against the modify rules, then apply it; returns the new client id.

        The rules that run are those of the fields the modify sets
        (:data:`~ec_mock.engine.rules.MODIFY_RULES`). A price change or a quantity
        increase loses queue priority (the order is matched again as if new).
        """
        acct = self._accounts.get(account_id)
        found = None
        if not self._sinks and self.faults is None:
            # _find's rejects change nothing (the fault plan is not asked before them):
            # with nobody to tell, skip building them; what is left is what _find returns.
            found = acct.orders_by_cl.get(orig_cl) if acct is not None else None
            if found is None or (symbol and symbol != found.symbol) or found.state in _FINAL:
                return new_cl
        try:
            order = found or self._find(acct, account_id, orig_cl, _MODIFY, symbol)
            assert acct is not None  # _find refuses an unknown account
            if not new_cl:
                new_cl = self._gen_cl()
            elif new_cl[0] == VENUE_ID_MARK and new_cl != order.cl_order_id:
                raise reserved_id(new_cl)
            if new_cl != order.cl_order_id and (
                new_cl in acct.orders_by_cl or new_cl in acct.rejected
            ):
                raise Reject(
                    RejectCode.DUPLICATE_ORDER_ID, f"client order id {new_cl!r} already used"
                )
            mask = (
                (qty is not None)
                | (price is not None) << 1
                | (stop is not None) << 2
                | (duration is not None or gtd is not None) << 3
            )
            plans = self._modify_plans.get(order.symbol)
            if plans is None:
                plans = self._modify_plans[order.symbol] = self._listing_plans(order.symbol)
            ask = ModifyAsk(qty, price, stop, duration, gtd)
            for check in plans[mask]:
                check(self, order, ask)
            if qty is not None and qty > order.qty and not acct.unlimited:
                check_buying_power(
                    self, acct, self._instruments[order.symbol], order.side, qty - order.qty
                )
        except Reject as reject:
            self._reject_on_order(account_id, symbol or "", new_cl, orig_cl, _MODIFY, reject)
            return new_cl

        new_duration = duration or order.duration
        expire_ns = order.expire_ns
        if duration is not None or gtd is not None:
            day = gtd or order.gtd if new_duration is _GTD else None
            expire_ns = (
                0
                if day is None
                else end_of_date_ns(day, self._instruments[order.symbol].trading_hours)
            )
        if qty is not None and qty <= order.filled:
            # CME Globex: a quantity reduced to (or below) what has filled ends the
            # order, filled; the modify is reported with the order's final state.
            self._finish(order, _F, quiet=True)
            order.qty = order.filled
            qty = price = stop = None
            duration = new_duration = order.duration
            gtd = None
            expire_ns = order.expire_ns
        book = self._books[order.symbol]
        old_qty = order.qty
        old_remaining = old_qty - order.filled
        new_qty = qty if qty is not None else old_qty
        price_changed = price is not None and price != order.price
        loses_priority = price_changed or new_qty > old_qty
        reprocess = False
        if order.resting:
            if loses_priority:
                book.unrest(order)
                reprocess = True
            elif new_qty < old_qty:
                book.reduce_resting(order, old_qty - new_qty)
        elif order.aon and order in book.aon:
            book.aon.remove(order)
            reprocess = True
        delta = (new_qty - order.filled) - old_remaining
        if delta:
            order.pos.add_working(order.side, delta)
        order.qty = new_qty
        if price is not None:
            order.price = price
        if stop is not None:
            order.stop = stop
        order.duration = new_duration
        if gtd is not None or duration is not None:
            order.gtd = gtd or order.gtd if new_duration is _GTD else None
        if expire_ns != order.expire_ns:
            order.expire_ns = expire_ns
            if expire_ns:
                self._push(expire_ns, _EVENT_EXPIRE, order)
        if new_cl != order.cl_order_id:
            order.orig_cl_order_id = order.cl_order_id
            order.cl_order_id = new_cl
            acct.orders_by_cl[new_cl] = order
            if acct.retire_final and order.state is _F:  # ended by the modify, now renamed
                self._retire(order)
        now = self._ts
        order.updated_ns = now
        self._touched[order.symbol] = None
        if self._sinks:
            self._emit(self._report(_R_MODIFIED, order, now, request_type=_MODIFY))
        if reprocess:
            self._execute(order, book)
        return new_cl
