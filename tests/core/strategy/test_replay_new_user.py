"""What an EC_API user's code does in a replay: it ends, fast, with a clear outcome.

Every replay here runs under a hard deadline (``anyio.fail_after``): a replay that
waits on itself fails the test instead of hanging it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from ec_core.execution import Payload
from ec_core.model import MarketEvent, NewOrder, Quote, Side
from ec_core.plugins import PluginHost
from ec_core.safety.codes import Code
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy, StrategyContext, never
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import DEFAULT_REPLAY_ACCOUNT, replay_plan
from ec_core.strategy.report import ReplayReport, render_text
from ec_core.strategy.rig import TradingRig
from strategy_support import CLE_T0, cle_limit, cle_quote

SYMBOL = "CLE"
SEC = 1_000_000_000
T0 = CLE_T0
DEADLINE_S = 10


def quote(second: float, bid: str = "70.20", ask: str = "70.21") -> Quote:
    return cle_quote(second, bid, ask)


def at(second: float) -> datetime:
    return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=(T0 + int(second * SEC)) // 1000)


def bid(account_id: str, price: str = "70.00") -> NewOrder:
    return cle_limit(account_id, Side.BUY, price)


class OneShot(OpStrategy):
    """One signal whose root node sends ``template`` at once."""

    def __init__(self, template: Payload | NewOrder) -> None:
        super().__init__(symbols=[SYMBOL])
        self.template = template

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        return OpSignal(ActionTree(ActionNode("Entry", [self.template])), symbol=symbol)


async def replay(strategy: OpStrategy, tape: Sequence[MarketEvent], **kw: object) -> ReplayReport:
    with anyio.fail_after(DEADLINE_S):
        return await replay_plan(PluginHost.load(), StrategyPlan([strategy]), tape, **kw)  # type: ignore[arg-type]


# -- §3: an account the session does not have ------------------------------------------------


@pytest.mark.anyio
async def test_a_strategy_naming_another_account_is_denied_not_timed_out() -> None:
    """``replay_plan`` without ``account_id`` while the strategy names account 1000."""
    report = await replay(OneShot(bid("1000")), [quote(0), quote(1)])
    [error] = report.errors
    assert error.where == "order"
    assert error.error_type == "OrderDeniedError"
    assert Code.ACCOUNT_UNKNOWN in error.error
    assert "'1000'" in error.error or "value=1000" in error.error
    assert DEFAULT_REPLAY_ACCOUNT in error.error  # the account it could have used
    assert report.fills == ()
    [path] = report.signal_paths
    assert path.state == "CANCELLED"
    [warning] = report.warnings  # said once, at the top, with what to do
    assert "named account '1000', which this replay does not trade (REPLAY-1)" in warning
    assert "--account 1000" in warning
    assert "warnings:" in render_text(report)


@pytest.mark.anyio
async def test_a_rig_for_an_account_the_logon_does_not_trade_is_a_config_error() -> None:
    from ec_core.errors import ConfigError
    from ec_core.strategy.rig import trading_rig

    host = PluginHost.load()
    async with host.open_session("mock", {"account_id": "MOCK-1", "market": False}) as session:
        with pytest.raises(ConfigError, match=r"ACCOUNT_UNKNOWN: account '1000'.*MOCK-1") as info:
            async with trading_rig(
                host,
                session,
                StrategyPlan([OneShot(bid("1000"))]),
                account_id="1000",
                clock=session.clock,  # type: ignore[attr-defined]
                engine_clock=None,
            ):
                pass  # pragma: no cover
        assert info.value.path == "account_id"


# -- §2: activation windows on replayed time ---------------------------------------------------


def windowed(start_s: float | None, end_s: float | None = None) -> Payload:
    return Payload(
        request=bid(DEFAULT_REPLAY_ACCOUNT),
        start_time=None if start_s is None else at(start_s),
        end_time=None if end_s is None else at(end_s),
    )


@pytest.mark.anyio
async def test_a_payload_held_by_its_window_is_sent_when_replayed_time_reaches_it() -> None:
    tape = [quote(s) for s in range(10)]
    report = await replay(OneShot(windowed(start_s=5.5)), tape)
    assert report.errors == ()
    assert report.held == ()
    [path] = report.signal_paths
    sent = [t for t in path.transitions if t.kind == "arm"]
    assert [t.ts_ns for t in sent] == [T0 + 6 * SEC]  # the first tick at or past 5.5 s
    assert report.orders_sent == 1


@pytest.mark.anyio
async def test_a_window_that_never_opens_in_the_data_is_listed_as_expired() -> None:
    """EC_API's ``start_time = datetime.now(timezone.utc) + timedelta(minutes=5)``."""
    template = Payload(
        request=bid(DEFAULT_REPLAY_ACCOUNT),
        start_time=datetime.now(UTC) + timedelta(minutes=5),
        end_time=datetime.now(UTC) + timedelta(days=1),
    )
    report = await replay(OneShot(template), [quote(s) for s in range(5)])
    [held] = report.held
    assert held.status == "EXPIRED"
    assert held.node == "Entry"
    assert held.start_ns > report.last_ns
    assert "never opened" in held.reason
    assert f"start_time {template.start_time.isoformat()}" in held.reason  # type: ignore[union-attr]
    assert report.orders_sent == 0
    assert "held" in render_text(report)
    assert "never opened" in render_text(report)


