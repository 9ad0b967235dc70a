"""Issue 17 items 2, 6 and 7: the order types and qualifiers CME Globex offers.

Market-to-limit, iceberg (display quantity), minimum quantity and self-match
prevention per order, each driven through the public API (``submit`` and events)
with the built-in E-mini (``EP``), each naming the Globex rule it follows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from ec_core.clock import ManualClock
from ec_core.model import (
    CancelOrder,
    Duration,
    ExecInstruction,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    Side,
    SmpInstruction,
    Trade,
)
from ec_mock.engine import Exchange, ExchangeState, RejectCode
from ec_mock.engine.smp import SMP_CANCELLED_AGGRESSING, SMP_CANCELLED_RESTING, SelfMatchPrevention
from ec_mock.instruments import ProductRules
from engine_support import T0, Recorder, ep, fills, globex

BUY, SELL = Side.BUY, Side.SELL
MTL = OrderType.MTL
IOC = Duration.IOC


class Touch(msgspec.Struct, frozen=True):
    bid: int | None
    bid_size: int
    ask: int | None
    ask_size: int


def tick(price: str) -> int:
    """An E-mini price in ticks (0.25), as the book data carries it."""
    return int(Decimal(price) / Decimal("0.25"))


def touch(ex: Exchange) -> Touch:
    """The top of the book as the depth data shows it (prices in ticks)."""
    depth = ex.book_depth("EP")
    assert depth is not None
    bid = depth.bids[0] if depth.bids else None
    ask = depth.asks[0] if depth.asks else None
    return Touch(
        bid.price if bid else None,
        bid.size if bid else 0,
        ask.price if ask else None,
        ask.size if ask else 0,
    )


def queue(ex: Exchange, side: Side) -> list[str]:
    """Client ids of the resting orders on ``side``, in priority order."""
    return [r.cl_order_id for r in ex.resting("EP") if r.side is side]


# ------------------------------------------------------------------ market-to-limit
def test_market_to_limit_trades_at_the_best_price_and_rests_the_rest_there() -> None:
    """CME Globex market-to-limit: executes at the best price available; what is not
    filled there becomes a limit order at that price (it does not sweep the book)."""
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 2, "4500", account="B"))
    ex.submit(ep("a2", SELL, 5, "4500.25", account="B"))
    ex.submit(ep("mtl", BUY, 5, order_type=MTL))
    assert fills(rec, "mtl") == [(2, Decimal("4500"))]
    last = rec.last("mtl")
    assert (last.state, last.order_type, last.limit_price) == (
        OrderState.PARTIALLY_FILLED,
        MTL,
        Decimal("4500"),
    )
    assert touch(ex) == Touch(tick("4500"), 3, tick("4500.25"), 5)


def test_market_to_limit_without_an_opposite_side_is_rejected() -> None:
    """Globex rejects a market-to-limit order when there is no price to take."""
    ex, _clock, rec = globex()
    ex.submit(ep("mtl", SELL, 1, order_type=MTL))
    last = rec.last("mtl")
    assert (last.kind, last.reject_code) == (ReportKind.REJECTED, RejectCode.NO_OPPOSITE_SIDE)
    assert "market-to-limit" in last.reject_text


def test_an_ioc_market_to_limit_cancels_what_the_best_price_cannot_fill() -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("b1", BUY, 1, "4499.75", account="B"))
    ex.submit(ep("b2", BUY, 4, "4499.50", account="B"))
    ex.submit(ep("mtl", SELL, 3, order_type=MTL, duration=IOC))
    assert fills(rec, "mtl") == [(1, Decimal("4499.75"))]
    assert rec.last("mtl").state is OrderState.CANCELLED
    assert touch(ex).bid == tick("4499.50")


def test_market_to_limit_carries_no_limit_price_of_its_own() -> None:
    """A limit price on a market-to-limit order is ignored: the book gives the price."""
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 1, "4500", account="B"))
    ex.submit(ep("mtl", BUY, 1, "4600", order_type=MTL))
    assert fills(rec, "mtl") == [(1, Decimal("4500"))]


# ------------------------------------------------------------------ iceberg
def iceberg(cl: str, side: Side, qty: int, price: str, display: int, **more: Any) -> NewOrder:
    return ep(cl, side, qty, price, display_qty=display, **more)


def test_an_iceberg_shows_only_its_display_quantity() -> None:
    """CME Globex iceberg: only the display quantity is in the book's data (top of book
    and depth); the rest is hidden. It used to be rejected UNSUPPORTED."""
    ex, _clock, rec = globex()
    ex.submit(iceberg("ice", SELL, 10, "4505", 2, account="B"))
    assert rec.last("ice").state is OrderState.WORKING
    assert (touch(ex).ask, touch(ex).ask_size) == (tick("4505"), 2)
    depth = ex.book_depth("EP")
    assert depth is not None
    assert [(lv.price, lv.size) for lv in depth.asks] == [(tick("4505"), 2)]


def test_a_replenished_iceberg_slice_goes_to_the_back_of_the_queue() -> None:
    """Globex: each new display slice gets a new time priority, behind the orders
    already at its price."""
    ex, _clock, rec = globex()
    ex.submit(iceberg("ice", SELL, 6, "4505", 2, account="B"))
    ex.submit(ep("plain", SELL, 3, "4505", account="C"))
    assert queue(ex, SELL) == ["ice", "plain"]
    ex.submit(ep("t1", BUY, 2, "4505"))  # takes the iceberg's first slice
    assert fills(rec, "ice") == [(2, Decimal("4505"))]
    assert queue(ex, SELL) == ["plain", "ice"]
    assert touch(ex).ask_size == 5  # plain 3 + the next slice of 2
    ex.submit(ep("t2", BUY, 3, "4505"))  # the plain order is now first
    assert fills(rec, "plain") == [(3, Decimal("4505"))]
    assert fills(rec, "ice") == [(2, Decimal("4505"))]


def test_an_aggressor_reaches_the_hidden_quantity_slice_by_slice() -> None:
    """Hidden quantity trades: a buy for all of it fills it, and prints once."""
    ex, _clock, rec = globex()
    ex.submit(iceberg("ice", SELL, 7, "4505", 3, account="B"))
    ex.submit(ep("big", BUY, 7, "4505"))
    assert sum(q for q, _ in fills(rec, "big")) == 7
    assert rec.last("ice").state is OrderState.FILLED
    prints = [e for e in rec.market if isinstance(e, Trade)]
    assert [(p.price, p.size) for p in prints] == [(tick("4505"), 7)]
    assert ex.book("EP").asks == ()


def test_fill_or_kill_counts_hidden_iceberg_quantity() -> None:
    ex, _clock, rec = globex()
    ex.submit(iceberg("ice", SELL, 10, "4505", 2, account="B"))
    ex.submit(ep("fok", BUY, 6, "4505", duration=Duration.FOK))
    assert rec.last("fok").state is OrderState.FILLED
    assert (touch(ex).ask_size, ex.remaining_qty("B", "ice")) == (2, 4)


def test_an_incoming_iceberg_trades_in_full_then_shows_a_slice() -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 3, "4505", account="B"))
    ex.submit(iceberg("ice", BUY, 10, "4505", 2))
    assert fills(rec, "ice") == [(3, Decimal("4505"))]
    assert (touch(ex).bid, touch(ex).bid_size) == (tick("4505"), 2)


def test_cancelling_or_reducing_an_iceberg_updates_what_is_shown() -> None:
    """A quantity decrease keeps the order's place and takes hidden quantity first."""
    ex, _clock, _rec = globex()
    ex.submit(iceberg("ice", SELL, 10, "4505", 2, account="B"))
    ex.submit(ep("plain", SELL, 1, "4505", account="C"))
    ex.submit(
        ModifyOrder(account_id="B", symbol="EP", orig_cl_order_id="ice", cl_order_id="ice", qty=3)
    )
    assert (touch(ex).ask_size, queue(ex, SELL)) == (3, ["ice", "plain"])
    ex.submit(
        ModifyOrder(account_id="B", symbol="EP", orig_cl_order_id="ice", cl_order_id="ice", qty=1)
    )
    assert touch(ex).ask_size == 2  # one shown of the iceberg, one of the plain order
    ex.submit(CancelOrder(account_id="B", symbol="EP", orig_cl_order_id="ice"))
    assert touch(ex).ask_size == 1
    assert ex.book("EP").asks[0].qty == 1


