"""Scenarios of issue 17: the engine trades the built-in products the way CME Globex does.

Each test drives the public API (``submit`` / events) with the built-in instruments
and names the Globex rule it follows; each failed before the rule was modelled.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ec_core.clock import ManualClock
from ec_core.model import (
    AccountReport,
    CancelOrder,
    Duration,
    ModifyOrder,
    OrderState,
    OrderType,
    ReportKind,
    Side,
    Trade,
)
from ec_mock.engine import Exchange, RejectCode
from ec_mock.engine.smp import SMP_CANCELLED_AGGRESSING, SMP_CANCELLED_RESTING, SelfMatchPrevention
from ec_mock.instruments import ProductRules, builtin_instruments, load_instrument_specs
from engine_support import SECOND, T0, Recorder, ep, fills, globex, order

BUY, SELL = Side.BUY, Side.SELL
GTC = Duration.GTC
HOUR = 3600 * SECOND


def trade_at(ex: Exchange, price: str) -> None:
    """A one-lot print between B (seller) and C (buyer): sets the last trade."""
    ex.submit(ep(f"s@{price}", SELL, 1, price, account="B"))
    ex.submit(ep(f"b@{price}", BUY, 1, price, account="C"))


# ------------------------------------------------------------------ 1. sessions
def test_a_modify_during_the_daily_break_neither_trades_nor_is_taken() -> None:
    """CME Globex matches only while the market is Open (Market and Instrument States).

    At 16:30 CT, inside the daily 16:00-17:00 maintenance window, a GTC offer
    modified to cross a resting GTC bid used to trade at once on both sides. The
    modify is now rejected ``MARKET_CLOSED``; a cancel is still taken, and at the
    17:00 open the same modify trades.
    """
    ex, _clock, rec = globex()
    ex.submit(ep("bid", BUY, 1, "4500", account="A", duration=GTC))
    ex.submit(ep("ask", SELL, 1, "4501", account="B", duration=GTC))
    ex.submit(ep("other", SELL, 1, "4510", account="B", duration=GTC))
    ex.advance_to(T0 + 7 * HOUR + 30 * 60 * SECOND)  # 16:30 CT
    crossing = ModifyOrder(
        account_id="B",
        symbol="EP",
        orig_cl_order_id="ask",
        cl_order_id="ask2",
        limit_price=Decimal("4500"),
    )
    ex.submit(crossing)
    assert rec.last("ask2").reject_code == RejectCode.MARKET_CLOSED
    assert fills(rec, "bid") == []
    ex.submit(CancelOrder(account_id="B", symbol="EP", orig_cl_order_id="other"))
    assert rec.last("other").state is OrderState.CANCELLED
    ex.advance_to(T0 + 8 * HOUR)  # 17:00 CT: the next session opens
    ex.submit(crossing)
    assert fills(rec, "bid") == [(1, Decimal("4500"))]


# ------------------------------------------------------------------ 2. protection
def test_a_market_order_fills_only_within_its_protection_and_rests_the_rest() -> None:
    """CME Globex market order with protection: best offer + protection points.

    EP (ES) has 6.00 protection points: a 5-lot market buy against offers at 4500,
    4600 and 5000 used to sweep all three; now it buys the 4500 lot and rests the
    other four as a bid at 4506.00, the protection price.
    """
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 1, "4500", account="B"))
    ex.submit(ep("a2", SELL, 2, "4600", account="B"))
    ex.submit(ep("a3", SELL, 2, "5000", account="B"))
    ex.submit(ep("mkt", BUY, 5, account="A"))
    assert fills(rec, "mkt") == [(1, Decimal("4500"))]
    last = rec.last("mkt")
    assert (last.state, last.limit_price, last.order_type) == (
        OrderState.PARTIALLY_FILLED,
        Decimal("4506.00"),
        OrderType.MKT,
    )
    book = ex.book("EP")
    assert [(lvl.price, lvl.qty) for lvl in book.bids] == [(18024, 4)]  # ticks of 4506.00


def test_a_protected_ioc_market_order_cancels_what_it_cannot_fill_within_protection() -> None:
    """Globex: a FAK (IOC) market order with protection cancels its remainder."""
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 1, "4500", account="B"))
    ex.submit(ep("a2", SELL, 1, "4510", account="B"))
    ex.submit(ep("ioc", BUY, 2, account="A", duration=Duration.IOC))
    assert fills(rec, "ioc") == [(1, Decimal("4500"))]
    assert rec.last("ioc").state is OrderState.CANCELLED


def test_a_stop_fires_as_a_limit_at_its_trigger_plus_protection() -> None:
    """CME Globex stop order with protection: trigger price ± protection points.

    A buy stop at 4501.00 used to fill at 4600.00 when the only offer left was
    there, 396 ticks through its trigger. It now becomes a bid at 4507.00 and waits.
    """
    ex, _clock, rec = globex()
    trade_at(ex, "4500")
    ex.submit(ep("stop", BUY, 1, account="A", order_type=OrderType.STP, stop="4501"))
    ex.submit(ep("far", SELL, 1, "4600", account="B"))
    trade_at(ex, "4501")  # the trigger
    assert fills(rec, "stop") == []
    status = ex.order_status("A", "stop")  # a trigger sends no report (docs/mock/engine.md)
    assert status is not None
    assert (status.state, status.limit_price) == (OrderState.WORKING, Decimal("4507.00"))
    assert ex.book("EP").bids[0].price == 18028  # ticks of 4507.00


def test_a_market_order_with_no_opposite_side_is_rejected() -> None:
    """Globex rejects a market order with protection when there is no opposite side:
    there is no best price to add the protection points to."""
    ex, _clock, rec = globex()
    ex.submit(ep("bid", BUY, 1, "4500", account="B"))
    ex.submit(ep("mkt", BUY, 1, account="A"))
    assert rec.last("mkt").reject_code == RejectCode.NO_OPPOSITE_SIDE


# ------------------------------------------------------------------ 3. bands, prices
def test_an_order_beyond_the_dynamic_price_band_is_rejected() -> None:
    """CME Globex dynamic price banding: a sell below (buy above) last trade ∓ band is
    rejected. A sell at 1.00 used to trade 50 % below the last price."""
    ex, _clock, rec = globex()
    trade_at(ex, "4500")
    ex.submit(ep("bid", BUY, 1, "4499", account="A"))
    ex.submit(ep("dump", SELL, 1, "1.00", account="B"))
    reject = rec.last("dump")
    assert reject.reject_code == RejectCode.PRICE_OUTSIDE_BAND
    assert "4050.00" in reject.reject_text
    assert fills(rec, "bid") == []
    ex.submit(ep("high", BUY, 1, "4950.25", account="A"))
    assert rec.last("high").reject_code == RejectCode.PRICE_OUTSIDE_BAND
    ex.submit(ep("edge", BUY, 1, "4950", account="A"))
    assert rec.last("edge").kind is ReportKind.ACCEPTED
    ex.submit(ep("passive", BUY, 1, "4000", account="A"))
    assert rec.last("passive").kind is ReportKind.ACCEPTED  # far below is only passive


def test_a_modify_beyond_the_band_is_rejected() -> None:
    """The band applies to a modify's new price as to a new order's (Globex)."""
    ex, _clock, rec = globex()
    trade_at(ex, "4500")
    ex.submit(ep("ask", SELL, 1, "4510", account="B"))
    ex.submit(
        ModifyOrder(
            account_id="B",
            symbol="EP",
            orig_cl_order_id="ask",
            cl_order_id="ask2",
            limit_price=Decimal("100"),
        )
    )
    assert rec.last("ask2").reject_code == RejectCode.PRICE_OUTSIDE_BAND


def test_a_zero_bid_is_refused_but_crude_may_go_negative() -> None:
    """An E-mini bid at 0.00 used to be accepted; EP's lowest price is one tick. CL has
    traded below zero (April 2020) and CME allows negative prices for it."""
    ex, _clock, rec = globex()
    ex.submit(ep("zero", BUY, 1, "0.00", account="A"))
    assert rec.last("zero").reject_code == RejectCode.PRICE_BELOW_MINIMUM
    ex.submit(order("neg", BUY, 1, "-5.00", symbol="CLE", account="A"))
    assert rec.last("neg").kind is ReportKind.ACCEPTED


# ------------------------------------------------------------------ 6. order types
def test_all_or_none_is_rejected_on_a_futures_outright() -> None:
    """Globex offers no all-or-none on futures outrights. An AON order used to be taken
    and hidden, and later trade against an offer it should never have seen."""
    ex, _clock, rec = globex()
    ex.submit(ep("aon", BUY, 2, "4500", account="A", aon=True))
    reject = rec.last("aon")
    assert reject.reject_code == RejectCode.UNSUPPORTED
    assert "AON" in reject.reject_text


def test_instruments_without_product_rules_keep_plain_matching(tmp_path: Path) -> None:
    """Product rules are instrument data: a TOML instrument without a ``rules`` table
    sweeps as before, one with a table gets them."""
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[instrument]]\nsymbol = "XX"\ntick_size = "1"\n\n'
        '[[instrument]]\nsymbol = "YY"\ntick_size = "1"\n'
        'rules = { protection_points = "2", exec_instructions = [] }\n',
        encoding="utf-8",
    )
    specs = load_instrument_specs(path)
    assert specs[1].rules == ProductRules(
        protection_points=Decimal(2), exec_instructions=frozenset()
    )
    clock = ManualClock(T0)
    ex = Exchange(
        instruments=[s.instrument for s in specs],
        clock=clock,
        products={s.instrument.symbol: s.rules for s in specs if s.rules},
    )
    ex.open_account("A")
    ex.open_account("B")
    rec = Recorder()
    ex.add_listener(rec)
    for symbol in ("XX", "YY"):
        ex.submit(order(f"{symbol}1", SELL, 1, "100", symbol=symbol, account="B"))
        ex.submit(order(f"{symbol}2", SELL, 1, "110", symbol=symbol, account="B"))
        ex.submit(order(f"{symbol}m", BUY, 2, symbol=symbol, account="A"))
    assert fills(rec, "XXm") == [(1, Decimal(100)), (1, Decimal(110))]
    assert fills(rec, "YYm") == [(1, Decimal(100))]
    assert ex.product_rules("XX") is None
    ex.submit(order("YYa", BUY, 1, "90", symbol="YY", account="A", aon=True))
    assert rec.last("YYa").reject_code == RejectCode.UNSUPPORTED


# ------------------------------------------------------------------ 7. self-match prevention
def _smp_exchange(*, cancel_resting: bool) -> tuple[Exchange, Recorder]:
    ex, _clock, rec = globex()
    smp = SelfMatchPrevention(smp_id="FIRM1", cancel_resting=cancel_resting)
    ex.open_account("S1", smp=smp)
    ex.open_account("S2", smp=smp)
    return ex, rec


def test_self_match_prevention_cancels_the_resting_order_by_default() -> None:
    """CME Globex SMP: orders with one SMP ID never match; "cancel oldest" (the
    default instruction) cancels the resting order and the aggressor trades on.

    An account's buy used to fill against its own resting sell.
    """
    ex, rec = _smp_exchange(cancel_resting=True)
    ex.submit(ep("own", SELL, 1, "4500", account="S1"))
    ex.submit(ep("other", SELL, 1, "4500.25", account="B"))
    ex.submit(ep("buy", BUY, 2, "4500.25", account="S2"))
    own = rec.last("own")
    assert (own.state, own.reject_text) == (OrderState.CANCELLED, SMP_CANCELLED_RESTING)
    assert fills(rec, "buy") == [(1, Decimal("4500.25"))]
    assert rec.last("buy").state is OrderState.PARTIALLY_FILLED  # the rest stands as a bid
    assert ex.positions("S1") == []


def test_self_match_prevention_can_cancel_the_aggressing_order() -> None:
    """SMP instruction "cancel newest": the aggressing order is cancelled, the resting
    one stays."""
    ex, rec = _smp_exchange(cancel_resting=False)
    ex.submit(ep("own", SELL, 1, "4500", account="S1"))
    ex.submit(ep("buy", BUY, 1, "4500", account="S1"))
    buy = rec.last("buy")
    assert (buy.state, buy.reject_text) == (OrderState.CANCELLED, SMP_CANCELLED_AGGRESSING)
    assert rec.last("own").state is OrderState.WORKING
    assert ex.book("EP").bids == ()


def test_without_an_smp_id_an_account_still_trades_with_itself() -> None:
    """SMP is opt-in, as on Globex: without an SMP ID nothing changes."""
    ex, _clock, rec = globex()
    ex.submit(ep("own", SELL, 1, "4500", account="A"))
    ex.submit(ep("buy", BUY, 1, "4500", account="A"))
    assert fills(rec, "buy") == [(1, Decimal("4500"))]


# ------------------------------------------------------------------ 10. smaller items
def test_the_account_report_of_a_fill_values_positions_at_the_trade_price() -> None:
    """The account report sent with a fill used the price before that fill: a long
    adding at a higher price showed the old unrealized P&L until the next event."""
    ex, _clock, rec = globex()
    trade_at(ex, "4500")  # C is long 1 at 4500
    ex.submit(ep("ask", SELL, 1, "4510", account="B"))
    ex.submit(ep("add", BUY, 1, "4510", account="C"))
    reports = [e for e in rec.trade if isinstance(e, AccountReport) and e.account.account_id == "C"]
    assert reports[-1].account == ex.account("C")


def test_an_order_and_its_position_report_the_same_average_price() -> None:
    """One rounding rule for averages: 3 lots at 4500.00, 4500.25, 4500.25 average
    4500.1666…; the order and the position used to differ in the last digit."""
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 1, "4500", account="B"))
    ex.submit(ep("a2", SELL, 2, "4500.25", account="B"))
    ex.submit(ep("buy", BUY, 3, "4500.25", account="A"))
    order_avg = rec.last("buy").avg_fill_price
    (position,) = ex.positions("A")
    assert order_avg == position.avg_price
    assert str(order_avg).startswith("4500.1666")


def test_a_gtd_for_today_after_the_close_says_the_day_has_ended() -> None:
    """The reject used to read "2024-01-10 is before today 2024-01-10"."""
    ex, _clock, rec = globex(enforce_sessions=False)
    ex.advance_to(T0 + 7 * HOUR + 60 * SECOND)  # 16:01 CT, the day's session is over
    ex.submit(
        ep(
            "gtd",
            BUY,
            1,
            "4500",
            account="A",
            duration=Duration.GTD,
            good_thru_date=date(2024, 1, 10),
        )
    )
    reject = rec.last("gtd")
    assert reject.reject_code == RejectCode.GTD_IN_PAST
    assert "2024-01-10 has ended" in reject.reject_text
    assert "before today" not in reject.reject_text


# ------------------------------------------------------------------ 4. pre-open, opening auction
def test_the_preopen_takes_orders_and_the_open_matches_them_at_one_price() -> None:
    """CME Globex Pre-Open: orders are taken (and may cross) but nothing matches; the
    Indicative Opening Price is where the most would trade; at the open crossing
    orders trade at that one price, then continuous trading starts.

    Orders at 16:50 CT used to be rejected MARKET_CLOSED, and matching started
    continuously at 17:00.
    """
    ex, _clock, rec = globex()
    ex.advance_to(T0 + 7 * HOUR + 30 * 60 * SECOND)  # 16:30 CT: closed, not yet pre-open
    ex.submit(ep("early", BUY, 1, "4505", account="A"))
    assert rec.last("early").reject_code == RejectCode.MARKET_CLOSED
    ex.advance_to(T0 + 7 * HOUR + 50 * 60 * SECOND)  # 16:50 CT: pre-open
    assert ex.in_preopen("EP")
    ex.submit(ep("bid", BUY, 2, "4505", account="A"))
    ex.submit(ep("ask1", SELL, 1, "4500", account="B"))
    ex.submit(ep("ask2", SELL, 2, "4502", account="C"))
    ex.submit(ep("mkt", BUY, 1, account="C"))
    assert rec.last("mkt").reject_code == RejectCode.MARKET_CLOSED
    assert "pre-open" in rec.last("mkt").reject_text
    assert fills(rec, "bid") == []  # crossed, and nothing traded
    assert ex.indicative_open("EP") == (Decimal("4502.00"), 2)
    ex.advance_to(T0 + 8 * HOUR)  # 17:00 CT: the open
    assert fills(rec, "bid") == [(1, Decimal("4502.00")), (1, Decimal("4502.00"))]
    assert fills(rec, "ask1") == [(1, Decimal("4502.00"))]  # the auction price, not its limit
    prints = [e for e in rec.market if isinstance(e, Trade)]
    assert [(t.price, t.size, t.aggressor) for t in prints] == [(18008, 2, None)]
    assert {r.fill.is_aggressor for r in rec.reports() if r.fill} == {None}  # an auction
    assert ex.indicative_open("EP") is None
    assert rec.last("ask2").state is OrderState.PARTIALLY_FILLED  # one lot left at 4502
    ex.submit(ep("after", BUY, 1, "4502", account="A"))  # continuous trading again
    assert fills(rec, "after") == [(1, Decimal("4502.00"))]


# ------------------------------------------------------------------ 5. holidays
def _ct(day: date, hour: int, minute: int = 0) -> int:
    moment = datetime(
        day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("America/Chicago")
    )
    return int(moment.timestamp()) * SECOND


@pytest.mark.parametrize(
    ("when", "why"),
    [
        (_ct(date(2024, 12, 25), 10), "Christmas Day: closed"),
        (_ct(date(2024, 1, 15), 13), "Martin Luther King Jr. Day: halted from 12:00 CT"),
        (_ct(date(2024, 7, 4), 13), "Independence Day: halted from 12:00 CT"),
        (_ct(date(2024, 11, 29), 12, 30), "the day after Thanksgiving: closed at 12:15 CT"),
    ],
)
def test_the_built_ins_keep_the_cme_holiday_calendar(when: int, why: str) -> None:
    """CME Globex holiday hours. The engine used to be open on 2024-12-25 and on the
    afternoons of MLK Day and July 4."""
    clock = ManualClock(when)
    ex = Exchange(instruments=builtin_instruments(), clock=clock)
    ex.open_account("A")
    rec = Recorder()
    ex.add_listener(rec)
    assert not ex.is_open("EP"), why
    ex.submit(ep("x", BUY, 1, "4500", account="A"))
    assert rec.last("x").reject_code == RejectCode.MARKET_CLOSED


def test_a_holiday_morning_still_trades_and_closes_early() -> None:
    """MLK Day 2024: Globex trades from the Sunday open and halts at 12:00 CT; DAY
    orders expire at that early close."""
    ex, clock, rec = globex()
    clock.set(_ct(date(2024, 1, 15), 9))
    ex.advance_to(_ct(date(2024, 1, 15), 9))
    assert ex.is_open("EP")
    ex.submit(ep("day", BUY, 1, "4500", account="A"))
    ex.advance_to(_ct(date(2024, 1, 15), 12, 1))
    assert rec.last("day").state is OrderState.EXPIRED
    assert rec.last("day").ts_ns == _ct(date(2024, 1, 15), 12)


def test_users_extend_the_holiday_calendar_in_toml(tmp_path: Path) -> None:
    """Holidays are instrument data: a named [holidays] list or an inline one."""
    path = tmp_path / "mine.toml"
    path.write_text(
        "[holidays]\n"
        'MINE = [{ day = 2024-01-11, name = "Exchange outage" }]\n\n'
        '[[instrument]]\nsymbol = "XX"\ntick_size = "1"\nholidays = "MINE"\n'
        'trading_hours = { timezone = "America/Chicago", open = "17:00", close = "16:00" }\n\n'
        '[[instrument]]\nsymbol = "YY"\ntick_size = "1"\n'
        'holidays = [{ day = 2024-01-11, name = "Half day", close = "10:00" }]\n'
        'trading_hours = { timezone = "America/Chicago", open = "17:00", close = "16:00" }\n',
        encoding="utf-8",
    )
    specs = load_instrument_specs(path)
    calendars = [s.instrument.trading_calendar for s in specs]
    assert all(c is not None for c in calendars)
    ex = Exchange(
        instruments=[s.instrument for s in specs], clock=ManualClock(_ct(date(2024, 1, 11), 9))
    )
    assert not ex.is_open("XX")
    assert ex.is_open("YY")
    ex.advance_to(_ct(date(2024, 1, 11), 10))
    assert not ex.is_open("YY")


# ------------------------------------------------------------------ 9. prints
def test_a_sweep_prints_once_per_price_level_with_its_aggressor() -> None:
    """CME MDP trade summary: one print per price level per aggressing order, with the
    aggressor side. A 6-lot sweep over four resting orders at two prices used to
    print four times."""
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 1, "4500", account="B"))
    ex.submit(ep("a2", SELL, 2, "4500", account="C"))
    ex.submit(ep("a3", SELL, 1, "4500.25", account="B"))
    ex.submit(ep("a4", SELL, 2, "4500.25", account="C"))
    ex.submit(ep("sweep", BUY, 6, "4500.25", account="A"))
    prints = [(t.price, t.size, t.aggressor) for t in rec.market if isinstance(t, Trade)]
    assert prints == [(18000, 3, Side.BUY), (18001, 3, Side.BUY)]
    assert len(fills(rec, "sweep")) == 4  # fills stay one per resting order


def aggressor_flags(rec: Recorder, cl: str) -> list[bool | None]:
    return [r.fill.is_aggressor for r in rec.reports(cl) if r.fill is not None]


def test_fills_say_whether_their_order_took_or_gave_liquidity() -> None:
    """CME iLink's aggressor indicator (tag 1057) on each fill: the sweeping order's fills
    are aggressor, the resting orders' passive. Fills used to carry no side of the match."""
    ex, _clock, rec = globex()
    ex.submit(ep("a1", SELL, 1, "4500", account="B"))
    ex.submit(ep("a2", SELL, 2, "4500.25", account="C"))
    ex.submit(ep("sweep", BUY, 3, "4500.25", account="A"))
    assert aggressor_flags(rec, "sweep") == [True, True]
    assert aggressor_flags(rec, "a1") == [False]
    assert aggressor_flags(rec, "a2") == [False]


