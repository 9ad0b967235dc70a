"""The exchange's state and plumbing: instruments, accounts, listeners, time, ticks.

:class:`ExchangeCore` is the bottom layer of :class:`~ec_mock.engine.Exchange`: it
owns every field; the layers above it (reports, matching, order entry, amend and
cancel, snapshots) are the engine's sections, one module each, that work on those
fields through ``self``. Module constants below are the engine's hot-path aliases.
Where events go (the event log, the listeners) is its base,
:class:`~ec_mock.engine.event_routing.EventRouting`.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
from ec_core.clock import Clock
from ec_core.errors import PriceError
from ec_core.model import (
    FINAL_STATES,
    Account,
    BookDepth,
    Duration,
    ExecInstruction,
    ExecutionReport,
    Instrument,
    OrderState,
    OrderType,
    ReportKind,
    RequestType,
    Side,
)

from ec_mock.engine.book import OrderBook
from ec_mock.engine.codes import VENUE_ID_MARK, RejectCode
from ec_mock.engine.event_routing import EventRouting, ExchangeEvent
from ec_mock.engine.ledger import AccountLedger, PositionLedger, check_amount, keep_last
from ec_mock.engine.listener import Listener, OrderFaults
from ec_mock.engine.models import FillModel, LatencyModel
from ec_mock.engine.products import ProductLimits
from ec_mock.engine.records import OrderRecord
from ec_mock.engine.sessions import SessionCalendar
from ec_mock.engine.settlement import ClosingRange, Settlement
from ec_mock.engine.smp import SelfMatchPrevention
from ec_mock.instruments import ProductRules, builtin_specs

if TYPE_CHECKING:
    from ec_mock.engine.modify_rules import ModifyCheck
    from ec_mock.engine.rules import NewOrderCheck

__all__ = ["DEFAULT_MARGIN_TICKS", "ExchangeCore", "ExchangeEvent", "Reject", "reserved_id"]

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
_MTL = OrderType.MTL
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
_EVENT_TIMER = 0
_EVENT_SESSION = 1
_EVENT_EXPIRE = 2  # payload: the OrderRecord
_EVENT_REQUEST = 3
_EVENT_REOPEN = 4  # payload: the symbol a velocity halt paused
_EVENT_MARGIN = 5  # the margin check after the settlements due at one instant
_force = msgspec.structs.force_setattr  # fills a report's rarely set fields after building it


_PlanKey = tuple[OrderType, Duration, frozenset[ExecInstruction], bool, bool]


class Reject(Exception):
    """Abort checking a request: ``code`` and ``text`` go into its reject report."""

    def __init__(self, code: RejectCode | str, text: str) -> None:
        super().__init__(text)
        self.code = str(code)
        self.text = text


def reserved_id(cl_order_id: str) -> Reject:
    """The reject of a client order id in the venue's namespace (``VENUE_ID_MARK``)."""
    return Reject(
        RejectCode.RESERVED_ORDER_ID,
        f"client order id {cl_order_id!r} starts with {VENUE_ID_MARK!r},"
        " which is reserved for the venue's own ids",
    )


