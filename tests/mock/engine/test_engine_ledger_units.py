"""The account's integer money totals read back as the Decimals plain sums would give.

The ledger keeps cash, unrealized P&L and margin in use as integers (units of the
finest exponent seen) instead of Decimals. What goes out (balances, buying power,
reject texts, snapshots) must be the very Decimal, digits and exponent, that adding
Decimals would have produced, so these tests drive a ledger and a Decimal oracle
with the same amounts and compare ``str()`` of both.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.model import Instrument, NewOrder, OrderType, Side
from ec_mock.engine import Exchange, RejectCode
from ec_mock.engine.ledger import AccountLedger
from engine_support import T0, Recorder
from hypothesis import given, settings
from hypothesis import strategies as st

# Amounts with exponents from +3 down to -6, as balances, margins and tick values come.
amounts = st.builds(
    lambda coefficient, exponent: Decimal(coefficient).scaleb(exponent),
    st.integers(-(10**9), 10**9),
    st.integers(-6, 3),
)
tick_sizes = st.sampled_from(["0.25", "0.01", "0.015625", "0.00005", "1", "5"])
multipliers = st.sampled_from(["50", "1000", "125000", "2.5", "1E+1"])


@settings(max_examples=60, deadline=None)
@given(
    balance=amounts,
    commission=amounts,
    margin=amounts,
    tick_size=tick_sizes,
    multiplier=multipliers,
    steps=st.lists(
        st.tuples(st.sampled_from(["working", "fill", "mark", "commission"]), st.integers(-9, 9)),
        max_size=40,
    ),
)
def test_running_totals_read_back_as_decimal_sums(
    balance: Decimal,
    commission: Decimal,
    margin: Decimal,
    tick_size: str,
    multiplier: str,
    steps: list[tuple[str, int]],
) -> None:
    instrument = Instrument(
        symbol="X", tick_size=Decimal(tick_size), multiplier=Decimal(multiplier)
    )
    ledger = AccountLedger("A", balance=balance, commission_per_contract=commission)
    pos = ledger.position(instrument, margin)
    cash, unrealized, margin_used = balance, Decimal(0), Decimal(0)  # the oracle
    mark = 1000
    for kind, n in steps:
        if kind == "working" and n:
            before = pos.exposure()
            pos.add_working(1 if n > 0 else -1, abs(n))
            if pos.exposure() != before:
                margin_used += (pos.exposure() - before) * margin
        elif kind == "fill" and n:
            before_exposure = pos.exposure()
            before_unrealized = pos.unrealized_ticks(mark)
            realized = pos.fill(n, mark + n, mark, False)
            if pos.exposure() != before_exposure:
                margin_used += (pos.exposure() - before_exposure) * margin
            change = pos.unrealized_ticks(mark) - before_unrealized
            if change:
                unrealized += change * instrument.tick_value
            if realized:
                cash += realized * instrument.tick_value
        elif kind == "mark":
            change = pos.unrealized_ticks(mark + n) - pos.unrealized_ticks(mark)
            pos.remark(mark, mark + n)
            mark += n
            if change:
                unrealized += change * instrument.tick_value
        elif kind == "commission" and commission and n > 0:
            assert ledger.charge_commission(n) == commission * n
            cash -= commission * n
        assert str(ledger.cash) == str(cash)
        assert str(ledger.unrealized_value) == str(unrealized)
        assert str(ledger.margin_value) == str(margin_used)
        assert str(ledger.buying_power({})) == str(cash + unrealized - margin_used)


def test_a_position_with_a_finer_amount_rescales_the_account() -> None:
    coarse = Instrument(symbol="C", tick_size=Decimal("1"), multiplier=Decimal("10"))
    fine = Instrument(symbol="F", tick_size=Decimal("0.00005"), multiplier=Decimal("125000"))
    ledger = AccountLedger("A", balance=Decimal("1E+5"), commission_per_contract=Decimal(0))
    c = ledger.position(coarse, Decimal("5E+2"))
    c.add_working(1, 3)
    assert str(ledger.margin_value) == "1500"
    f = ledger.position(fine, Decimal("0.000001"))  # scale goes from 0 to -6
    f.add_working(-1, 2)
    assert c.margin_units == 500 * 10**6
    assert str(ledger.margin_value) == "1500.000002"
    assert str(ledger.cash) == "1E+5"  # nothing was added to cash: its exponent stays
    assert str(ledger.buying_power({})) == "98499.999998"


def test_add_working_covered_only_books_nothing_the_buying_power_does_not_cover() -> None:
    """A new order's buying-power check and its margin reservation are one step: short of
    margin, nothing is booked and the exposure it would add is returned."""
    es = Instrument(symbol="ES", tick_size=Decimal("0.25"), multiplier=Decimal(50))
    ledger = AccountLedger("A", balance=Decimal("10000"), commission_per_contract=Decimal(0))
    pos = ledger.position(es, Decimal("4000"))
    assert pos.add_working(1, 2, True) == 0  # 8000 of 10000
    assert (pos.buy_working, str(ledger.margin_value)) == (2, "8000")
    assert pos.add_working(1, 1, True) == 1  # 4000 more: not covered
    assert (pos.buy_working, str(ledger.margin_value)) == (2, "8000")
    assert pos.add_working(-1, 2, True) == 0  # sells inside the buys add no exposure
    assert (pos.sell_working, str(ledger.margin_value)) == (2, "8000")
    assert pos.add_working(1, 1) == 0  # unchecked (the house, a liquidation): booked
    assert (pos.buy_working, str(ledger.margin_value)) == (3, "12000")
    assert str(ledger.buying_power({})) == "-2000"


def test_non_finite_amounts_are_refused_up_front() -> None:
    es = Instrument(symbol="ES", tick_size=Decimal("0.25"), multiplier=Decimal(50))
    with pytest.raises(ValueError, match="margin of ES"):
        Exchange(instruments=[es], clock=ManualClock(T0), margins={"ES": Decimal("NaN")})
    ex = Exchange(instruments=[es], clock=ManualClock(T0))
    with pytest.raises(ValueError, match="balance"):
        ex.open_account("A", balance=Decimal("Infinity"))
    with pytest.raises(ValueError, match="margin of ES"):
        ex.add_instrument(es, margin=Decimal("sNaN"))


def test_the_buying_power_reject_names_the_decimal_amounts() -> None:
    es = Instrument(symbol="ES", tick_size=Decimal("0.25"), multiplier=Decimal(50))
    ex = Exchange(instruments=[es], clock=ManualClock(T0), margins={"ES": Decimal("6600.50")})
    ex.open_account("A", balance=Decimal("10000.125"))
    rec = Recorder()
    ex.add_listener(rec)
    for cl in ("a", "b"):
        ex.submit(
            NewOrder(
                account_id="A",
                symbol="ES",
                side=Side.BUY,
                qty=1,
                order_type=OrderType.LMT,
                limit_price=Decimal("4500"),
                cl_order_id=cl,
            )
        )
    reject = rec.last("b")
    assert reject.reject_code == RejectCode.INSUFFICIENT_BUYING_POWER
    assert reject.reject_text == (
        "needs 6600.50 USD initial margin for 1 more contract(s); buying power is 3399.625"
    )