@pytest.mark.parametrize(
    ("more", "code", "words"),
    [
        ({"display_qty": 0}, RejectCode.DISPLAY_QTY_INVALID, "display_qty"),
        ({"display_qty": 11}, RejectCode.DISPLAY_QTY_INVALID, "1..qty (10)"),
        ({"display_qty": 2, "duration": IOC}, RejectCode.UNSUPPORTED, "never rests"),
        ({"display_qty": 2, "order_type": OrderType.MKT}, RejectCode.UNSUPPORTED, "limit"),
        (
            {"exec_instructions": frozenset({ExecInstruction.ICEBERG})},
            RejectCode.DISPLAY_QTY_INVALID,
            "display_qty",
        ),
        # a request built without msgspec's checks: a wrong type is a reject, not a crash
        ({"display_qty": "2"}, RejectCode.DISPLAY_QTY_INVALID, "display_qty"),
        ({"display_qty": 2.5}, RejectCode.DISPLAY_QTY_INVALID, "display_qty"),
    ],
)
def test_an_iceberg_that_cannot_be_one_is_rejected_with_the_rule(
    more: dict[str, Any], code: RejectCode, words: str
) -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("a", SELL, 1, "4510", account="B"))
    ex.submit(ep("ice", BUY, 10, "4500", **more))
    last = rec.last("ice")
    assert (last.kind, last.reject_code) == (ReportKind.REJECTED, code)
    assert words in last.reject_text


