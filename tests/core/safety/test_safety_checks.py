"""PreTradeChecks: mandatory guards, kill-switch states, the daily loss limit, in-flight
accounting, rounding policy, the activation window and replaceable validators."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import Violation
from ec_core.model import (
    CancelAll,
    CancelOrder,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    OrderRequest,
    OrderType,
    Side,
)
from ec_core.safety import (
    Code,
    KillSwitch,
    KillSwitchState,
    Limits,
    PreTradeChecks,
    StaticLimits,
    check_activation,
)
from ec_core.validation import PreTradeContext, ValidatorRegistry
from safety_support import CL, NOW_NS, checks, codes, context, limits, new, order

SECOND = 1_000_000_000


def _state(switch: KillSwitch) -> KillSwitchState:
    """Read through a function: mypy would otherwise narrow the property across calls."""
    return switch.state


EXITS: list[OrderRequest] = [
    CancelOrder(account_id="ACC1", symbol=CL.symbol, orig_cl_order_id="o1"),
    CancelAll(account_id="ACC1"),
    LiquidateAll(account_id="ACC1"),
    GoFlat(account_id="ACC1"),
]


# -- kill switch -------------------------------------------------------------------


def test_halted_denies_new_and_modify_but_lets_exits_through() -> None:
    c = checks()
    c.kill_switch.set(KillSwitchState.HALTED, "test")
    (violation,) = c.check(new(), context())
    assert violation.code == Code.KILL_SWITCH_HALTED
    assert violation.field == "kill_switch"
    assert "test" in violation.rule
    modify = ModifyOrder(account_id="ACC1", symbol=CL.symbol, orig_cl_order_id="o1", qty=1)
    assert codes(c.check(modify, context(open_orders=[order()]))) == {Code.KILL_SWITCH_HALTED}
    for request in EXITS:
        assert c.check(request, context()) == [], request


def test_reducing_allows_only_orders_that_shrink_the_position() -> None:
    c = checks()
    c.kill_switch.set(KillSwitchState.REDUCING, "test")
    long_ctx = context(position=10)
    assert c.check(new(side=Side.SELL, qty=10), long_ctx) == []
    assert codes(c.check(new(side=Side.SELL, qty=11), long_ctx)) == {Code.KILL_SWITCH_REDUCING}
    assert codes(c.check(new(side=Side.BUY, qty=1), long_ctx)) == {Code.KILL_SWITCH_REDUCING}
    assert codes(c.check(new(side=Side.SELL, qty=1), context())) == {Code.KILL_SWITCH_REDUCING}
    # a working sell of 8 already covers most of the long 10: only 2 more may be added
    working = context(
        position=10, open_orders=[order(side=Side.SELL, qty=8, limit_price=Decimal("75.50"))]
    )
    assert c.check(new(side=Side.SELL, qty=2), working) == []
    assert codes(c.check(new(side=Side.SELL, qty=3), working)) == {Code.KILL_SWITCH_REDUCING}
    for request in EXITS:
        assert c.check(request, long_ctx) == []


def test_reducing_modify_rules() -> None:
    c = checks()
    c.kill_switch.set(KillSwitchState.REDUCING, "test")
    buy = order(side=Side.BUY, qty=5)
    ctx = context(position=10, open_orders=[buy])

    def modify(**kw: object) -> ModifyOrder:
        return ModifyOrder(account_id="ACC1", symbol=CL.symbol, orig_cl_order_id="o1", **kw)  # type: ignore[arg-type]

    assert c.check(modify(qty=3), ctx) == []  # a pure decrease adds no risk
    assert codes(c.check(modify(qty=6), ctx)) == {Code.KILL_SWITCH_REDUCING}
    assert codes(c.check(modify(limit_price=Decimal("74.90")), ctx)) == {Code.KILL_SWITCH_REDUCING}
    sell = order(side=Side.SELL, qty=5, limit_price=Decimal("75.50"))
    ctx_sell = context(position=10, open_orders=[sell])
    assert c.check(modify(limit_price=Decimal("75.40")), ctx_sell) == []
    assert c.check(modify(qty=10), ctx_sell) == []
    assert codes(c.check(modify(qty=11), ctx_sell)) == {Code.KILL_SWITCH_REDUCING}


def test_kill_switch_state_is_shared_through_its_file(tmp_path: Path) -> None:
    clock = ManualClock(NOW_NS)
    path = tmp_path / "limits.killswitch.json"
    running = KillSwitch(path, clock=clock, poll_interval_ms=100)
    c = checks(clock=clock, kill_switch=running)
    assert c.check(new(), context()) == []
    KillSwitch(path, clock=clock).set(KillSwitchState.HALTED, "operator", source="cli")
    # not polled yet: the running process still sees ACTIVE until its poll interval passes
    assert c.check(new(), context()) == []
    clock.advance(100_000_000)
    assert codes(c.check(new(), context())) == {Code.KILL_SWITCH_HALTED}
    assert running.record.source == "cli"
    KillSwitch(path, clock=clock).set(KillSwitchState.ACTIVE, "resume")
    clock.advance(100_000_000)
    assert c.check(new(), context()) == []


def test_reading_a_switch_set_before_logs_no_switching(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # `ec kill-switch status` logged "kill switch ACTIVE -> HALTED" on every read, as if
    # the status had just halted trading; `resume` logged the halt again before its resume.
    clock = ManualClock(NOW_NS)
    path = tmp_path / "limits.killswitch.json"
    KillSwitch(path, clock=clock).set(KillSwitchState.HALTED, "operator", source="cli")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="ec_core.safety.kill_switch"):
        reader = KillSwitch(path, clock=clock, poll_interval_ms=100)
        assert _state(reader) is KillSwitchState.HALTED
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
        KillSwitch(path, clock=clock).set(KillSwitchState.ACTIVE, "resume", source="cli")
        clock.advance(100_000_000)
        assert _state(reader) is KillSwitchState.ACTIVE  # a change seen later is still said
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert said == ["kill switch HALTED -> ACTIVE (resume, by cli)"] * 2  # setter and reader


def test_unreadable_kill_switch_file_fails_closed(tmp_path: Path) -> None:
    clock = ManualClock(NOW_NS)
    path = tmp_path / "limits.killswitch.json"
    path.write_text("{not json", encoding="utf-8")
    switch = KillSwitch(path, clock=clock)
    assert _state(switch) is KillSwitchState.HALTED
    assert "unreadable" in switch.reason
    path.write_text('{"state": "ACTIVE", "reason": "fixed"}', encoding="utf-8")
    clock.advance(SECOND)
    assert _state(switch) is KillSwitchState.ACTIVE


def test_escalate_never_lowers() -> None:
    switch = KillSwitch(clock=ManualClock(NOW_NS))
    assert switch.escalate(KillSwitchState.HALTED, "x")
    assert not switch.escalate(KillSwitchState.REDUCING, "y")
    assert _state(switch) is KillSwitchState.HALTED
    assert switch.reason == "x"


# -- daily loss limit ----------------------------------------------------------------


def test_daily_loss_limit_reduces_then_halts() -> None:
    c = checks()
    c.on_pnl("ACC1", Decimal("-1999.99"))
    assert _state(c.kill_switch) is KillSwitchState.ACTIVE
    assert c.check(new(), context()) == []
    c.on_pnl("ACC1", Decimal("-2000"))
    assert _state(c.kill_switch) is KillSwitchState.REDUCING
    assert c.kill_switch.record.source == "loss-limit"
    (violation,) = c.check(new(), context())
    assert violation.code == Code.KILL_SWITCH_REDUCING
    assert "daily loss limit" in violation.rule
    assert c.check(new(side=Side.SELL, qty=2), context(position=2)) == []
    c.on_pnl("ACC1", Decimal("-5000"))
    assert _state(c.kill_switch) is KillSwitchState.HALTED
    assert codes(c.check(new(side=Side.SELL, qty=2), context(position=2))) == {
        Code.KILL_SWITCH_HALTED
    }


def test_manual_reset_holds_until_a_new_crossing() -> None:
    c = checks()
    c.on_pnl("ACC1", Decimal("-2500"))
    assert _state(c.kill_switch) is KillSwitchState.REDUCING
    c.kill_switch.set(KillSwitchState.ACTIVE, "risk manager allows it")
    c.on_pnl("ACC1", Decimal("-2600"))
    assert _state(c.kill_switch) is KillSwitchState.ACTIVE
    c.on_pnl("ACC1", Decimal("-6000"))
    assert _state(c.kill_switch) is KillSwitchState.HALTED


def test_loss_limit_absent_means_no_switching() -> None:
    c = checks(limits_obj=Limits.from_toml('[instruments."*"]\n[accounts."*"]\n'))
    c.on_pnl("ACC1", Decimal("-1000000"))
    assert _state(c.kill_switch) is KillSwitchState.ACTIVE


# -- rate limits through the checks ---------------------------------------------------


def test_rate_limit_counts_only_what_was_sent() -> None:
    clock = ManualClock(NOW_NS)
    c = checks(clock=clock)
    for i in range(5):
        request = new(cl_order_id=f"c{i}")
        assert c.check(request, context()) == []
        c.record_sent(request)
    for _ in range(3):  # denied checks do not use the budget
        assert codes(c.check(new(cl_order_id="c5"), context())) == {Code.RATE_LIMIT}
    (violation,) = c.check(new(cl_order_id="c5"), context())
    assert violation.field == "orders"
    assert violation.limit == 5
    assert violation.value == 6
    clock.advance(SECOND)
    assert c.check(new(cl_order_id="c5"), context()) == []
    # liquidate and go-flat are never rate limited
    assert c.check(GoFlat(account_id="ACC1"), context()) == []


# -- in-flight accounting -------------------------------------------------------------


def test_sent_orders_count_until_the_tracker_shows_them() -> None:
    clock = ManualClock(NOW_NS)
    toml = '[instruments."*"]\nmax_position = 3\n[accounts."*"]\n'
    c = checks(clock=clock, limits_obj=Limits.from_toml(toml))
    first = new(qty=2, cl_order_id="a")
    assert c.check(first, context()) == []
    c.record_sent(first)
    assert [o.cl_order_id for o in c.in_flight("ACC1")] == ["a"]
    second = new(qty=2, cl_order_id="b")
    assert codes(c.check(second, context())) == {Code.POSITION_ABOVE_MAX}
    # the tracker now reports "a" itself: it is not counted twice
    tracked = context(open_orders=[order(cl_order_id="a", chain_id="a", qty=2)])
    assert codes(c.check(second, tracked)) == {Code.POSITION_ABOVE_MAX}
    assert c.in_flight("ACC1") == ()
    assert c.check(new(qty=1, cl_order_id="b"), tracked) == []
    # an order that never shows up stops counting after the in-flight TTL
    c.record_sent(new(qty=2, cl_order_id="lost"))
    assert codes(c.check(second, context())) == {Code.POSITION_ABOVE_MAX}
    clock.advance(6 * SECOND)
    assert c.check(second, context()) == []


def test_tracked_sends_count_for_rate_limits_but_are_never_in_flight() -> None:
    clock = ManualClock(NOW_NS)
    toml = '[instruments."*"]\nmax_open_orders = 1\n[accounts."*"]\norders_per_second = 2\n'
    c = checks(clock=clock, limits_obj=Limits.from_toml(toml))
    first = new(cl_order_id="a")
    c.record_tracked(first)  # the caller's tracker lists it while it is open
    assert c.in_flight("ACC1") == ()
    assert c.check(new(cl_order_id="b"), context()) == []  # it filled: nothing open
    c.record_tracked(new(cl_order_id="b"))
    assert codes(c.check(new(cl_order_id="c"), context())) == {Code.RATE_LIMIT}


def test_forget_drops_an_in_flight_order_at_once() -> None:
    clock = ManualClock(NOW_NS)
    toml = '[instruments."*"]\nmax_open_orders = 1\n[accounts."*"]\n'
    c = checks(clock=clock, limits_obj=Limits.from_toml(toml))
    c.record_sent(new(cl_order_id="a"))
    assert codes(c.check(new(cl_order_id="b"), context())) == {Code.OPEN_ORDERS_ABOVE_MAX}
    c.forget("ACC1", "a")  # final (filled, cancelled): no longer counted
    assert c.in_flight("ACC1") == ()
    assert c.check(new(cl_order_id="b"), context()) == []
    c.forget("ACC1", "never-sent")  # harmless


# -- rounding policy -------------------------------------------------------------------


def _rounding_checks(policy: str) -> PreTradeChecks:
    toml = f'[instruments."*"]\nprice_rounding = "{policy}"\n[accounts."*"]\n'
    return checks(limits_obj=Limits.from_toml(toml))


@pytest.mark.parametrize(
    ("policy", "side", "order_type", "price", "expected"),
    [
        ("REFUSE", Side.BUY, OrderType.LMT, "75.005", "75.005"),
        ("NEAREST", Side.BUY, OrderType.LMT, "75.005", "75.01"),
        ("DOWN", Side.SELL, OrderType.LMT, "75.009", "75.00"),
        ("UP", Side.BUY, OrderType.LMT, "75.001", "75.01"),
        ("PASSIVE", Side.BUY, OrderType.LMT, "75.009", "75.00"),
        ("PASSIVE", Side.SELL, OrderType.LMT, "75.001", "75.01"),
        ("PASSIVE", Side.BUY, OrderType.STP, "75.001", "75.01"),
        ("PASSIVE", Side.SELL, OrderType.STP, "75.009", "75.00"),
    ],
)
def test_apply_rounding(
    policy: str, side: Side, order_type: OrderType, price: str, expected: str
) -> None:
    c = _rounding_checks(policy)
    if order_type is OrderType.LMT:
        request = new(side=side, limit_price=Decimal(price))
    else:
        request = new(side=side, order_type=order_type, limit_price=None, stop_price=Decimal(price))
    rounded = c.apply_rounding(request, context())
    got = rounded.limit_price if order_type is OrderType.LMT else rounded.stop_price  # type: ignore[union-attr]
    assert got == Decimal(expected)
    if policy == "REFUSE":
        assert rounded is request
        assert codes(c.check(rounded, context())) == {Code.PRICE_OFF_TICK}
    else:
        assert c.check(rounded, context()) == []


def test_rounding_leaves_on_grid_requests_alone() -> None:
    request = new()
    assert _rounding_checks("NEAREST").apply_rounding(request, context()) is request


# -- activation window -------------------------------------------------------------------


def test_activation_window() -> None:
    now = datetime(2023, 11, 14, 15, 0, tzinfo=UTC)
    minute = timedelta(minutes=1)
    assert check_activation(None, None, NOW_NS) is None
    assert check_activation(now - minute, now + minute, NOW_NS) is None
    assert check_activation(now, None, NOW_NS) is None  # the start is inclusive
    early = check_activation(now + minute, None, NOW_NS)
    assert early is not None
    assert early.code == Code.NOT_YET_ACTIVE
    assert early.field == "start_time"
    late = check_activation(None, now, NOW_NS)  # the end is exclusive
    assert late is not None
    assert late.code == Code.ACTIVATION_EXPIRED
    inverted = check_activation(now + minute, now, NOW_NS)
    assert inverted is not None
    assert inverted.code == Code.ACTIVATION_WINDOW_INVALID
    naive = check_activation(datetime(2023, 11, 14), None, NOW_NS)
    assert naive is not None
    assert naive.code == Code.ACTIVATION_WINDOW_INVALID


# -- validators are replaceable; guards are not -------------------------------------


class _NoFridays:
    name = "quantity"  # replaces the built-in quantity rule

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        return [Violation(code="CUSTOM", field="qty", rule="custom rule")]


def test_a_replaced_validator_is_used_and_guards_stay() -> None:
    c = checks()
    c.validators.add(_NoFridays(), replace=True)
    # the replacement runs, and the shape guard (quantity > 0) is not removable with it
    assert codes(c.check(new(qty=0), context())) == {"CUSTOM", Code.QTY_NOT_POSITIVE}
    assert codes(c.check(new(qty=1), context())) == {"CUSTOM"}
    for name in c.validators.names():
        c.validators.remove(name)
    assert codes(c.check(new(qty=0), context())) == {Code.QTY_NOT_POSITIVE}
    assert c.check(new(qty=50), context()) == []  # the limits file's max_order_qty is optional
    assert codes(c.check(new(symbol="F.US.ZZZ"), context(instrument=None))) == {
        Code.INSTRUMENT_NOT_ALLOWED,
        Code.INSTRUMENT_UNKNOWN,
    }


def test_unknown_request_type_is_denied() -> None:
    c = PreTradeChecks(
        ValidatorRegistry(), limits=StaticLimits(limits()), clock=ManualClock(NOW_NS)
    )
    (violation,) = c.check(object(), context())  # type: ignore[arg-type]
    assert violation.code == Code.REQUEST_TYPE_INVALID
    assert violation.field == "request_type"


def test_check_mandatory_runs_only_the_guards() -> None:
    c = checks()
    # off the tick grid is an optional rule; a quantity of 0 is a shape guard
    assert c.check_mandatory(new(limit_price=Decimal("75.005")), context()) == []
    assert codes(c.check_mandatory(new(qty=0), context())) == {Code.QTY_NOT_POSITIVE}
    assert codes(c.check_mandatory(new(symbol="F.US.ZZZ"), context(instrument=None))) == {
        Code.INSTRUMENT_NOT_ALLOWED,
        Code.INSTRUMENT_UNKNOWN,
    }
    c.kill_switch.set(KillSwitchState.HALTED, "test")
    assert codes(c.check_mandatory(new(), context())) == {Code.KILL_SWITCH_HALTED}