# ------------------------------------------------------------------ 3b. velocity logic
def test_a_price_spike_pauses_matching_then_reopens_with_an_auction() -> None:
    """CME Globex velocity logic (stop-spike style): an aggressor that moves EP more than
    15.00 points within a second pauses matching for 5 seconds; orders are taken but
    not matched, then the market re-opens with an auction at one price.

    There were no pauses: a sell could walk the book any distance.
    """
    ex, clock, rec = globex()
    trade_at(ex, "4500")
    for cl, price in (("b1", "4499"), ("b2", "4490"), ("b3", "4480")):
        ex.submit(ep(cl, BUY, 1, price, account="C"))
    ex.submit(ep("dump", SELL, 3, "4480", account="B"))  # 4500 -> 4480: 20 points
    assert [q for q, _ in fills(rec, "dump")] == [1, 1, 1]
    ex.submit(ep("buy", BUY, 1, "4485", account="A"))
    ex.submit(ep("sell", SELL, 1, "4482", account="B"))
    assert fills(rec, "buy") == []  # paused: the book crosses, nothing trades
    assert ex.indicative_open("EP") == (Decimal("4482.00"), 1)
    clock.advance(5 * SECOND)
    ex.advance_to(clock.now_ns())
    assert fills(rec, "buy") == [(1, Decimal("4482.00"))]
    ex.submit(ep("next", BUY, 1, "4490", account="A"))
    ex.submit(ep("hit", SELL, 1, "4490", account="B"))
    assert fills(rec, "hit") == [(1, Decimal("4490"))]  # continuous again
