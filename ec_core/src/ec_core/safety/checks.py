"""``PreTradeChecks``: the mandatory guards plus every registered validator, in one call.

The executor calls :meth:`PreTradeChecks.check` for every request and sends
nothing if it returns a violation; after a request actually left it calls
:meth:`PreTradeChecks.record_tracked` (its tracker lists the order from then on;
a caller without one calls :meth:`PreTradeChecks.record_sent`, which also keeps
the order as in flight). Mandatory guards run first and cannot be
removed by plugins:

* the kill switch (HALTED: only cancels, liquidate-all, go-flat; REDUCING: also
  orders that only shrink a position);
* the rate limit (orders, modifies, cancels per second and minute per account);
* the account and the instrument are allowed by the limits file (default deny)
  and the instrument is known;
* the request's shape (:mod:`ec_core.safety.shape`): required fields, enum
  values, an integral quantity in range, finite Decimal prices present or absent
  as the order type requires. A built-in shape rule the registry also holds (the
  same class) runs once, from the registry, with the limits resolved.

Then every validator of the registry for the request's vendor runs (those for every
vendor, and those added for ``context.vendor`` alone). All violations are collected; none
stops the others (one reported by both a shape guard and a validator with the
same code, field and rule is kept once). The pass path allocates one context
copy and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, final

import msgspec

from ec_core.clock import Clock
from ec_core.errors import Violation
from ec_core.model import (
    CancelAll,
    CancelOrder,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    Order,
    OrderRequest,
    OrderState,
    Side,
)
from ec_core.safety.clean_id import CLEAN_ID_RULE, is_clean_id
from ec_core.safety.codes import Code
from ec_core.safety.exposure import find_order, modify_is_reducing, new_is_reducing
from ec_core.safety.kill_switch import KillSwitch, KillSwitchState
from ec_core.safety.limits import Limits
from ec_core.safety.limits_source import LimitsFile, LimitsSource
from ec_core.safety.rate_limit import RateKind, RateLimiter
from ec_core.safety.rounding import round_request
from ec_core.safety.shape import check_shape, shape_rules_besides
from ec_core.validation import PreTradeContext, Validator, ValidatorRegistry

if TYPE_CHECKING:
    from ec_core.tracking import FillAnomaly

__all__ = ["PreTradeChecks", "pending_order"]

_PRICED = (NewOrder, ModifyOrder)  # a tuple: `A | B` builds a union object per call
_REFERRING = (ModifyOrder, CancelOrder)

_KIND: dict[type, RateKind | None] = {
    NewOrder: RateKind.ORDERS,
    ModifyOrder: RateKind.MODIFIES,
    CancelOrder: RateKind.CANCELS,
    CancelAll: RateKind.CANCELS,
    LiquidateAll: None,
    GoFlat: None,
}
_IN_FLIGHT_TTL_NS = 5_000_000_000

_Validate = Callable[[OrderRequest, PreTradeContext], Iterable[Violation]]


def pending_order(request: NewOrder, now_ns: int) -> Order:
    """The PENDING_NEW order ``request`` becomes once sent (what the tracker will show).

    Both in-flight accounting here and the executor's reserved orders count a new
    order before the tracker lists it; one builder keeps them showing the same order.
    """
    return Order(
        chain_id=request.cl_order_id,
        cl_order_id=request.cl_order_id,
        account_id=request.account_id,
        symbol=request.symbol,
        side=request.side,
        order_type=request.order_type,
        qty=request.qty,
        state=OrderState.PENDING_NEW,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        duration=request.duration,
        good_thru_date=request.good_thru_date,
        exec_instructions=request.exec_instructions,
        updated_ns=now_ns,
    )


@final
class PreTradeChecks:
    """Mandatory guards and registered validators for every outgoing request.

    ``limits`` gives the limits in force (see :class:`LimitsFile` for hot reload);
    ``kill_switch`` defaults to an in-memory switch, ``rate_limiter`` to a fresh one.
    ``clock`` times rate limits, polls and in-flight accounting; the request's
    own time rules (GTD, trading hours) use ``context.now_ns``.
    """

    def __init__(
        self,
        validators: ValidatorRegistry,
        *,
        limits: LimitsSource,
        clock: Clock,
        kill_switch: KillSwitch | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.validators = validators
        self.limits_source = limits
        self.kill_switch = kill_switch if kill_switch is not None else KillSwitch(clock=clock)
        if isinstance(limits, LimitsFile):
            limits.guard(self.kill_switch)  # a failed reload is loud (docs/safety/policies.md)
        self.rate_limiter = rate_limiter if rate_limiter is not None else RateLimiter()
        self._clock = clock
        # per vendor: its validators' bound ``validate``, and the shape rules they lack
        # (vendor, request type) -> the validators judging it, the shape guards to run
        self._validate: dict[
            tuple[str, type], tuple[tuple[_Validate, ...], tuple[Validator, ...]]
        ] = {}
        self._validators_version = -1
        self._loss_level: dict[str, KillSwitchState] = {}
        # NEW orders sent but not yet seen in a context's open_orders, per account.
        self._in_flight: dict[str, dict[str, tuple[int, Order]]] = {}

    # -- the check -----------------------------------------------------------------

    def check(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        """Every violation of ``request``; an empty list means it may be sent."""
        return self._check(request, context, validators=True)

    def check_mandatory(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        """Only the guards no path may skip (the experts' direct order path):
        kill switch, rate limit, allowed account and instrument, known instrument,
        and the request's shape (:mod:`ec_core.safety.shape`)."""
        return self._check(request, context, validators=False)

    def _check(
        self, request: OrderRequest, context: PreTradeContext, *, validators: bool
    ) -> list[Violation]:
        now_ns = self._clock.now_ns()
        found: list[Violation] = []
        request_class = type(request)
        if request_class not in _KIND:
            found.append(
                Violation(
                    code=Code.REQUEST_TYPE_INVALID,
                    field="request_type",
                    rule="must be one of the OrderRequest types",
                    value=request_class.__name__,
                )
            )
            return found
        kind = _KIND[request_class]
        limits = self.limits_source.current(now_ns)
        account_id = request.account_id
        # The allow-list and the rate limits key on the account id: one that is not a
        # non-empty str (a numeric CQG id passed as an int) must deny, not skip them;
        # a padded one (" ACC1") is a typo a session that lists no accounts would send.
        account_ok = type(account_id) is str and account_id != "" and is_clean_id(account_id)
        if not account_ok:
            found.append(
                Violation(
                    code=Code.ACCOUNT_NOT_ALLOWED,
                    field="account_id",
                    rule=(
                        f"must be a non-empty str, {CLEAN_ID_RULE}"
                        " (the allow-list and rate limits key on it)"
                    ),
                    value=account_id,
                )
            )
        elif self._in_flight:
            context = self._with_in_flight(account_id, context, now_ns)
        target = context.target_order
        if target is None and isinstance(request, _REFERRING):
            target = find_order(context.open_orders, request.orig_cl_order_id)

        state = self.kill_switch.state_at(now_ns)
        if state is not KillSwitchState.ACTIVE:
            violation = self._kill_switch(state, request, context, target)
            if violation is not None:
                found.append(violation)

        if kind is not None and account_ok:
            violation = self.rate_limiter.check(limits.account(account_id), kind, now_ns)
            if violation is not None:
                found.append(violation)

        resolved = None
        if isinstance(request, _PRICED):
            symbol = request.symbol
            if type(symbol) is not str or not symbol:
                found.append(
                    Violation(
                        code=Code.INSTRUMENT_NOT_ALLOWED,
                        field="symbol",
                        rule="must be a non-empty str (the allow-list keys on it)",
                        value=symbol,
                    )
                )
            elif account_ok:
                resolved = limits.resolve(account_id, symbol)
                self._allowed(resolved.account.allowed, resolved.allowed, request, found, limits)
            if context.instrument is None:
                found.append(
                    Violation(
                        code=Code.INSTRUMENT_UNKNOWN,
                        field="symbol",
                        rule="no instrument definition: tick size and limits cannot be checked",
                        value=symbol,
                    )
                )

        if not validators:
            found += check_shape(request, context)
            return found
        if self._validators_version != self.validators.version:
            self._validate = {}
            self._validators_version = self.validators.version
        route = (context.vendor, type(request))
        plan = self._validate.get(route)
        if plan is None:
            plan = self._validate[route] = self._plan(*route)
        validate_all, shape_rules = plan
        shape = check_shape(request, context, shape_rules)
        context = msgspec.structs.replace(context, limits=resolved, target_order=target)
        for validate in validate_all:
            violations = validate(request, context)
            if violations:
                if shape:
                    seen = {(v.code, v.field, v.rule) for v in shape}
                    violations = [v for v in violations if (v.code, v.field, v.rule) not in seen]
                found.extend(violations)
        found += shape
        return found

    def _plan(
        self, vendor: str, request_type: type
    ) -> tuple[tuple[_Validate, ...], tuple[Validator, ...]]:
        # A shape rule whose very class judges this vendor's requests runs from the
        # registry (with the limits resolved: the same answer and more); the others run
        # as guards. A rule scoped to another vendor covers nothing for this one.
        # Validators that do not judge this request type are left out of the run, not
        # of that decision: a rule the registry holds passes the types it does not judge.
        validators = self.validators.for_vendor(vendor)
        return self.validators.plan(vendor, request_type), shape_rules_besides(validators)

    def _allowed(
        self,
        account_allowed: bool,
        instrument_allowed: bool,
        request: NewOrder | ModifyOrder,
        found: list[Violation],
        limits: Limits,
    ) -> None:
        if not account_allowed:
            found.append(
                Violation(
                    code=Code.ACCOUNT_NOT_ALLOWED,
                    field="account_id",
                    rule="no [accounts] section of the limits file allows it (default deny)",
                    value=request.account_id,
                    limit=limits.source or None,
                )
            )
        if not instrument_allowed:
            found.append(
                Violation(
                    code=Code.INSTRUMENT_NOT_ALLOWED,
                    field="symbol",
                    rule="no [instruments] section of the limits file allows it (default deny)",
                    value=request.symbol,
                    limit=limits.source or None,
                )
            )

    def _kill_switch(
        self,
        state: KillSwitchState,
        request: OrderRequest,
        context: PreTradeContext,
        target: Order | None,
    ) -> Violation | None:
        if not isinstance(request, _PRICED):
            return None  # cancels, cancel-all, liquidate-all and go-flat always pass
        reason = self.kill_switch.reason
        if state is KillSwitchState.HALTED:
            return Violation(
                code=Code.KILL_SWITCH_HALTED,
                field="kill_switch",
                rule=f"HALTED: only cancels and liquidate/go-flat pass ({reason})",
                value=request.request_type.value,
                limit=state.value,
            )
        position = context.position
        symbol = request.symbol
        qty = position.qty if position is not None and position.symbol == symbol else 0
        if isinstance(request, NewOrder):
            reducing = (
                type(request.side) is Side
                and type(request.qty) is int
                and request.qty > 0
                and new_is_reducing(request, qty, context.open_orders)
            )
        else:
            reducing = target is not None and modify_is_reducing(
                request, target, qty, context.open_orders
            )
        if reducing:
            return None
        return Violation(
            code=Code.KILL_SWITCH_REDUCING,
            field="kill_switch",
            rule=f"REDUCING: only orders that reduce the position pass ({reason})",
            value=qty,
            limit=state.value,
        )

    # -- accounting ----------------------------------------------------------------

    def record_tracked(self, request: OrderRequest) -> None:
        """Account for a request that left and that the caller's tracker now lists.

        Only the rate limits count it: the contexts built from that tracker show
        the order (pending included) while it is open and drop it once it is final,
        so it is not kept in flight here. The executor calls this.
        """
        kind = _KIND.get(type(request))
        if kind is not None:
            self.rate_limiter.record(request.account_id, kind, self._clock.now_ns())

    def record_sent(self, request: OrderRequest) -> None:
        """Account for a request that actually left: rate limits and in-flight new orders.

        For callers whose contexts do not list the orders they sent yet: a sent new
        order counts as open (for max open orders, position and self-trade) until a
        context's ``open_orders`` shows it, :meth:`forget` is called (it is final),
        or 5 s pass. A caller with a tracker calls :meth:`record_tracked` instead.
        """
        now_ns = self._clock.now_ns()
        kind = _KIND.get(type(request))
        if kind is not None:
            self.rate_limiter.record(request.account_id, kind, now_ns)
        if isinstance(request, NewOrder) and request.cl_order_id:
            self._in_flight.setdefault(request.account_id, {})[request.cl_order_id] = (
                now_ns,
                pending_order(request, now_ns),
            )

    def _with_in_flight(
        self, account_id: str, context: PreTradeContext, now_ns: int
    ) -> PreTradeContext:
        pending = self._in_flight.get(account_id)
        if not pending:
            return context
        known = {o.cl_order_id for o in context.open_orders}
        known.update(o.chain_id for o in context.open_orders)
        for cl_order_id, (sent_ns, _) in list(pending.items()):
            if cl_order_id in known or now_ns - sent_ns > _IN_FLIGHT_TTL_NS:
                del pending[cl_order_id]
        if not pending:
            del self._in_flight[account_id]
            return context
        extra = tuple(order for _, order in pending.values())
        return msgspec.structs.replace(context, open_orders=(*context.open_orders, *extra))

    def forget(self, account_id: str, cl_order_id: str) -> None:
        """Stop counting a sent order as in flight (it is final, or listed elsewhere now)."""
        pending = self._in_flight.get(account_id)
        if pending is not None and pending.pop(cl_order_id, None) is not None and not pending:
            del self._in_flight[account_id]

    def in_flight(self, account_id: str) -> Sequence[Order]:
        """New orders sent and not yet seen among a context's open orders."""
        return tuple(order for _, order in self._in_flight.get(account_id, {}).values())

    # -- daily loss ----------------------------------------------------------------

    def on_pnl(self, account_id: str, day_pnl: Decimal) -> None:
        """Feed the account's P&L of the day; crossing a loss level escalates the kill switch.

        ``daily_loss_reduce_at`` switches to REDUCING, ``daily_loss_halt_at`` to HALTED.
        Only a *new* crossing switches (so a manual reset holds until the loss
        reaches the next level, or recovers and crosses again); it never de-escalates.
        """
        rules = self.limits_source.current(self._clock.now_ns()).account(account_id)
        loss = -day_pnl
        level = KillSwitchState.ACTIVE
        limit: Decimal | None = None
        if rules.daily_loss_halt_at is not None and loss >= rules.daily_loss_halt_at:
            level, limit = KillSwitchState.HALTED, rules.daily_loss_halt_at
        elif rules.daily_loss_reduce_at is not None and loss >= rules.daily_loss_reduce_at:
            level, limit = KillSwitchState.REDUCING, rules.daily_loss_reduce_at
        previous = self._loss_level.get(account_id, KillSwitchState.ACTIVE)
        self._loss_level[account_id] = level
        if level.level > previous.level:
            self.kill_switch.escalate(
                level,
                f"daily loss limit: account {account_id} day P&L {day_pnl} reached -{limit}",
                source="loss-limit",
            )

    # -- impossible fills -------------------------------------------------------------

    def on_fill_anomaly(self, anomaly: FillAnomaly) -> None:
        """The tracker booked an impossible fill: the kill switch goes to the limits
        file's ``[kill_switch] on_impossible_fill`` (REDUCING by default; never back)."""
        policy = self.limits_source.current(self._clock.now_ns()).config.kill_switch
        level = policy.on_impossible_fill
        if level is KillSwitchState.ACTIVE:
            return
        self.kill_switch.escalate(
            level,
            f"impossible fill ({anomaly.kind.value}): order {anomaly.chain_id} "
            f"({anomaly.account_id} {anomaly.symbol}, qty {anomaly.order_qty}, was "
            f"{anomaly.previous_state.value}) booked fill {anomaly.fill.fill_id} of "
            f"{anomaly.fill.qty}, {anomaly.filled_qty} filled",
            source="impossible-fill",
        )

    # -- rounding ------------------------------------------------------------------

    def apply_rounding(self, request: OrderRequest, context: PreTradeContext) -> OrderRequest:
        """``request`` with prices moved onto the tick grid by the limits' ``price_rounding``.

        The identity when the policy is REFUSE (the default) or nothing is off grid.
        Call it before :meth:`check`, and send (and journal) what it returns.
        """
        instrument = context.instrument
        if instrument is None or not isinstance(request, _PRICED):
            return request
        if type(request.account_id) is not str or type(request.symbol) is not str:
            return request
        limits = self.limits_source.current(self._clock.now_ns())
        policy = limits.resolve(request.account_id, request.symbol).price_rounding
        target = context.target_order
        if target is None and isinstance(request, ModifyOrder):
            target = find_order(context.open_orders, request.orig_cl_order_id)
        return round_request(request, instrument, policy, target)
