"""The contract of a pre-trade validator and the registry plugins add them to.

Every registered validator runs on every request bound for its scope and returns
its violations; the executor collects them all and raises one
:class:`~ec_core.errors.OrderDeniedError`. Validators are pure and synchronous:
they look only at the request and the :class:`PreTradeContext` they are given.

A validator added for one vendor (``validators.add(v, vendor="cqg")``) runs only on
requests whose ``PreTradeContext.vendor`` is that vendor: a vendor's format rules
never judge another vendor's orders, and need not filter on the vendor themselves.
Such rules check only what the venue refuses beyond core's rules (core already
names a missing price once; a vendor rule does not name it again).

A validator may also say which request types it can find fault with: a class
attribute ``judges``, a tuple of request classes (e.g. ``(NewOrder, ModifyOrder)``).
It is then not called for the others (a cancel skips the price and risk rules), so
it must pass every request of a type it does not list. One without ``judges``
judges every request. A rule that leaves out a type it does judge cannot be told at
registration; it is told at first use: the first request of each type a rule leaves
out is still shown to it (once per rule and type, whichever vendor asks first), and a
rule that finds fault with it is logged as an ERROR naming the rule and the type, its
violations deny that request, and it judges that type from then on. A rule that passes
it is not asked again.

A validator whose every verdict depends on resolved limits (a price band, a notional or
position limit) may say so: a class attribute ``needs_limits = True``. It is then not
called when the context carries no limits (``PreTradeContext.limits is None``: a gate
without a limits file), so it must pass every request then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, final, get_args, runtime_checkable

import msgspec

from ec_core.errors import PluginError, Violation
from ec_core.model import Instrument, Order, OrderRequest, Position

if TYPE_CHECKING:  # imported lazily: ec_core.safety depends on this module
    from ec_core.safety.limits import ResolvedLimits

__all__ = ["PreTradeContext", "Validator", "ValidatorRegistry", "judges", "needs_limits"]

_Validate = Callable[[OrderRequest, "PreTradeContext"], Iterable[Violation]]
_REQUEST_TYPES: tuple[type, ...] = get_args(OrderRequest)
_log = logging.getLogger(__name__)


class PreTradeContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a validator may know when it judges a request.

    ``vendor`` names the session's vendor: validators added for another vendor do
    not run (:meth:`ValidatorRegistry.add`). ``instrument`` is ``None`` when the symbol is unknown.
    ``open_orders`` are our own working orders in the account (including those sent
    and not yet acknowledged); ``position`` our position in the instrument.

    ``reference_price`` is the price band's fallback reference (settlement, theoretical)
    when there is no ``last_price``. ``limits`` and ``target_order`` are filled in by
    :class:`~ec_core.safety.PreTradeChecks` before the validators run: the resolved
    limits for the request's account and symbol, and the open order a modify or
    cancel refers to (``None`` if it is not among ``open_orders``).
    ``stale_market`` says why the symbol's market data stopped (its subscription failed):
    the price source then gives no last, bid or ask, and a rule that needs them names it.
    """

    now_ns: int
    vendor: str = ""
    instrument: Instrument | None = None
    position: Position | None = None
    open_orders: Sequence[Order] = ()
    last_price: Decimal | None = None
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    # its own dict (an empty dict, not a shared read-only mapping: a context encodes,
    # pickles and copies like any struct, for a plugin that keeps what it judged)
    extra: Mapping[str, object] = msgspec.field(default_factory=dict)
    reference_price: Decimal | None = None
    limits: ResolvedLimits | None = None
    target_order: Order | None = None
    stale_market: str | None = None


@runtime_checkable
class Validator(Protocol):
    """One rule (or a family of rules) checked before an order leaves."""

    @property
    def name(self) -> str: ...

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        """Return every violation of ``request``; an empty iterable means it passes."""
        ...


def judges(validator: Validator, request_type: type) -> bool:
    """Whether ``validator`` judges requests of ``request_type`` (its ``judges``, if it
    declares one; every type if not)."""
    kinds = getattr(validator, "judges", None)
    return kinds is None or issubclass(request_type, kinds)


def needs_limits(validator: Validator) -> bool:
    """Whether ``validator`` declares that it passes every request when the context has
    no resolved limits (``needs_limits = True``)."""
    return getattr(validator, "needs_limits", False) is True


def _check_judges(validator: Validator) -> None:
    # Checked once where the rule is added: an empty or foreign ``judges`` would leave
    # the rule out of every run (it would never refuse anything, silently), and a list
    # or a name would raise TypeError on the first order instead of naming the rule.
    kinds = getattr(validator, "judges", None)
    if kinds is None:
        return
    if (
        type(kinds) is not tuple
        or not kinds
        or not all(isinstance(k, type) and k in _REQUEST_TYPES for k in kinds)
    ):
        allowed = ", ".join(t.__name__ for t in _REQUEST_TYPES)
        raise PluginError(
            f"validator {validator.name!r}: judges must be a non-empty tuple of request "
            f"types ({allowed}), got {kinds!r}"
        )


