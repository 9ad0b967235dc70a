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
import random
from bisect import insort
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, final

import msgspec
from ec_core.clock import Clock, ManualClock
from ec_core.errors import PriceError
from ec_core.model import (
    FINAL_STATES,
    Account,
    AccountReport,
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    Fill,
    GoFlat,
    Instrument,
    LiquidateAll,
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
    Trade,
    TradeEvent,
)

from ec_mock.engine.book import BookView, Level, OrderBook
from ec_mock.engine.codes import RejectCode
from ec_mock.engine.ledger import AccountLedger, PositionLedger, check_amount
from ec_mock.engine.listener import Listener, OrderFaults
from ec_mock.engine.models import FillModel, LatencyModel
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.sessions import SessionCalendar, end_of_date_ns
from ec_mock.engine.state import (
    AccountSnapshot,
    ExchangeState,
    OrderSnapshot,
    PositionSnapshot,
)
from ec_mock.instruments import builtin_specs

__all__ = ["DEFAULT_MARGIN_TICKS", "Exchange", "ExchangeEvent"]

ExchangeEvent = TradeEvent | Quote | Trade
"""Anything in the event log."""

DEFAULT_MARGIN_TICKS = 1_000
"""Initial margin per contract when none is configured: this many tick values."""

# Enum members as module constants: ``Side.BUY`` costs an attribute lookup through the
# enum's metaclass on every use, a global costs next to nothing. Same for states.
_BUY = Side.BUY
_SELL = Side.SELL
_W = OrderState.WORKING
_PF = OrderState.PARTIALLY_FILLED
_F = OrderState.FILLED
_CANCELLED = OrderState.CANCELLED
_EXPIRED = OrderState.EXPIRED
_MKT = OrderType.MKT
_LMT = OrderType.LMT
_STP = OrderType.STP
_STL = OrderType.STL
_DAY = Duration.DAY
_GTD = Duration.GTD
_IOC = Duration.IOC
_FOK = Duration.FOK
_IOC_FOK = (_IOC, _FOK)
_NEW = RequestType.NEW
_MODIFY = RequestType.MODIFY
_CANCEL = RequestType.CANCEL
_R_ACCEPTED = ReportKind.ACCEPTED
_R_FILL = ReportKind.FILL
_R_MODIFIED = ReportKind.MODIFIED
_R_CANCELLED = ReportKind.CANCELLED
_R_EXPIRED = ReportKind.EXPIRED
_R_REJECTED = ReportKind.REJECTED
_R_STATUS = ReportKind.STATUS
_NO_INSTRUCTIONS: frozenset[ExecInstruction] = frozenset()
_TICK_CACHE_SIZE = 4096  # distinct prices per instrument kept by the Decimal <-> ticks caches
_STALE = (None, -1, None, -1)
_ZERO = Decimal(0)
_FINAL = FINAL_STATES  # a quote not computed while nobody listened (see _settle)
_LOG_ENCODER = msgspec.json.Encoder(decimal_format="string")
_EVENT_TIMER = 0
_EVENT_SESSION = 1
_EVENT_EXPIRE = 2  # payload: the OrderRecord
_EVENT_REQUEST = 3
_force = msgspec.structs.force_setattr  # fills a report's rarely set fields after building it


def _discard(event: ExchangeEvent) -> None:
    """Where events go when nobody listens and nothing is recorded."""


class _Reject(Exception):
    """Internal: abort validation of a request with a code and text."""

    def __init__(self, code: RejectCode | str, text: str) -> None:
        super().__init__(text)
        self.code = str(code)
        self.text = text


