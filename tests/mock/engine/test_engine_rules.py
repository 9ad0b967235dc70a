"""The entry rules are data: each names its codes, says when it applies, and is reached.

The scenarios of each code live in test_engine_rejects.py; here the tables themselves:
which rules a kind of order runs, in which order, and that every rule is documented.
"""

from __future__ import annotations

import pytest
from ec_core.model import Duration, ExecInstruction, OrderType
from ec_mock.engine import RejectCode
from ec_mock.engine.modify_rules import (
    MODIFY_RULES,
    PRICE,
    QTY,
    STOP,
    TIME,
    Listing,
    ModifyRule,
    modify_plans,
)
from ec_mock.engine.products import ProductLimits
from ec_mock.engine.rules import (
    NEW_ORDER_RULES,
    EntryRule,
    OrderKind,
    new_order_plan,
)
from ec_mock.instruments import builtin_specs
from engine_support import CL, ES

PLAIN_ES = ProductLimits(ES, None)
PLAIN_CL = ProductLimits(CL, None)

NONE: frozenset[ExecInstruction] = frozenset()


def _names(kind: OrderKind) -> list[str]:
    checks = new_order_plan(kind)
    return [rule.name for rule in NEW_ORDER_RULES if rule.check in checks]


def test_every_rule_is_documented_and_names_known_codes() -> None:
    rules: list[EntryRule | ModifyRule] = [*NEW_ORDER_RULES, *MODIFY_RULES]
    for rule in rules:
        assert rule.check.__doc__, rule.name
        assert rule.check.__name__ == rule.name
        assert rule.codes
        assert all(isinstance(code, RejectCode) for code in rule.codes)


def test_a_plain_limit_order_runs_only_the_rules_that_concern_it() -> None:
    kind = OrderKind(ES, PLAIN_ES, OrderType.LMT, Duration.DAY, NONE, False, False)
    assert _names(kind) == ["qty_in_range", "limit_price_present"]


def test_a_gtd_stop_limit_in_a_session_runs_its_rules_in_table_order() -> None:
    kind = OrderKind(CL, PLAIN_CL, OrderType.STL, Duration.GTD, NONE, False, True)
    assert _names(kind) == [
        "qty_in_range",
        "limit_price_present",
        "stop_price_present",
        "gtd_has_future_date",
        "session_open",
        "stop_on_right_side",
    ]


@pytest.mark.parametrize(
    ("order_type", "instructions", "expected"),
    [
        (OrderType.LMT, {ExecInstruction.POST_ONLY}, "post_only_does_not_cross"),
        (OrderType.MKT, {ExecInstruction.POST_ONLY}, "post_only_is_limit"),
        (OrderType.LMT, {ExecInstruction.ICEBERG}, "iceberg_display"),
    ],
)
def test_instructions_add_their_rules(
    order_type: OrderType, instructions: set[ExecInstruction], expected: str
) -> None:
    kind = OrderKind(ES, PLAIN_ES, order_type, Duration.DAY, frozenset(instructions), False, False)
    assert expected in _names(kind)


def test_modify_plans_run_the_rules_of_the_fields_set() -> None:
    plans = modify_plans(Listing(ES, PLAIN_ES, False))

    def names(mask: int) -> list[str]:
        return [rule.name for rule in MODIFY_RULES if rule.check in plans[mask]]

    assert names(0) == []
    assert names(QTY) == ["modify_qty_valid"]
    assert names(PRICE) == ["modify_price_has_limit"]
    assert names(STOP) == ["modify_stop_not_fired", "modify_stop_side"]
    assert names(TIME | QTY) == ["modify_qty_valid", "modify_duration_valid"]


def test_a_listing_with_sessions_and_product_rules_checks_every_modify() -> None:
    spec = next(s for s in builtin_specs() if s.instrument.symbol == "EP")
    listing = Listing(spec.instrument, ProductLimits(spec.instrument, spec.rules), True)
    plans = modify_plans(listing)

    def names(mask: int) -> list[str]:
        return [rule.name for rule in MODIFY_RULES if rule.check in plans[mask]]

    assert names(0) == ["modify_session_open"]
    assert names(PRICE) == [
        "modify_session_open",
        "modify_price_has_limit",
        "modify_price_allowed",
    ]


def test_a_built_in_product_runs_the_globex_rules() -> None:
    spec = next(s for s in builtin_specs() if s.instrument.symbol == "EP")
    limits = ProductLimits(spec.instrument, spec.rules)
    market = _names(
        OrderKind(spec.instrument, limits, OrderType.MKT, Duration.DAY, NONE, False, True)
    )
    assert market == ["qty_in_range", "session_open", "market_protection"]
    aon = frozenset({ExecInstruction.AON})
    limit = _names(
        OrderKind(spec.instrument, limits, OrderType.LMT, Duration.DAY, aon, False, True)
    )
    assert limit[:2] == ["qty_in_range", "product_offers_instructions"]
    assert "price_within_band" in limit
