"""Admission: everything an order passes before its intent is journaled.

The activation window, the client order id (generated or checked for reuse), the
references of a modify or cancel, the session's accounts, the pre-trade context and
the gate's checks. An admitted new order is *reserved*: every later check counts it
as an open order until the tracker has it (sent) or it is released (not sent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from decimal import Decimal
from typing import NoReturn, TypeAlias, final

import msgspec

from ec_core.clock import Clock
from ec_core.errors import JournalError, OrderDeniedError, PayloadStateError, Violation
from ec_core.execution.gate import MandatoryGate, PreTradeGate, RoundingGate, ValidatorGate
from ec_core.execution.ids import CLEAN_ID_RULE, ClientOrderIds, is_clean_id
from ec_core.execution.journaling import JournalWriter
from ec_core.execution.payload import Payload, PayloadStatus
from ec_core.model import (
    FINAL_STATES,
    CancelOrder,
    Instrument,
    ModifyOrder,
    NewOrder,
    Order,
    OrderRequest,
)
from ec_core.plugins.host import PluginHost
from ec_core.safety import PreTradeChecks, check_activation, check_known_account, datetime_ns
from ec_core.safety.checks import pending_order
from ec_core.safety.codes import Code
from ec_core.safety.shape import SHAPE_RULES, check_shape
from ec_core.tracking import OrderTracker
from ec_core.validation import PreTradeContext, Validator

__all__ = ["Admission", "InstrumentResolver", "PriceSource", "Sleep", "StaleLookup"]

log = logging.getLogger("ec_core.execution.executor")

InstrumentResolver: TypeAlias = Mapping[str, Instrument] | Callable[[str], Instrument | None]
"""Symbol -> instrument, synchronous (resolve through the session beforehand)."""

PriceSource: TypeAlias = Callable[[str], tuple[Decimal | None, Decimal | None, Decimal | None]]
"""Symbol -> (last trade, best bid, best ask), for price-band rules."""

StaleLookup: TypeAlias = Callable[[str], str | None]
"""Symbol -> why its market data stopped (a :class:`~ec_core.data.FeedSet`'s ``stale``), or
``None`` while it flows: asked only when the price source has no price, so a denial
names the reason (``PreTradeContext.stale_market``)."""

Sleep: TypeAlias = Callable[[float], Awaitable[None]]

_P = PayloadStatus
_REFERRING = (ModifyOrder, CancelOrder)  # a tuple: `A | B` builds a union per call


def _all_shape_rules(vendor: str) -> tuple[Validator, ...]:
    """A gate other than a ValidatorGate: the executor runs every shape guard."""
    return SHAPE_RULES


@final
class Admission:
    """Decides whether a payload may be sent, and holds the exposure of admitted ones.

    ``journal``: the executor's journal writer (its ``halted`` stops new orders).
    ``stale_market``: why a symbol's market data stopped, beside ``prices``.
    """

    def __init__(
        self,
        *,
        checks: PreTradeGate,
        tracker: OrderTracker,
        clock: Clock,
        vendor: str,
        instruments: InstrumentResolver,
        ids: ClientOrderIds,
        journal: JournalWriter,
        host: PluginHost | None,
        prices: PriceSource | None,
        stale_market: StaleLookup | None = None,
        sleep: Sleep,
        session_accounts: Collection[str] | None,
    ) -> None:
        self.checks = checks
        self.tracker = tracker
        self.clock = clock
        self.vendor = vendor
        self.ids = ids
        self.host = host
        self.session_accounts = None if session_accounts is None else frozenset(session_accounts)
        # account -> requests denied because the session does not trade it (ACCOUNT_UNKNOWN)
        self.unknown_accounts: dict[str, int] = {}
        self._journal = journal  # its ``halted`` says why new orders are stopped
        # One lookup callable, chosen once: a mapping's bound .get or the resolver.
        self._instrument_of: Callable[[str], Instrument | None] = (
            instruments if callable(instruments) else instruments.get
        )
        self._prices = prices
        self._stale_of = stale_market  # asked only when a symbol has no price
        self._sleep = sleep
        self._reserved: dict[str, NewOrder] = {}  # validated new orders not sent yet
        self._reserved_as_orders: dict[str, Order] = {}  # built on first need, then kept
        # Protocol isinstance checks are slow: decide once what the gate can do.
        self._rounding = checks.apply_rounding if isinstance(checks, RoundingGate) else None
        # The direct path asks only the guards no path may skip; a gate without
        # check_mandatory runs in full there (stricter, never laxer).
        self._check_mandatory = (
            checks.check_mandatory if isinstance(checks, MandatoryGate) else checks.check
        )
        # PreTradeChecks runs the shape guards itself; any other gate gets them here,
        # but for those a ValidatorGate's registry runs anyway.
        self._shape_here = not isinstance(checks, PreTradeChecks)
        self._shape_rules: Callable[[str], tuple[Validator, ...]] = (
            checks.shape_rules if isinstance(checks, ValidatorGate) else _all_shape_rules
        )

    @property
    def reserved(self) -> int:
        """New orders admitted and not sent yet."""
        return len(self._reserved)

    async def admit(self, payload: Payload, *, direct: bool) -> OrderRequest | None:
        """Window, id, checks: the request to send (VALIDATED, its exposure reserved),
        or ``None`` if the window closed. Raises :class:`OrderDeniedError` or, while
        the journal is halted, :class:`JournalError`."""
        if payload.status is not _P.PENDING:
            self._executed_before(payload)
        if (payload.start_time or payload.end_time) and not await self._activate(payload):
            return None
        return self.admit_open(payload, direct=direct)

    def admit_open(self, payload: Payload, *, direct: bool) -> OrderRequest:
        """:meth:`admit` of a payload with no activation window (or one found open):
        synchronous, so the executor's common path awaits nothing before the send."""
        if payload.status is not _P.PENDING:
            self._executed_before(payload)
        request = payload.request
        ids = self.ids
        cl_order_id = request.cl_order_id
        if type(cl_order_id) is not str:  # an int or a list would key every map wrongly
            self.deny(
                payload,
                [
                    Violation(
                        code="CL_ORDER_ID_INVALID",
                        field="cl_order_id",
                        rule="must be a str (empty: one is generated)",
                        value=repr(cl_order_id),
                    )
                ],
            )
        if cl_order_id:
            if not is_clean_id(cl_order_id):
                self.deny(
                    payload,
                    [
                        Violation(
                            code="CL_ORDER_ID_INVALID",
                            field="cl_order_id",
                            rule=f"must be {CLEAN_ID_RULE} (empty: one is generated)",
                            value=repr(cl_order_id),
                        )
                    ],
                )
            # The tracker may remember an id the id window no longer holds: a reuse
            # would be taken for that old order (track_new is idempotent per id).
            if ids.is_used(request.cl_order_id) or self.tracker.chain_id(request.cl_order_id):
                self.deny(
                    payload,
                    [
                        Violation(
                            code="DUPLICATE_CL_ORDER_ID",
                            field="cl_order_id",
                            rule="must not be reused in a session and day",
                            value=request.cl_order_id,
                        )
                    ],
                )
        else:
            request = msgspec.structs.replace(request, cl_order_id=ids.next())
            payload.request = request
        violations = self._references(request) if isinstance(request, _REFERRING) else []
        accounts = self.session_accounts
        # an account of the session (the common case) passes without asking the rule
        if accounts is not None and not (
            type(request.account_id) is str and request.account_id in accounts
        ):
            unknown = check_known_account(request.account_id, accounts)
            if unknown is not None:
                violations.append(unknown)
                named = str(request.account_id)
                self.unknown_accounts[named] = self.unknown_accounts.get(named, 0) + 1
        try:
            context = self._context(request)
        except Exception as exc:  # a resolver or price source that raises denies, not escapes
            log.exception("pre-trade context failed on %s", request.cl_order_id)
            violations.append(
                Violation(
                    code="CHECK_FAILED",
                    field="symbol",
                    rule="instrument, position and prices must resolve",
                    value=repr(exc),
                )
            )
            self.deny(payload, violations)
        try:
            if self._rounding is not None:
                rounded = self._rounding(request, context)
                if rounded is not request:
                    request = payload.request = rounded
            shape = None
            rules = SHAPE_RULES
            if self._shape_here:
                # The guards the gate's own check does not run (a ValidatorGate holding
                # the built-in rules runs them itself): each rule once per order.
                if not direct:
                    rules = self._shape_rules(context.vendor)
                shape = check_shape(request, context, rules)
            if direct:
                found = self._check_mandatory(request, context)
            else:
                found = self.checks.check(request, context)
            if (shape or found) and rules is not SHAPE_RULES:
                # A denial names every shape guard first, as when they all ran here;
                # they are pure, so running them again on this path changes nothing else.
                shape = check_shape(request, context)
            if shape:
                seen = {(v.code, v.field, v.rule) for v in shape}
                violations += shape
                violations += [v for v in found if (v.code, v.field, v.rule) not in seen]
            else:
                violations += found
        except Exception as exc:  # a broken check must not let an order through
            log.exception("pre-trade check raised on %s", request.cl_order_id)
            violations.append(
                Violation(
                    code="CHECK_FAILED", field="request", rule="checks must run", value=repr(exc)
                )
            )
        if violations:
            self.deny(payload, violations)
        payload.advance(_P.VALIDATED)
        ids.reserve(request.cl_order_id, now_ns=context.now_ns)
        halted = self._journal.halted
        if halted is not None:
            payload.advance(_P.FAILED, f"journal halted: {halted}")
            raise JournalError(f"new orders stopped: journal failed earlier ({halted})")
        if type(request) is NewOrder:
            # Counted as an open order by every later check until the tracker has it.
            self._reserved[request.cl_order_id] = request
        return request

    @staticmethod
    def _executed_before(payload: Payload) -> NoReturn:
        raise PayloadStateError(
            f"payload {payload.request_id} was executed before ({payload.status})",
            request_id=payload.request_id,
        )

    def deny(self, payload: Payload, violations: list[Violation]) -> NoReturn:
        payload.advance(_P.DENIED, ", ".join(v.code for v in violations))
        if self.host is not None:
            self.host.notify_denied(payload.request, violations)
        raise OrderDeniedError(violations)

    def release(self, cl_order_id: str) -> None:
        """The reserved order was sent (the tracker has it now) or will not be."""
        built = self._reserved_as_orders  # empty unless a check asked for open orders
        if self._reserved.pop(cl_order_id, None) is not None and built:
            built.pop(cl_order_id, None)

    async def _activate(self, payload: Payload) -> bool:
        """Apply the activation window: ``False`` if it expired (payload EXPIRED).

        Before ``start_time`` the payload is held (the clock's time, slept on with
        ``sleep``); an invalid window is denied.
        """
        while True:
            violation = check_activation(payload.start_time, payload.end_time, self.clock.now_ns())
            if violation is None:
                return True
            if violation.code == Code.ACTIVATION_EXPIRED:
                payload.advance(_P.EXPIRED, str(violation))
                return False
            if violation.code != Code.NOT_YET_ACTIVE or payload.start_time is None:
                self.deny(payload, [violation])
            await self._hold_until(datetime_ns(payload.start_time))

    async def _hold_until(self, start_ns: int) -> None:
        while (remaining := start_ns - self.clock.now_ns()) > 0:
            await self._sleep(remaining / 1e9)

    def _references(self, request: ModifyOrder | CancelOrder) -> list[Violation]:
        """A modify or cancel must name an order we track that is still open."""
        order = self.tracker.order(request.orig_cl_order_id)
        if order is None:
            return [
                Violation(
                    code="ORDER_NOT_FOUND",
                    field="orig_cl_order_id",
                    rule="must name a tracked order",
                    value=request.orig_cl_order_id,
                )
            ]
        if order.state in FINAL_STATES:
            return [
                Violation(
                    code="ORDER_NOT_OPEN",
                    field="orig_cl_order_id",
                    rule="order must be open",
                    value=order.state.value,
                )
            ]
        return []

    def _context(self, request: OrderRequest) -> PreTradeContext:
        symbol = getattr(request, "symbol", None)
        instrument = None
        position = None
        last = bid = ask = None
        stale = None
        if symbol:
            instrument = self._instrument_of(symbol)
            position = self.tracker.position(request.account_id, symbol)
            if self._prices is not None:
                last, bid, ask = self._prices(symbol)
                if last is None and bid is None and self._stale_of is not None:
                    stale = self._stale_of(symbol)
        open_orders = self.tracker.open_orders(request.account_id)
        if self._reserved:
            open_orders += self._reserved_orders(request.account_id)
        return PreTradeContext(
            now_ns=self.clock.now_ns(),
            vendor=self.vendor,
            instrument=instrument,
            position=position,
            open_orders=open_orders,
            last_price=last,
            best_bid=bid,
            best_ask=ask,
            stale_market=stale,
        )

    def _reserved_orders(self, account_id: str) -> list[Order]:
        """New orders validated but not sent yet (a basket, or waiting for the group
        commit), as the PENDING_NEW orders the tracker will show once they leave."""
        built = self._reserved_as_orders
        orders = []
        for cl_order_id, request in self._reserved.items():
            if request.account_id != account_id:
                continue
            order = built.get(cl_order_id)
            if order is None:
                order = built[cl_order_id] = pending_order(request, self.clock.now_ns())
            orders.append(order)
        return orders
