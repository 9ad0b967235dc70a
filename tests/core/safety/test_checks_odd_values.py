"""Review regressions of the pre-trade checks: odd values deny with a field, never raise.

Before the fixes, a finite price too large for the tick-grid arithmetic (e.g.
``Decimal("1E+30")`` on a 0.01 tick) made the tick rule, the notional rule and the
rounding policy raise ``decimal.InvalidOperation`` or ``PriceError`` (the executor
then denied with a bare ``CHECK_FAILED`` naming no field), and the mandatory guards
let a request whose ``account_id`` is not a str (a numeric CQG account id typed as
an int) through the experts' direct path without the account allow-list or the
rate limit.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import Violation
from ec_core.model import CancelOrder, ModifyOrder, NewOrder, OrderRequest, OrderType, Side
from ec_core.safety import Limits, PreTradeChecks, StaticLimits
from ec_core.safety.codes import Code
from hypothesis import given, settings
from hypothesis import strategies as st
from safety_support import ACCOUNT, CL, LIMITS_TOML, NOW_NS, checks, context, new, order, registry

HUGE = ["1E+30", "-1E+30", "1E+999999", "-9.99E+999999", "123456789012345678901234567890.01"]
PRICED_FIELDS = {"limit_price", "stop_price"}


def _fields(violations: list[Violation]) -> set[str]:
    return {v.field for v in violations}


@pytest.mark.parametrize("price", HUGE)
def test_a_huge_limit_price_is_denied_naming_the_field(price: str) -> None:
    violations = checks().check(new(limit_price=Decimal(price)), context())
    assert violations
    assert "limit_price" in _fields(violations)
    assert {v.code for v in violations if v.field == "limit_price"} & {
        Code.PRICE_INVALID,
        Code.PRICE_OFF_TICK,
        Code.PRICE_OUTSIDE_BAND,
    }


@pytest.mark.parametrize("price", HUGE)
def test_a_huge_price_of_a_modify_is_denied_naming_the_field(price: str) -> None:
    modify = ModifyOrder(
        account_id=ACCOUNT, symbol=CL.symbol, orig_cl_order_id="o1", limit_price=Decimal(price)
    )
    violations = checks().check(modify, context(open_orders=[order()]))
    assert "limit_price" in _fields(violations)


@pytest.mark.parametrize("policy", ["NEAREST", "DOWN", "UP", "PASSIVE"])
def test_a_rounding_policy_leaves_a_huge_price_to_the_checks(policy: str) -> None:
    toml = LIMITS_TOML + f'\n[instruments."*"]\nprice_rounding = "{policy}"\n'
    gate = PreTradeChecks(
        registry(), limits=StaticLimits(Limits.from_toml(toml)), clock=ManualClock(NOW_NS)
    )
    request = new(limit_price=Decimal("1E+999999"))
    rounded = gate.apply_rounding(request, context())
    assert rounded == request  # nothing to round to: the checks deny it
    assert "limit_price" in _fields(gate.check(rounded, context()))


# Plain decimals rarely reach the exponents that break the arithmetic: draw those too.
FINITE = st.decimals(allow_nan=False, allow_infinity=False) | st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(-(10**40), 10**40),
    st.integers(-999_999, 999_950),
)


@settings(max_examples=150)
@given(
    limit=FINITE,
    stop=FINITE | st.none(),
    order_type=st.sampled_from(list(OrderType)),
    qty=st.integers(min_value=-(2**70), max_value=2**70),
)
def test_no_finite_price_or_int_qty_makes_the_checks_raise(
    limit: Decimal, stop: Decimal | None, order_type: OrderType, qty: int
) -> None:
    request = new(order_type=order_type, limit_price=limit, stop_price=stop, qty=qty)
    violations = checks().check(request, context())  # must not raise
    for violation in violations:
        assert violation.code
        assert violation.field in {*NewOrder.__struct_fields__, "kill_switch"}
    if not CL.is_on_grid(limit):
        assert "limit_price" in _fields(violations)


@pytest.mark.parametrize("account_id", [123456, None, b"ACC1", ""])
@pytest.mark.parametrize("mandatory_only", [True, False])
def test_an_account_id_that_is_not_a_str_is_denied_by_the_mandatory_guards(
    account_id: object, mandatory_only: bool
) -> None:
    gate = checks()
    request = new(account_id=account_id)
    run = gate.check_mandatory if mandatory_only else gate.check
    violations = run(request, context())
    assert any(
        v.code == Code.ACCOUNT_NOT_ALLOWED and v.field == "account_id" for v in violations
    ), violations


@pytest.mark.parametrize(
    "account_id", [f" {ACCOUNT}", f"{ACCOUNT} ", f"{ACCOUNT}\n", "AC\x00C1", " "]
)
@pytest.mark.parametrize("mandatory_only", [True, False])
def test_a_padded_or_unprintable_account_id_is_denied_by_the_mandatory_guards(
    account_id: str, mandatory_only: bool
) -> None:
    """A session that does not list its accounts would send it: the venue refuses it at
    best, or an allow-list entry written the same way lets a typo trade."""
    gate = checks()
    run = gate.check_mandatory if mandatory_only else gate.check
    violations = run(new(account_id=account_id), context())
    denied = [v for v in violations if v.code == Code.ACCOUNT_NOT_ALLOWED]
    assert denied, violations
    assert denied[0].field == "account_id"
    assert "without leading or trailing spaces" in denied[0].rule


@pytest.mark.parametrize(
    "request_",
    [
        CancelOrder(account_id=7, symbol=CL.symbol, orig_cl_order_id="o1"),  # type: ignore[arg-type]
        NewOrder(
            account_id=ACCOUNT, symbol=42, side=Side.BUY, qty=1,  # type: ignore[arg-type]
            order_type=OrderType.LMT, limit_price=Decimal("75.00"),
        ),
    ],
)  # fmt: skip
def test_mandatory_guards_name_a_non_str_account_or_symbol(request_: OrderRequest) -> None:
    violations = checks().check_mandatory(request_, context(open_orders=[order()]))
    assert _fields(violations) & {"account_id", "symbol"}
