"""The seed README's tree — entry, modify, take-profit, cancel, overtime — runnable.

    uv run python docs/strategy/examples/seed_tree.py

It replays a few quotes through the strategy engine with a small in-memory paper
router (so it runs anywhere), prints the tree as text and Mermaid, and the path
the signal took. Swap ``PaperRouter()`` for ``ExecutorRouter(executor, tracker)``
to send the same payloads to a real vendor session.
"""

from __future__ import annotations

from decimal import Decimal

import anyio
import msgspec
from ec_core.data import FeedSet
from ec_core.execution import Payload
from ec_core.model import (
    CancelOrder,
    Instrument,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Position,
    Quote,
    Side,
)
from ec_core.strategy import (
    ActionNode,
    ActionTree,
    OpSignal,
    OpStrategy,
    StrategyContext,
    StrategyEngine,
)

ACCOUNT_ID = "1000"
ASSET = "Asset_A"
price_a, price_b, price_c, price_d = 100, 50, 60, 70


def close(ctx: StrategyContext) -> Decimal:
    return ctx.feeds[ASSET].tick_buffer.ohlc()["Close"]


def build_tree(deadline_ns: int) -> ActionTree:
    te_trigger = lambda ctx: close(ctx) >= price_a  # noqa: E731
    mod_te_trigger = lambda ctx: price_b < close(ctx) < price_c  # noqa: E731
    tp_trigger_1 = lambda ctx: close(ctx) <= price_c  # noqa: E731
    tp_trigger_2 = lambda ctx: close(ctx) <= price_d  # noqa: E731
    cancel_trigger = lambda ctx: close(ctx) < price_b  # noqa: E731
    overtime_cond = lambda ctx: ctx.now_ns >= deadline_ns  # noqa: E731

    entry = NewOrder(
        account_id=ACCOUNT_ID, symbol=ASSET, side=Side.SELL, qty=2,
        order_type=OrderType.LMT, limit_price=Decimal(price_a), cl_order_id="1231314",
    )  # fmt: skip
    # Fixed ids as in the seed: "1231314" is rewritten to the entry's live id at fire time.
    modify = ModifyOrder(
        account_id=ACCOUNT_ID, symbol=ASSET, orig_cl_order_id="1231314",
        cl_order_id="1231315", limit_price=Decimal(80),
    )  # fmt: skip
    cancel = CancelOrder(account_id=ACCOUNT_ID, symbol=ASSET, orig_cl_order_id="1231314")

    def buy(price: int) -> NewOrder:
        return NewOrder(
            account_id=ACCOUNT_ID, symbol=ASSET, side=Side.BUY, qty=2,
            order_type=OrderType.LMT, limit_price=Decimal(price),
        )  # fmt: skip

    cancel_node = ActionNode("CancelEntry", [cancel], cancel_trigger, transitions={})
    tp_node_1 = ActionNode("TakeProfit1", [buy(price_c)], tp_trigger_1, transitions={})
    tp_node_2 = ActionNode("TakeProfit2", [buy(price_d)], tp_trigger_2, transitions={})
    te_node_mod = ActionNode(
        "ModifyTargetEntry", [modify], mod_te_trigger, {"TakeProfit2": (tp_trigger_2, tp_node_2)}
    )
    # Branches are tried in order: the narrow band (modify) before the wide one (take profit).
    te_node = ActionNode(
        "TargetEntry",
        payloads=[Payload(request=entry, checks=("cqg",))],
        trigger_cond=te_trigger,
        transitions={
            "CancelEntry": (cancel_trigger, cancel_node),
            "ModifyTargetEntry": (mod_te_trigger, te_node_mod),
            "TakeProfit1": (tp_trigger_1, tp_node_1),
        },
    )
    overtime_node = ActionNode(
        "OvertimeExit", [LiquidateAll(account_id=ACCOUNT_ID, symbol=ASSET)], overtime_cond, {}
    )
    return ActionTree(te_node, overtime_cond, overtime_node)


class SeedStrategy(OpStrategy):
    """One signal per session: the seed tree with a 10-minute overtime."""

    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        if self.produced:
            return None
        return OpSignal(build_tree(ctx.now_ns + 600 * 10**9), symbol=symbol)


class PaperRouter:
    """Accepts every request and keeps orders in memory (not a venue)."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.log: list[str] = []

    async def execute(self, payload: Payload) -> Order | None:
        r = payload.request
        self.log.append(f"{r.request_type.value} {r.cl_order_id}")
        if isinstance(r, NewOrder):
            order = Order(
                chain_id=r.cl_order_id, cl_order_id=r.cl_order_id, account_id=r.account_id,
                symbol=r.symbol, side=r.side, order_type=r.order_type, qty=r.qty,
                limit_price=r.limit_price, state=OrderState.WORKING,
            )  # fmt: skip
            self.orders[order.chain_id] = order
            return order
        for chain, order in self.orders.items():
            if isinstance(r, ModifyOrder | CancelOrder) and order.cl_order_id == r.orig_cl_order_id:
                state = OrderState.CANCELLED if isinstance(r, CancelOrder) else order.state
                self.orders[chain] = msgspec.structs.replace(
                    order, cl_order_id=r.cl_order_id, state=state
                )
                return self.orders[chain]
        return None

    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[Order]:
        return [o for o in self.orders.values() if o.state.is_open]

    def position(self, account_id: str, symbol: str) -> Position:
        return Position(account_id=account_id, symbol=symbol)


async def main() -> None:
    instrument = Instrument(symbol=ASSET, tick_size=Decimal(1))
    router = PaperRouter()
    engine = StrategyEngine(
        FeedSet.of([instrument], timeframes=("1s", "1m")),
        [SeedStrategy(symbols=[ASSET])],
        router=router,
        account_id=ACCOUNT_ID,
    )
    t0 = 1_700_000_000 * 10**9
    closes = [90, 101, 99, 55, 55, 40]
    await engine.replay(
        Quote(symbol=ASSET, ts_ns=t0 + i * 10**9, bid=c, ask=c + 1) for i, c in enumerate(closes)
    )
    signal = engine.finished[0]
    print(signal.tree.to_text())
    print(signal.tree.to_mermaid())
    for record in signal.tree.history:
        print(f"{record.ts_ns - t0:>12} ns  {record.kind:<9} {record.target:<18} {record.reason}")
    print("sent:", ", ".join(router.log))
    print("signal:", signal.state.value)


if __name__ == "__main__":
    anyio.run(main)
