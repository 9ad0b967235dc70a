"""New orders: price conversion at the edge, the entry rules, acceptance."""

from __future__ import annotations

from bisect import insort
from datetime import date
from decimal import Decimal

import msgspec
from ec_core.model import (
    Duration,
    ExecInstruction,
    Instrument,
    NewOrder,
    OrderType,
    Side,
)

from ec_mock.engine.book import Level
from ec_mock.engine.codes import RejectCode
from ec_mock.engine.core import (
    _BUY,
    _EVENT_EXPIRE,
    _FOK,
    _GTD,
    _IOC,
    _LMT,
    _MKT,
    _NEW,
    _NO_INSTRUCTIONS,
    _R_ACCEPTED,
    _SELL,
    _STL,
    _STP,
    _W,
    Reject,
)
from ec_mock.engine.ledger import AccountLedger
from ec_mock.engine.matching import MatchingLayer
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.sessions import end_of_date_ns


class OrderEntryLayer(MatchingLayer):
    """Order entry: checks a new order against the entry rules, then books and executes it."""

    def _on_new_request(self, request: NewOrder) -> None:
        symbol = request.symbol
        limit_price = request.limit_price
        stop_price = request.stop_price
        try:
            if limit_price is None:
                price = None
            else:  # _ticks' cache hit, inlined
                price = None
                cache = self._to_ticks.get(symbol)
                if cache is not None and type(limit_price) is Decimal:
                    try:
                        price = cache[limit_price]
                    except (KeyError, TypeError):  # not cached yet; a signalling NaN
                        price = None
                if price is None:
                    price = self._ticks(symbol, limit_price)
            stop = None if stop_price is None else self._ticks(symbol, stop_price)
        except Reject as reject:
            self._reject_new(request, reject)
            return
        self._new(
            request.account_id,
            symbol,
            request.side,
            request.qty,
            request.order_type,
            price,
            stop,
            request.duration,
            request.good_thru_date,
            request.exec_instructions,
            request.cl_order_id,
            request,
        )

    def place(
        self,
        account_id: str,
        symbol: str,
        side: Side,
        qty: int,
        order_type: OrderType = OrderType.LMT,
        *,
        price: int | None = None,
        stop: int | None = None,
        duration: Duration = Duration.DAY,
        good_thru_date: date | None = None,
        exec_instructions: frozenset[ExecInstruction] = _NO_INSTRUCTIONS,
        cl_order_id: str = "",
    ) -> str:
        """Tick-level order entry (the fast path): prices are integer ticks.

        Processed at once: the latency model applies to :meth:`submit` only.

        Returns the client order id (generated when empty). Outcomes are events,
        exactly as for :meth:`submit`.
        """
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        cl = self._new(
            account_id,
            symbol,
            side,
            qty,
            order_type,
            price,
            stop,
            duration,
            good_thru_date,
            exec_instructions,
            cl_order_id,
            None,
        )
        if self._touched and (self._sinks or self._armed):
            self._settle()
        if self._outbox:
            self._flush()
        return cl

    def _gen_cl(self) -> str:
        cl = f"X{self._next_cl}"
        self._next_cl += 1
        return cl

    def _new(
        self,
        account_id: str,
        symbol: str,
        side: Side,
        qty: int,
        order_type: OrderType,
        price: int | None,
        stop: int | None,
        duration: Duration,
        gtd: date | None,
        exec_instructions: frozenset[ExecInstruction],
        cl_order_id: str,
        request: NewOrder | None,
        *,
        liquidation: bool = False,
    ) -> str:
        """Validate, then accept and execute a new order; returns its client id.

        The checks run in a fixed order (the first failing one names the reject); the
        ones an ordinary limit or market order meets cost a comparison each.
        """
        now = self._ts
        acct = self._accounts.get(account_id)
        cl = cl_order_id
        aon = False
        expire_ns = 0
        try:
            if acct is None:
                raise Reject(RejectCode.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}")
            if not cl:
                cl = self._gen_cl()
            ids = acct.orders_by_cl
            if cl in ids or cl in acct.rejected:
                raise Reject(
                    RejectCode.DUPLICATE_ORDER_ID,
                    f"client order id {cl!r} already used by account {account_id!r}",
                )
            instrument = self._instruments.get(symbol)
            if instrument is None:
                raise Reject(RejectCode.UNKNOWN_INSTRUMENT, f"unknown instrument {symbol!r}")
            book = self._books[symbol]
            if self.faults is not None and not liquidation:
                code = self.faults.order_reject(_NEW, now)
                if code is not None:
                    raise Reject(code, f"rejected by the fault plan ({code})")
            if qty <= 0:
                raise Reject(RejectCode.QTY_INVALID, f"qty must be > 0, got {qty}")
            if qty > instrument.max_order_qty:
                raise Reject(
                    RejectCode.QTY_OVER_MAX,
                    f"qty {qty} over the maximum {instrument.max_order_qty} for {symbol}",
                )
            if order_type is _MKT or order_type is _STP:
                price = None
            elif price is None:
                raise Reject(RejectCode.PRICE_MISSING, f"{order_type} order needs a limit price")
            if order_type is _STP or order_type is _STL:
                if stop is None:
                    raise Reject(RejectCode.PRICE_MISSING, f"{order_type} order needs a stop price")
            else:
                stop = None
            if exec_instructions:
                if ExecInstruction.ICEBERG in exec_instructions:
                    raise Reject(RejectCode.UNSUPPORTED, "iceberg orders are not supported")
                aon = ExecInstruction.AON in exec_instructions
                if ExecInstruction.POST_ONLY in exec_instructions:
                    if order_type is not _LMT:
                        raise Reject(RejectCode.UNSUPPORTED, "post-only needs a limit order")
                    other = book.best_ask() if side is _BUY else book.best_bid()
                    assert price is not None
                    if other is not None and (price >= other if side is _BUY else price <= other):
                        raise Reject(
                            RejectCode.POST_ONLY_WOULD_CROSS,
                            f"post-only {side} at {instrument.to_price(price)} would cross"
                            f" {instrument.to_price(other)}",
                        )
            if duration is _GTD:
                if gtd is None:
                    raise Reject(RejectCode.GTD_MISSING_DATE, "GTD order needs good_thru_date")
                expire_ns = end_of_date_ns(gtd, instrument.trading_hours)
                today = self._calendars[symbol].trading_date(now)
                if gtd < today or expire_ns <= now:
                    raise Reject(
                        RejectCode.GTD_IN_PAST,
                        f"good_thru_date {gtd.isoformat()} is before today {today.isoformat()}",
                    )
            if self.enforce_sessions and not self._calendars[symbol].is_open(now):
                raise Reject(RejectCode.MARKET_CLOSED, f"{symbol} is outside its trading session")
            if stop is not None:
                self._check_stop(instrument, side, stop)
            pos = acct.positions.get(symbol)
            if not acct.unlimited and not liquidation:
                # The buying-power check, inlined: exposure is max(|qty + buys|, |qty - sells|)
                # in the account's integer money units (see ledger.py)
                if pos is None:
                    margin = self.margin(symbol)
                    added = qty
                    short = margin * added > acct.cash + acct.unrealized_value - acct.margin_value
                else:
                    margin = pos.margin
                    held = pos.qty
                    high = held + pos.buy_working
                    low = held - pos.sell_working
                    before = high if high + low >= 0 else -low
                    if side is _BUY:
                        high += qty
                    else:
                        low -= qty
                    added = (high if high + low >= 0 else -low) - before
                    short = added > 0 and pos.margin_units * added > (
                        acct.cash_units + acct.unrealized_units - acct.margin_units
                    )
                if short:
                    needed = margin * added
                    available = acct.cash + acct.unrealized_value - acct.margin_value
                    raise Reject(
                        RejectCode.INSUFFICIENT_BUYING_POWER,
                        f"needs {needed} {acct.currency} initial margin for {added} more"
                        f" contract(s); buying power is {available}",
                    )
        except Reject as reject:
            if request is None:
                request = NewOrder(
                    account_id=account_id,
                    symbol=symbol,
                    side=side,
                    qty=qty,
                    order_type=order_type,
                    duration=duration,
                    good_thru_date=gtd,
                    cl_order_id=cl,
                )
                inst = self._instruments.get(symbol)
                if inst is not None:
                    request = msgspec.structs.replace(
                        request,
                        limit_price=inst.to_price(price) if price is not None else None,
                        stop_price=inst.to_price(stop) if stop is not None else None,
                    )
            self._reject_new(request, reject, cl_order_id=cl)
            return cl

        if pos is None:
            pos = acct.position(instrument, self.margin(symbol))
        oid = self._next_oid
        self._next_oid = oid + 1
        sign = 1 if side is _BUY else -1
        order = OrderRecord(
            oid,
            account_id,
            symbol,
            sign,
            qty,
            order_type,
            price,
            stop,
            duration,
            gtd,
            aon,
            cl,
            now,
            tuple(sorted(exec_instructions)) if exec_instructions else (),
            pos,
            book,
            _W,
            expire_ns,
        )
        ids[cl] = order
        acct.open_orders[oid] = order
        book.open_orders[oid] = order
        # pos.add_working(sign, qty), inlined: every new order comes through here
        held = pos.qty
        high = held + pos.buy_working
        low = held - pos.sell_working
        before = high if high + low >= 0 else -low
        if sign > 0:
            pos.buy_working += qty
            high += qty
        else:
            pos.sell_working += qty
            low -= qty
        after = high if high + low >= 0 else -low
        if after != before:
            acct.margin_units += (after - before) * pos.margin_units
            if pos.margin_exp < acct.margin_exp:
                acct.margin_exp = pos.margin_exp
        if self._sinks:
            self._emit(self._report(_R_ACCEPTED, order, now, request_type=_NEW))
        if expire_ns:
            self._push(expire_ns, _EVENT_EXPIRE, order)
        self._touched[symbol] = None
        if stop is not None:
            order.seq = self._next_seq
            self._next_seq += 1
            book.add_stop(order)
            self._armed.add(symbol)
        elif (
            price is None
            or aon
            or duration is _IOC
            or duration is _FOK
            or (
                (book.ask_keys and -book.ask_keys[-1] <= price)
                if sign > 0
                else (book.bid_keys and book.bid_keys[-1] >= price)
            )
        ):
            self._execute(order, book)
        else:
            # A passive limit order: what _execute would do (rest it), without the call.
            seq = self._next_seq
            self._next_seq = seq + 1
            order.seq = seq
            order.resting = True
            if sign > 0:
                level = book.bids.get(price)
                if level is None:
                    level = book.bids[price] = Level(price)
                    insort(book.bid_keys, price)
            else:
                level = book.asks.get(price)
                if level is None:
                    level = book.asks[price] = Level(price)
                    insort(book.ask_keys, -price)
            level.orders.append((seq, order))
            level.qty += qty
            level.count += 1
        return cl

    def _check_stop(self, instrument: Instrument, side: Side, stop: int) -> None:
        symbol = instrument.symbol
        book = self._books[symbol]
        ref = self._marks.get(symbol)
        if ref is None:
            ref = book.best_ask() if side is _BUY else book.best_bid()
        if ref is None:
            return
        if (side is _BUY and stop <= ref) or (side is _SELL and stop >= ref):
            relation = "above" if side is _BUY else "below"
            raise Reject(
                RejectCode.STOP_WRONG_SIDE,
                f"{side} stop {instrument.to_price(stop)} must be {relation} the market"
                f" {instrument.to_price(ref)}",
            )

    def _check_buying_power(
        self, acct: AccountLedger, instrument: Instrument, side: Side, extra_qty: int
    ) -> None:
        pos = acct.positions.get(instrument.symbol)
        margin = pos.margin if pos is not None else self.margin(instrument.symbol)
        if pos is None:
            added = extra_qty
        else:
            added = pos.exposure_with(1 if side is _BUY else -1, extra_qty) - pos.exposure()
        if added <= 0:
            return
        if pos is not None:
            short = pos.margin_units * added > acct.buying_power_units()
        else:
            short = margin * added > acct.buying_power(self._marks)
        if short:
            needed = margin * added
            available = acct.buying_power(self._marks)
            raise Reject(
                RejectCode.INSUFFICIENT_BUYING_POWER,
                f"needs {needed} {acct.currency} initial margin for {added} more contract(s);"
                f" buying power is {available}",
            )
