"""A strategy file the replay tests of recorded data (ticks, bars) write and run."""

from __future__ import annotations

_SWING = """
from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy


class Swing(OpStrategy):
    '''Buy at market, sell at market once the mid moved 3 ticks either way.'''

    def __init__(self, account):
        super().__init__(symbols={symbols!r}, max_signals={max_signals}, cooldown_ns={cooldown_ns})
        self.account = account

    def generate(self, ctx, symbol):
        tb = ctx.feeds[symbol].tick_buffer
        start = tb.close_ticks
        order = lambda side: NewOrder(account_id=self.account, symbol=symbol, side=side, qty=1,
                                      order_type=OrderType.MKT)
        moved = lambda ctx: abs(tb.close_ticks - start) >= 3
        root = ActionNode("Buy", [order(Side.BUY)],
                          transitions={{"out": (moved, ActionNode("Sell", [order(Side.SELL)]))}})
        return OpSignal(ActionTree(root), symbol=symbol)


def strategy(info):
    return Swing(info.account_id)
"""


def swing_strategy(
    *, max_signals: int = 1, cooldown_ns: int = 2_000_000_000, symbols: tuple[str, ...] = ("CLE",)
) -> str:
    """A strategy file (``strategy`` factory): buy ``symbols`` (CLE) at market, sell at
    market once the mid moved 3 ticks either way; ``max_signals`` at once, ``cooldown_ns``
    between them."""
    return _SWING.format(max_signals=max_signals, cooldown_ns=cooldown_ns, symbols=list(symbols))