class ExchangeCore(EventRouting):
    """State and plumbing shared by the engine's layers (see the module docstring)."""

    def __init__(
        self,
        *,
        instruments: Iterable[Instrument],
        clock: Clock,
        seed: int = 0,
        fill_model: FillModel | None = None,
        latency: LatencyModel | None = None,
        margins: Mapping[str, Decimal] | None = None,
        maintenance_margins: Mapping[str, Decimal] | None = None,
        products: Mapping[str, ProductRules] | None = None,
        enforce_sessions: bool = True,
        record: bool = True,
        faults: OrderFaults | None = None,
    ) -> None:
        self._clock = clock
        self.seed = seed
        self.rng = random.Random(seed)
        self.fill_model = fill_model or FillModel()
        self.latency = latency
        self._enforce_sessions = enforce_sessions
        self.faults = faults
        if margins is None:
            margins = {s.instrument.symbol: s.margin for s in builtin_specs() if s.margin}
        self._margins: dict[str, Decimal] = dict(margins)
        for symbol, amount in self._margins.items():
            check_amount(amount, f"margin of {symbol}")
        if maintenance_margins is None:
            maintenance_margins = {
                s.instrument.symbol: s.maintenance_margin
                for s in builtin_specs()
                if s.maintenance_margin
            }
        self._maintenance: dict[str, Decimal] = dict(maintenance_margins)
        for symbol, amount in self._maintenance.items():
            check_amount(amount, f"maintenance margin of {symbol}")
            initial = self._margins.get(symbol)
            if amount <= 0 or (initial is not None and amount > initial):
                raise ValueError(
                    f"maintenance margin of {symbol} ({amount}) must be > 0 and at most its"
                    f" initial margin ({initial})"
                )
        if products is None:
            products = {s.instrument.symbol: s.rules for s in builtin_specs() if s.rules}
        self._products: dict[str, ProductRules] = dict(products)
        self._limits: dict[str, ProductLimits] = {}  # the product rules in ticks, per symbol
        # Symbols outside their session now (sessions enforced): nothing matches there;
        # orders taken in a pre-open rest, crossed, until the opening auction.
        self._closed: set[str] = set()
        # Recent prices per symbol with velocity logic: (ts, price) before each aggressor.
        self._recent: dict[str, deque[tuple[int, int]]] = {}
        self._halted: set[str] = set()  # paused by velocity logic until their re-open
        # Daily settlement (engine/clearing.py): each symbol's settlements, oldest first;
        # a price given for the coming close (a settlement feed); the closing range
        # trading now; accounts to liquidate at a symbol's next open (margin calls).
        self._settlements: dict[str, list[Settlement]] = {}
        self._feed_settlements: dict[str, int] = {}
        self._closing: dict[str, ClosingRange] = {}
        self._liquidations: dict[str, dict[str, date]] = {}  # symbol -> account -> call's day
        self._margin_check_due = False
        self._settled_count = 0  # settlements so far (front ends poll it: settled_count)
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
        # Per symbol, the entry rules a new order of each kind runs (rules.new_order_plan).
        self._new_order_plans: dict[str, dict[_PlanKey, tuple[NewOrderCheck, ...]]] = {}
        # Per symbol, the modify rules of each mask of fields set (rules.modify_plans).
        self._modify_plans: dict[str, tuple[tuple[ModifyCheck, ...], ...]] = {}
        # Instructions this venue refuses, with why (a replay venue that cannot honour one).
        self._refused: dict[ExecInstruction, str] = {}
        self._next_oid = 1
        self._next_seq = 1
        self._next_fill = 1
        self._next_cl = 1
        self._timers: list[tuple[int, int, int, Any]] = []  # (ts, seq, kind, payload)
        # When the next timed event (session boundary, expiry, delayed request) is due
        # (``None``: none): a replay moves the clock alone, without ``advance_to``, until
        # then. Kept as the timers change (``_push``, ``advance_to``): read per request.
        self.next_due_ns: int | None = None
        EventRouting.__init__(self, record=record)
        # Symbols changed by the request, settled after it (while nobody listens and no
        # book is armed they are kept, unsettled, until add_listener: see _settle).
        self._touched: dict[str, None] = {}
        # Per symbol, the book's top levels as last built by book_depth: every depth
        # reader of one request's events (3-4 per fill) shares one; _settle drops it.
        self._depths: dict[str, BookDepth] = {}
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
    def enforce_sessions(self) -> bool:
        """Whether trading hours are enforced; fixed at construction (entry plans use it)."""
        return self._enforce_sessions

    @property
    def clock(self) -> Clock:
        return self._clock

    def add_instrument(
        self,
        instrument: Instrument,
        *,
        margin: Decimal | None = None,
        maintenance_margin: Decimal | None = None,
        rules: ProductRules | None = None,
    ) -> None:
        """List a contract (replacing the definition of a symbol that has no orders).

        ``rules`` are its Globex product rules (default: those given to the exchange
        for its symbol, the built-in ones for a built-in symbol, else none).
        """
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
        self._new_order_plans[symbol] = {}
        self._modify_plans.pop(symbol, None)
        self._to_price[symbol] = {}
        if margin is not None:
            check_amount(margin, f"margin of {symbol}")
            self._margins[symbol] = margin
        if maintenance_margin is not None:
            check_amount(maintenance_margin, f"maintenance margin of {symbol}")
            self._maintenance[symbol] = maintenance_margin
        if rules is not None:
            self._products[symbol] = rules
        self._limits[symbol] = ProductLimits(instrument, self._products.get(symbol))
        calendar = SessionCalendar(instrument.trading_calendar)
        self._calendars[symbol] = calendar
        self._closed.discard(symbol)
        if calendar.calendar is not None and self.enforce_sessions:
            is_open, boundary = calendar.state(self._now())
            if not is_open:
                self._closed.add(symbol)
            if boundary >= 0:
                self._push(boundary, _EVENT_SESSION, symbol)
        self._arm_closing_range(symbol)

    def refuse_instruction(self, instruction: ExecInstruction, reason: str) -> None:
        """Reject new orders with ``instruction`` (``UNSUPPORTED``, the text names
        ``reason``): for a venue built on this engine that cannot honour it."""
        self._refused[instruction] = reason
        for plans in self._new_order_plans.values():
            plans.clear()

    def instrument(self, symbol: str) -> Instrument | None:
        return self._instruments.get(symbol)

    def instruments(self) -> list[Instrument]:
        return list(self._instruments.values())

    def in_preopen(self, symbol: str) -> bool:
        """Whether ``symbol`` is in its pre-open now: orders taken, nothing matched."""
        if symbol not in self._closed:
            return False
        preopen = self._limits[symbol].preopen_ns
        is_open, boundary = self._calendars[symbol].state(self._now())
        return bool(preopen) and not is_open and 0 <= boundary - self._now() <= preopen

    def product_rules(self, symbol: str) -> ProductRules | None:
        """The Globex product rules ``symbol`` trades under (``None``: plain matching)."""
        return self._limits[symbol].rules

    def margin(self, symbol: str) -> Decimal:
        """Initial margin per contract of ``symbol``."""
        margin = self._margins.get(symbol)
        if margin is None:
            margin = self._instruments[symbol].tick_value * DEFAULT_MARGIN_TICKS
        return margin

    def maintenance_margin(self, symbol: str) -> Decimal:
        """Maintenance margin per contract of ``symbol`` (none given: the initial margin)."""
        maintenance = self._maintenance.get(symbol)
        return maintenance if maintenance is not None else self.margin(symbol)

    def _closing_print(self, symbol: str, price: int, qty: int) -> None:
        """A print outside matching (auction, recorded trade): into the closing range if
        it runs (``_match`` adds its prints per price level the same way)."""
        closing = self._closing.get(symbol)
        if closing is not None and self._ts >= closing.start_ns:
            closing.add(price, qty)

    def _arm_closing_range(self, symbol: str) -> None:
        """Start collecting the closing range of the session open now or next (products
        with ``settlement_seconds``, sessions enforced); prints before its start are not
        counted (see ``engine/settlement.py``)."""
        self._closing.pop(symbol, None)
        length = self._limits[symbol].settlement_ns
        calendar = self._calendars[symbol].calendar
        if not length or calendar is None or not self.enforce_sessions:
            return
        span = calendar.next_session(self._now())
        if span is not None:
            self._closing[symbol] = ClosingRange(span.close_ns - length)

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
        commission_per_order: Decimal = Decimal("0"),
        name: str = "",
        currency: str = "USD",
        unlimited: bool = False,
        smp: SelfMatchPrevention | None = None,
        liquidate_on_margin_call: bool = False,
        retire_final_orders: bool = False,
        keep_final_orders: int = 0,
    ) -> None:
        """Open an account. ``unlimited`` accounts (the house) skip the buying-power check.

        ``smp``: the account's self-match prevention (see :mod:`ec_mock.engine.smp`).
        ``liquidate_on_margin_call``: a margin call flattens the account's positions
        (at the next open when the market is closed); otherwise the call is only told.
        ``retire_final_orders``: keep only the account's open orders; one that ends
        (filled, cancelled, expired) or is rejected is forgotten, its ids free again and
        its status unknown. For the simulated market's own house account, which nobody
        queries: a long run would otherwise keep every house order it ever placed.
        ``keep_final_orders`` (with ``retire_final_orders``): keep the last N finished
        orders and N rejects for status queries, forget older ones (a user's account on
        a paper venue that runs for days).
        """
        if keep_final_orders < 0 or (keep_final_orders and not retire_final_orders):
            raise ValueError("keep_final_orders is >= 0 and needs retire_final_orders")
        if account_id in self._accounts:
            raise ValueError(f"account {account_id!r} already exists")
        self._accounts[account_id] = AccountLedger(
            account_id,
            balance=balance,
            commission_per_contract=commission_per_contract,
            commission_per_order=commission_per_order,
            name=name,
            currency=currency,
            unlimited=unlimited,
        )
        acct = self._accounts[account_id]
        acct.smp = smp
        acct.liquidate_on_margin_call = liquidate_on_margin_call
        acct.retire_final = retire_final_orders
        acct.keep_final = keep_final_orders
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

    def _retire(self, order: OrderRecord) -> None:
        """A finished ``order`` of an account that retires them (``retire_final``): kept
        among its last ``keep_final``, the oldest of which is forgotten, or forgotten now.
        Safe to call twice (a modify that fills an order up ends it, then renames it)."""
        acct = order.pos.account
        if acct.keep_final:
            dropped = keep_last(acct.final_kept, order.oid, order, acct.keep_final)
            if dropped is None:
                return
            order = dropped
        self._forget(order)

    @staticmethod
    def _forget(order: OrderRecord) -> None:
        """Drop every client id of ``order``'s chain, so nothing holds its record."""
        ids = order.pos.account.orders_by_cl
        for cl in (order.cl_order_id, order.orig_cl_order_id, order.chain_id):
            if ids.get(cl) is order:
                del ids[cl]
        if order.orig_cl_order_id not in ("", order.chain_id):
            # renamed twice or more: ids between the first and the last are in the map
            # too (the account's map holds its open orders only, so this is short)
            for cl in [cl for cl, held in ids.items() if held is order]:
                del ids[cl]

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
        super().add_listener(listener)

    # ------------------------------------------------------------------ time
    def _now(self) -> int:
        override = self._ts_override
        return override if override is not None else self._clock.now_ns()

    def _push(self, ts_ns: int, kind: int, payload: Any) -> None:
        timers = self._timers
        heapq.heappush(timers, (ts_ns, self._next_seq, kind, payload))
        self._next_seq += 1
        self.next_due_ns = timers[0][0]

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
            raise Reject(RejectCode.PRICE_OFF_TICK, str(exc)) from None
        if exact:
            if len(cache) >= _TICK_CACHE_SIZE:
                cache.clear()
            cache[price] = ticks
        return ticks

    def ticks_of(self, symbol: str, price: Decimal) -> int | None:
        """``price`` in ticks of ``symbol`` as order entry reads it (cached); ``None`` for
        an unknown symbol or a price entry would reject (off the grid, not a finite Decimal)."""
        try:
            return self._ticks(symbol, price)
        except Reject:
            return None

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
