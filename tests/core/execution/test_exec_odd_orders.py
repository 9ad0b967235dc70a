"""Odd values through the whole order path (executor, checks, the mock venue): a request
is either denied with a typed error naming field and rule, with nothing sent, or it is a
well-formed order the venue may take. Nothing else escapes; nothing odd is sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
from ec_core.errors import EcError, OrderDeniedError, OrderRejectedError
from ec_core.execution import Payload
from ec_core.model import NewOrder, OrderType, Side
from exec_rig import ACCOUNT, SYMBOL, rig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ODD_DECIMALS = st.sampled_from(
    [Decimal(x) for x in ("NaN", "sNaN", "Infinity", "-Infinity", "-0", "0", "-70.00",
                          "1E+999999", "1E-999999", "70.001", "70.00", "69.99", "70.0000")]
)  # fmt: skip
prices = st.one_of(
    st.none(), ODD_DECIMALS, st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(), st.integers(-(2**70), 2**70), st.just("70.00"),
)  # fmt: skip
quantities = st.one_of(
    st.integers(-3, 3), st.integers(2**62, 2**70), st.booleans(), st.floats(),
    st.decimals(allow_nan=True, allow_infinity=True), st.just("1"),
)  # fmt: skip
symbols = st.one_of(
    st.sampled_from([SYMBOL, f" {SYMBOL}", f"{SYMBOL} ", "", "cle", "СLE"]), st.text(max_size=4)
)  # fmt: skip
cl_ids = st.one_of(st.just(""), st.text(max_size=6), st.sampled_from([" ", "a\x00", "x" * 65]))
odd_orders = st.builds(
    NewOrder,
    account_id=st.sampled_from([ACCOUNT, f" {ACCOUNT}", ""]),
    symbol=symbols,
    side=st.one_of(st.sampled_from(Side), st.just("BUY")),
    qty=quantities,
    order_type=st.sampled_from(OrderType),
    limit_price=prices,
    stop_price=prices,
    cl_order_id=cl_ids,
)


def well_formed(request: Any) -> bool:
    """What may reach the venue: an int quantity above 0, finite Decimal prices, a
    client order id that is printable text without surrounding spaces (or generated), and
    the account as typed (a padded " ACC1" is denied, not sent for the venue to refuse)."""
    prices_ok = all(
        p is None or (type(p) is Decimal and p.is_finite())
        for p in (request.limit_price, request.stop_price)
    )
    cl = request.cl_order_id
    id_ok = not cl or (cl.isprintable() and cl.strip() == cl)
    return (
        type(request.qty) is int and request.qty > 0 and prices_ok and id_ok
        and request.symbol == SYMBOL and request.account_id == ACCOUNT
    )  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=odd_orders)
def test_an_odd_new_order_is_denied_by_field_and_rule_or_is_well_formed(request: NewOrder) -> None:
    async def attempt() -> tuple[EcError | None, list[str]]:
        async with rig() as r:
            outcome: EcError | None = None
            try:
                await r.executor.execute(Payload(request=request))
            except EcError as exc:  # anything else escapes and fails the test
                outcome = exc
            return outcome, r.received()

    outcome, received = anyio.run(attempt)
    if isinstance(outcome, OrderDeniedError):
        assert outcome.violations
        assert all(v.field and v.rule for v in outcome.violations), outcome
    if outcome is None or isinstance(outcome, OrderRejectedError):  # it was sent
        assert received, "executed but the venue has no record of it"
        assert well_formed(request), request
    else:  # denied, or e.g. SymbolNotFoundError: typed, and nothing sent
        assert received == []
