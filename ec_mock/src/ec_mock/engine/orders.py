"""New orders: price conversion at the edge, the entry rules, acceptance."""

from __future__ import annotations

from datetime import date

import msgspec
from ec_core.model import (
    Duration,
    ExecInstruction,
    NewOrder,
    OrderType,
    Side,
    SmpInstruction,
)

from ec_mock.engine.auction import AuctionLayer
from ec_mock.engine.codes import VENUE_ID_MARK, RejectCode
from ec_mock.engine.core import (
    _BUY,
    _EVENT_EXPIRE,
    _FOK,
    _IOC,
    _MKT,
    _MTL,
    _NEW,
    _NO_INSTRUCTIONS,
    _R_ACCEPTED,
    _STL,
    _STP,
    _W,
    Reject,
    reserved_id,
)
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.rules import OrderKind, new_order_plan, short_of_margin
from ec_mock.engine.smp import SelfMatchPrevention

_ICEBERG = frozenset({ExecInstruction.ICEBERG})

_AGGRESSING = SmpInstruction.CANCEL_AGGRESSING


def order_smp(smp_id: str | None, instruction: SmpInstruction | None) -> SelfMatchPrevention:
    """The SMP of one order from its request fields; an instruction without an id, or an
    empty id, is a reject that says so (never an order traded without the SMP it asked)."""
    if not smp_id or not isinstance(smp_id, str):
        raise Reject(
            RejectCode.SMP_INVALID,
            f"smp_id must be a non-empty string (smp_instruction {instruction} needs one),"
            f" got {smp_id!r}",
        )
    if instruction is not None and not isinstance(instruction, SmpInstruction):
        raise Reject(
            RejectCode.SMP_INVALID, f"smp_instruction {instruction!r} is not an SmpInstruction"
        )
    return SelfMatchPrevention(smp_id=smp_id, cancel_resting=instruction is not _AGGRESSING)


class OrderEntryLayer(AuctionLayer):
    """Order entry: checks a new order against the entry rules, then books and executes it."""

    def _on_new_request(self, request: NewOrder) -> None:
        symbol = request.symbol
        limit_price = request.limit_price
        stop_price = request.stop_price
        try:
            price = None if limit_price is None else self._ticks(symbol, limit_price)
            stop = None if stop_price is None else self._ticks(symbol, stop_price)
            smp = None
            if request.smp_id is not None or request.smp_instruction is not None:
                smp = order_smp(request.smp_id, request.smp_instruction)
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
            request.display_qty,
            request.min_qty,
            smp,
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
        display_qty: int | None = None,
        min_qty: int | None = None,
        smp: SelfMatchPrevention | None = None,
    ) -> str:
        """Tick-level order entry (the fast path): prices are integer ticks.

        Processed at once: the latency model applies to :meth:`submit` only.
        ``display_qty``, ``min_qty`` and ``smp`` are the order qualifiers of
        :class:`~ec_core.model.NewOrder` (``smp``: this order's SMP id and instruction).

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
            display_qty,
            min_qty,
            smp,
        )
        if self._touched and (self._sinks or self._armed):
            self._settle()
        if self._outbox:
            self._flush()
        return cl

    def _gen_cl(self) -> str:
        cl = f"{VENUE_ID_MARK}X{self._next_cl}"
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
        display_qty: int | None = None,
        min_qty: int | None = None,
        smp: SelfMatchPrevention | None = None,
        liquidation: bool = False,
    ) -> str:
        """Check a new order against the entry rules, then accept and execute it.

        Returns its client id. The lookups (account, client id, instrument) and the
        fault plan come first, then the rules that apply to this kind of order
        (:data:`~ec_mock.engine.rules.NEW_ORDER_RULES`, in order: the first failing
        one names the reject). An order type without a limit (stop) price drops one.
        """
        now = self._ts
        acct = self._accounts.get(account_id)
        cl = cl_order_id
        if order_type is _MKT or order_type is _STP or order_type is _MTL:
            price = None
        if display_qty is not None:  # an iceberg: the product must offer ICEBERG
            exec_instructions = exec_instructions | _ICEBERG
        if order_type is not _STP and order_type is not _STL:
            stop = None
        try:
            if acct is None:
                raise Reject(RejectCode.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}")
            if not cl:
                cl = self._gen_cl()
            elif cl[0] == VENUE_ID_MARK and not liquidation:
                raise reserved_id(cl)
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
            order = OrderRecord(
                0,
                account_id,
                symbol,
                1 if side is _BUY else -1,
                qty,
                order_type,
                price,
                stop,
                duration,
                gtd,
                ExecInstruction.AON in exec_instructions if exec_instructions else False,
                cl,
                now,
                tuple(sorted(exec_instructions)) if exec_instructions else (),
                book,
                _W,
            )
            if display_qty is not None:
                order.display = display_qty
            if min_qty is not None:
                order.min_qty = min_qty
            plans = self._new_order_plans[symbol]
            key = (order_type, duration, exec_instructions, liquidation, min_qty is not None)
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = new_order_plan(
                    OrderKind(
                        instrument,
                        self._limits[symbol],
                        order_type,
                        duration,
                        exec_instructions,
                        liquidation,
                        self.enforce_sessions and instrument.trading_calendar is not None,
                        min_qty is not None,
                        frozenset(self._refused),
                    )
                )
            for check in plan:
                check(self, order, acct, instrument)
            # The last check, buying power, for the exposure the order adds; the house
            # (unlimited) and liquidations are exempt. An open position books the order
            # (add_working) in the same step: integer money units on the common path.
            pos = acct.positions.get(symbol)
            checked = not (acct.unlimited or liquidation)
            if pos is not None:
                short = pos.add_working(order.side, qty, checked)
                if short:
                    raise short_of_margin(acct, pos.margin, short)
            elif checked:
                margin = self.margin(symbol)
                if margin * qty > acct.cash + acct.unrealized_value - acct.margin_value:
                    raise short_of_margin(acct, margin, qty)
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
                    display_qty=display_qty,
                    min_qty=min_qty,
                    smp_id=smp.smp_id if smp is not None else None,
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

        price = order.price  # a protected market order has one now
        if pos is None:
            pos = acct.position(instrument, self.margin(symbol))
            pos.add_working(order.side, qty)
        oid = order.oid = self._next_oid
        self._next_oid = oid + 1
        order.pos = pos
        order.smp = acct.smp if smp is None else smp
        sign = order.side
        aon = order.aon
        expire_ns = order.expire_ns
        ids[cl] = order
        acct.open_orders[oid] = order
        book.open_orders[oid] = order
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
            or order.display
            or duration is _IOC
            or duration is _FOK
            or (
                (book.ask_keys and -book.ask_keys[-1] <= price)
                if sign > 0
                else (book.bid_keys and book.bid_keys[-1] >= price)
            )
        ):
            self._execute(order, book)
        else:  # a passive limit order: what _execute would do, without the checks
            seq = self._next_seq
            self._next_seq = seq + 1
            book.rest(order, seq)
        return cl
