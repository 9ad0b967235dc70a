"""The market simulator and recorded-tick replay with the pessimistic fill model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.errors import ConfigError
from ec_core.model import OrderState, Quote, Side, Trade
from ec_mock.engine import Exchange, FillModel
from ec_mock.market import MarketSimulator, ReplayFeeder, replay_csv, write_csv
from engine_support import ES, SECOND, T0, Recorder, make_exchange, order


def test_simulator_keeps_a_two_sided_book_and_prints_trades() -> None:
    ex, clock, rec = make_exchange((ES,), accounts=("U",))
    sim = MarketSimulator(ex, seed=4, start_prices={"ES": Decimal("4500")}, depth=3)
    for _ in range(50):
        clock.advance(SECOND)
        ex.advance_to(clock.now_ns())
        sim.step()
    view = ex.book("ES")
    assert len(view.bids) == 3
    assert len(view.asks) >= 2
    assert view.bids[0].price < view.asks[0].price
    trades = [m for m in rec.market if isinstance(m, Trade)]
    assert len(trades) > 5
    assert abs(sim.mid("ES") - 18000) < 50


def test_a_resting_user_order_fills_through_the_simulated_market() -> None:
    ex, clock, rec = make_exchange((ES,), accounts=("U",))
    sim = MarketSimulator(ex, seed=1, start_prices={"ES": Decimal("4500")})
    sim.step()
    ex.submit(order("u1", Side.BUY, 2, "4499.50", account="U"))
    for _ in range(300):
        clock.advance(SECOND)
        ex.advance_to(clock.now_ns())
        sim.step()
        if rec.last("u1").state is OrderState.FILLED:
            break
    assert rec.last("u1").state is OrderState.FILLED
    assert [p.qty for p in ex.positions("U")] == [2]


def test_simulator_is_seeded() -> None:
    def run(seed: int) -> bytes:
        ex, _, _ = make_exchange((ES,), accounts=())
        MarketSimulator(ex, seed=seed, start_prices={"ES": Decimal("4500")}).run(40)
        return ex.event_log_bytes()

    assert run(2) == run(2)
    assert run(2) != run(3)


def test_simulator_needs_a_start_price_for_unknown_symbols() -> None:
    ex, _, _ = make_exchange((ES,), accounts=())
    with pytest.raises(ValueError, match="ES"):
        MarketSimulator(ex)


def _replay_exchange(model: FillModel | None = None) -> tuple[Exchange, ReplayFeeder]:
    ex, _, _ = make_exchange((ES,), accounts=("U",), fill_model=model)
    return ex, ReplayFeeder(ex)


def _quote(bid: int, bid_size: int, ask: int, ask_size: int, dt: int = 0) -> Quote:
    return Quote(symbol="ES", ts_ns=T0 + dt, bid=bid, bid_size=bid_size, ask=ask, ask_size=ask_size)


def test_replay_fills_at_the_touch_only_after_the_queue_ahead() -> None:
    ex, feeder = _replay_exchange()
    feeder.feed(_quote(18000, 10, 18001, 10))
    ex.place("U", "ES", Side.BUY, 3, price=18000, cl_order_id="u1")  # behind 10 recorded lots
    feeder.feed(Trade(symbol="ES", ts_ns=T0 + 1, price=18000, size=8, aggressor=Side.SELL))
    status = ex.order_status("U", "u1")
    assert status is not None
    assert status.filled_qty == 0
    feeder.feed(_quote(18000, 10, 18001, 10, dt=2))  # the recorded size refreshes in place
    feeder.feed(Trade(symbol="ES", ts_ns=T0 + 3, price=18000, size=12, aggressor=Side.SELL))
    status = ex.order_status("U", "u1")
    assert status is not None
    assert status.filled_qty == 2  # 12 - 10 ahead
    assert status.avg_fill_price == Decimal("4500")


def test_replay_trade_through_fills_completely() -> None:
    ex, feeder = _replay_exchange()
    feeder.feed(_quote(18000, 10, 18002, 10))
    ex.place("U", "ES", Side.BUY, 5, price=18001, cl_order_id="u1")
    feeder.feed(Trade(symbol="ES", ts_ns=T0 + 1, price=18000, size=1, aggressor=Side.SELL))
    status = ex.order_status("U", "u1")
    assert status is not None
    assert (status.state, status.avg_fill_price) == (OrderState.FILLED, Decimal("4500.25"))
    assert [p.qty for p in ex.positions("U")] == [5]


def test_optimistic_and_through_only_models() -> None:
    ex, feeder = _replay_exchange(FillModel(queue_position=False))
    feeder.feed(_quote(18000, 10, 18001, 10))
    ex.place("U", "ES", Side.BUY, 3, price=18000, cl_order_id="u1")
    feeder.feed(Trade(symbol="ES", ts_ns=T0 + 1, price=18000, size=2, aggressor=Side.SELL))
    status = ex.order_status("U", "u1")
    assert status is not None
    assert status.filled_qty == 2
    strict, strict_feeder = _replay_exchange(FillModel(fill_at_touch=False))
    strict_feeder.feed(_quote(18000, 0, 18001, 10))
    strict.place("U", "ES", Side.BUY, 3, price=18000, cl_order_id="u1")
    strict_feeder.feed(Trade(symbol="ES", ts_ns=T0 + 1, price=18000, size=50, aggressor=Side.SELL))
    untouched = strict.order_status("U", "u1")
    assert untouched is not None
    assert untouched.filled_qty == 0


def test_csv_round_trip_and_replay(tmp_path: Path) -> None:
    ticks: list[Quote | Trade] = [
        _quote(18000, 5, 18001, 7),
        Trade(symbol="ES", ts_ns=T0 + 1, price=18001, size=2, aggressor=Side.BUY),
        Trade(symbol="ES", ts_ns=T0 + 2, price=18000, size=1, aggressor=None),
    ]
    path = tmp_path / "ticks.csv"
    write_csv(path, ticks, [ES])
    assert list(replay_csv(path, instruments=[ES])) == ticks
    ex, feeder = _replay_exchange()
    assert feeder.feed_all(replay_csv(path, instruments=[ES])) == 3
    last = ex.last_trade("ES")
    assert last is not None
    assert last.price == 18000


def test_csv_errors_name_the_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "ts_ns,symbol,kind,price,size,bid,bid_size,ask,ask_size,aggressor\n"
        "1,ES,trade,4500.10,1,,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        list(replay_csv(path, instruments=[ES]))
    assert info.value.path == "bad.csv:2.price"


def _house_orders_by_level(ex: Exchange) -> dict[tuple[Side | None, Decimal | None], int]:
    levels: dict[tuple[Side | None, Decimal | None], int] = {}
    for report in ex.open_orders("HOUSE"):
        key = (report.side, report.limit_price)
        levels[key] = levels.get(key, 0) + 1
    return levels


def test_a_simulator_started_on_a_restored_exchange_carries_on_without_clashing() -> None:
    ex, clock, _ = make_exchange((ES,), accounts=("U",))
    MarketSimulator(ex, seed=5, start_prices={"ES": Decimal("4500")}, depth=3).run(30)
    kept = {r.cl_order_id for r in ex.open_orders("HOUSE")}
    restored = Exchange.restore(ex.snapshot(), clock=clock)
    rec = Recorder()
    restored.add_listener(rec)
    sim = MarketSimulator(restored, seed=6, depth=3)
    for _ in range(30):
        clock.advance(SECOND)
        restored.advance_to(clock.now_ns())
        sim.step()
    # no new house order reuses a client id of the restored ones
    assert [r.reject_code for r in rec.rejects()] == []
    assert any(r.cl_order_id.startswith("H") for r in rec.reports())
    # the house forgot its finished orders (their ids are free again): new ones are
    # numbered after the newest it kept, not from H1 over the ids of the run before
    fresh = {r.cl_order_id for r in rec.reports() if r.account_id == "HOUSE"} - kept
    assert min(int(cl[1:]) for cl in fresh) > max(int(cl[1:]) for cl in kept)
    # the restored house orders were taken over: one per wanted level, not two
    levels = _house_orders_by_level(restored)
    assert len(levels) == 6
    assert set(levels.values()) == {1}


def test_a_simulator_moved_to_a_restored_exchange_keeps_working() -> None:
    """What the mock venue does on a restart that keeps state: same simulator, new engine."""
    ex, clock, _ = make_exchange((ES,), accounts=("U",))
    sim = MarketSimulator(ex, seed=5, start_prices={"ES": Decimal("4500")}, depth=3)
    sim.run(30)
    restored = Exchange.restore(ex.snapshot(), clock=clock)
    rec = Recorder()
    restored.add_listener(rec)
    sim.exchange = restored
    sim.run(30)
    assert rec.rejects() == []
    assert set(_house_orders_by_level(restored).values()) == {1}
