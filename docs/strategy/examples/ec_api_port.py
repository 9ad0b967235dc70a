"""The seed README's strategy, ported from EC_API to ec as literally as it goes.

    ec replay docs/strategy/examples/ec_api_port.py:strategy --ticks cle.csv --account 1000

What stays as the EC_API user wrote it: a module-level account, payloads with
activation windows from the wall clock (``datetime.now(timezone.utc) +
timedelta(minutes=5)`` to ``+ timedelta(days=1)``), fixed client order ids that
later payloads refer to, the trigger lambdas over ``tick_buffer.ohlc()['Close']``,
the tree built bottom-up, its branches in the seed's order.

What had to change, and why:

* ``Asset_A`` becomes a listed contract (``CLE``, crude oil), and the seed's prices
  (A=100, B=50, C=60, D=70, modify to 80) are placed on its grid: ``70 + x / 100``;
* the account is a string (``"1000"``): ec keys accounts by str. Pass
  ``--account 1000`` (or trade ``ctx.account_id``): an order for an account the
  session does not trade is denied at once (``ACCOUNT_UNKNOWN``);
* ``Payload(..., check_method=CQGFormatCheck)`` becomes ``Payload(..., checks=("cqg",))``,
  ``RequestType``/``order_info`` dicts become typed requests (``NewOrder`` ...);
* the entry node says ``advance_on=AdvanceOn.FILLED``: EC_API moves on once the
  entry is acknowledged, so a take-profit could fire while the entry still works and
  leave the account long 2;
* the overtime condition compares market time (``ctx.now_ns``), not a wall-clock
  stamp taken at import.

Replayed on recorded data, the wall-clock window lies after the last tick: every
payload is held and the report lists it as never opened (a replay never waits on
itself). :func:`build` makes the same plan with the windows from another "now",
e.g. the start of the recorded data.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ec_core.execution import Payload
from ec_core.model import CancelOrder, LiquidateAll, ModifyOrder, NewOrder, OrderType, Side
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    AdvanceOn,
    OpSignal,
    OpStrategy,
    StrategyContext,
)
from ec_core.strategy.loader import RunInfo, StrategyPlan

# Global variables (EC_API: account_id = 1000)
ACCOUNT_ID = "1000"
SYMBOL = "CLE"  # EC_API: "Asset_A"
checks = ("cqg",)  # EC_API: CQGFormatCheck

# Trigger prices on CLE's grid (seed: 100, 50, 60, 70, modify to 80)
price_a, price_b, price_c, price_d, price_a2 = (
    Decimal(70) + Decimal(x) / 100 for x in (100, 50, 60, 70, 80)
)


def close(ctx: StrategyContext) -> Decimal:
    return ctx.feeds[SYMBOL].tick_buffer.ohlc()["Close"]


TE_trigger = lambda ctx: close(ctx) >= price_a  # noqa: E731
mod_TE_trigger = lambda ctx: price_b < close(ctx) < price_c  # noqa: E731
TP_trigger_1 = lambda ctx: close(ctx) <= price_c  # noqa: E731
TP_trigger_2 = lambda ctx: close(ctx) <= price_d  # noqa: E731
cancel_trigger = lambda ctx: close(ctx) < price_b  # noqa: E731


def build(now: datetime) -> StrategyPlan:
    """The seed's payloads, nodes and tree, with every window from ``now``."""
    start_time = now + timedelta(minutes=5)
    end_time = now + timedelta(days=1)

    def payload(request_id: int, request: object) -> Payload:
        return Payload(
            request=request,  # type: ignore[arg-type]
            request_id=request_id,
            start_time=start_time,
            end_time=end_time,
            checks=checks,
        )

    def new(side: Side, price: Decimal) -> NewOrder:
        return NewOrder(
            account_id=ACCOUNT_ID, symbol=SYMBOL, cl_order_id="1231314", side=side, qty=2,
            order_type=OrderType.LMT, limit_price=price,
        )  # fmt: skip

    # Define Payloads for the asset (the seed's fixed ids: "1231314" is the entry)
    TE_PL_A = payload(101, new(Side.SELL, price_a))
    TE_mod_PL_A = payload(
        102,
        ModifyOrder(
            account_id=ACCOUNT_ID, symbol=SYMBOL, orig_cl_order_id="1231314",
            cl_order_id="1231315", limit_price=price_a2,
        ),
    )  # fmt: skip
    TP_PL1_A = payload(103, new(Side.BUY, price_c))
    TP_PL2_A = payload(104, new(Side.BUY, price_d))
    cancel_PL_A = payload(
        105, CancelOrder(account_id=ACCOUNT_ID, symbol=SYMBOL, orig_cl_order_id="1231314")
    )
    overtime_PL_A = payload(106, LiquidateAll(account_id=ACCOUNT_ID, symbol=SYMBOL))

    # Define Action Nodes, bottom-up (end nodes first, the root last)
    cancel_node = ActionNode(
        "CancelEntry", payloads=[cancel_PL_A], trigger_cond=cancel_trigger, transitions={}
    )
    TP_node_1 = ActionNode(
        "TakeProfit1", payloads=[TP_PL1_A], trigger_cond=TP_trigger_1, transitions={}
    )
    TP_node_2 = ActionNode(
        "TakeProfit2", payloads=[TP_PL2_A], trigger_cond=TP_trigger_2, transitions={}
    )
    TE_node_mod = ActionNode(
        "ModifyTargetEntry",
        payloads=[TE_mod_PL_A],
        trigger_cond=mod_TE_trigger,
        transitions={"TakeProfit2": (TP_trigger_2, TP_node_2)},
    )
    TE_node = ActionNode(
        "TargetEntry",
        payloads=[TE_PL_A],
        trigger_cond=TE_trigger,
        transitions={  # the seed's order: a replay warns that the modify band is shadowed
            "TakeProfit1": (TP_trigger_1, TP_node_1),
            "ModifyTargetEntry": (mod_TE_trigger, TE_node_mod),
            "CancelEntry": (cancel_trigger, cancel_node),
        },
        advance_on=AdvanceOn.FILLED,  # ec: no take-profit before the entry has filled
    )

    class SeedStrategy(OpStrategy):
        """OpStrategy producing the seed's OpSignal once, with a 10-minute overtime."""

        def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
            if self.produced:
                return None
            deadline = ctx.now_ns + 600 * 10**9
            overtime_cond = lambda ctx: ctx.now_ns >= deadline  # noqa: E731
            overtime_node = ActionNode(
                "OvertimeExit", payloads=[overtime_PL_A], trigger_cond=overtime_cond,
                transitions={},
            )  # fmt: skip
            # Define Action Tree
            tree = ActionTree(TE_node, overtime_cond, overtime_node)
            return OpSignal(tree, symbol=symbol, name="seed")

    return StrategyPlan([SeedStrategy(symbols=[SYMBOL])], timeframes=("1s", "1m"))


NOW = datetime.now(timezone.utc)  # EC_API computes its windows at import, from the wall clock  # noqa: UP017


def strategy(info: RunInfo) -> StrategyPlan:
    """The factory ``ec replay`` / ``ec run`` call."""
    return build(NOW)