@pytest.mark.parametrize("qty", ["10", 10.5])
def test_a_quantity_of_the_wrong_type_is_rejected(qty: Any) -> None:
    """A request built without msgspec's checks: a reject naming qty, never a crash of
    the engine (every session on the venue) nor an order of a float quantity."""
    ex, _clock, rec = globex()
    ex.submit(ep("o", BUY, qty, "4500"))
    last = rec.last("o")
    assert (last.kind, last.reject_code) == (ReportKind.REJECTED, RejectCode.QTY_INVALID)
    assert "qty" in last.reject_text


@pytest.mark.parametrize("qty", ["3", 3.5])
def test_a_modify_quantity_of_the_wrong_type_is_rejected(qty: Any) -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("o", BUY, 5, "4500"))
    ex.submit(
        msgspec.structs.replace(
            ModifyOrder(account_id="A", symbol="EP", orig_cl_order_id="o", cl_order_id="o3"),
            qty=qty,
        )
    )
    last = rec.trade[-1]
    assert last.reject_code == RejectCode.QTY_INVALID  # type: ignore[union-attr]
    assert ex.remaining_qty("A", "o") == 5


def test_iceberg_support_is_product_data() -> None:
    """Order types and instructions are set per product on Globex: a product whose rules
    leave ICEBERG out rejects a display quantity."""
    rules = ProductRules(exec_instructions=frozenset({ExecInstruction.POST_ONLY}))
    ex, _clock, rec = globex(products={"EP": rules})
    ex.submit(iceberg("ice", SELL, 10, "4505", 2, account="B"))
    last = rec.last("ice")
    assert (last.reject_code, "ICEBERG is not offered for EP" in last.reject_text) == (
        RejectCode.UNSUPPORTED,
        True,
    )


