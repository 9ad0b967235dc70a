"""Same seed and inputs give a byte-identical event log; snapshots restart the exchange."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from ec_core.clock import ManualClock
from ec_core.model import CancelOrder, ExecutionReport, OrderState, OrderType, ReportKind, Side
from ec_mock.engine import Exchange, ExchangeState, LatencyModel
from ec_mock.instruments import builtin_instruments
from ec_mock.market import MarketSimulator
from engine_support import SECOND, T0, make_exchange, order


def _session(seed: int, *, latency: LatencyModel | None = None) -> Exchange:
    clock = ManualClock(T0)
    ex = Exchange(instruments=builtin_instruments(), clock=clock, seed=seed, latency=latency)
    ex.open_account("U", commission_per_contract=Decimal("2.10"))
    sim = MarketSimulator(ex, seed=seed)
    for step in range(120):
        if step % 10 == 3:
            quote = ex.best_quote("EP")
            assert quote is not None
            assert quote.bid is not None
            price = str(Decimal("0.25") * quote.bid)
            ex.submit(order(f"u{step}", Side.BUY, 1, price, account="U", symbol="EP"))
        if step % 30 == 29:
            ex.submit(CancelOrder(account_id="U", symbol="EP", orig_cl_order_id=f"u{step - 26}"))
        clock.advance(50_000_000)
        ex.advance_to(clock.now_ns())
        sim.step()
    return ex


def test_same_seed_same_inputs_give_byte_identical_logs() -> None:
    first = _session(11).event_log_bytes()
    second = _session(11).event_log_bytes()
    assert first == second
    assert first.count(b"\n") > 1000
    assert b'"kind":"FILL"' in first


def test_a_different_seed_gives_a_different_log() -> None:
    assert _session(11).event_log_bytes() != _session(12).event_log_bytes()


def test_latency_is_seeded_and_delays_processing() -> None:
    latency = LatencyModel(base_ns=2_000_000, jitter_ns=3_000_000)
    a = _session(5, latency=latency)
    assert a.event_log_bytes() == _session(5, latency=latency).event_log_bytes()
    accepted = [
        e
        for e in a.event_log
        if isinstance(e, ExecutionReport) and e.kind is ReportKind.ACCEPTED and e.account_id == "U"
    ]
    submitted_at = T0 + 3 * 50_000_000  # u3 was sent at step 3
    assert submitted_at + 2_000_000 <= accepted[0].ts_ns <= submitted_at + 5_000_000


def test_requests_wait_for_the_clock_under_latency() -> None:
    ex, _, rec = make_exchange(latency=LatencyModel(base_ns=SECOND))
    ex.submit(order("b1", Side.BUY, 1, "4500"))
    assert rec.reports() == []
    ex.advance_to(T0 + SECOND)
    assert rec.kinds("b1") == [ReportKind.ACCEPTED]
    assert rec.last("b1").ts_ns == T0 + SECOND


def test_next_due_follows_the_timers() -> None:
    """``next_due_ns`` is the first timer's time as requests set timers and
    ``advance_to`` takes them, ``None`` once none is left (the replay venue reads it
    after each request to know how far the clock may move alone)."""
    ex, _, _ = make_exchange(latency=LatencyModel(base_ns=SECOND))
    boundary = ex.next_due_ns  # the sessions' next open or close
    assert boundary is not None
    assert boundary > T0 + 2 * SECOND
    ex.submit(order("b1", Side.BUY, 1, "4500"))
    assert ex.next_due_ns == T0 + SECOND
    ex.advance_to(T0 + SECOND // 2)
    ex.submit(order("b2", Side.BUY, 1, "4500"))
    assert ex.next_due_ns == T0 + SECOND  # the earlier of the two
    ex.advance_to(T0 + SECOND)
    assert ex.next_due_ns == T0 + SECOND // 2 + SECOND
    ex.advance_to(T0 + 2 * SECOND)
    assert ex.next_due_ns == boundary
    ex.advance_to(boundary)
    after = ex.next_due_ns  # the next boundary
    assert after is not None
    assert after > boundary


def test_next_due_is_none_without_a_timer() -> None:
    ex, _, _ = make_exchange(enforce_sessions=False)
    assert ex.next_due_ns is None


def test_snapshot_restore_carries_on_exactly() -> None:
    ex, clock, _ = make_exchange()
    ex.submit(order("s1", Side.SELL, 5, "4500", account="B"))
    ex.submit(order("b1", Side.BUY, 2, "4500"))
    ex.submit(order("b2", Side.BUY, 1, "4499.75"))
    ex.submit(order("b3", Side.BUY, 1, "4499.75", account="B"))
    ex.submit(order("stop", Side.SELL, 1, stop="4499", order_type=OrderType.STP))
    state = ex.snapshot()
    data = msgspec.json.encode(state)
    restored = Exchange.restore(msgspec.json.decode(data, type=ExchangeState), clock=clock)
    assert restored.book("ES") == ex.book("ES")
    assert restored.positions("A") == ex.positions("A")
    assert restored.account("A") == ex.account("A")
    assert restored.open_orders("A") == ex.open_orders("A")
    assert restored.order_status("A", "b1") == ex.order_status("A", "b1")
    # both carry on identically, queue priority included
    for exchange in (ex, restored):
        exchange.event_log.clear()
        exchange.submit(order("hit", Side.SELL, 3, "4499.75", account="B"))
        exchange.submit(order("b1", Side.BUY, 1, "4500"))  # duplicate id still known
    assert restored.event_log_bytes() == ex.event_log_bytes()
    b2 = restored.order_status("A", "b2")
    assert b2 is not None
    assert b2.state is OrderState.FILLED  # b2 was ahead of b3 and kept its place
    stop = restored.order_status("A", "stop")
    assert stop is not None
    assert stop.state is OrderState.WORKING  # waiting: 4499.75 is above its 4499 trigger
    for exchange in (ex, restored):
        exchange.submit(order("low", Side.SELL, 1, "4499", account="B"))
        exchange.submit(order("lift", Side.BUY, 1, "4499", account="B"))
    assert restored.event_log_bytes() == ex.event_log_bytes()
    fired = restored.order_status("A", "stop")
    assert fired is not None
    assert fired.state is not OrderState.WORKING  # the restored stop fired on the 4499 print


def test_restart_without_state_loses_everything() -> None:
    ex, clock, _ = make_exchange()
    ex.submit(order("b1", Side.BUY, 1, "4500"))
    fresh = Exchange(instruments=ex.instruments(), clock=clock)
    fresh.open_account("A")
    assert fresh.open_orders("A") == []
    assert fresh.order_status("A", "b1") is None
