"""The simulated venue: order entry, matching, accounts, sessions and events.

Sans-I/O and single-threaded: requests go in through :meth:`Exchange.submit` (core
request types, Decimal prices) or the tick-level methods :meth:`Exchange.place`,
:meth:`Exchange.amend` and :meth:`Exchange.cancel`; time moves only through
:meth:`Exchange.advance_to`; every outcome comes out as an event delivered to the
listeners and appended to :attr:`Exchange.event_log`. Nothing here reads the wall
clock or an unseeded random source, so the same seed and inputs give the same log.
"""

from __future__ import annotations

import heapq

from ec_core.clock import ManualClock
from ec_core.model import (
    CancelAll,
    CancelOrder,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    RequestType,
)

from ec_mock.engine.clearing import ClearingLayer
from ec_mock.engine.core import (
    _DAY,
    _EVENT_EXPIRE,
    _EVENT_MARGIN,
    _EVENT_REOPEN,
    _EVENT_REQUEST,
    _EVENT_SESSION,
    _EXPIRED,
    DEFAULT_MARGIN_TICKS,
    ExchangeEvent,
)

__all__ = ["DEFAULT_MARGIN_TICKS", "Exchange", "ExchangeEvent"]


class Exchange(ClearingLayer):
    """One simulated futures venue.

    ``instruments`` are the contracts it lists; ``clock`` is read for timestamps
    (a :class:`~ec_core.clock.ManualClock` is moved by :meth:`advance_to`);
    ``seed`` drives every random choice (latency, simulators built on it).
    ``margins`` maps a symbol to its initial margin per contract (default: the
    built-in table for built-in symbols, else :data:`DEFAULT_MARGIN_TICKS` tick
    values), ``maintenance_margins`` to its maintenance margin (default: the built-in
    table, else the initial margin). Each trading day's close settles the positions
    (:mod:`ec_mock.engine.clearing`). With ``enforce_sessions`` a new order for an
    instrument outside its trading hours is rejected
    ``MARKET_CLOSED`` and DAY orders expire at the close; instruments without
    trading hours trade around the clock. ``record=False`` keeps no event log
    (long simulations, benchmarks). ``faults`` is consulted for order-level faults.

    Self-trades are allowed: two orders of the same account (or the house and a
    user) that cross simply trade.
    """

    def advance_to(self, ts_ns: int) -> None:
        """Process everything due up to ``ts_ns`` in time order, then stand at ``ts_ns``.

        Moves a :class:`ManualClock`; events due before the clock's current time (any
        clock) are processed stamped with their own due time, in order. Handles session
        opens and closes (DAY orders expire at the close), GTD expiry and latency-delayed
        requests.
        """
        timers = self._timers
        manual = self._clock if isinstance(self._clock, ManualClock) else None
        try:
            while timers and timers[0][0] <= ts_ns:
                due, _, kind, payload = heapq.heappop(timers)
                self.next_due_ns = timers[0][0] if timers else None
                if manual is not None and due >= manual.now_ns():
                    manual.set(due)
                    self._ts_override = None
                else:
                    # The clock already moved past ``due``: stamp events with their due time.
                    self._ts_override = due
                self._ts = due
                if kind == _EVENT_SESSION:
                    self._on_session_boundary(payload)
                elif kind == _EVENT_EXPIRE:
                    order = payload
                    if order.state.is_open and order.expire_ns == due:
                        self._finish(order, _EXPIRED, "good-till-date reached")
                elif kind == _EVENT_REQUEST:
                    self._process(payload)
                elif kind == _EVENT_REOPEN:
                    self._reopen(payload)
                elif kind == _EVENT_MARGIN:
                    self._check_margins(payload)
                if self._touched and (self._sinks or self._armed):
                    self._settle()
                if self._outbox:
                    self._flush()
        finally:
            self._ts_override = None
        if manual is not None and ts_ns > manual.now_ns():
            manual.set(ts_ns)

    def _on_session_boundary(self, symbol: str) -> None:
        calendar = self._calendars[symbol]
        now = self._ts
        was_open = calendar._open
        is_open, boundary = calendar.state(now)
        if boundary >= 0:
            self._push(boundary, _EVENT_SESSION, symbol)
        if is_open:
            if symbol in self._closed:
                self._closed.discard(symbol)
                self._open_auction(symbol)  # what the pre-open left crossed trades first
                self._run_liquidations(symbol)
        else:
            self._closed.add(symbol)
        if was_open and not is_open:
            self._on_trading_day_close(symbol)  # settles to the book as the close left it
            for order in list(self._open_by_symbol[symbol].values()):
                if order.duration is _DAY:
                    self._finish(order, _EXPIRED, "DAY order expired at the close")

    # ------------------------------------------------------------------ order entry
    def submit(self, request: OrderRequest) -> None:
        """Send a core order request. Outcomes arrive as events, never as exceptions."""
        if self.latency is not None:
            delay = self.latency.sample(self.rng)
            self._push(self._now() + delay, _EVENT_REQUEST, request)
            return
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        kind = type(request)  # the common cases first, without the isinstance chain
        if kind is NewOrder:
            self._on_new_request(request)  # type: ignore[arg-type]
        elif kind is CancelOrder:
            self._cancel(
                request.account_id,
                request.orig_cl_order_id,  # type: ignore[union-attr]
                request.cl_order_id,
                request.symbol,  # type: ignore[union-attr]
            )
        elif kind is ModifyOrder:
            self._on_modify_request(request)  # type: ignore[arg-type]
        else:
            self._process(request)
        if self._touched and (self._sinks or self._armed):
            self._settle()
        if self._outbox:
            self._flush()

    def _process(self, request: OrderRequest) -> None:
        if isinstance(request, NewOrder):
            self._on_new_request(request)
        elif isinstance(request, ModifyOrder):
            self._on_modify_request(request)
        elif isinstance(request, CancelOrder):
            self._cancel(
                request.account_id, request.orig_cl_order_id, request.cl_order_id, request.symbol
            )
        elif isinstance(request, CancelAll):
            self._cancel_all(request.account_id, request.symbol, RequestType.CANCEL_ALL)
        elif isinstance(request, LiquidateAll):
            self._liquidate(
                request.account_id,
                request.symbol,
                request.cl_order_id,
                RequestType.LIQUIDATE_ALL,
            )
        elif isinstance(request, GoFlat):
            self._liquidate(request.account_id, None, request.cl_order_id, RequestType.GO_FLAT)
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"not an order request: {request!r}")