@final
class Exchange:
    """One simulated futures venue.

    ``instruments`` are the contracts it lists; ``clock`` is read for timestamps
    (a :class:`~ec_core.clock.ManualClock` is moved by :meth:`advance_to`);
    ``seed`` drives every random choice (latency, simulators built on it).
    ``margins`` maps a symbol to its initial margin per contract (default: the
    built-in table for built-in symbols, else :data:`DEFAULT_MARGIN_TICKS` tick
    values). With ``enforce_sessions`` a new order for an instrument outside its
    trading hours is rejected
    ``MARKET_CLOSED`` and DAY orders expire at the close; instruments without
    trading hours trade around the clock. ``record=False`` keeps no event log
    (long simulations, benchmarks). ``faults`` is consulted for order-level faults.

    Self-trades are allowed: two orders of the same account (or the house and a
    user) that cross simply trade.
    """

    def __init__(
        self,
        *,
        instruments: Iterable[Instrument],
        clock: Clock,
        seed: int = 0,
        fill_model: FillModel | None = None,
        latency: LatencyModel | None = None,
        margins: Mapping[str, Decimal] | None = None,
        enforce_sessions: bool = True,
        record: bool = True,
        faults: OrderFaults | None = None,
    ) -> None:
        self._clock = clock
        self.seed = seed
        self.rng = random.Random(seed)
        self.fill_model = fill_model or FillModel()
        self.latency = latency
        self.enforce_sessions = enforce_sessions
        self.faults = faults
        if margins is None:
            margins = {s.instrument.symbol: s.margin for s in builtin_specs() if s.margin}
        self._margins: dict[str, Decimal] = dict(margins)
        for symbol, amount in self._margins.items():
            check_amount(amount, f"margin of {symbol}")
        self._instruments: dict[str, Instrument] = {}
        self._books: dict[str, OrderBook] = {}
        self._calendars: dict[str, SessionCalendar] = {}
        self._accounts: dict[str, AccountLedger] = {}
        self._ids: dict[str, dict[str, OrderRecord]] = {}  # account -> every cl id -> order
        self._open: dict[str, dict[int, OrderRecord]] = {}  # account -> oid -> open order
        self._open_by_symbol: dict[str, dict[int, OrderRecord]] = {}
        # Orders are reached through their accounts' client ids (every order has one);
        # a restored order without any (a hand-made state) is kept here.
        self._unindexed: list[OrderRecord] = []
        self._rejected: dict[str, dict[str, ExecutionReport]] = {}  # account -> cl id -> reject
        self._last: dict[str, tuple[int, int, int, Side | None]] = {}  # ts, price, size, side
        self._marks: dict[str, int] = {}  # last trade price per symbol, ticks
        self._holders: dict[str, dict[str, PositionLedger]] = {}  # symbol -> account -> open pos
        self._quotes: dict[str, tuple[int | None, int, int | None, int]] = {}
        # Decimal price -> ticks and back, per symbol: requests repeat the same few prices.
        self._to_ticks: dict[str, dict[Decimal, int]] = {}
        self._to_price: dict[str, dict[int, Decimal]] = {}
        self._next_oid = 1
        self._next_seq = 1
        self._next_fill = 1
        self._next_cl = 1
        self._timers: list[tuple[int, int, int, Any]] = []  # (ts, seq, kind, payload)
        self._listeners: list[Listener] = []
        self._listener_tuple: tuple[Listener, ...] = ()
        self._record = record
        self._event_log: list[ExchangeEvent] = []
        self._sinks = record
        # Events waiting for the listeners (quotes and trades go to on_market_event).
        self._outbox: list[ExchangeEvent] = []
        self._emit: Callable[[ExchangeEvent], None] = _discard
        self._route()
        self._flushing = False
        # Symbols changed by the request, settled after it (while nobody listens and no
        # book is armed they are kept, unsettled, until add_listener: see _settle).
        self._touched: dict[str, None] = {}
        self._armed: set[str] = set()  # symbols whose book may hold stops or AON orders
        self._ts_override: int | None = None
        # The time of the request being processed: read from the clock once per request
        # by every entry point (submit, place, advance_to, ...), then used by everything
        # the request does, so one request's events carry one timestamp.
        self._ts = 0
        for instrument in instruments:
            self.add_instrument(instrument)

    # ------------------------------------------------------------------ setup
    @property
    def clock(self) -> Clock:
        return self._clock

    def add_instrument(self, instrument: Instrument, *, margin: Decimal | None = None) -> None:
        """List a contract (replacing the definition of a symbol that has no orders)."""
        symbol = instrument.symbol
        if symbol in self._books and self._open_by_symbol.get(symbol):
            raise ValueError(f"{symbol}: cannot redefine an instrument with open orders")
        self._instruments[symbol] = instrument
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = OrderBook(symbol)
        self._open_by_symbol[symbol] = book.open_orders
        self._holders[symbol] = book.holders
        self._to_ticks[symbol] = {}
        self._to_price[symbol] = {}
        if margin is not None:
            check_amount(margin, f"margin of {symbol}")
            self._margins[symbol] = margin
        calendar = SessionCalendar(instrument.trading_hours)
        self._calendars[symbol] = calendar
        if instrument.trading_hours is not None and self.enforce_sessions:
            _, boundary = calendar.state(self._now())
            if boundary >= 0:
                self._push(boundary, _EVENT_SESSION, symbol)

    def instrument(self, symbol: str) -> Instrument | None:
        return self._instruments.get(symbol)

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    def margin(self, symbol: str) -> Decimal:
        """Initial margin per contract of ``symbol``."""
        margin = self._margins.get(symbol)
        if margin is None:
            margin = self._instruments[symbol].tick_value * DEFAULT_MARGIN_TICKS
        return margin

    def is_open(self, symbol: str) -> bool:
        """Whether ``symbol`` is in its trading session now (always, without sessions)."""
        if not self.enforce_sessions:
            return True
        return self._calendars[symbol].is_open(self._now())

    def open_account(
        self,
        account_id: str,
        *,
        balance: Decimal = Decimal("1000000"),
        commission_per_contract: Decimal = Decimal("0"),
        name: str = "",
        currency: str = "USD",
        unlimited: bool = False,
    ) -> None:
        """Open an account. ``unlimited`` accounts (the house) skip the buying-power check."""
        if account_id in self._accounts:
            raise ValueError(f"account {account_id!r} already exists")
        self._accounts[account_id] = AccountLedger(
            account_id,
            balance=balance,
            commission_per_contract=commission_per_contract,
            name=name,
            currency=currency,
            unlimited=unlimited,
        )
        acct = self._accounts[account_id]
        self._ids[account_id] = acct.orders_by_cl
        self._open[account_id] = acct.open_orders
        self._rejected[account_id] = acct.rejected

    def has_account(self, account_id: str) -> bool:
        return account_id in self._accounts

    def account_ids(self) -> list[str]:
        return list(self._accounts)

    def account(self, account_id: str) -> Account:
        """Balance (cash after realized P&L and commissions) and buying power now."""
        return self._accounts[account_id].to_account(self._marks)

    def unrealized_pnl(self, account_id: str) -> Decimal:
        return self._accounts[account_id].unrealized_value

    # ------------------------------------------------------------------ listeners
    def add_listener(self, listener: Listener) -> None:
        if not self._sinks:
            # Quotes were not computed while nobody listened: the symbols touched since
            # (still in ``_touched``, see _settle) and those settled stale get their
            # touch now; the other books have not changed since their last quote.
            quotes = self._quotes
            for symbol in self._touched:
                quotes[symbol] = _STALE
            self._touched.clear()
            for symbol, quote in quotes.items():
                if quote is _STALE:
                    quotes[symbol] = self._books[symbol].touch()
        self._listeners.append(listener)
        self._listener_tuple = tuple(self._listeners)
        self._route()

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)
        self._listener_tuple = tuple(self._listeners)
        self._route()

    @property
    def event_log(self) -> list[ExchangeEvent]:
        """Every event so far, in order (empty with ``record=False``)."""
        return self._event_log

    @event_log.setter
    def event_log(self, events: list[ExchangeEvent]) -> None:
        self._event_log = events
        self._route()

    def _route(self) -> None:
        """Pick where ``_emit`` sends an event: the log, the listeners' outbox, both, nowhere.

        A bound ``list.append`` when there is one sink: emitting costs no Python frame.
        """
        self._sinks = self._record or bool(self._listeners)
        if self._record and self._listeners:
            log, outbox = self._event_log.append, self._outbox.append

            def both(event: ExchangeEvent) -> None:
                log(event)
                outbox(event)

            self._emit = both
        elif self._record:
            self._emit = self._event_log.append
        elif self._listeners:
            self._emit = self._outbox.append
        else:
            self._emit = _discard

    def _flush(self) -> None:
        if self._flushing or not self._outbox:
            return
        self._flushing = True
        outbox = self._outbox
        done = 0
        try:
            # A listener may submit from its callback: what that emits is appended
            # here and delivered by this loop, after what was already waiting.
            while done < len(outbox):
                event = outbox[done]
                done += 1
                kind = type(event)
                if kind is Quote or kind is Trade:
                    for listener in self._listener_tuple:
                        listener.on_market_event(event)  # type: ignore[arg-type]
                else:
                    for listener in self._listener_tuple:
                        listener.on_trade_event(event)  # type: ignore[arg-type]
        finally:
            del outbox[:done]
            self._flushing = False

    def event_log_bytes(self) -> bytes:
        """The event log as JSON lines: the artefact determinism is tested on."""
        encode = _LOG_ENCODER.encode
        return b"".join(encode(event) + b"\n" for event in self._event_log)

    # ------------------------------------------------------------------ time
    def _now(self) -> int:
        override = self._ts_override
        return override if override is not None else self._clock.now_ns()

    def _push(self, ts_ns: int, kind: int, payload: Any) -> None:
        heapq.heappush(self._timers, (ts_ns, self._next_seq, kind, payload))
        self._next_seq += 1

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
        if was_open and not is_open:
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

    def _ticks(self, symbol: str, price: Decimal | None) -> int | None:
        """``price`` in ticks of ``symbol``; ``None`` for no price or an unknown symbol.

        Cached per symbol: the exact conversion costs Decimal arithmetic, and a request
        stream repeats a few prices. Only true ``Decimal`` keys are cached, so a float
        that equals a cached Decimal is still refused by ``to_ticks``.
        """
        if price is None:
            return None
        cache = self._to_ticks.get(symbol)
        if cache is None:
            return None
        exact = type(price) is Decimal
        if exact:
            try:
                return cache[price]
            except KeyError:
                pass
            except TypeError:  # a signalling NaN has no hash; to_ticks refuses it below
                exact = False
        try:
            ticks = self._instruments[symbol].to_ticks(price)
        except PriceError as exc:
            raise _Reject(RejectCode.PRICE_OFF_TICK, str(exc)) from None
        if exact:
            if len(cache) >= _TICK_CACHE_SIZE:
                cache.clear()
            cache[price] = ticks
        return ticks

    def _price(self, symbol: str, ticks: int) -> Decimal:
        """``ticks`` of ``symbol`` as a Decimal price, cached like :meth:`_ticks`."""
        cache = self._to_price[symbol]
        price = cache.get(ticks)
        if price is None:
            price = self._instruments[symbol].to_price(ticks)
            if len(cache) >= _TICK_CACHE_SIZE:
                cache.clear()
            cache[ticks] = price
        return price

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
        except _Reject as reject:
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

    def _reject_new(
        self,
        request: NewOrder,
        reject: _Reject,
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
            acct.rejected.setdefault(cl, report)  # answers later status queries
        self._emit(report)

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
                raise _Reject(RejectCode.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}")
            if not cl:
                cl = self._gen_cl()
            ids = acct.orders_by_cl
            if cl in ids or cl in acct.rejected:
                raise _Reject(
                    RejectCode.DUPLICATE_ORDER_ID,
                    f"client order id {cl!r} already used by account {account_id!r}",
                )
            instrument = self._instruments.get(symbol)
            if instrument is None:
                raise _Reject(RejectCode.UNKNOWN_INSTRUMENT, f"unknown instrument {symbol!r}")
            book = self._books[symbol]
            if self.faults is not None and not liquidation:
                code = self.faults.order_reject(_NEW, now)
                if code is not None:
                    raise _Reject(code, f"rejected by the fault plan ({code})")
            if qty <= 0:
                raise _Reject(RejectCode.QTY_INVALID, f"qty must be > 0, got {qty}")
            if qty > instrument.max_order_qty:
                raise _Reject(
                    RejectCode.QTY_OVER_MAX,
                    f"qty {qty} over the maximum {instrument.max_order_qty} for {symbol}",
                )
            if order_type is _MKT or order_type is _STP:
                price = None
            elif price is None:
                raise _Reject(RejectCode.PRICE_MISSING, f"{order_type} order needs a limit price")
            if order_type is _STP or order_type is _STL:
                if stop is None:
                    raise _Reject(
                        RejectCode.PRICE_MISSING, f"{order_type} order needs a stop price"
                    )
            else:
                stop = None
            if exec_instructions:
                if ExecInstruction.ICEBERG in exec_instructions:
                    raise _Reject(RejectCode.UNSUPPORTED, "iceberg orders are not supported")
                aon = ExecInstruction.AON in exec_instructions
                if ExecInstruction.POST_ONLY in exec_instructions:
                    if order_type is not _LMT:
                        raise _Reject(RejectCode.UNSUPPORTED, "post-only needs a limit order")
                    other = book.best_ask() if side is _BUY else book.best_bid()
                    assert price is not None
                    if other is not None and (price >= other if side is _BUY else price <= other):
                        raise _Reject(
                            RejectCode.POST_ONLY_WOULD_CROSS,
                            f"post-only {side} at {instrument.to_price(price)} would cross"
                            f" {instrument.to_price(other)}",
                        )
            if duration is _GTD:
                if gtd is None:
                    raise _Reject(RejectCode.GTD_MISSING_DATE, "GTD order needs good_thru_date")
                expire_ns = end_of_date_ns(gtd, instrument.trading_hours)
                today = self._calendars[symbol].trading_date(now)
                if gtd < today or expire_ns <= now:
                    raise _Reject(
                        RejectCode.GTD_IN_PAST,
                        f"good_thru_date {gtd.isoformat()} is before today {today.isoformat()}",
                    )
            if self.enforce_sessions and not self._calendars[symbol].is_open(now):
                raise _Reject(RejectCode.MARKET_CLOSED, f"{symbol} is outside its trading session")
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
                    raise _Reject(
                        RejectCode.INSUFFICIENT_BUYING_POWER,
                        f"needs {needed} {acct.currency} initial margin for {added} more"
                        f" contract(s); buying power is {available}",
                    )
        except _Reject as reject:
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
            raise _Reject(
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
            raise _Reject(
                RejectCode.INSUFFICIENT_BUYING_POWER,
                f"needs {needed} {acct.currency} initial margin for {added} more contract(s);"
                f" buying power is {available}",
            )

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
        # Match only if the opposite touch is within the limit (the usual passive add is not).
        if order.side > 0:
            keys = book.ask_keys
            if keys and (limit is None or -keys[-1] <= limit):
                self._match(order, book)
        else:
            keys = book.bid_keys
            if keys and (limit is None or keys[-1] >= limit):
                self._match(order, book)
        if order.filled == order.qty:
            return
        if limit is None:
            self._finish(order, _CANCELLED, "market order: no more liquidity")
        elif duration is _IOC or duration is _FOK:
            self._finish(order, _CANCELLED, "immediate-or-cancel remainder")
        else:  # rest: book.rest, inlined (this is every passive order)
            seq = self._next_seq
            self._next_seq = seq + 1
            order.seq = seq
            order.resting = True
            price = limit
            if order.side > 0:
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
            level.qty += order.qty - order.filled
            level.count += 1

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
        printed = printed_at = 0  # size and price of the last print
        wanted = order.qty - order.filled
        while wanted > 0 and keys:
            price = -keys[-1] if side > 0 else keys[-1]
            if limit is not None and (price > limit if side > 0 else price < limit):
                break
            level = levels[price]
            queue = level.orders
            while queue and wanted > 0:
                seq, resting = queue[0]
                if resting.seq != seq or not resting.resting:
                    queue.popleft()  # a lazily cancelled entry reaching the front
                    continue
                available = resting.qty - resting.filled
                qty = wanted if wanted < available else available
                level.qty -= qty
                if qty == available:
                    resting.resting = False
                    queue.popleft()
                    level.count -= 1
                fill(resting, qty, price)
                fill(order, qty, price)
                # the print: _print, inlined (the symbol is touched and its last trade
                # set once, below; PositionLedger.remark inlined too)
                old = marks.get(symbol)
                if old != price:
                    for pos in holders.values():  # none of them is flat
                        if old is not None:
                            change = pos.qty * (price - old)
                        else:
                            change = pos.qty * price - pos.cost
                        if change:
                            acct = pos.account
                            acct.unrealized_units += change * pos.tick_value_units
                            if pos.tick_value_exp < acct.unrealized_exp:
                                acct.unrealized_exp = pos.tick_value_exp
                    marks[symbol] = price
                printed = qty
                printed_at = price
                if self._sinks:
                    now = self._ts
                    self._emit(
                        Trade(symbol=symbol, ts_ns=now, price=price, size=qty, aggressor=aggressor)
                    )
                wanted -= qty
            if level.count == 0:
                book._drop_level(-side, price)
        if printed:
            self._touched[symbol] = None
            self._last[symbol] = (self._ts, printed_at, printed, aggressor)

    def _fill(self, order: OrderRecord, qty: int, price: int) -> None:
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
        if acct.commission_per_contract:
            commission = acct.charge_commission(qty)
        if filled == order.qty:
            order.state = _F
            del acct.open_orders[order.oid]
            del book.open_orders[order.oid]
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

    def _print(self, symbol: str, price: int, qty: int, aggressor: Side | None) -> None:
        """Publish a print and re-mark the holders (``_match`` inlines this: keep alike)."""
        marks = self._marks
        old = marks.get(symbol)
        if old != price:
            holders = self._holders.get(symbol)
            if holders:
                for pos in holders.values():
                    pos.remark(old, price)
            marks[symbol] = price
        self._touched[symbol] = None
        now = self._ts
        self._last[symbol] = (now, price, qty, aggressor)
        if self._sinks:
            self._emit(Trade(symbol=symbol, ts_ns=now, price=price, size=qty, aggressor=aggressor))

    def _settle(self) -> None:
        """After a request: fire stops, fill waiting AON orders, publish changed quotes.

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
        while touched:
            symbol = next(iter(touched))
            book = books[symbol]
            if symbol in armed:
                if book.buy_stops or book.sell_stops or book.aon:
                    self._trigger(symbol, book)
                if not (book.buy_stops or book.sell_stops or book.aon):
                    armed.discard(symbol)
            del touched[symbol]
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
        """Fire stops and fill waiting AON orders until nothing more happens."""
        active = True
        while active:
            active = False
            last = self._marks.get(symbol)
            if last is not None and (book.buy_stops or book.sell_stops):
                for order in book.triggered_stops(last):
                    if order.state.is_open:
                        order.triggered = True
                        self._execute(order, book)
                        active = True
            if book.aon:
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
    def _finish(self, order: OrderRecord, state: OrderState, text: str = "") -> None:
        """Cancel or expire an open order: out of the book, working qty released."""
        symbol = order.symbol
        book = order.book
        side = order.side
        remaining = order.qty - order.filled
        if order.resting:  # book.unrest, inlined
            order.resting = False
            price = order.price
            assert price is not None
            level = (book.bids if side > 0 else book.asks)[price]
            level.qty -= remaining
            level.count -= 1
            if level.count == 0:
                book._drop_level(side, price)
        elif order.stop is not None and not order.triggered:
            book.remove_stop(order)
        if order.aon and order in book.aon:
            book.aon.remove(order)
        pos = order.pos
        # pos.add_working(side, -remaining), inlined: every cancel comes through here
        held = pos.qty
        high = held + pos.buy_working
        low = held - pos.sell_working
        before = high if high + low >= 0 else -low
        if side > 0:
            pos.buy_working -= remaining
            high -= remaining
        else:
            pos.sell_working -= remaining
            low += remaining
        after = high if high + low >= 0 else -low
        acct = pos.account
        if after != before:
            acct.margin_units += (after - before) * pos.margin_units
            if pos.margin_exp < acct.margin_exp:
                acct.margin_exp = pos.margin_exp
        order.state = state
        now = self._ts
        order.updated_ns = now
        del acct.open_orders[order.oid]
        del book.open_orders[order.oid]
        self._touched[symbol] = None
        if self._sinks:
            kind = _R_EXPIRED if state is _EXPIRED else _R_CANCELLED
            self._emit(self._report(kind, order, now, text=text))

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
            raise _Reject(RejectCode.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}")
        order = acct.orders_by_cl.get(cl_order_id)
        if order is None:
            raise _Reject(
                RejectCode.UNKNOWN_ORDER,
                f"{request_type.lower()}: no order {cl_order_id!r} in account {account_id!r}",
            )
        if symbol and symbol != order.symbol:
            raise _Reject(
                RejectCode.SYMBOL_MISMATCH,
                f"order {cl_order_id!r} is for {order.symbol}, not {symbol}",
            )
        if order.state in _FINAL:
            raise _Reject(
                RejectCode.ORDER_FINAL,
                f"{request_type.lower()}: order {cl_order_id!r} is already {order.state}",
            )
        if self.faults is not None:
            code = self.faults.order_reject(request_type, self._ts)
            if code is not None:
                raise _Reject(code, f"rejected by the fault plan ({code})")
        return order

    def _reject_on_order(
        self,
        account_id: str,
        symbol: str,
        cl_order_id: str,
        orig_cl_order_id: str,
        request_type: RequestType,
        reject: _Reject,
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
        else:
            report = ExecutionReport(
                kind=_R_REJECTED,
                account_id=account_id,
                symbol=symbol,
                cl_order_id=cl_order_id,
                orig_cl_order_id=orig_cl_order_id,
                state=OrderState.REJECTED,
                side=_BUY,
                order_type=_LMT,
                qty=0,
                request_type=request_type,
                reject_code=reject.code,
                reject_text=reject.text,
                ts_ns=self._ts,
            )
        self._emit(report)

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
                and (not cancel_cl or cancel_cl not in ids)
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
            if cancel_cl and acct is not None and cancel_cl in acct.orders_by_cl:
                raise _Reject(
                    RejectCode.DUPLICATE_ORDER_ID, f"client order id {cancel_cl!r} already used"
                )
            order = self._find(acct, account_id, orig_cl, _CANCEL, symbol)
        except _Reject as reject:
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
                _Reject(RejectCode.UNKNOWN_ACCOUNT, f"unknown account {account_id!r}"),
            )
            return False
        if symbol and symbol not in self._instruments:
            self._reject_on_order(
                account_id,
                symbol,
                "",
                "",
                request_type,
                _Reject(RejectCode.UNKNOWN_INSTRUMENT, f"unknown instrument {symbol!r}"),
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
                f"{prefix}:{pos.symbol}",
                None,
                liquidation=True,
            )

    # ------------------------------------------------------------------ modify
    def _on_modify_request(self, request: ModifyOrder) -> None:
        symbol = request.symbol
        limit_price = request.limit_price
        stop_price = request.stop_price
        try:
            if limit_price is None:
                price = None
            else:  # _ticks' cache hit, inlined (as in _on_new_request)
                price = None
                cache = self._to_ticks.get(symbol)
                if cache is not None and type(limit_price) is Decimal:
                    try:
                        price = cache[limit_price]
                    except (KeyError, TypeError):
                        price = None
                if price is None:
                    price = self._ticks(symbol, limit_price)
            stop = None if stop_price is None else self._ticks(symbol, stop_price)
        except _Reject as reject:
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
            if new_cl != order.cl_order_id and (
                new_cl in acct.orders_by_cl or new_cl in acct.rejected
            ):
                raise _Reject(
                    RejectCode.DUPLICATE_ORDER_ID, f"client order id {new_cl!r} already used"
                )
            instrument = self._instruments[order.symbol]
            if qty is not None:
                if qty <= 0:
                    raise _Reject(RejectCode.QTY_INVALID, f"qty must be > 0, got {qty}")
                if qty > instrument.max_order_qty:
                    raise _Reject(
                        RejectCode.QTY_OVER_MAX,
                        f"qty {qty} over the maximum {instrument.max_order_qty}",
                    )
                if qty <= order.filled:
                    raise _Reject(
                        RejectCode.MODIFY_QTY_BELOW_FILLED,
                        f"new qty {qty} is not above the filled qty {order.filled}",
                    )
            if price is not None and order.price is None:
                raise _Reject(
                    RejectCode.MODIFY_NOT_ALLOWED, f"{order.order_type} order has no limit price"
                )
            if stop is not None and (order.stop is None or order.triggered):
                raise _Reject(
                    RejectCode.MODIFY_NOT_ALLOWED, "only a stop that has not fired has a stop price"
                )
            if duration in _IOC_FOK:
                raise _Reject(RejectCode.MODIFY_NOT_ALLOWED, f"cannot modify to {duration}")
            new_duration = duration or order.duration
            expire_ns = order.expire_ns
            if duration is not None or gtd is not None:
                if new_duration is _GTD:
                    day = gtd or order.gtd
                    if day is None:
                        raise _Reject(RejectCode.GTD_MISSING_DATE, "GTD needs good_thru_date")
                    expire_ns = end_of_date_ns(day, instrument.trading_hours)
                    now = self._ts
                    today = self._calendars[order.symbol].trading_date(now)
                    if day < today or expire_ns <= now:
                        raise _Reject(
                            RejectCode.GTD_IN_PAST,
                            f"good_thru_date {day.isoformat()} is in the past",
                        )
                else:
                    expire_ns = 0
            if stop is not None and stop != order.stop:
                self._check_stop(instrument, _BUY if order.side > 0 else _SELL, stop)
            if qty is not None and qty > order.qty and not acct.unlimited:
                self._check_buying_power(
                    acct, instrument, _BUY if order.side > 0 else _SELL, qty - order.qty
                )
        except _Reject as reject:
            self._reject_on_order(account_id, symbol or "", new_cl, orig_cl, _MODIFY, reject)
            return new_cl

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
        now = self._ts
        order.updated_ns = now
        self._touched[order.symbol] = None
        if self._sinks:
            self._emit(self._report(_R_MODIFIED, order, now, request_type=_MODIFY))
        if reprocess:
            self._execute(order, book)
        return new_cl

    # ------------------------------------------------------------------ external prints
    def apply_external_trade(
        self,
        symbol: str,
        price: int,
        size: int,
        *,
        counterparty: str,
        aggressor: Side | None = None,
    ) -> None:
        """A print that happened outside this book (recorded data): fill resting orders
        the way :attr:`fill_model` says the real market would have, with ``counterparty``
        (the house account) taking the other side, then publish the print."""
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        book = self._books[symbol]
        house = self._accounts[counterparty]
        instrument = self._instruments[symbol]
        model = self.fill_model
        sides = []
        if aggressor is not _BUY:
            sides.append(1)  # a seller hit: resting bids at or above the print
        if aggressor is not _SELL:
            sides.append(-1)
        for side in sides:
            fills: list[tuple[OrderRecord, int]] = []
            keys = book.bid_keys if side > 0 else book.ask_keys
            levels = book.bids if side > 0 else book.asks
            for key in reversed(keys):
                level_price = key if side > 0 else -key
                if (level_price < price) if side > 0 else (level_price > price):
                    break
                orders = levels[level_price].live()
                if level_price != price:
                    fills.extend(
                        (o, o.qty - o.filled) for o in orders if o.account_id != counterparty
                    )
                    continue
                if not model.fill_at_touch:
                    break
                left = size
                for o in orders:
                    remaining = o.qty - o.filled
                    if o.account_id == counterparty:
                        if model.queue_position:
                            left -= remaining
                        continue
                    if left <= 0:
                        break
                    take = min(left, remaining)
                    fills.append((o, take))
                    left -= take
            for o, qty in fills:
                fill_price = o.price
                assert fill_price is not None
                if qty == o.qty - o.filled:
                    book.unrest(o)
                else:
                    book.reduce_resting(o, qty)
                self._fill(o, qty, fill_price)
                hpos = house.position(instrument, self.margin(symbol))
                hpos.fill(-o.side * qty, fill_price, self._marks.get(symbol), from_working=False)
                self._hold(hpos)
        self._print(symbol, price, size, aggressor)
        self._settle()
        self._flush()

    def set_resting_qty(self, account_id: str, cl_order_id: str, qty: int) -> None:
        """Venue-side size change that keeps queue priority, even when it grows.

        For house liquidity that stands for the recorded market (replay): a user
        order that joined behind it stays behind it. Not for user orders.
        """
        override = self._ts_override
        self._ts = override if override is not None else self._clock.now_ns()
        order = self._ids[account_id][cl_order_id]
        if not order.resting or qty <= order.filled:
            raise ValueError(f"{cl_order_id!r} is not resting or qty {qty} <= filled")
        delta = qty - order.qty
        book = self._books[order.symbol]
        book.reduce_resting(order, -delta)
        order.pos.add_working(order.side, delta)
        order.qty = qty
        order.updated_ns = self._ts
        self._touched[order.symbol] = None
        if self._sinks:
            self._emit(self._report(_R_MODIFIED, order, self._ts))
        self._settle()
        self._flush()

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
                average = Decimal(cost) * self._instruments[symbol].tick_size / filled
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

    # ------------------------------------------------------------------ snapshot / restore
    def snapshot(self) -> ExchangeState:
        """Everything needed to restart the exchange where it stands (not in-flight requests)."""
        cl_ids: dict[int, list[str]] = {}
        for ids in self._ids.values():
            for cl, order in ids.items():
                cl_ids.setdefault(order.oid, []).append(cl)
        orders = tuple(
            OrderSnapshot(
                oid=o.oid,
                account_id=o.account_id,
                symbol=o.symbol,
                side=o.side,
                qty=o.qty,
                filled=o.filled,
                cost=o.cost,
                order_type=o.order_type,
                price=o.price,
                stop=o.stop,
                duration=o.duration,
                gtd=o.gtd,
                aon=o.aon,
                exec_instructions=o.exec_instructions,
                cl_order_id=o.cl_order_id,
                orig_cl_order_id=o.orig_cl_order_id,
                chain_id=o.chain_id,
                state=o.state,
                seq=o.seq,
                resting=o.resting,
                triggered=o.triggered,
                waiting_aon=o in self._books[o.symbol].aon,
                expire_ns=o.expire_ns,
                created_ns=o.created_ns,
                updated_ns=o.updated_ns,
                cl_ids=tuple(cl_ids.get(o.oid, ())),
            )
            for o in self._all_orders()
        )
        accounts = tuple(
            AccountSnapshot(
                account_id=a.account_id,
                name=a.name,
                currency=a.currency,
                initial_balance=a.initial_balance,
                cash=a.cash,
                commission_per_contract=a.commission_per_contract,
                commissions=a.commissions,
                unlimited=a.unlimited,
                positions=tuple(
                    PositionSnapshot(
                        symbol=p.symbol,
                        lots=tuple((lot[0], lot[1]) for lot in p.lots),
                        realized=p.realized,
                        volume=p.volume,
                    )
                    for p in a.positions.values()
                ),
                rejected=tuple(self._rejected[a.account_id].values()),
            )
            for a in self._accounts.values()
        )
        version, internal, gauss = self.rng.getstate()
        return ExchangeState(
            ts_ns=self._now(),
            seed=self.seed,
            instruments=tuple(self._instruments.values()),
            margins=dict(self._margins),
            accounts=accounts,
            orders=orders,
            marks=dict(self._marks),
            last_trades=tuple(t for t in map(self.last_trade, self._last) if t is not None),
            next_oid=self._next_oid,
            next_seq=self._next_seq,
            next_fill=self._next_fill,
            next_cl=self._next_cl,
            rng_state=(version, tuple(internal), gauss),
        )

    @classmethod
    def restore(
        cls,
        state: ExchangeState,
        *,
        clock: Clock,
        fill_model: FillModel | None = None,
        latency: LatencyModel | None = None,
        enforce_sessions: bool = True,
        record: bool = True,
        faults: OrderFaults | None = None,
    ) -> Exchange:
        """A new exchange that carries on from ``state`` (books, accounts, orders, ids)."""
        exchange = cls(
            instruments=state.instruments,
            clock=clock,
            seed=state.seed,
            fill_model=fill_model,
            latency=latency,
            margins=state.margins,
            enforce_sessions=enforce_sessions,
            record=record,
            faults=faults,
        )
        exchange.rng.setstate((state.rng_state[0], tuple(state.rng_state[1]), state.rng_state[2]))
        for snap in state.accounts:
            exchange.open_account(
                snap.account_id,
                balance=snap.initial_balance,
                commission_per_contract=snap.commission_per_contract,
                name=snap.name,
                currency=snap.currency,
                unlimited=snap.unlimited,
            )
            acct = exchange._accounts[snap.account_id]
            acct.cash = snap.cash
            acct.commissions = snap.commissions
            for psnap in snap.positions:
                instrument = exchange._instruments[psnap.symbol]
                pos = acct.position(instrument, exchange.margin(psnap.symbol))
                for lot_qty, lot_price in psnap.lots:
                    pos.lots.append([lot_qty, lot_price])
                    pos.cost += lot_qty * lot_price
                    pos.qty += lot_qty
                pos.realized = psnap.realized
                pos.volume = psnap.volume
            for report in snap.rejected:
                exchange._rejected[snap.account_id][report.cl_order_id] = report
        resting: list[OrderRecord] = []
        for o in state.orders:
            # the engine's own snapshots hold every position an order was booked to
            order_pos = exchange._accounts[o.account_id].position(
                exchange._instruments[o.symbol], exchange.margin(o.symbol)
            )
            order = OrderRecord(
                oid=o.oid,
                account_id=o.account_id,
                symbol=o.symbol,
                side=o.side,
                qty=o.qty,
                order_type=o.order_type,
                price=o.price,
                stop=o.stop,
                duration=o.duration,
                gtd=o.gtd,
                aon=o.aon,
                cl_order_id=o.cl_order_id,
                ts_ns=o.created_ns,
                exec_instructions=o.exec_instructions,
                pos=order_pos,
                book=exchange._books[o.symbol],
            )
            order.filled = o.filled
            order.cost = o.cost
            order.orig_cl_order_id = o.orig_cl_order_id
            order.chain_id = o.chain_id
            order.state = o.state
            order.seq = o.seq
            order.triggered = o.triggered
            order.expire_ns = o.expire_ns
            order.updated_ns = o.updated_ns
            for cl in o.cl_ids:
                exchange._ids[o.account_id][cl] = order
            if not o.cl_ids:
                exchange._unindexed.append(order)
            if not o.state.is_open:
                continue
            exchange._open[o.account_id][o.oid] = order
            exchange._open_by_symbol[o.symbol][o.oid] = order
            order_pos.add_working(o.side, o.qty - o.filled)
            book = exchange._books[o.symbol]
            if o.resting:
                resting.append(order)
            elif o.waiting_aon:
                book.aon.append(order)
                exchange._armed.add(o.symbol)
            elif o.stop is not None and not o.triggered:
                book.add_stop(order)
                exchange._armed.add(o.symbol)
            if o.expire_ns:
                exchange._push(o.expire_ns, _EVENT_EXPIRE, order)
        for order in sorted(resting, key=lambda r: r.seq):
            exchange._books[order.symbol].rest(order, order.seq)
        for symbol, book in exchange._books.items():
            exchange._quotes[symbol] = book.touch()
        exchange._marks.update(state.marks)
        for acct in exchange._accounts.values():
            acct.recompute(exchange._marks)
            for pos in acct.positions.values():
                exchange._hold(pos)
        for trade in state.last_trades:
            exchange._last[trade.symbol] = (trade.ts_ns, trade.price, trade.size, trade.aggressor)
        exchange._next_oid = state.next_oid
        exchange._next_seq = max(state.next_seq, exchange._next_seq)
        exchange._next_fill = state.next_fill
        exchange._next_cl = state.next_cl
        return exchange