def test_a_restored_exchange_shows_the_same_iceberg_slice() -> None:
    ex, _clock, _rec = globex()
    ex.submit(iceberg("ice", SELL, 10, "4505", 4, account="B"))
    ex.submit(ep("t", BUY, 3, "4505"))
    state = msgspec.json.decode(msgspec.json.encode(ex.snapshot()), type=ExchangeState)
    back = Exchange.restore(state, clock=ManualClock(T0))
    assert back.book("EP") == ex.book("EP")
    assert back.book("EP").asks[0].qty == 1
    back.submit(ep("t2", BUY, 2, "4505"))
    assert back.remaining_qty("B", "ice") == 5
    assert back.book("EP").asks[0].qty == 3  # slice of 1 done, a new one of 4, 1 taken


# ------------------------------------------------------------------ minimum quantity
def test_an_ioc_with_a_minimum_quantity_not_available_is_cancelled_unfilled() -> None:
    """CME Globex minimum quantity (iLink MinQty, fill-and-kill orders): unless at least
    that much trades at once, nothing does."""
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 3, "4505", account="B"))
    ex.submit(ep("ioc", BUY, 5, "4505", duration=IOC, min_qty=4))
    last = rec.last("ioc")
    assert (last.state, fills(rec, "ioc")) == (OrderState.CANCELLED, [])
    assert "minimum quantity 4" in last.reject_text
    assert touch(ex).ask_size == 3


def test_an_ioc_whose_minimum_quantity_is_met_fills_what_it_can() -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 3, "4505", account="B"))
    ex.submit(ep("ioc", BUY, 5, "4505", duration=IOC, min_qty=3))
    assert fills(rec, "ioc") == [(3, Decimal("4505"))]
    assert rec.last("ioc").state is OrderState.CANCELLED


@pytest.mark.parametrize(
    ("more", "code", "words"),
    [
        ({"min_qty": 2}, RejectCode.UNSUPPORTED, "IOC"),
        ({"min_qty": 2, "duration": Duration.FOK}, RejectCode.UNSUPPORTED, "IOC"),
        ({"min_qty": 6, "duration": IOC}, RejectCode.MIN_QTY_INVALID, "1..qty (5)"),
        ({"min_qty": 0, "duration": IOC}, RejectCode.MIN_QTY_INVALID, "min_qty"),
        # a request built without msgspec's checks: a wrong type is a reject, not a crash
        ({"min_qty": "2", "duration": IOC}, RejectCode.MIN_QTY_INVALID, "min_qty"),
        ({"min_qty": 2.5, "duration": IOC}, RejectCode.MIN_QTY_INVALID, "min_qty"),
    ],
)
def test_a_minimum_quantity_outside_its_rule_is_rejected(
    more: dict[str, Any], code: RejectCode, words: str
) -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("o", BUY, 5, "4505", **more))
    last = rec.last("o")
    assert (last.kind, last.reject_code) == (ReportKind.REJECTED, code)
    assert words in last.reject_text


# ------------------------------------------------------------------ SMP per order
def test_an_order_smp_id_with_cancel_aggressing_cancels_the_new_order() -> None:
    """CME Globex SMP: two orders of one SMP ID do not match; the aggressing order's
    instruction decides, here "cancel newest"."""
    ex, _clock, rec = globex()
    ex.submit(ep("own", SELL, 1, "4500", smp_id="DESK1"))
    ex.submit(
        ep(
            "buy",
            BUY,
            1,
            "4500",
            smp_id="DESK1",
            smp_instruction=SmpInstruction.CANCEL_AGGRESSING,
        )
    )
    buy = rec.last("buy")
    assert (buy.state, buy.reject_text) == (OrderState.CANCELLED, SMP_CANCELLED_AGGRESSING)
    assert rec.last("own").state is OrderState.WORKING


