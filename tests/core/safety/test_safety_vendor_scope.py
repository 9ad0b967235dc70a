"""Vendor-scoped validators: a rule added for one vendor never judges another's orders,
and a vendor's rules do not repeat what core's rules already name."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import PluginError, Violation
from ec_core.execution.gate import ValidatorGate
from ec_core.model import OrderRequest
from ec_core.plugins import PluginHost
from ec_core.safety import PreTradeChecks, StaticLimits
from ec_core.safety.rules import Quantity
from ec_core.validation import PreTradeContext, ValidatorRegistry
from safety_support import NOW_NS, context, limits, new, registry


class _Refuses:
    """Refuses everything it sees, so a test sees whether it ran."""

    def __init__(self, name: str) -> None:
        self.name = name

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        return (Violation(code=self.name.upper(), field="request", rule="ran"),)


def _codes(violations: Iterable[Violation]) -> list[str]:
    return sorted(str(v.code) for v in violations)


def test_a_validator_for_one_vendor_judges_only_its_requests() -> None:
    validators = ValidatorRegistry()
    validators.add(_Refuses("everyone"))
    validators.add(_Refuses("acme_only"), vendor="acme")
    assert validators.vendor_of("acme_only") == "acme"
    assert validators.vendor_of("everyone") is None
    assert _codes(validators.run(new(), context(vendor="acme"))) == ["ACME_ONLY", "EVERYONE"]
    assert _codes(validators.run(new(), context(vendor="mock"))) == ["EVERYONE"]
    assert _codes(validators.run(new(), context())) == ["EVERYONE"]  # no vendor named


def test_replacing_a_validator_takes_the_new_scope() -> None:
    validators = ValidatorRegistry()
    validators.add(_Refuses("rule"), vendor="acme")
    validators.add(_Refuses("rule"), replace=True)
    assert validators.vendor_of("rule") is None
    assert _codes(validators.run(new(), context(vendor="mock"))) == ["RULE"]
    validators.add(_Refuses("rule"), replace=True, vendor="mock")
    assert _codes(validators.run(new(), context(vendor="acme"))) == []
    validators.remove("rule")
    assert validators.vendor_of("rule") is None


@pytest.mark.parametrize("vendor", ["", 7])
def test_a_scope_is_a_vendor_name(vendor: object) -> None:
    with pytest.raises(PluginError, match="vendor must be a non-empty str"):
        ValidatorRegistry().add(_Refuses("rule"), vendor=vendor)  # type: ignore[arg-type]


def test_the_pre_trade_checks_run_a_vendors_rules_on_its_orders_only() -> None:
    validators = registry()
    checks = PreTradeChecks(validators, limits=StaticLimits(limits()), clock=ManualClock(NOW_NS))
    validators.add(_Refuses("acme_only"), vendor="acme")
    assert "ACME_ONLY" in _codes(checks.check(new(), context(vendor="acme")))
    assert _codes(checks.check(new(), context(vendor="mock"))) == []
    validators.remove("acme_only")  # the checks see the change
    assert _codes(checks.check(new(), context(vendor="acme"))) == []


def test_a_gates_mandatory_validator_keeps_its_scope() -> None:
    gate = ValidatorGate([], mandatory=["acme_only"])
    gate.registry.add(_Refuses("acme_only"), vendor="acme")
    assert _codes(gate.check_mandatory(new(), context(vendor="acme"))) == ["ACME_ONLY"]
    assert gate.check_mandatory(new(), context(vendor="mock")) == []


def test_a_missing_price_bound_for_cqg_is_named_once() -> None:
    """Core's PRICE_MISSING alone: the cqg plugin's rules check only what core does not."""
    host = PluginHost.load()
    checks = PreTradeChecks(
        host.validators(), limits=StaticLimits(limits()), clock=ManualClock(NOW_NS)
    )
    no_price = new(account_id="12345", limit_price=None)
    cqg = _codes(checks.check(no_price, context(vendor="cqg")))
    assert cqg.count("PRICE_MISSING") == 1
    assert not [c for c in cqg if c.startswith("CQG_")], cqg
    too_big = new(account_id="not-a-number", qty=2**32)
    assert "CQG_ACCOUNT_ID" in _codes(checks.check(too_big, context(vendor="cqg")))
    assert not [c for c in _codes(checks.check(too_big, context(vendor="mock"))) if "CQG" in c]


def test_a_shape_rule_scoped_to_one_vendor_still_guards_every_other_vendor() -> None:
    """The checks skip a shape guard only where their registry runs that very rule: a
    registry whose ``quantity`` judges acme's orders alone leaves mock's to the guard."""
    validators = registry()
    validators.add(Quantity(), replace=True, vendor="acme")
    checks = PreTradeChecks(validators, limits=StaticLimits(limits()), clock=ManualClock(NOW_NS))
    for vendor in ("acme", "mock"):
        assert _codes(checks.check(new(qty=0), context(vendor=vendor))) == ["QTY_NOT_POSITIVE"]
