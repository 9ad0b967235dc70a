"""What the executor asks before an order leaves: the pre-trade gate.

:class:`PreTradeGate` is the narrow interface the executor needs from the
pre-trade checks (``ec_core.safety.PreTradeChecks`` implements it). A gate that
also has ``check_mandatory`` lets the expert path (:meth:`Executor.send_direct`)
skip optional validators; a gate without it gets the full check on that path
too, which is stricter, never laxer. :class:`ValidatorGate` adapts a plain
:class:`~ec_core.validation.ValidatorRegistry`.

A gate that keeps its own list of orders in flight (sent, not yet in the
context's ``open_orders``) should also have ``record_tracked``
(:class:`TrackedSendGate`): the executor calls it instead of ``record_sent``,
because its tracker lists every order it sent from the moment it left (pending
ones included) and drops it the moment it is final, so a second, time-based list
could only disagree with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, final, runtime_checkable

from ec_core.errors import Violation
from ec_core.model import OrderRequest
from ec_core.safety.shape import shape_rules_besides
from ec_core.validation import PreTradeContext, Validator, ValidatorRegistry

if TYPE_CHECKING:
    from ec_core.tracking import FillAnomaly

__all__ = [
    "FillAnomalyListener",
    "MandatoryGate",
    "PnlListener",
    "PreTradeGate",
    "RoundingGate",
    "TrackedSendGate",
    "ValidatorGate",
]


@runtime_checkable
class PreTradeGate(Protocol):
    def check(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        """Every violation of ``request``; empty means it may be sent."""
        ...

    def record_sent(self, request: OrderRequest) -> None:
        """``request`` left the process (rate limits count it)."""
        ...


@runtime_checkable
class MandatoryGate(Protocol):
    def check_mandatory(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        """Only the checks no path may skip: kill switch, rate limit, allowed instruments."""
        ...


@runtime_checkable
class TrackedSendGate(Protocol):
    def record_tracked(self, request: OrderRequest) -> None:
        """``request`` left, and the caller's tracker lists it from now on until it is final.

        Count it (rate limits) without keeping it as an order in flight: every
        later context's ``open_orders`` shows it while, and only while, it is open.
        """
        ...


@runtime_checkable
class RoundingGate(Protocol):
    def apply_rounding(self, request: OrderRequest, context: PreTradeContext) -> OrderRequest:
        """``request`` with prices moved onto the tick grid by an explicit policy.

        Called before the check; what it returns is what is checked, journaled and sent.
        """
        ...


@runtime_checkable
class PnlListener(Protocol):
    def on_pnl(self, account_id: str, day_pnl: Decimal) -> None:
        """The account's P&L of the day changed (a daily loss limit may trip)."""
        ...


@runtime_checkable
class FillAnomalyListener(Protocol):
    def on_fill_anomaly(self, anomaly: FillAnomaly) -> None:
        """The tracker booked an impossible fill (the kill switch policy may act)."""
        ...


@final
class ValidatorGate:
    """A gate made of validators; those named in ``mandatory`` also guard the direct path."""

    def __init__(
        self,
        validators: ValidatorRegistry | Iterable[Validator],
        *,
        mandatory: Iterable[str] = (),
    ) -> None:
        if isinstance(validators, ValidatorRegistry):
            self.registry = validators
        else:
            self.registry = ValidatorRegistry()
            for validator in validators:
                self.registry.add(validator)
        self.mandatory = frozenset(mandatory)
        self.sent = 0
        # check() is the registry's run, bound once: one call per order instead of two
        self.check: Callable[[OrderRequest, PreTradeContext], list[Violation]] = self.registry.run
        self._shape_rules: dict[str, tuple[Validator, ...]] = {}  # per vendor
        self._shape_version = -1

    def shape_rules(self, vendor: str) -> tuple[Validator, ...]:
        """The shape guards :meth:`check` does not already run for ``vendor``'s requests:
        the executor runs only these before it, so no rule runs twice on an order."""
        registry = self.registry
        if self._shape_version != registry.version:
            self._shape_rules = {}
            self._shape_version = registry.version
        try:  # a subscript, not .get: asked once per order
            return self._shape_rules[vendor]
        except KeyError:
            rules = self._shape_rules[vendor] = shape_rules_besides(registry.for_vendor(vendor))
            return rules

    def check_mandatory(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        found: list[Violation] = []
        for validator in self.registry.for_vendor(context.vendor):
            if validator.name in self.mandatory:
                found.extend(validator.validate(request, context))
        return found

    def record_sent(self, request: OrderRequest) -> None:
        self.sent += 1
