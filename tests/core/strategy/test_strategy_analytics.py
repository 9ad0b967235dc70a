"""Round trips, statistics, daily P&L and the orders table of a replay report."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from ec_core.model import (
    CancelOrder,
    Fill,
    GoFlat,
    Instrument,
    ModifyOrder,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Side,
    TradingHours,
)
from ec_core.strategy.analytics import (
    daily_pnl,
    exchange_time,
    money,
    order_rows,
    round_trips,
    trade_stats,
)
from ec_core.strategy.outcomes import DeniedAction

CL = Instrument(
    symbol="CLE",
    tick_size=Decimal("0.01"),
    multiplier=Decimal(1000),
    trading_hours=TradingHours(timezone="America/Chicago", open=time(17), close=time(16)),
)
TABLE = {"CLE": CL}
SEC = 1_000_000_000
T0 = 1_704_898_800 * SEC  # 2024-01-10 15:00 UTC, 09:00 in Chicago
T_DENIED = T0 + 90 * SEC


def fill(n: int, side: Side, qty: int, price: str, *, at: int, fee: str = "0") -> Fill:
    return Fill(
        fill_id=f"f{n}", account_id="A", symbol="CLE", side=side, qty=qty,
        price=Decimal(price), ts_ns=T0 + at * SEC, cl_order_id=f"o{n}", commission=Decimal(fee),
    )  # fmt: skip


def test_a_long_and_a_short_trip_with_their_pnl_in_ticks_and_money() -> None:
    fills = [
        fill(1, Side.BUY, 2, "70.00", at=0, fee="2"),
        fill(2, Side.SELL, 2, "70.10", at=60, fee="2"),
        fill(3, Side.SELL, 1, "70.20", at=120),
        fill(4, Side.BUY, 1, "70.25", at=180),
    ]
    long, short = round_trips(fills, [], TABLE)
    assert (long.side, long.qty, long.pnl_ticks, long.pnl, long.commission) == (
        "BUY", 2, 10, "196.00", "4.00",
    )  # fmt: skip
    assert long.entry_time == "2024-01-10T09:00:00-06:00"  # the exchange's time zone
    assert long.holding_s == 60.0
    assert (short.side, short.pnl_ticks, short.pnl) == ("SELL", -5, "-50.00")


def test_adds_average_in_and_a_flip_closes_one_trip_and_opens_the_next() -> None:
    fills = [
        fill(1, Side.BUY, 1, "70.00", at=0),
        fill(2, Side.BUY, 1, "70.10", at=1),  # average entry 70.05
        fill(3, Side.SELL, 3, "70.15", at=2),  # closes 2, opens a short of 1
        fill(4, Side.BUY, 1, "70.05", at=3),
    ]
    first, second = round_trips(fills, [], TABLE)
    assert (first.qty, first.entry_price, first.exit_price, first.pnl) == (
        2, Decimal("70.05"), Decimal("70.15"), "200.00",
    )  # fmt: skip
    assert (second.side, second.qty, second.pnl_ticks) == ("SELL", 1, 10)


def test_mae_and_mfe_come_from_the_marks_while_the_trip_is_open() -> None:
    fills = [fill(1, Side.BUY, 1, "70.00", at=0), fill(2, Side.SELL, 1, "70.05", at=10)]
    marks = [
        (T0 + 2 * SEC, "CLE", Decimal("69.93")),
        (T0 + 4 * SEC, "CLE", Decimal("70.12")),
        (T0 + 20 * SEC, "CLE", Decimal("75.00")),  # after the exit: not counted
    ]
    (trip,) = round_trips(fills, marks, TABLE)
    assert (trip.mae_ticks, trip.mfe_ticks) == (-7, 12)


def test_statistics_of_the_trips_and_the_daily_pnl_per_trading_session() -> None:
    day = 86_400
    fills = [
        fill(1, Side.BUY, 1, "70.00", at=0),
        fill(2, Side.SELL, 1, "70.10", at=60),  # +100
        fill(3, Side.BUY, 1, "70.00", at=day),
        fill(4, Side.SELL, 1, "69.95", at=day + 60),  # -50
        # 23:30 UTC on the 11th is 17:30 in Chicago: the session of the 12th
        fill(5, Side.BUY, 1, "70.00", at=day + 30_600),
        fill(6, Side.SELL, 1, "70.30", at=day + 30_600 + 30),  # +300
    ]
    trips = round_trips(fills, [], TABLE)
    days = daily_pnl(trips, TABLE)
    assert [(d.date, d.pnl, d.trades) for d in days] == [
        ("2024-01-10", "100.00", 1),
        ("2024-01-11", "-50.00", 1),
        ("2024-01-12", "300.00", 1),
    ]
    equity = [(T0, 0.0), (T0 + SEC, 100.0), (T0 + 2 * SEC, 50.0), (T0 + 9 * SEC, 350.0)]
    stats = trade_stats(
        trips, days, equity=equity,
        fills=fills, market_fill_ids=frozenset({"o1", "o3"}), slippage_ticks=1,
        instruments=TABLE, first_ns=T0, last_ns=T0 + 2 * day * SEC,
    )  # fmt: skip
    assert (stats.trades, stats.wins, stats.losses, stats.win_rate) == (3, 2, 1, 0.6667)
    assert (stats.avg_win, stats.avg_loss, stats.expectancy) == ("200.00", "-50.00", "116.67")
    assert stats.profit_factor == 8.0
    assert stats.max_drawdown == "50.00"
    assert stats.max_drawdown_s == 8.0  # from the peak at 1 s back to it at 9 s
    assert stats.slippage == "20.00"  # one tick of 10.00 on each of two market fills
    assert stats.sharpe is not None
    assert stats.sharpe > 0
    assert stats.days == 3


def test_money_keeps_the_decimals_of_the_tick_value() -> None:
    zn = Instrument(symbol="ZN", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))
    assert money(Decimal("15.625"), zn) == "15.625"
    assert money(Decimal(5), CL) == "5.00"
    assert money(Decimal("1.5")) == "1.50"


def test_the_orders_table_gives_every_outcome() -> None:
    def order(cl: str, state: OrderState, **more: object) -> Order:
        return Order(
            chain_id=cl, cl_order_id=cl, account_id="A", symbol="CLE", side=Side.BUY,
            order_type=OrderType.LMT, qty=1, state=state, limit_price=Decimal("70"),
            **more,  # type: ignore[arg-type]
        )  # fmt: skip

    rows = order_rows(
        [
            order("a", OrderState.FILLED, filled_qty=1, avg_fill_price=Decimal("70")),
            order("b", OrderState.CANCELLED),
            order("c", OrderState.REJECTED, reject_code="PRICE_BAND", reject_text="too far"),
            order("d", OrderState.EXPIRED),
        ],
        denied=[
            DeniedAction(
                ts_ns=T_DENIED,
                signal_id="sig3",
                request=NewOrder(
                    account_id="A", symbol="CLE", side=Side.SELL, qty=50,
                    order_type=OrderType.LMT, limit_price=Decimal("71.5"), cl_order_id="e9",
                ),
                codes=("MAX_ORDER_QTY", "PRICE_OUTSIDE_BAND"),
                text="order denied (2 violation(s)): ...",
            )
        ],
        instruments=TABLE,
    )  # fmt: skip
    assert [(r.cl_order_id, r.outcome, r.code) for r in rows] == [
        ("a", "FILLED", ""),
        ("b", "CANCELLED", ""),
        ("c", "REJECTED", "PRICE_BAND"),
        ("d", "EXPIRED", ""),
        ("e9", "DENIED", "MAX_ORDER_QTY,PRICE_OUTSIDE_BAND"),
    ]
    denied = rows[-1]  # what was asked, and when: the rules alone do not say which order
    assert (denied.symbol, denied.side, denied.qty, denied.order_type) == ("CLE", "SELL", 50, "LMT")
    assert denied.limit_price == Decimal("71.5")
    assert denied.updated_ns == T_DENIED
    assert denied.updated_time == exchange_time(T_DENIED, TABLE["CLE"])


def test_a_denied_cancel_modify_or_go_flat_has_a_row_without_side_or_symbol() -> None:
    """Every request type can be denied: one without a side (cancel, modify) or a symbol
    (go-flat) still gets its row, named by its request type, its time in UTC when no
    instrument says the zone, and its id from the signal when it had none."""

    def denied(ts: int, request: CancelOrder | ModifyOrder | GoFlat) -> DeniedAction:
        return DeniedAction(ts_ns=ts, signal_id="sig7", request=request, codes=("R",), text="t")

    rows = order_rows(
        [],
        denied=[
            denied(T_DENIED, CancelOrder(account_id="A", symbol="CLE", orig_cl_order_id="e1")),
            denied(T_DENIED, ModifyOrder(
                account_id="A", symbol="CLE", orig_cl_order_id="e1", cl_order_id="e2", qty=3,
                limit_price=Decimal("70.1"),
            )),
            denied(T_DENIED, GoFlat(account_id="A")),
        ],
        instruments=TABLE,
    )  # fmt: skip
    assert [(r.cl_order_id, r.symbol, r.side, r.qty, r.order_type) for r in rows] == [
        ("sig7", "CLE", "", 0, "CANCEL"),
        ("e2", "CLE", "", 3, "MODIFY"),
        ("sig7", "", "", 0, "GO_FLAT"),
    ]
    assert rows[1].limit_price == Decimal("70.1")
    assert all(r.outcome == "DENIED" and r.updated_ns == T_DENIED for r in rows)
    assert rows[0].updated_time == exchange_time(T_DENIED, CL)
    assert rows[2].updated_time == exchange_time(T_DENIED, None)


def test_statistics_and_daily_pnl_keep_the_decimals_of_the_instruments_traded() -> None:
    """A 10-year note's tick is worth 15.625: its day's P&L, averages, drawdown and
    commissions keep the third decimal instead of rounding it away."""
    zn = Instrument(symbol="ZN", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))
    table = {"CLE": CL, "ZN": zn}
    fills = [
        Fill(fill_id="z1", account_id="A", symbol="ZN", side=Side.BUY, qty=1,
             price=Decimal("110.015625"), ts_ns=T0, cl_order_id="z1",
             commission=Decimal("0.125"))
        ,
        Fill(fill_id="z2", account_id="A", symbol="ZN", side=Side.SELL, qty=1,
             price=Decimal("110"), ts_ns=T0 + SEC, cl_order_id="z2"),
        fill(3, Side.BUY, 1, "70.00", at=2),
        fill(4, Side.SELL, 1, "70.10", at=3),  # +100
    ]  # fmt: skip
    trips = round_trips(fills, [], table)
    assert [t.pnl for t in trips] == ["-15.750", "100.00"]  # each in its own decimals
    days = daily_pnl(trips, table)
    assert [d.pnl for d in days] == ["84.250"]
    equity = [(T0, 0.0), (T0 + SEC, -15.75), (T0 + 3 * SEC, 84.25)]
    stats = trade_stats(
        trips, days, equity=equity, fills=fills, market_fill_ids=frozenset({"z2"}),
        slippage_ticks=1, instruments=table, first_ns=T0, last_ns=T0 + 3 * SEC,
    )  # fmt: skip
    assert (stats.avg_win, stats.avg_loss, stats.expectancy) == ("100.000", "-15.750", "42.125")
    assert (stats.max_drawdown, stats.commissions, stats.slippage) == ("15.750", "0.125", "15.625")


def test_an_order_row_carries_the_time_of_its_outcome_in_the_exchange_zone() -> None:
    cancelled = Order(
        chain_id="b", cl_order_id="b", account_id="A", symbol="CLE", side=Side.SELL,
        order_type=OrderType.LMT, qty=1, state=OrderState.CANCELLED,
        limit_price=Decimal("70.05"), updated_ns=T0 + 90 * SEC,
    )  # fmt: skip
    (row,) = order_rows([cancelled], instruments=TABLE)
    assert (row.updated_ns, row.updated_time) == (T0 + 90 * SEC, "2024-01-10T09:01:30-06:00")


def test_a_commission_finer_than_the_tick_value_is_not_rounded_away() -> None:
    """A per-order commission of 0.125 on CLE (a tick is worth 10.00): the trip, the day,
    the statistics keep the third decimal, so the net P&L adds up."""
    fills = [
        fill(1, Side.BUY, 1, "70.00", at=0, fee="2.125"),
        fill(2, Side.SELL, 1, "70.10", at=60, fee="2.125"),
    ]
    (trip,) = round_trips(fills, [], TABLE)
    assert (trip.pnl, trip.commission) == ("95.750", "4.250")
    days = daily_pnl([trip], TABLE)
    assert [d.pnl for d in days] == ["95.750"]
    stats = trade_stats(
        [trip], days, equity=[(T0, 0.0), (T0 + 60 * SEC, 95.75)], fills=fills,
        instruments=TABLE, first_ns=T0, last_ns=T0 + 60 * SEC,
    )  # fmt: skip
    assert (stats.commissions, stats.expectancy) == ("4.250", "95.750")


def test_a_round_number_price_keeps_the_ticks_places_not_an_exponent() -> None:
    # Decimal.normalize turned 70.00 into 7E+1: the report read "BUY 1 7E+1 -> 70.05".
    fills = [
        fill(1, Side.BUY, 1, "70.00", at=0),
        fill(2, Side.SELL, 1, "70.10", at=1),
        fill(3, Side.BUY, 1, "70.10", at=2),
        fill(4, Side.BUY, 1, "70.11", at=3),  # average entry 70.105: two places more
        fill(5, Side.SELL, 2, "100.00", at=4),
    ]
    first, second = round_trips(fills, [], TABLE)
    assert (str(first.entry_price), str(first.exit_price)) == ("70.00", "70.10")
    assert (str(second.entry_price), str(second.exit_price)) == ("70.105", "100.00")
    whole = Instrument(symbol="X", tick_size=Decimal(1), multiplier=Decimal(1))
    [trip] = round_trips(
        [fill(6, Side.BUY, 1, "4000", at=0), fill(7, Side.SELL, 1, "4100", at=1)],
        [], {"CLE": whole},
    )  # fmt: skip
    assert (str(trip.entry_price), str(trip.exit_price)) == ("4000", "4100")
