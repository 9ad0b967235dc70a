"""Each fault-plan primitive at the injector level, and order faults in the exchange."""

from __future__ import annotations

from pathlib import Path

import pytest
from ec_core.errors import ConfigError
from ec_core.model import (
    CancelOrder,
    ExecutionReport,
    OrderState,
    OrderType,
    Quote,
    ReportKind,
    RequestType,
    Side,
)
from ec_mock.faults import DeliveryQueue, FaultInjector, FaultPlan, RestartDirective
from engine_support import SECOND, T0, make_exchange, order


def _quote(n: int) -> Quote:
    return Quote(symbol="ES", ts_ns=n, bid=n, bid_size=1)


def _ack(cl: str, kind: ReportKind = ReportKind.ACCEPTED) -> ExecutionReport:
    return ExecutionReport(
        kind=kind,
        account_id="A",
        symbol="ES",
        cl_order_id=cl,
        state=OrderState.WORKING,
        side=Side.BUY,
        order_type=OrderType.LMT,
        qty=1,
    )


def _run(plan: FaultPlan, events: list[object], now: int = 100) -> list[tuple[int, object]]:
    injector = FaultInjector(plan)
    out: list[tuple[int, object]] = []
    for event in events:
        out.extend(injector.process(event, now))
    out.extend(injector.flush(now))
    return out


def test_no_faults_passes_everything_through_in_order() -> None:
    events: list[object] = [_quote(i) for i in range(5)]
    assert _run(FaultPlan(), events) == [(100, e) for e in events]


def test_drop_by_index_and_by_probability() -> None:
    events: list[object] = [_quote(i) for i in range(6)]
    kept = [e for _, e in _run(FaultPlan(drop_indices=(1, 4)), events)]
    assert kept == [events[0], events[2], events[3], events[5]]
    assert _run(FaultPlan(drop_probability=1.0), events) == []
    some = _run(FaultPlan(drop_probability=0.5, seed=3), [_quote(i) for i in range(200)])
    assert 60 < len(some) < 140
    again = _run(FaultPlan(drop_probability=0.5, seed=3), [_quote(i) for i in range(200)])
    assert some == again  # seeded


def test_delay_moves_delivery_time() -> None:
    events: list[object] = [_quote(0), _quote(1)]
    out = _run(FaultPlan(delay_ns=50, delay_indices=(0,)), events)
    assert out == [(150, events[0]), (100, events[1])]
    jittered = _run(FaultPlan(delay_ns=10, delay_jitter_ns=5, delay_probability=1.0), events)
    assert all(110 <= at <= 115 for at, _ in jittered)


def test_duplicate_delivers_twice() -> None:
    events: list[object] = [_quote(0), _quote(1)]
    out = [e for _, e in _run(FaultPlan(duplicate_indices=(1,)), events)]
    assert out == [events[0], events[1], events[1]]


def test_reorder_swaps_with_the_next_event() -> None:
    events: list[object] = [_quote(i) for i in range(4)]
    out = [e for _, e in _run(FaultPlan(reorder_indices=(1,)), events)]
    assert out == [events[0], events[2], events[1], events[3]]
    last_held = [e for _, e in _run(FaultPlan(reorder_indices=(3,)), events)]
    assert last_held == events  # flush() delivers a held last event


def test_kinds_restrict_message_faults() -> None:
    events: list[object] = [_quote(0), _ack("a"), _quote(1)]
    out = [e for _, e in _run(FaultPlan(kinds=("ACCEPTED",), drop_probability=1.0), events)]
    assert out == [events[0], events[2]]
    out = [e for _, e in _run(FaultPlan(kinds=("quote",), drop_probability=1.0), events)]
    assert out == [events[1]]


def test_drop_acks_drops_the_first_acknowledgements_only() -> None:
    fill = _ack("a", ReportKind.FILL)
    events: list[object] = [_ack("a"), fill, _ack("b"), _ack("c")]
    out = [e for _, e in _run(FaultPlan(drop_acks=2), events)]
    assert out == [fill, events[3]]


