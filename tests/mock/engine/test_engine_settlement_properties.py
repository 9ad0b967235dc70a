"""Property: over any days of trading, the variation margin adds up to the trade's P&L.

CME Rule 814 pays each day's move of a position from its reference price to the
settlement price; summed over the days until the position is flat again that is exactly
what the trades made. The ledger also keeps its running totals equal to a recomputation
from scratch, and a settlement moves money between open P&L and balance, never equity.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ec_core.clock import ManualClock
from ec_core.model import Instrument, NewOrder, OrderType, Side
from ec_mock.engine import Exchange
from ec_mock.engine.settlement import ClosingRange, nearest_tick
from hypothesis import given, settings
from hypothesis import strategies as st

XS = Instrument(symbol="XS", tick_size=Decimal("0.25"), multiplier=Decimal(50))
START = 1_704_898_800_000_000_000

# A day: trades (qty signed from A's side, price in ticks), then a settlement price.
trades = st.lists(
    st.tuples(st.integers(-5, 5).filter(bool), st.integers(390, 410)), min_size=0, max_size=6
)
days = st.lists(st.tuples(trades, st.integers(380, 420)), min_size=1, max_size=6)


def _trade(ex: Exchange, n: int, qty: int, ticks: int) -> None:
    buyer, seller = ("A", "B") if qty > 0 else ("B", "A")
    price = Decimal(ticks) * XS.tick_size
    for account, side, cl in ((seller, Side.SELL, f"s{n}"), (buyer, Side.BUY, f"b{n}")):
        ex.submit(
            NewOrder(
                account_id=account,
                symbol="XS",
                side=side,
                qty=abs(qty),
                order_type=OrderType.LMT,
                limit_price=price,
                cl_order_id=cl,
            )
        )


@settings(max_examples=60, deadline=None)
@given(days=days, exit_ticks=st.integers(390, 410), last_settle=st.integers(380, 420))
def test_variation_margin_over_the_days_sums_to_the_realized_pnl_at_flat(
    days: list[tuple[list[tuple[int, int]], int]], exit_ticks: int, last_settle: int
) -> None:
    clock = ManualClock(START)
    ex = Exchange(instruments=[XS], clock=clock, margins={"XS": Decimal(1)})
    for account in ("A", "B"):
        ex.open_account(account, balance=Decimal("1000000.00"))
    n = 0
    for day_trades, settle_ticks in days:
        for qty, ticks in day_trades:
            n += 1
            _trade(ex, n, qty, ticks)
            clock.advance(1)
        equity = {a: ex.account(a).buying_power for a in ("A", "B")}
        ex.settle("XS", Decimal(settle_ticks) * XS.tick_size)
        clock.advance(1)
        for account in ("A", "B"):
            assert ex.account(account).buying_power == equity[account]
            assert ex.unrealized_pnl(account) == ex._accounts[account].unrealized(ex._marks)
    held = ex.positions("A")[0].qty if ex.positions("A") else 0
    if held:
        _trade(ex, n + 1, -held, exit_ticks)  # flat again
    ex.settle("XS", Decimal(last_settle) * XS.tick_size)
    for account in ("A", "B"):
        realized = sum((p.realized_pnl for p in ex.positions(account)), Decimal(0))
        variation = sum((v.amount for v in ex.variation_margin(account)), Decimal(0))
        assert variation == realized
        assert ex.account(account).balance == Decimal("1000000.00") + realized
        assert ex.unrealized_pnl(account) == 0


@given(
    prints=st.lists(
        st.tuples(st.integers(-50_000, 50_000), st.integers(1, 1_000)), min_size=1, max_size=30
    )
)
def test_the_closing_range_vwap_is_the_nearest_tick_a_half_to_the_even_one(
    prints: list[tuple[int, int]],
) -> None:
    """CME Rule 813: the VWAP of the closing range, on the nearest tradable tick."""
    closing = ClosingRange(0)
    for price, qty in prints:
        closing.add(price, qty)
    vwap = Fraction(sum(p * q for p, q in prints), sum(q for _, q in prints))
    settled = closing.vwap()
    assert settled is not None
    assert abs(settled - vwap) <= Fraction(1, 2)
    if abs(settled - vwap) == Fraction(1, 2):
        assert settled % 2 == 0
    assert settled == nearest_tick(vwap.numerator, vwap.denominator)
    assert ClosingRange(0).vwap() is None
