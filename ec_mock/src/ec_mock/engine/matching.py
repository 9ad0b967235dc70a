"""Matching: take liquidity, rest, fill, print, fire stops and AON orders, end orders.

The hot path. Steps that belong to the book or to a position are calls to their one
implementation (:meth:`OrderBook.rest`, :meth:`OrderBook.unrest`,
:meth:`PositionLedger.add_working`), never copies of them.
"""

from __future__ import annotations

from collections import deque

from ec_core.model import (
    AccountReport,
    Fill,
    OrderState,
    PositionReport,
    Quote,
    Side,
    Trade,
)

from ec_mock.engine.book import OrderBook
from ec_mock.engine.core import (
    _BUY,
    _CANCELLED,
    _EVENT_REOPEN,
    _EXPIRED,
    _F,
    _FOK,
    _IOC,
    _PF,
    _R_CANCELLED,
    _R_EXPIRED,
    _R_FILL,
    _SELL,
    _STALE,
    _ZERO,
)
from ec_mock.engine.ledger import PositionLedger
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.reports import ReportsLayer
from ec_mock.engine.smp import SMP_CANCELLED_AGGRESSING, SMP_CANCELLED_RESTING


class MatchingLayer(ReportsLayer):
    """Price-time matching on the books and what a fill or an end does to accounts."""

    # ------------------------------------------------------------------ matching
    def _execute(self, order: OrderRecord, book: OrderBook) -> None:
        """Take liquidity with ``order`` and then rest, wait or cancel what is left."""
        limit = order.price
        duration = order.duration
        if order.aon or duration is _FOK:
            remaining = order.qty - order.filled
            if book.available(order.side, limit, remaining) < remaining:
                if duration is _FOK or duration is _IOC or limit is None:
                    self._finish(order, _CANCELLED, "could not be filled in full")
                elif order not in book.aon:
                    book.aon.append(order)
                    self._armed.add(book.symbol)
                    if not order.seq:
                        order.seq = self._next_seq
                        self._next_seq += 1
                return
        elif order.min_qty:
            # CME Globex minimum quantity (a fill-and-kill qualifier): at least this
            # much must trade at once, else the order is cancelled without a fill.
            least = order.min_qty
            if book.available(order.side, limit, least) < least:
                self._finish(order, _CANCELLED, f"minimum quantity {least} not available")
                return
        # Match only if the opposite touch is within the limit (the usual passive add is
        # not), and the market is open (a pre-open order rests, crossed, until the open).
        if self._closed and book.symbol in self._closed:
            pass
        elif order.side > 0:
            keys = book.ask_keys
            if keys and (limit is None or -keys[-1] <= limit):
                self._match(order, book)
        else:
            keys = book.bid_keys
            if keys and (limit is None or keys[-1] >= limit):
                self._match(order, book)
        if order.filled == order.qty or order.state is _CANCELLED:
            return  # filled, or cancelled by self-match prevention
        if limit is None:
            self._finish(order, _CANCELLED, "market order: no more liquidity")
        elif duration is _IOC or duration is _FOK:
            self._finish(order, _CANCELLED, "immediate-or-cancel remainder")
        else:  # rest (an iceberg shows its first slice)
            seq = self._next_seq
            self._next_seq = seq + 1
            book.rest(order, seq)

    def _match(self, order: OrderRecord, book: OrderBook) -> None:
        side = order.side
        limit = order.price
        if side > 0:
            levels = book.asks
            keys = book.ask_keys
            aggressor = _BUY
        else:
            levels = book.bids
            keys = book.bid_keys
            aggressor = _SELL
        symbol = book.symbol
        fill = self._fill
        marks = self._marks
        holders = book.holders
        trade_front = book.trade_front
        printed = printed_at = 0  # size and price of the last print
        wanted = order.qty - order.filled
        start = marks.get(symbol)  # the price before this order trades (velocity logic)
        smp = order.smp
        smp_id = smp.smp_id if smp is not None else None
        cancel_aggressor = False
        closing = self._closing.get(symbol)  # the settlement's closing range, once it runs
        if closing is not None and self._ts < closing.start_ns:
            closing = None
        while wanted > 0 and keys:
            price = -keys[-1] if side > 0 else keys[-1]
            if limit is not None and (price > limit if side > 0 else price < limit):
                break
            level = levels[price]
            queue = level.orders
            at_level = 0  # quantity traded at this price level
            while queue and wanted > 0:
                seq, resting = queue[0]
                if resting.seq != seq or not resting.resting:
                    queue.popleft()  # a lazily cancelled entry reaching the front
                    continue
                available = resting.qty - resting.filled
                if smp is not None and resting.smp is not None and resting.smp.smp_id == smp_id:
                    if not smp.cancel_resting:
                        cancel_aggressor = True
                        break
                    # Out of the book (its queue entry is dropped as dead next round),
                    # with the level too if it was the last order there.
                    self._finish(resting, _CANCELLED, SMP_CANCELLED_RESTING)
                    continue
                if resting.display:  # only its slice on display trades here
                    shown = resting.shown
                    qty = wanted if wanted < shown else shown
                    if trade_front(resting, qty, available):
                        seq = self._next_seq
                        self._next_seq = seq + 1
                        book.show_next_slice(resting, available - qty, seq)
                else:
                    qty = wanted if wanted < available else available
                    trade_front(resting, qty, available)
                # the print (the symbol is touched and its last trade set once, below).
                # The holders are re-marked before the fills, so the account reports
                # of the fills value positions at the trade price.
                if marks.get(symbol) != price:
                    self._mark(symbol, price, holders)
                fill(resting, qty, price, False)
                fill(order, qty, price, True)
                at_level += qty
                wanted -= qty
            if at_level:
                # One print per price level per aggressing order, as CME MDP reports
                # a trade summary (not one print per resting order it met).
                printed = at_level
                printed_at = price
                if closing is not None:
                    closing.add(price, at_level)
                if self._sinks:
                    self._emit(
                        Trade(
                            symbol=symbol,
                            ts_ns=self._ts,
                            price=price,
                            size=at_level,
                            aggressor=aggressor,
                        )
                    )
            if level.count == 0 and levels.get(price) is level:  # not dropped by an SMP cancel
                book.drop_level(-side, price)
            if cancel_aggressor:
                self._finish(order, _CANCELLED, SMP_CANCELLED_AGGRESSING)
                break
        if printed:
            self._touched[symbol] = None
            self._last[symbol] = (self._ts, printed_at, printed, aggressor)
            if start is not None and self._limits[symbol].velocity is not None:
                self._check_velocity(symbol, start, printed_at)

    def _fill_resting(
        self, order: OrderRecord, qty: int, price: int, aggressor: bool | None
    ) -> None:
        """Fill a resting order outside the matching loop (the opening auction, prints
        from outside the book; ``aggressor`` as :meth:`_fill`): out of the book when it is
        done, its quantity lowered in place otherwise; an iceberg whose slice is gone shows
        its next slice at the back of the queue."""
        book = order.book
        requeue = False
        if qty == order.qty - order.filled:
            book.unrest(order)
        elif not order.display:
            book.reduce_resting(order, qty)
        elif qty < order.shown:
            book.reduce_shown(order, qty)
        else:
            book.unrest(order)
            requeue = True
        self._fill(order, qty, price, aggressor)
        if requeue:
            seq = self._next_seq
            self._next_seq = seq + 1
            book.rest(order, seq)

    def _check_velocity(self, symbol: str, start: int, price: int) -> None:
        """CME Globex velocity logic (stop-spike style): an aggressor that moved the price
        more than the product's velocity points within its lookback pauses matching;
        the market re-opens with an auction after ``halt_seconds``.

        The prices the lookback compares with are those before each aggressing order
        of the window; what already traded stands. During the pause orders, modifies
        and cancels are taken and nothing matches (Globex "Reserved" state).
        """
        limits = self._limits[symbol]
        velocity = limits.velocity
        assert velocity is not None
        now = self._ts
        recent = self._recent.setdefault(symbol, deque())
        recent.append((now, start))
        while recent and recent[0][0] < now - limits.velocity_ns:
            recent.popleft()
        prices = [p for _, p in recent]
        if price - min(prices) > velocity or max(prices) - price > velocity:
            recent.clear()
            self._closed.add(symbol)
            self._halted.add(symbol)
            self._push(now + limits.halt_ns, _EVENT_REOPEN, symbol)

    def _fill(self, order: OrderRecord, qty: int, price: int, aggressor: bool | None) -> None:
        """Book ``qty`` of ``order`` filled at ``price``; ``aggressor``: whether it took
        liquidity (``None``: an auction, where nobody did)."""
        filled = order.filled + qty
        order.filled = filled
        order.cost += qty * price
        now = self._ts
        order.updated_ns = now
        symbol = order.symbol
        pos = order.pos
        acct = pos.account
        book = order.book
        pos.fill(order.side * qty, price, self._marks.get(symbol), True)
        if pos.qty:
            book.holders[order.account_id] = pos
        else:
            book.holders.pop(order.account_id, None)
        commission = _ZERO
        if acct.commission_per_contract or acct.commission_per_order:
            commission = acct.charge_commission(qty, first=filled == qty)
        if filled == order.qty:
            order.state = _F
            del acct.open_orders[order.oid]
            del book.open_orders[order.oid]
            if acct.retire_final:
                self._retire(order)
        else:
            order.state = _PF
        fill_no = self._next_fill
        self._next_fill = fill_no + 1
        if self._sinks:
            fill_price = self._to_price[symbol].get(price)
            if fill_price is None:
                fill_price = self._price(symbol, price)
            fill = Fill(
                fill_id=f"F{fill_no}",
                account_id=order.account_id,
                symbol=symbol,
                side=_BUY if order.side > 0 else _SELL,
                qty=qty,
                price=fill_price,
                ts_ns=now,
                cl_order_id=order.cl_order_id,
                chain_id=order.chain_id,
                venue_order_id=f"V{order.oid}",
                commission=commission,
                is_aggressor=aggressor,
            )
            emit = self._emit
            emit(self._report(_R_FILL, order, now, fill=fill))
            emit(PositionReport(position=pos.to_position(order.account_id), ts_ns=now))
            emit(AccountReport(account=acct.to_account(self._marks), ts_ns=now))

    def _hold(self, pos: PositionLedger) -> None:
        """Track who holds a position in each instrument, to re-mark them on a print."""
        holders = self._holders.setdefault(pos.symbol, {})
        if pos.qty:
            holders[pos.account.account_id] = pos
        else:
            holders.pop(pos.account.account_id, None)

    def _mark(self, symbol: str, price: int, holders: dict[str, PositionLedger] | None) -> None:
        """The symbol's mark moves to ``price``: carry the change into every holder's P&L."""
        marks = self._marks
        old = marks.get(symbol)
        if holders:
            for pos in holders.values():
                pos.remark(old, price)
        marks[symbol] = price

    def _print(self, symbol: str, price: int, qty: int, aggressor: Side | None) -> None:
        """Publish a print and re-mark the holders (``_match`` books its prints the same
        way, setting the last trade once per request)."""
        if self._marks.get(symbol) != price:
            self._mark(symbol, price, self._holders.get(symbol))
        self._touched[symbol] = None
        now = self._ts
        self._last[symbol] = (now, price, qty, aggressor)
        self._closing_print(symbol, price, qty)
        if self._sinks:
            self._emit(Trade(symbol=symbol, ts_ns=now, price=price, size=qty, aggressor=aggressor))

    def _settle(self) -> None:
        """After a request: fire stops, fill waiting AON orders, publish changed quotes,
        drop the depth built before the request (:meth:`book_depth` builds it again).

        With no listener and no log nobody sees quotes, so the touch is not computed:
        the symbol's quote is marked stale and :meth:`add_listener` fills it in. Only
        books in ``_armed`` can hold stops or AON orders; with none and nobody
        listening there is nothing to do, so the entry points do not call this and
        ``_touched`` keeps the symbols until someone listens or a book is armed.
        """
        touched = self._touched
        quotes = self._quotes
        armed = self._armed
        books = self._books
        depths = self._depths
        while touched:
            symbol = next(iter(touched))
            book = books[symbol]
            if symbol in armed:
                if book.buy_stops or book.sell_stops or book.aon:
                    self._trigger(symbol, book)
                if not (book.buy_stops or book.sell_stops or book.aon):
                    armed.discard(symbol)
            del touched[symbol]
            if depths:
                depths.pop(symbol, None)
            if not self._sinks:
                quotes[symbol] = _STALE
                continue
            touch = book.touch()
            if quotes.get(symbol) != touch:
                quotes[symbol] = touch
                bid, bid_size, ask, ask_size = touch
                self._emit(
                    Quote(
                        symbol=symbol,
                        ts_ns=self._ts,
                        bid=bid,
                        bid_size=bid_size,
                        ask=ask,
                        ask_size=ask_size,
                    )
                )

    def _trigger(self, symbol: str, book: OrderBook) -> None:
        """Fire stops and fill waiting AON orders until nothing more happens.

        A stop-market order of a product with protection points fires as a limit
        at its trigger ± the protection (CME Globex stop order with protection).
        """
        active = True
        protection = self._limits[symbol].protection
        while active:
            active = False
            last = self._marks.get(symbol)
            if last is not None and (book.buy_stops or book.sell_stops):
                for order in book.triggered_stops(last):
                    if order.state.is_open:
                        order.triggered = True
                        if protection is not None and order.price is None:
                            stop = order.stop
                            assert stop is not None
                            order.price = stop + protection * order.side
                        self._execute(order, book)
                        active = True
            if book.aon and symbol not in self._closed:
                for order in list(book.aon):
                    remaining = order.qty - order.filled
                    if (
                        order.state.is_open
                        and book.available(order.side, order.price, remaining) >= remaining
                    ):
                        book.aon.remove(order)
                        self._match(order, book)
                        active = True

    # ------------------------------------------------------------------ ends of orders
    def _finish(
        self, order: OrderRecord, state: OrderState, text: str = "", *, quiet: bool = False
    ) -> None:
        """Cancel or expire an open order: out of the book, working qty released.

        ``quiet``: no report (the caller reports the order's end itself).
        """
        symbol = order.symbol
        book = order.book
        side = order.side
        remaining = order.qty - order.filled
        if order.resting:
            book.unrest(order)
        elif order.stop is not None and not order.triggered:
            book.remove_stop(order)
        if order.aon and order in book.aon:
            book.aon.remove(order)
        pos = order.pos
        pos.add_working(side, -remaining)
        acct = pos.account
        order.state = state
        now = self._ts
        order.updated_ns = now
        del acct.open_orders[order.oid]
        del book.open_orders[order.oid]
        if acct.retire_final:
            self._retire(order)
        self._touched[symbol] = None
        if self._sinks and not quiet:
            kind = _R_EXPIRED if state is _EXPIRED else _R_CANCELLED
            self._emit(self._report(kind, order, now, text=text))
