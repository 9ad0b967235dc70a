"""``trading_rig`` with ``ec run``'s safety stack, in process on the mock vendor.

The full gate needs prices: the rig hands the executor the strategies' feeds, so a
price band is measured from the market the strategies see.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.clock import ManualClock
from ec_core.errors import OrderDeniedError
from ec_core.execution import Payload
from ec_core.journal import Journal
from ec_core.model import NewOrder, OrderType, Quote, Side
from ec_core.plugins import PluginHost
from ec_core.safety import Limits, PreTradeChecks, StaticLimits, parse_limits
from ec_core.strategy import OpSignal, OpStrategy, StrategyContext
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_feed
from ec_core.strategy.rig import trading_rig

ACCOUNT = "RIG-1"
BAND = parse_limits(
    {
        "version": 1,
        "defaults": {"price_band_ticks": 10, "band_requires_reference": True},
        "instruments": {"CLE": {}},
        "accounts": {"*": {}},
    }
)


class Watch(OpStrategy):
    """Subscribes to CLE and never trades: the test sends the orders itself."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return None


def bid(price: str, cl: str) -> Payload:
    order = NewOrder(
        account_id=ACCOUNT,
        symbol="CLE",
        side=Side.BUY,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl,
    )
    return Payload(request=order)


@pytest.mark.anyio
async def test_the_price_band_is_measured_from_the_strategies_feeds(tmp_path: Path) -> None:
    host = PluginHost.load()
    settings = {"clock": "simulated", "market": False, "account_id": ACCOUNT}
    async with host.open_session("mock", settings) as session:
        market = replay_feed(session)
        clock = market.clock
        assert isinstance(clock, ManualClock)
        checks = PreTradeChecks(host.validators(), limits=StaticLimits(Limits(BAND)), clock=clock)
        with Journal(tmp_path / "j.sqlite") as journal:
            async with trading_rig(
                host,
                session,
                StrategyPlan([Watch(symbols=["CLE"])]),
                account_id=ACCOUNT,
                clock=clock,
                engine_clock=None,
                checks=checks,
                journal=journal,
                reconcile=True,
            ) as rig:
                assert rig.recovery is not None
                assert rig.recovery.orders == 0
                assert rig.reconciled is not None
                assert rig.reconciled.clean
                with pytest.raises(OrderDeniedError) as before_data:
                    await rig.executor.execute(bid("70.00", "a"))
                assert before_data.value.codes == ("NO_REFERENCE_PRICE",)
                quote = Quote(
                    symbol="CLE", ts_ns=clock.now_ns() + 1, bid=7000, bid_size=5, ask=7001
                )
                market.feed(quote)  # the venue sees it first, then the strategies' feeds
                rig.engine.feeds.on_event(quote)
                with pytest.raises(OrderDeniedError) as far:
                    await rig.executor.execute(bid("69.00", "b"))
                assert far.value.codes == ("PRICE_OUTSIDE_BAND",)
                order = await rig.executor.execute(bid("69.95", "c"))
                assert order is not None
                assert order.cl_order_id == "c"
