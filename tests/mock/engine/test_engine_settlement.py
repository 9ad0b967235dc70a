"""Issue 17 item 8: daily settlement, variation margin, maintenance margin, margin calls.

Each scenario drives the engine through its public API with the built-in products and
names the CME rule it follows; each failed before the rule was modelled (the engine
never settled: unrealized P&L stayed open across days and margin was one flat amount).
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import ConfigError
from ec_core.model import (
    AccountReport,
    Duration,
    Instrument,
    MarginCall,
    NewOrder,
    Side,
)
from ec_mock.engine import Exchange, SettlementSource
from ec_mock.instruments import builtin_instruments, load_instrument_specs
from engine_support import SECOND, T0, Recorder, globex, order

BUY, SELL = Side.BUY, Side.SELL
HOUR = 3600 * SECOND
CLOSE = T0 + 7 * HOUR  # Wednesday 2024-01-10 16:00 CT
NEXT_DAY = T0 + 24 * HOUR  # Thursday 09:00 CT
NEXT_CLOSE = CLOSE + 24 * HOUR
_ids = itertools.count()


def cross(ex: Exchange, buyer: str, seller: str, qty: int, price: str, symbol: str = "EP") -> None:
    """``seller`` offers, ``buyer`` lifts: one print of ``qty`` at ``price``."""
    n = next(_ids)
    ex.submit(order(f"s{n}", SELL, qty, price, account=seller, symbol=symbol))
    ex.submit(order(f"b{n}", BUY, qty, price, account=buyer, symbol=symbol))


def accounts(rec: Recorder, account_id: str, ts_ns: int) -> list[AccountReport]:
    return [
        e
        for e in rec.trade
        if isinstance(e, AccountReport) and e.account.account_id == account_id and e.ts_ns == ts_ns
    ]


# ------------------------------------------------------------------ settlement price
def test_positions_are_marked_to_the_closing_range_vwap_at_the_close() -> None:
    """CME Rule 813 (daily settlement price) and 814 (settlement variation): at the end of
    each trading day open positions are marked to the settlement price, the volume-weighted
    average of the closing range for E-mini S&P (30 s), and the gain or loss is paid into
    (or out of) the account the same day.

    Before: nothing happened at the close; the gain stayed unrealized for ever.
    """
    ex, _, rec = globex()
    cross(ex, "A", "B", 2, "4500")
    ex.advance_to(CLOSE - 20 * SECOND)  # 15:59:40, inside the closing range
    cross(ex, "C", "B", 1, "4502")
    cross(ex, "C", "B", 3, "4503")
    before = ex.account("A")
    ex.advance_to(CLOSE)

    settlement = ex.settlement("EP")
    assert settlement is not None
    assert settlement.price == Decimal("4502.75")  # (4502 + 3 x 4503) / 4
    assert settlement.source is SettlementSource.VWAP
    assert settlement.trade_date == date(2024, 1, 10)
    after = ex.account("A")
    assert after.balance == Decimal(1_000_275)  # 2 x 2.75 points x $50 paid in
    assert after.buying_power == before.buying_power  # equity itself did not move
    assert [r.account.balance for r in accounts(rec, "A", CLOSE)] == [Decimal(1_000_275)]
    position = ex.positions("A")[0]
    assert (position.qty, position.avg_price, position.realized_pnl) == (
        2,
        Decimal(4500),
        Decimal(0),
    )
    assert [(v.amount, v.settlement_price) for v in ex.variation_margin("A")] == [
        (Decimal("275.00"), Decimal("4502.75"))
    ]


def test_a_vwap_between_ticks_settles_on_the_nearest_tick() -> None:
    """CME Rule 813: the settlement price is a tradable price, the VWAP rounded to the
    nearest tick (a half tick to the even tick)."""
    ex, _, _ = globex()
    ex.advance_to(CLOSE - 10 * SECOND)
    cross(ex, "A", "B", 2, "4500")
    cross(ex, "A", "B", 1, "4501")  # VWAP 4500.333...: 4500.25
    ex.advance_to(CLOSE)
    settlement = ex.settlement("EP")
    assert settlement is not None
    assert settlement.price == Decimal("4500.25")


def test_without_trades_in_the_closing_range_the_last_trade_settles() -> None:
    """CME's settlement procedure falls back when the closing range has no trade: the
    last trade of the session, else the midpoint of the best bid and offer at the close
    (documented order: VWAP, last trade, mid, the previous settlement)."""
    ex, _, _ = globex()
    cross(ex, "A", "B", 1, "4500")  # 09:00, long before the closing range
    ex.submit(order("bid", BUY, 1, "2000.0", account="B", symbol="GCE"))
    ex.submit(order("ask", SELL, 1, "2000.2", account="C", symbol="GCE"))
    ex.advance_to(CLOSE)

    ep, gce = ex.settlement("EP"), ex.settlement("GCE")
    assert ep is not None
    assert (ep.price, ep.source) == (Decimal(4500), SettlementSource.LAST)
    assert gce is not None
    assert (gce.price, gce.source) == (Decimal("2000.1"), SettlementSource.MID)
    assert ex.settlement("ENQ") is None  # no trade, no book: nothing to settle to


def test_a_second_day_pays_the_move_from_yesterdays_settlement() -> None:
    """CME Rule 814: each day's variation is the move from the previous settlement (or the
    trade price, for a position opened that day) to today's settlement, or to the exit
    price for a position closed during the day. Over the life of a trade the variation
    adds up to its profit."""
    ex, _, _ = globex()
    cross(ex, "A", "B", 2, "4500")
    ex.advance_to(CLOSE - 20 * SECOND)
    cross(ex, "C", "B", 4, "4502.75")
    ex.advance_to(NEXT_DAY)
    cross(ex, "C", "A", 2, "4510")  # A sells out at 4510
    ex.advance_to(NEXT_CLOSE)

    assert [v.amount for v in ex.variation_margin("A")] == [Decimal("275.00"), Decimal("725.00")]
    assert ex.account("A").balance == Decimal(1_001_000)
    assert ex.positions("A")[0].realized_pnl == Decimal(1000)  # the trade's own P&L
    thursday = ex.settlement("EP")
    assert thursday is not None
    assert thursday.trade_date == date(2024, 1, 11)
    assert [s.price for s in ex.settlements("EP")] == [Decimal("4502.75"), Decimal(4510)]


def test_a_settlement_feed_overrides_the_closing_range() -> None:
    """In a recorded replay the exchange's published settlement is the truth: a price
    provided during the session is what the close settles to (CME Rule 813 gives the
    exchange the last word on the settlement price)."""
    ex, _, _ = globex()
    cross(ex, "A", "B", 1, "4500")
    ex.provide_settlement("EP", Decimal("4490.50"))
    ex.advance_to(CLOSE)
    settlement = ex.settlement("EP")
    assert settlement is not None
    assert (settlement.price, settlement.source) == (Decimal("4490.50"), SettlementSource.FEED)
    assert ex.account("A").balance == Decimal(1_000_000) - Decimal(475)


def test_a_settlement_feed_price_off_the_tick_is_refused() -> None:
    ex, _, _ = globex()
    with pytest.raises(ValueError, match=r"EP.*4490\.10.*tick"):
        ex.provide_settlement("EP", Decimal("4490.10"))
    with pytest.raises(ValueError, match="EP: settlement price must be a finite Decimal"):
        ex.provide_settlement("EP", Decimal("NaN"))
    with pytest.raises(ValueError, match="EP: settlement price must be a finite Decimal"):
        ex.provide_settlement("EP", 4490.5)  # type: ignore[arg-type]
    # too many digits to divide by the tick in the context's precision: the same ValueError
    with pytest.raises(ValueError, match=r"EP: settlement price 1E\+40 is out of range"):
        ex.provide_settlement("EP", Decimal("1e40"))
    with pytest.raises(ValueError, match=r"EP: settlement price 1E\+40 is out of range"):
        ex.settle("EP", Decimal("1e40"))
    assert ex.settlement("EP") is None  # nothing was taken


def test_a_maintenance_margin_above_the_initial_is_refused() -> None:
    with pytest.raises(ValueError, match=r"maintenance margin of EP \(13000\).*initial"):
        Exchange(
            instruments=builtin_instruments(),
            clock=ManualClock(T0),
            maintenance_margins={"EP": Decimal(13000)},
        )


# ------------------------------------------------------------------ margin
def test_maintenance_margin_is_product_data() -> None:
    """CME Rule 820 / 930 (performance bonds): each product has an initial and a lower
    maintenance level; the built-ins carry both."""
    ex, _, _ = globex()
    assert (ex.margin("EP"), ex.maintenance_margin("EP")) == (Decimal(12500), Decimal(11360))
    bare = Exchange(
        instruments=[Instrument(symbol="X", tick_size=Decimal(1))],
        clock=ManualClock(T0),
        margins={"X": Decimal(100)},
    )
    assert bare.maintenance_margin("X") == Decimal(100)  # none given: the initial level


def test_maintenance_margin_and_the_closing_range_come_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[instrument]]\nsymbol = "MYES"\ntick_size = "0.25"\nmargin = "1500"\n'
        'maintenance_margin = "1200"\nrules = { settlement_seconds = 60 }\n',
        encoding="utf-8",
    )
    (spec,) = load_instrument_specs(path)
    assert spec.maintenance_margin == Decimal(1200)
    assert spec.rules is not None
    assert spec.rules.settlement_seconds == 60
    path.write_text(
        '[[instrument]]\nsymbol = "MYES"\ntick_size = "0.25"\nmargin = "1500"\n'
        'maintenance_margin = "1600"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_instrument_specs(path)
    assert caught.value.path == "instrument[0].maintenance_margin"


def ep_bid(cl: str, price: str) -> NewOrder:
    return order(cl, BUY, 1, price, account="C", symbol="EP", duration=Duration.GTC)


def _losing_long(*, liquidate: bool) -> tuple[Exchange, Recorder]:
    """Account L: $20,000, long one EP at 4500, settled at 4320 (a $9,000 loss)."""
    ex, _, rec = globex()
    ex.open_account("L", balance=Decimal(20_000), liquidate_on_margin_call=liquidate)
    cross(ex, "L", "B", 1, "4500")
    ex.provide_settlement("EP", Decimal(4320))
    ex.advance_to(CLOSE)
    return ex, rec


def test_equity_below_maintenance_raises_a_margin_call_at_the_settlement() -> None:
    """CME Rule 930 (customer performance bond): when an account's equity falls below the
    maintenance level the clearing firm calls for enough to restore the initial level.
    The positions stay unless the account is configured to be liquidated."""
    ex, rec = _losing_long(liquidate=False)
    calls = [e for e in rec.trade if isinstance(e, MarginCall)]
    assert calls == [
        MarginCall(
            account_id="L",
            currency="USD",
            equity=Decimal("11000.00"),
            maintenance_margin=Decimal(11360),
            initial_margin=Decimal(12500),
            call_amount=Decimal("1500.00"),
            trade_date=date(2024, 1, 10),
            liquidating=False,
            ts_ns=CLOSE,
        )
    ]
    assert not [e for e in rec.trade if isinstance(e, MarginCall) and e.account_id != "L"]
    ex.advance_to(CLOSE + 50 * 60 * SECOND)  # pre-open
    ex.submit(ep_bid("bid", "4320"))
    ex.advance_to(CLOSE + 2 * HOUR)  # the next session is open and bid
    assert ex.positions("L")[0].qty == 1


def test_a_configured_liquidation_flattens_the_account_at_the_next_open() -> None:
    """CME Rule 930: a firm may liquidate an account that does not meet its call; the
    mock does so only when asked (``liquidate_on_margin_call=True``), with a market
    order at the next open (the market is closed at the settlement)."""
    ex, rec = _losing_long(liquidate=True)
    (call,) = [e for e in rec.trade if isinstance(e, MarginCall)]
    assert call.liquidating
    ex.advance_to(CLOSE + 30 * 60 * SECOND)  # 16:30 CT: closed, nothing happens yet
    assert ex.positions("L")[0].qty == 1
    ex.advance_to(CLOSE + 50 * 60 * SECOND)  # pre-open: a bid waits for the open
    ex.submit(ep_bid("bid", "4320"))
    ex.advance_to(CLOSE + HOUR)  # 17:00 CT: the open
    assert ex.positions("L")[0].qty == 0
    sold = [(r.cl_order_id, r.fill.price) for r in rec.reports() if r.fill and r.account_id == "L"]
    assert sold[-1] == ("~margin-call-2024-01-10:EP", Decimal(4320))


def test_an_account_above_maintenance_gets_no_call() -> None:
    ex, _, rec = globex()
    ex.open_account("L", balance=Decimal(20_000))
    cross(ex, "L", "B", 1, "4500")
    ex.provide_settlement("EP", Decimal(4400))  # equity 15,000 >= 11,360
    ex.advance_to(CLOSE)
    assert not [e for e in rec.trade if isinstance(e, MarginCall)]


# ------------------------------------------------------------------ state and replay
def test_a_restart_that_keeps_state_keeps_the_settlement() -> None:
    """The settled reference prices and yesterday's settlement survive snapshot/restore."""
    ex, clock, _ = globex()
    cross(ex, "A", "B", 2, "4500")
    ex.provide_settlement("EP", Decimal("4502.75"))
    ex.advance_to(CLOSE)
    restored = Exchange.restore(ex.snapshot(), clock=clock)
    restored.advance_to(NEXT_DAY)
    cross(restored, "C", "A", 2, "4510")
    restored.advance_to(NEXT_CLOSE)
    assert restored.account("A").balance == Decimal(1_001_000)
    assert [v.amount for v in restored.variation_margin("A")] == [
        Decimal("275.00"),
        Decimal("725.00"),
    ]
    first = restored.settlements("EP")[0]
    assert (first.price, first.trade_date) == (Decimal("4502.75"), date(2024, 1, 10))


def test_an_instrument_without_sessions_settles_on_request() -> None:
    """A sessionless instrument (or a replay driving its own days) settles when told."""
    xs = Instrument(symbol="XS", tick_size=Decimal("0.25"), multiplier=Decimal(50))
    ex = Exchange(instruments=[xs], clock=ManualClock(T0))
    for account in ("A", "B"):
        ex.open_account(account)
    ex.submit(order("s", SELL, 1, "100", account="B", symbol="XS"))
    ex.submit(order("b", BUY, 1, "100", account="A", symbol="XS"))
    settlement = ex.settle("XS", Decimal("101.25"))
    assert settlement.source is SettlementSource.FEED
    assert ex.account("A").balance == Decimal("1000062.50")
    assert ex.settle("XS").source is SettlementSource.LAST  # the last trade, 100
    assert ex.account("A").balance == Decimal("1000000.00")
