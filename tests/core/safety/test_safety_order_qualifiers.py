"""The ``order_qualifiers`` shape guard: display (iceberg) quantity, minimum quantity, SMP.

Each rule follows CME Globex (an iceberg is a limit or stop-limit order that may rest;
a minimum quantity qualifies fill-and-kill orders only; an SMP instruction applies to
orders of one SMP id); every violation names its field and rule.
"""

from __future__ import annotations

from typing import Any

import pytest
from ec_core.model import Duration, ExecInstruction, OrderType, SmpInstruction
from ec_core.safety.rules import OrderQualifiers
from ec_core.safety.shape import check_shape
from hypothesis import given
from hypothesis import strategies as st
from safety_support import codes, context, new

RULE = OrderQualifiers()


def check(**fields: Any) -> list[Any]:
    return list(RULE.validate(new(**fields), context()))


def test_an_order_without_qualifiers_passes_without_work() -> None:
    assert check() == []


def test_qualifiers_that_make_sense_pass() -> None:
    assert check(qty=10, display_qty=2) == []
    assert check(qty=10, display_qty=10, order_type=OrderType.STL) == []
    assert check(qty=5, min_qty=3, duration=Duration.IOC) == []
    assert check(smp_id="DESK1", smp_instruction=SmpInstruction.CANCEL_AGGRESSING) == []
    assert check(smp_id="DESK1") == []


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"qty": 5, "display_qty": 6}, "DISPLAY_QTY_INVALID", "display_qty"),
        ({"qty": 5, "display_qty": 0}, "DISPLAY_QTY_INVALID", "display_qty"),
        ({"qty": 5, "display_qty": True}, "DISPLAY_QTY_INVALID", "display_qty"),
        (
            {"qty": 5, "display_qty": 2, "order_type": OrderType.MKT, "limit_price": None},
            "DISPLAY_QTY_NOT_ALLOWED",
            "display_qty",
        ),
        (
            {"qty": 5, "display_qty": 2, "duration": Duration.IOC},
            "DISPLAY_QTY_NOT_ALLOWED",
            "display_qty",
        ),
        (
            {"exec_instructions": frozenset({ExecInstruction.ICEBERG})},
            "DISPLAY_QTY_INVALID",
            "display_qty",
        ),
        ({"qty": 5, "min_qty": 2}, "MIN_QTY_NOT_ALLOWED", "min_qty"),
        ({"qty": 5, "min_qty": 2, "duration": Duration.FOK}, "MIN_QTY_NOT_ALLOWED", "min_qty"),
        ({"qty": 5, "min_qty": 6, "duration": Duration.IOC}, "MIN_QTY_INVALID", "min_qty"),
        ({"smp_instruction": SmpInstruction.CANCEL_RESTING}, "SMP_INVALID", "smp_instruction"),
        ({"smp_id": ""}, "SMP_INVALID", "smp_id"),
        ({"smp_id": " D1"}, "SMP_INVALID", "smp_id"),
        ({"smp_id": "D\x001"}, "SMP_INVALID", "smp_id"),  # a control character
        ({"smp_id": "x" * 65}, "SMP_INVALID", "smp_id"),
        ({"smp_id": "D1", "smp_instruction": "CANCEL_BOTH"}, "ENUM_INVALID", "smp_instruction"),
    ],
)
def test_each_broken_qualifier_is_named(fields: dict[str, Any], code: str, field: str) -> None:
    found = check(**fields)
    assert code in codes(found)
    assert field in {v.field for v in found}
    assert all(v.rule for v in found)


@given(
    qty=st.integers(1, 50),
    display=st.one_of(st.none(), st.integers(-2, 60)),
    minimum=st.one_of(st.none(), st.integers(-2, 60)),
    duration=st.sampled_from(list(Duration)),
    order_type=st.sampled_from([OrderType.LMT, OrderType.STL, OrderType.MKT, OrderType.MTL]),
)
def test_the_verdict_is_the_globex_rule(
    qty: int,
    display: int | None,
    minimum: int | None,
    duration: Duration,
    order_type: OrderType,
) -> None:
    found = check(
        qty=qty,
        display_qty=display,
        min_qty=minimum,
        duration=duration,
        order_type=order_type,
        good_thru_date=None,
    )
    iceberg_ok = display is None or (
        0 < display <= qty
        and order_type in (OrderType.LMT, OrderType.STL)
        and duration not in (Duration.IOC, Duration.FOK)
    )
    minimum_ok = minimum is None or (0 < minimum <= qty and duration is Duration.IOC)
    assert (found == []) == (iceberg_ok and minimum_ok)
    assert {v.field for v in found} <= {"display_qty", "min_qty"}


@pytest.mark.parametrize("instructions", [None, 5, "ICEBERG", [ExecInstruction.ICEBERG]])
def test_exec_instructions_of_a_wrong_type_are_denied_by_name_not_raised(
    instructions: object,
) -> None:
    assert check(exec_instructions=instructions) == []  # enum_values names that field
    found = check_shape(new(exec_instructions=instructions), context())
    assert [v.field for v in found] == ["exec_instructions"]
