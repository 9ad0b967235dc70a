"""What the tests of recorded data (ticks, bars) share: a strategy file they write and
replay, and the real ``ec`` command run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def run_ec(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``ec ARGS...`` in ``cwd`` in a fresh interpreter, without the caller's EC_SETTINGS."""
    env = {k: v for k, v in os.environ.items() if k != "EC_SETTINGS"}
    return subprocess.run(
        [sys.executable, "-c", "from ec_core.cli.main import main; main()", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