def test_an_order_smp_id_without_instruction_cancels_the_resting_order() -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("own", SELL, 1, "4500", account="A", smp_id="DESK1"))
    ex.submit(ep("other", SELL, 1, "4500", account="B"))
    ex.submit(ep("buy", BUY, 1, "4500", account="C", smp_id="DESK1"))
    assert (rec.last("own").state, rec.last("own").reject_text) == (
        OrderState.CANCELLED,
        SMP_CANCELLED_RESTING,
    )
    assert fills(rec, "buy") == [(1, Decimal("4500"))]
    assert fills(rec, "other") == [(1, Decimal("4500"))]


def test_an_smp_cancel_that_empties_a_level_drops_it_and_the_sweep_goes_on() -> None:
    """The resting order SMP cancels is the only one at its price: the level leaves the
    book with it (once), and the aggressor trades at the next level and rests the rest."""
    ex, _clock, rec = globex()
    ex.submit(ep("own", SELL, 1, "4500", account="A", smp_id="DESK1"))
    ex.submit(ep("other", SELL, 1, "4500.25", account="B"))
    ex.submit(ep("buy", BUY, 2, "4500.25", account="C", smp_id="DESK1"))
    assert rec.last("own").reject_text == SMP_CANCELLED_RESTING
    assert fills(rec, "buy") == [(1, Decimal("4500.25"))]
    assert touch(ex) == Touch(tick("4500.25"), 1, None, 0)
    assert queue(ex, SELL) == []
    ex.submit(ep("late", SELL, 1, "4500", account="B"))  # the 4500 level is built anew
    assert fills(rec, "late") == [(1, Decimal("4500.25"))]
    assert touch(ex) == Touch(None, 0, None, 0)


def test_orders_of_different_smp_ids_trade() -> None:
    ex, _clock, rec = globex()
    ex.submit(ep("own", SELL, 1, "4500", smp_id="DESK1"))
    ex.submit(ep("buy", BUY, 1, "4500", smp_id="DESK2"))
    assert fills(rec, "buy") == [(1, Decimal("4500"))]


def test_an_order_smp_id_takes_the_place_of_its_accounts() -> None:
    ex, _clock, rec = globex()
    firm = SelfMatchPrevention(smp_id="FIRM1")
    ex.open_account("S1", smp=firm)
    ex.open_account("S2", smp=firm)
    ex.submit(ep("rest", SELL, 1, "4500", account="S1"))
    ex.submit(ep("buy", BUY, 1, "4500", account="S2", smp_id="DESK9"))
    assert fills(rec, "buy") == [(1, Decimal("4500"))]


def test_an_smp_instruction_without_an_smp_id_is_rejected() -> None:
    """Nothing is dropped silently: the order is not taken without the SMP it asked."""
    ex, _clock, rec = globex()
    ex.submit(ep("o", BUY, 1, "4500", smp_instruction=SmpInstruction.CANCEL_RESTING))
    last = rec.last("o")
    assert (last.kind, last.reject_code) == (ReportKind.REJECTED, RejectCode.SMP_INVALID)
    assert "smp_id" in last.reject_text


def test_a_restored_exchange_keeps_the_smp_of_accounts_and_orders() -> None:
    ex, _clock, _rec = globex()
    ex.open_account("S1", smp=SelfMatchPrevention(smp_id="FIRM1"))
    ex.submit(ep("rest", SELL, 1, "4500", account="S1"))
    ex.submit(ep("desk", SELL, 1, "4500.25", account="A", smp_id="DESK1"))
    state = msgspec.json.decode(msgspec.json.encode(ex.snapshot()), type=ExchangeState)
    back = Exchange.restore(state, clock=ManualClock(T0))
    rec = Recorder()
    back.add_listener(rec)
    back.submit(ep("own", BUY, 1, "4500", account="S1"))  # the account's SMP id
    assert (rec.last("rest").state, rec.last("rest").reject_text) == (
        OrderState.CANCELLED,
        SMP_CANCELLED_RESTING,
    )
    back.submit(ep("mine", BUY, 1, "4500.25", account="B", smp_id="DESK1"))  # the order's
    assert rec.last("desk").state is OrderState.CANCELLED