def test_stall_acks_for_a_time_or_until_released() -> None:
    injector = FaultInjector(FaultPlan(stall_acks=1, stall_acks_ns=SECOND))
    ack, second = _ack("a"), _ack("b")
    assert injector.process(ack, 0) == [(SECOND, ack)]
    assert injector.process(second, 0) == [(0, second)]  # only the first is stalled
    held = FaultInjector(FaultPlan(stall_acks=2))
    assert held.process(ack, 0) == []
    assert held.process(_quote(1), 0) == [(0, _quote(1))]
    assert held.process(second, 0) == []
    assert held.release_stalled(7) == [(7, ack), (7, second)]


def test_disconnect_after_messages_or_at_a_time_fires_once() -> None:
    injector = FaultInjector(FaultPlan(disconnect_after=2))
    injector.process(_quote(0), 0)
    assert not injector.should_disconnect(0)
    injector.process(_quote(1), 0)
    assert injector.should_disconnect(0)
    assert not injector.should_disconnect(0)
    timed = FaultInjector(FaultPlan(disconnect_at_ns=T0))
    assert not timed.should_disconnect(T0 - 1)
    assert timed.should_disconnect(T0)


def test_restart_directive_keeps_or_loses_state() -> None:
    injector = FaultInjector(FaultPlan(restart_after=1, restart_keep_state=False))
    assert injector.restart_due(5) is None
    injector.process(_quote(0), 5)
    assert injector.restart_due(6) == RestartDirective(keep_state=False, ts_ns=6)
    assert injector.restart_due(7) is None
    timed = FaultInjector(FaultPlan(restart_at_ns=10))
    assert timed.restart_due(10) == RestartDirective(keep_state=True, ts_ns=10)


def test_reject_next_orders_in_the_exchange() -> None:
    plan = FaultPlan.reject_next_orders(2, "INSUFFICIENT_BUYING_POWER", reject_after=1)
    ex, _, rec = make_exchange(faults=FaultInjector(plan))
    for n in range(4):
        ex.submit(order(f"b{n}", Side.BUY, 1, "4500"))
    codes = [rec.last(f"b{n}").reject_code for n in range(4)]
    assert codes == ["", "INSUFFICIENT_BUYING_POWER", "INSUFFICIENT_BUYING_POWER", ""]
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="b0"))
    assert rec.last("b0").kind is ReportKind.CANCELLED  # cancels were not in the plan


def test_reject_next_can_target_cancels() -> None:
    plan = FaultPlan(reject_next=1, reject_request_types=(RequestType.CANCEL,))
    ex, _, rec = make_exchange(faults=FaultInjector(plan))
    ex.submit(order("b1", Side.BUY, 1, "4500"))
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="b1"))
    assert rec.last("b1").reject_code == "FAULT_INJECTED"
    ex.submit(CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="b1"))
    assert rec.last("b1").kind is ReportKind.CANCELLED


def test_delivery_queue_releases_what_is_due_in_order() -> None:
    queue: DeliveryQueue[object] = DeliveryQueue(
        FaultInjector(FaultPlan(delay_ns=10, delay_indices=(0,)))
    )
    first, second = _quote(0), _quote(1)
    queue.put(first, 0)
    queue.put(second, 0)
    assert queue.take_due(0) == [second]
    assert queue.next_due_ns() == 10
    assert queue.take_due(10) == [first]
    assert len(queue) == 0


def test_plans_load_from_dicts_and_toml_and_name_bad_keys(tmp_path: Path) -> None:
    plan = FaultPlan.from_mapping({"seed": 3, "drop_indices": [1, 2], "reject_next": 1})
    assert plan.drop_indices == (1, 2)
    path = tmp_path / "faults.toml"
    path.write_text("[faults]\nseed = 9\ndelay_ns = 5\ndelay_probability = 0.5\n", encoding="utf-8")
    assert FaultPlan.load(path) == FaultPlan(seed=9, delay_ns=5, delay_probability=0.5)
    with pytest.raises(ConfigError, match="drop_probabilty") as info:
        FaultPlan.from_mapping({"drop_probabilty": 0.5})
    assert info.value is not None
    with pytest.raises(ConfigError) as bad:
        FaultPlan.from_mapping({"drop_probability": 2.0})
    assert bad.value.path == "drop_probability"
