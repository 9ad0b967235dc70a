"""A fill whose instrument (its multiplier) is not known is booked in price points and
its symbol listed as unpriced: P&L in money refuses (``PnlUnknownError`` naming it)
instead of adding points to money, and answers, exactly, once the instrument is known."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import PnlUnknownError
from ec_core.model import Fill, Instrument, OrderState, Position, ReportKind, Side
from ec_core.tracking import OrderTracker, PositionBook, multipliers
from hypothesis import given, settings
from hypothesis import strategies as st
from tracker_support import ACCOUNT, fill, fill_report, report

CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
EP = Instrument(symbol="EP", tick_size=Decimal("0.25"), multiplier=Decimal(50))


def _fill(fill_id: str, symbol: str, side: Side, qty: int, price: str) -> Fill:
    return Fill(
        fill_id=fill_id, account_id=ACCOUNT, symbol=symbol, side=side, qty=qty,
        price=Decimal(price), ts_ns=0,
    )  # fmt: skip


def test_a_fill_of_an_unknown_instrument_is_kept_in_points_and_pnl_refuses() -> None:
    known: dict[str, Instrument] = {"CLE": CLE}
    told: list[str] = []
    book = PositionBook(multipliers(known), on_unpriced=told.append)
    book.apply(_fill("1", "CLE", Side.BUY, 1, "70.00"))
    book.apply(_fill("2", "CLE", Side.SELL, 1, "70.05"))
    book.apply(_fill("3", "EP", Side.BUY, 2, "5000.00"))
    book.apply(_fill("4", "EP", Side.SELL, 1, "5000.75"))
    assert told == ["EP"]  # once, at its first fill
    assert book.unpriced() == ("EP",)
    assert book.unpriced(ACCOUNT) == ("EP",)
    assert book.unpriced("OTHER") == ()
    # the position and its points are kept
    ep = book.get(ACCOUNT, "EP")
    assert (ep.qty, ep.avg_price, ep.realized_pnl) == (1, Decimal("5000.00"), Decimal(0))
    assert book.realized_points(ACCOUNT, "EP") == Decimal("0.75")
    with pytest.raises(PnlUnknownError, match="EP") as caught:
        book.realized_pnl(ACCOUNT)
    assert caught.value.symbols == ("EP",)
    with pytest.raises(PnlUnknownError, match="EP"):
        book.realized_pnl(ACCOUNT, "EP")
    with pytest.raises(PnlUnknownError, match="EP"):
        book.unrealized_pnl(ACCOUNT, "EP", Decimal("5001.00"))
    # a priced symbol still answers, and the priced part is there for who needs it
    assert book.realized_pnl(ACCOUNT, "CLE") == Decimal("50.00")
    assert book.unrealized_pnl(ACCOUNT, "CLE", Decimal(1)) == 0
    assert book.realized_pnl(ACCOUNT, priced_only=True) == Decimal("50.00")
    # learnt later: priced retroactively, exactly, with no fill needed
    known["EP"] = EP
    assert book.unpriced() == ()
    assert book.realized_pnl(ACCOUNT, "EP") == Decimal("37.50")
    assert book.realized_pnl(ACCOUNT) == Decimal("87.50")
    assert book.get(ACCOUNT, "EP").realized_pnl == Decimal("37.50")
    assert book.realized_points(ACCOUNT, "EP") == 0
    assert book.unrealized_pnl(ACCOUNT, "EP", Decimal("5001.00")) == Decimal(50)


def test_a_fill_after_the_instrument_is_learnt_books_on_the_priced_points() -> None:
    known: dict[str, Instrument] = {}
    book = PositionBook(multipliers(known))
    book.apply(_fill("1", "EP", Side.BUY, 2, "5000.00"))
    book.apply(_fill("2", "EP", Side.SELL, 1, "5001.00"))  # +1 point, unpriced
    known["EP"] = EP
    book.apply(_fill("3", "EP", Side.SELL, 1, "4999.00"))  # -1 point, priced
    assert book.unpriced() == ()
    assert book.get(ACCOUNT, "EP").realized_pnl == Decimal(0)
    assert book.realized_pnl(ACCOUNT) == 0


def test_an_adopted_position_keeps_its_money_beside_the_points() -> None:
    known: dict[str, Instrument] = {}
    book = PositionBook(multipliers(known))
    book.set(Position(account_id=ACCOUNT, symbol="EP", qty=1, avg_price=Decimal(5000),
                      realized_pnl=Decimal("100.00")))  # fmt: skip
    book.apply(_fill("1", "EP", Side.SELL, 1, "5002.00"))
    with pytest.raises(PnlUnknownError):
        book.realized_pnl(ACCOUNT)
    known["EP"] = EP
    assert book.realized_pnl(ACCOUNT) == Decimal("200.00")


def test_reconciliation_adopts_the_quantity_and_keeps_the_points() -> None:
    """The venue's quantity is adopted (``keep_realized``): what was realized here, in
    money and in price points, stays, and is priced with the rest; a gateway's snapshot
    (whole) replaces it."""
    known: dict[str, Instrument] = {}
    book = PositionBook(multipliers(known))
    book.apply(_fill("1", "EP", Side.BUY, 2, "5000.00"))
    book.apply(_fill("2", "EP", Side.SELL, 1, "5002.00"))  # +2 points, unpriced
    venue = Position(account_id=ACCOUNT, symbol="EP", qty=3, avg_price=Decimal(5001))
    book.set(venue, keep_realized=True)
    assert book.get(ACCOUNT, "EP").qty == 3
    assert book.realized_points(ACCOUNT, "EP") == 2
    known["EP"] = EP
    assert book.realized_pnl(ACCOUNT) == Decimal(100)
    book.set(Position(account_id=ACCOUNT, symbol="EP", qty=0, realized_pnl=Decimal(7)))
    assert book.realized_pnl(ACCOUNT) == Decimal(7)


def test_without_a_source_the_book_is_in_points_and_answers() -> None:
    """A book given no multipliers (a test, a points-only tool) counts 1 for every symbol."""
    book = PositionBook()
    book.apply(fill("F1", 1, "70.00"))
    book.apply(fill("F2", 1, "70.50", side=Side.SELL))
    assert book.unpriced() == ()
    assert book.realized_pnl(ACCOUNT) == Decimal("0.50")


def test_the_tracker_lists_unpriced_symbols_and_refuses_pnl_in_money() -> None:
    known: dict[str, Instrument] = {}
    told: list[str] = []
    tracker = OrderTracker(
        clock=ManualClock(), multiplier=multipliers(known), on_unpriced=told.append
    )
    tracker.apply(fill_report("F1", 5, 5, "70.00", "X1"))
    sold = fill("F2", 5, "70.10", side=Side.SELL, cl_order_id="X2")
    tracker.apply(
        report(ReportKind.FILL, OrderState.FILLED, "X2", filled=5, side=Side.SELL, fill=sold)
    )
    assert told == ["CLE"]
    assert tracker.unpriced(ACCOUNT) == ("CLE",)
    with pytest.raises(PnlUnknownError, match="CLE"):
        tracker.realized_pnl(ACCOUNT)
    assert tracker.unrealized_pnl(ACCOUNT, "CLE", Decimal(70)) == 0  # flat: nothing open
    assert tracker.realized_points(ACCOUNT, "CLE") == Decimal("0.50")
    known["CLE"] = CLE
    assert tracker.unpriced() == ()
    assert tracker.realized_pnl(ACCOUNT) == Decimal("500.00")
    assert tracker.position(ACCOUNT, "CLE").realized_pnl == Decimal("500.00")


fills = st.lists(
    st.tuples(
        st.sampled_from(["CLE", "EP"]),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=1, max_value=20),
        st.integers(min_value=6000, max_value=8000),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(fills=fills, learnt_at=st.integers(min_value=0, max_value=40), mark=st.integers(6000, 8000))
def test_points_priced_late_equal_money_booked_on_time(
    fills: list[tuple[str, Side, int, int]], learnt_at: int, mark: int
) -> None:
    """Whenever the instrument is learnt (before, between or after the fills), the money
    is exactly what a book that knew it from the start booked."""
    on_time = PositionBook(multipliers({"CLE": CLE, "EP": EP}))
    known: dict[str, Instrument] = {"CLE": CLE}
    late = PositionBook(multipliers(known))
    for i, (symbol, side, qty, ticks) in enumerate(fills):
        if i == learnt_at:
            known["EP"] = EP
        price = str(ticks * Decimal("0.25"))
        on_time.apply(_fill(str(i), symbol, side, qty, price))
        late.apply(_fill(str(i), symbol, side, qty, price))
    known["EP"] = EP
    at = mark * Decimal("0.25")
    assert late.realized_pnl(ACCOUNT) == on_time.realized_pnl(ACCOUNT)
    assert late.all(ACCOUNT) == on_time.all(ACCOUNT)
    for symbol in ("CLE", "EP"):
        assert late.unrealized_pnl(ACCOUNT, symbol, at) == on_time.unrealized_pnl(
            ACCOUNT, symbol, at
        )
