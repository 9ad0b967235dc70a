"""Requirement declarations and the skip reasons built from them."""

from __future__ import annotations

import pytest
from ec_core.testing.conformance import MARKET_CONTROL, Requirement, requirements_of, requires
from ec_core.testing.conformance.requirements import missing_requirements, skip_reason
from ec_core.vendor import Capability


def test_requires_stacks_and_reads_back() -> None:
    @requires(Capability.ORDERS)
    @requires(MARKET_CONTROL, Capability.MODIFY)
    def kit_test() -> None: ...

    assert requirements_of(kit_test) == {Capability.ORDERS, Capability.MODIFY, MARKET_CONTROL}
    assert requirements_of(lambda: None) == frozenset()


def test_requires_refuses_an_unknown_need() -> None:
    with pytest.raises(TypeError, match="not a requirement: 'orderz'"):
        requires("orderz")  # type: ignore[arg-type]


def test_missing_lists_capabilities_first_then_market_control() -> None:
    needs: set[Requirement] = {
        MARKET_CONTROL,
        Capability.POSITIONS,
        Capability.LIQUIDATE,
        Capability.ORDERS,
    }
    missing = missing_requirements(needs, capabilities={Capability.ORDERS}, market_control=False)
    assert missing == [Capability.LIQUIDATE, Capability.POSITIONS, MARKET_CONTROL]
    assert missing_requirements(needs, capabilities=set(Capability), market_control=True) == []


def test_skip_reason_names_the_vendor_and_each_missing_need() -> None:
    reason = skip_reason("acme", [Capability.CANCEL_ALL, MARKET_CONTROL])
    assert reason == (
        "conformance: vendor 'acme' does not declare capability 'cancel_all';"
        " no market_control (the backend cannot be made to trade)"
    )