@final
class ValidatorRegistry:
    """Validators by name, in registration order, each for every vendor or for one.

    Plugins call :meth:`add`; the executor's checks run :meth:`for_vendor` of the
    session's vendor.
    """

    def __init__(self) -> None:
        self._validators: dict[str, Validator] = {}
        self._scope: dict[str, str] = {}  # name -> the one vendor it judges
        self._by_vendor: dict[str, tuple[Validator, ...]] = {}
        # vendor -> request type -> the bound validate of each validator judging it, for a
        # context with limits resolved, and for one without (no ``needs_limits`` rule)
        self._plans: dict[str, dict[type, tuple[_Validate, ...]]] = {}
        self._plans_bare: dict[str, dict[type, tuple[_Validate, ...]]] = {}
        # changes on every add or remove (and what first use learns), so callers can
        # cache what they derive from the set; a plain attribute, read once per order
        self.version = 0
        # the first-use guard of judges (module docstring): (name, type) of a type the
        # rule leaves out, once shown -> whether it found fault (it judges that type now)
        self._learnt: dict[tuple[str, type], bool] = {}

    def add(
        self, validator: Validator, *, replace: bool = False, vendor: str | None = None
    ) -> None:
        """Add ``validator``; a second one with the same name is an error unless ``replace``.

        ``vendor``: judge only requests bound for that vendor (its registered name, as
        ``Session.vendor`` says it); ``None`` judges every request.
        """
        name = validator.name
        if name in self._validators and not replace:
            raise PluginError(f"validator {name!r} is already registered")
        if vendor is not None and (type(vendor) is not str or not vendor):
            raise PluginError(f"validator {name!r}: vendor must be a non-empty str, got {vendor!r}")
        _check_judges(validator)
        self._validators[name] = validator
        self._forget_first_use(name)
        self._scope.pop(name, None)
        if vendor is not None:
            self._scope[name] = vendor
        self._changed()

    def remove(self, name: str) -> None:
        if self._validators.pop(name, None) is not None:
            self._scope.pop(name, None)
            self._forget_first_use(name)
            self._changed()

    def _forget_first_use(self, name: str) -> None:
        self._learnt = {seen: found for seen, found in self._learnt.items() if seen[0] != name}

    def _changed(self) -> None:
        self.version += 1
        self._by_vendor.clear()
        self._plans.clear()
        self._plans_bare.clear()

    def vendor_of(self, name: str) -> str | None:
        """The one vendor validator ``name`` judges, or ``None`` when it judges all."""
        return self._scope.get(name)

    def for_vendor(self, vendor: str) -> tuple[Validator, ...]:
        """The validators that judge a request bound for ``vendor``, in registration order:
        those for every vendor and those added for this one. Cached until the set changes."""
        chosen = self._by_vendor.get(vendor)
        if chosen is None:
            scope = self._scope
            chosen = tuple(
                v for name, v in self._validators.items() if scope.get(name, vendor) == vendor
            )
            self._by_vendor[vendor] = chosen
        return chosen

    def __iter__(self) -> Iterator[Validator]:
        return iter(tuple(self._validators.values()))

    def __len__(self) -> int:
        return len(self._validators)

    def names(self) -> list[str]:
        return list(self._validators)

    def plan(
        self, vendor: str, request_type: type, *, limits: bool = True
    ) -> tuple[_Validate, ...]:
        """The bound ``validate`` of each validator of :meth:`for_vendor` that
        :func:`judges` ``request_type``, in registration order; without ``limits``
        (a context that resolves none), not those that :func:`needs_limits`. Built once
        per vendor, type and ``limits`` until the set changes."""
        plans = self._plans if limits else self._plans_bare
        by_type = plans.get(vendor)
        if by_type is None:
            by_type = plans[vendor] = {}
        validate_all = by_type.get(request_type)
        if validate_all is None:
            planned: list[_Validate] = []
            for v in self.for_vendor(vendor):
                if not limits and needs_limits(v):
                    continue
                learnt = self._learnt.get((v.name, request_type))
                if learnt or judges(v, request_type):
                    planned.append(v.validate)
                elif learnt is None:
                    planned.append(self._shown_once(v, request_type))
            validate_all = by_type[request_type] = tuple(planned)
        return validate_all

    def _shown_once(self, validator: Validator, request_type: type) -> _Validate:
        """``validator``'s validate for the first request of a type its ``judges`` leaves
        out (module docstring): what it finds is learnt, and the plans rebuilt without it."""
        name = validator.name

        def first_use(request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
            try:
                violations = tuple(validator.validate(request, context))
            except Exception:  # it said it does not judge this type: a crash denies nothing
                _log.warning(
                    "validator %r raised on a %s, a request type its judges leaves out:"
                    " not judged", name, request_type.__name__, exc_info=True,
                )  # fmt: skip
                violations = ()
            if violations:
                kind = request_type.__name__
                _log.error(
                    "validator %r found fault with a %s, a request type its judges %s leaves"
                    " out: it judges %s from now on; list %s in its judges, or make it pass"
                    " every %s", name, kind, _names(getattr(validator, "judges", ())),
                    kind, kind, kind,
                )  # fmt: skip
            self._learnt[name, request_type] = bool(violations)
            self._changed()
            return violations

        return first_use

    def run(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        """Run the validators of ``context.vendor`` (:meth:`for_vendor`) that judge this
        request's type, and need no limits when the context has none (:meth:`plan`);
        collect all violations."""
        limits = context.limits is not None
        try:  # subscripts, not .get: the plan is there from the second order on
            validate_all = (self._plans if limits else self._plans_bare)[context.vendor][
                type(request)
            ]
        except KeyError:
            validate_all = self.plan(context.vendor, type(request), limits=limits)
        found: list[Violation] = []
        for validate in validate_all:
            violations = validate(request, context)
            if violations:  # a passing rule returns an empty tuple: nothing to add
                found.extend(violations)
        return found


def _names(kinds: Iterable[type]) -> str:
    return "(" + ", ".join(k.__name__ for k in kinds) + ")"
