"""The contract of a pre-trade validator and the registry plugins add them to.

Every registered validator runs on every request and returns its violations;
the executor collects them all and raises one
:class:`~ec_core.errors.OrderDeniedError`. Validators are pure and synchronous:
they look only at the request and the :class:`PreTradeContext` they are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, final, runtime_checkable

import msgspec

from ec_core.errors import PluginError, Violation
from ec_core.model import Instrument, Order, OrderRequest, Position

if TYPE_CHECKING:  # imported lazily: ec_core.safety depends on this module
    from ec_core.safety.limits import ResolvedLimits

__all__ = ["PreTradeContext", "Validator", "ValidatorRegistry"]


class PreTradeContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a validator may know when it judges a request.

    ``vendor`` names the session's vendor, so a vendor's format rules can skip
    requests bound elsewhere. ``instrument`` is ``None`` when the symbol is unknown.
    ``open_orders`` are our own working orders in the account (including those sent
    and not yet acknowledged); ``position`` our position in the instrument.

    ``reference_price`` is the price band's fallback reference (settlement, theoretical)
    when there is no ``last_price``. ``limits`` and ``target_order`` are filled in by
    :class:`~ec_core.safety.PreTradeChecks` before the validators run: the resolved
    limits for the request's account and symbol, and the open order a modify or
    cancel refers to (``None`` if it is not among ``open_orders``).
    """

    now_ns: int
    vendor: str = ""
    instrument: Instrument | None = None
    position: Position | None = None
    open_orders: Sequence[Order] = ()
    last_price: Decimal | None = None
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    extra: Mapping[str, object] = msgspec.field(default_factory=dict)
    reference_price: Decimal | None = None
    limits: ResolvedLimits | None = None
    target_order: Order | None = None


@runtime_checkable
class Validator(Protocol):
    """One rule (or a family of rules) checked before an order leaves."""

    @property
    def name(self) -> str: ...

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        """Return every violation of ``request``; an empty iterable means it passes."""
        ...


@final
class ValidatorRegistry:
    """Validators by name, in registration order. Plugins call :meth:`add`."""

    def __init__(self) -> None:
        self._validators: dict[str, Validator] = {}
        self._version = 0

    @property
    def version(self) -> int:
        """Changes on every add or remove, so callers can cache what they derive from the set."""
        return self._version

    def add(self, validator: Validator, *, replace: bool = False) -> None:
        """Add ``validator``; a second one with the same name is an error unless ``replace``."""
        if validator.name in self._validators and not replace:
            raise PluginError(f"validator {validator.name!r} is already registered")
        self._validators[validator.name] = validator
        self._version += 1

    def remove(self, name: str) -> None:
        if self._validators.pop(name, None) is not None:
            self._version += 1

    def __iter__(self) -> Iterator[Validator]:
        return iter(tuple(self._validators.values()))

    def __len__(self) -> int:
        return len(self._validators)

    def names(self) -> list[str]:
        return list(self._validators)

    def run(self, request: OrderRequest, context: PreTradeContext) -> list[Violation]:
        """Run every validator and collect all violations."""
        found: list[Violation] = []
        for validator in self._validators.values():
            found.extend(validator.validate(request, context))
        return found
