"""An order action the run's stop cuts off is counted by where its payload got to.

``ec run`` stops by cancelling the engine's task group: an action waiting for the venue's
answer is cancelled, and the executor marks its order UNKNOWN. It was counted as an
answered action ("1 sent (0 rejected, 0 unknown)") while its order was UNKNOWN at stop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from ec_core.data import FeedSet
from ec_core.errors import OrderUnknownError
from ec_core.execution import Payload, PayloadStatus
from ec_core.model import MarketEvent, Order, Side
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    OpSignal,
    OpStrategy,
    StrategyContext,
    StrategyEngine,
)
from ec_core.strategy.outcomes import OrderOutcomes
from strategy_support import ACCOUNT, INSTRUMENT, SYMBOL, T0, RecordingRouter, limit, quote

pytestmark = pytest.mark.anyio

_P = PayloadStatus


class OneBid(OpStrategy):
    def __init__(self) -> None:
        super().__init__(symbols=[SYMBOL])

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        return OpSignal(ActionTree(ActionNode("Bid", [limit(Side.BUY, 90, 1)])), symbol=symbol)


class StuckRouter(RecordingRouter):
    """Takes the payload to ``reach`` (as the executor would), then never answers."""

    def __init__(self, *reach: PayloadStatus) -> None:
        super().__init__()
        self.reach = reach
        self.waiting = anyio.Event()

    async def execute(self, payload: Payload) -> Order | None:
        for status in self.reach:
            payload.advance(status)
        self.waiting.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


async def stopped_while_waiting(router: StuckRouter) -> StrategyEngine:
    """A live run whose one order action waits on the venue when the run is stopped."""
    engine = StrategyEngine(
        FeedSet.of([INSTRUMENT], timeframes=("1s",)), [OneBid()], router=router, account_id=ACCOUNT
    )

    async def live() -> AsyncIterator[MarketEvent]:
        yield quote(T0, 100)
        await anyio.sleep_forever()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run, live())
            await router.waiting.wait()
            tg.cancel_scope.cancel()  # the stop (SIGINT)
    return engine


@pytest.mark.parametrize(
    ("reach", "sent", "unknown", "failed"),
    [
        ((_P.VALIDATED, _P.SENT), 1, 1, 0),  # on the wire: its answer never came
        ((_P.VALIDATED, _P.SENT, _P.UNKNOWN), 1, 1, 0),  # the executor marked it so
        ((_P.VALIDATED,), 0, 0, 1),  # cut off before the send: nothing left
    ],
)
async def test_an_action_cut_off_by_the_stop_is_counted_by_where_it_got(
    reach: tuple[PayloadStatus, ...], sent: int, unknown: int, failed: int
) -> None:
    engine = await stopped_while_waiting(StuckRouter(*reach))
    counts = engine.outcomes.snapshot()
    assert (counts.actions, counts.sent, counts.unknown, counts.failed) == (
        1,
        sent,
        unknown,
        failed,
    )
    assert engine.in_flight == 0


def test_a_cut_off_action_whose_answer_had_come_is_counted_as_answered() -> None:
    outcomes = OrderOutcomes()
    outcomes.count_cut_off(_P.ACKNOWLEDGED)
    outcomes.count_cut_off(_P.DONE)
    outcomes.count(OrderUnknownError("no answer", cl_order_id="x"))
    counts = outcomes.snapshot()
    assert (counts.actions, counts.sent, counts.unknown, counts.failed) == (3, 3, 1, 0)
