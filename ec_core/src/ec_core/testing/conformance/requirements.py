"""What a kit test needs from the backend, declared on the test, checked before it runs.

A kit test states its needs with :func:`requires`; the kit's autouse fixture compares
them with what the vendor declares (:attr:`VendorInfo.capabilities
<ec_core.vendor.VendorInfo.capabilities>`) and with the ``market_control`` fixture.
A need that is not met *skips* the test with a reason naming it, so a report shows
exactly which capability a vendor lacks instead of a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Final, Literal, TypeAlias, TypeVar

from ec_core.vendor import Capability

__all__ = [
    "CONNECTION_CONTROL",
    "MARKET_CONTROL",
    "Requirement",
    "missing_requirements",
    "requirements_of",
    "requires",
    "skip_reason",
    "sorted_requirements",
]

MARKET_CONTROL: Final = "market_control"
"""The pseudo-capability of a backend whose market a test can make trade (a fixture)."""

CONNECTION_CONTROL: Final = "connection_control"
"""The pseudo-capability of a backend whose line a test can drop (a fixture)."""

Requirement: TypeAlias = Capability | Literal["market_control", "connection_control"]
_CONTROLS = (MARKET_CONTROL, CONNECTION_CONTROL)

_ATTRIBUTE = "__ec_requires__"
F = TypeVar("F", bound=Callable[..., object])


def requires(*needs: Requirement) -> Callable[[F], F]:
    """Declare that a kit test needs each of ``needs``; stacked uses add up."""
    for need in needs:
        if not (isinstance(need, Capability) or need in _CONTROLS):
            raise TypeError(
                f"not a requirement: {need!r} (a Capability, MARKET_CONTROL or CONNECTION_CONTROL)"
            )

    def mark(function: F) -> F:
        setattr(function, _ATTRIBUTE, requirements_of(function) | frozenset(needs))
        return function

    return mark


def requirements_of(function: object) -> frozenset[Requirement]:
    """What :func:`requires` declared on ``function`` (empty when nothing)."""
    needs: frozenset[Requirement] = getattr(function, _ATTRIBUTE, frozenset())
    return needs


def _order(need: Requirement) -> tuple[int, str]:
    return (1 + _CONTROLS.index(need), need) if need in _CONTROLS else (0, str(need))


def sorted_requirements(needs: Iterable[Requirement]) -> list[Requirement]:
    """``needs`` in the order reports show them: capabilities by name, then the controls."""
    return sorted(needs, key=_order)


def missing_requirements(
    needs: Iterable[Requirement],
    *,
    capabilities: Collection[Capability],
    market_control: bool,
    connection_control: bool = False,
) -> list[Requirement]:
    """The ``needs`` the backend does not meet, capabilities first, in a stable order."""
    missing: list[Requirement] = []
    for need in needs:
        if need == MARKET_CONTROL:
            if not market_control:
                missing.append(need)
        elif need == CONNECTION_CONTROL:
            if not connection_control:
                missing.append(need)
        elif need not in capabilities:
            missing.append(need)
    return sorted_requirements(missing)


def skip_reason(vendor: str, missing: Iterable[Requirement]) -> str:
    """Why a test is skipped, naming each missing need (the text pytest's report shows)."""
    parts = []
    for need in missing:
        if need == MARKET_CONTROL:
            parts.append("no market_control (the backend cannot be made to trade)")
        elif need == CONNECTION_CONTROL:
            parts.append("no connection_control (the kit cannot drop the backend's line)")
        else:
            parts.append(f"vendor {vendor!r} does not declare capability {str(need)!r}")
    return "conformance: " + "; ".join(parts)