@pytest.mark.anyio
async def test_a_window_opening_in_a_gap_of_the_data_is_sent_on_the_next_tick() -> None:
    tape = [quote(0), quote(1), quote(60)]  # nothing between 1 s and 60 s
    report = await replay(OneShot(windowed(start_s=30)), tape)
    assert report.held == ()
    assert report.orders_sent == 1


@pytest.mark.anyio
async def test_a_window_that_closes_before_the_next_tick_expires_unsent() -> None:
    tape = [quote(0), quote(1), quote(60)]
    template = windowed(start_s=30, end_s=40)
    strategy = OneShot(template)
    rigs: list[TradingRig] = []
    report = await replay(strategy, tape, on_rig=rigs.append)
    assert report.errors == ()
    assert report.held == ()
    assert rigs[0].tracker.orders(DEFAULT_REPLAY_ACCOUNT) == []  # nothing reached the venue


@pytest.mark.anyio
async def test_without_the_market_shown_a_held_payload_still_ends_the_replay() -> None:
    """The benchmark's mode (the venue's clock does not follow the ticks): never a hang."""
    tape = [quote(s) for s in range(10)]
    report = await replay(OneShot(windowed(start_s=5.5)), tape, show_market=False)
    assert report.held == ()
    assert report.ticks == 10
    for error in report.errors:  # the executor may not wait on the replay's clock
        assert "cannot wait" in error.error


class HeldThenOvertime(OpStrategy):
    """The entry's window opens at 5 s; the overtime (at 2 s) pre-empts it."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        deadline = ctx.now_ns + 2 * SEC
        overtime = ActionNode("Overtime")
        tree = ActionTree(
            ActionNode("Entry", [windowed(start_s=5)]), lambda c: c.now_ns >= deadline, overtime
        )
        return OpSignal(tree, symbol=symbol)


@pytest.mark.anyio
async def test_a_held_payload_the_tree_withdrew_is_never_sent() -> None:
    rigs: list[TradingRig] = []
    report = await replay(
        HeldThenOvertime(symbols=[SYMBOL]), [quote(s) for s in range(8)], on_rig=rigs.append
    )
    assert rigs[0].tracker.orders(DEFAULT_REPLAY_ACCOUNT) == []  # the entry never left
    assert report.orders_sent == 0
    assert report.held == ()


class HeldStandbyThenBranch(OpStrategy):
    """A standby child's payload is held (window at 5 s); at 2 s the other branch is taken."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        at_2s = ctx.now_ns + 2 * SEC
        other = ActionNode("Other", transitions={"never": (never, ActionNode("End"))})
        resting = ActionNode("Resting", [windowed(start_s=5)], standby=True)
        root = ActionNode(
            "Root",
            transitions={
                "other": (lambda c: c.now_ns >= at_2s, other),
                "resting": (never, resting),
            },
        )
        return OpSignal(ActionTree(root), symbol=symbol)


@pytest.mark.anyio
async def test_a_held_payload_of_a_sibling_cancelled_by_a_branch_is_never_sent() -> None:
    rigs: list[TradingRig] = []
    report = await replay(
        HeldStandbyThenBranch(symbols=[SYMBOL]), [quote(s) for s in range(8)], on_rig=rigs.append
    )
    assert rigs[0].tracker.orders(DEFAULT_REPLAY_ACCOUNT) == []  # withdrawn before its window
    assert report.held == ()
    [path] = report.signal_paths
    assert path.path == ("Root", "Other")
