"""Done when: two strategy processes and a monitoring script share one mock-venue session
through ``ec gateway`` on a real Redis (every part a real process)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ec_core.testing.redis_server import RedisServer
from processes import EC, Proc

pytestmark = pytest.mark.slow

STRATEGY = '''
from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy


class Rest(OpStrategy):
    """One bid 20 ticks under the market; says so once it is working."""

    def __init__(self, account):
        super().__init__(symbols=["EP"], max_signals=1)
        self.account = account
        self.said = False

    def generate(self, ctx, symbol):
        tb = ctx.feeds[symbol].tick_buffer
        if self.produced or tb.quote is None or tb.quote.bid is None:
            return None
        bid = NewOrder(account_id=self.account, symbol=symbol, side=Side.BUY, qty=1,
                       order_type=OrderType.LMT, limit_price=tb.to_price(tb.quote.bid - 20))

        def hold(ctx):
            if ctx.open_orders(symbol) and not self.said:
                self.said = True
                print("strategy: order working", flush=True)
            return False

        return OpSignal(ActionTree(ActionNode("Bid", [bid], transitions={
            "never": (hold, ActionNode("Never", [], hold))})), symbol=symbol)


def resting(info):
    return Rest(info.account_id)
'''

MONITOR = """
import sys
import anyio
import ec_core


async def main() -> None:
    async with ec_core.connect(sys.argv[1], account_id="MOCK-1", worker="monitor") as trader:
        owners = sorted(o.cl_order_id.split(".")[0] for o in trader.orders() if o.state.is_open)
        print("monitor: open", ",".join(owners) or "-", "pnl", trader.pnl(), flush=True)


anyio.run(main)
"""


def gateway_toml(url: str, namespace: str, **extra: str) -> str:
    lines = "".join(f"{key} = {value}\n" for key, value in extra.items())
    return f"""\
vendor = "mock"
[vendors.mock]
clock = "wall"
start = 2024-01-10T15:00:01Z  # in session whatever the hour the suite runs
seed = 3

[gateway]
url = "{url}"
namespace = "{namespace}"
accounts = ["MOCK-1"]
symbols = ["EP"]
{lines}
[gateway.workers.w1]
accounts = ["MOCK-1"]
[gateway.workers.w2]
accounts = ["MOCK-1"]
[gateway.workers.monitor]
accounts = ["MOCK-1"]
"""


def test_two_strategy_processes_and_a_monitor_share_one_session(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    (tmp_path / "gw.toml").write_text(gateway_toml(redis_server.url, "done"), encoding="utf-8")
    (tmp_path / "strategy.py").write_text(STRATEGY, encoding="utf-8")
    (tmp_path / "monitor.py").write_text(MONITOR, encoding="utf-8")
    url = f"{redis_server.url}?namespace=done"
    monitor = [sys.executable, "monitor.py", url]
    with Proc([*EC, "gateway", "--config", "gw.toml"], cwd=tmp_path) as gateway:
        gateway.wait_for("ec gateway: serving MOCK-1 on mock")
        run = [*EC, "run", "strategy.py:resting", "--gateway", url, "--account", "MOCK-1"]
        with (
            Proc([*run, "--worker", "w1"], cwd=tmp_path) as first,
            Proc([*run, "--worker", "w2"], cwd=tmp_path) as second,
        ):
            assert "worker w1, account MOCK-1, EP" in first.wait_for("ec run: running")
            second.wait_for("ec run: running")
            first.wait_for("strategy: order working")
            second.wait_for("strategy: order working")
            with Proc(monitor, cwd=tmp_path) as watch:
                assert watch.wait_for("monitor: open") == "monitor: open w1,w2 pnl 0"
                assert watch.finish(None) == 0
            assert first.finish() == 0, first.output
            assert second.finish() == 0, second.output
        for run_proc in (first, second):
            summary = next(line for line in run_proc.lines if line.startswith("ec run: stopped"))
            assert "their working orders cancelled" in summary, run_proc.output
            assert "0 orders working" in summary, run_proc.output
        with Proc(monitor, cwd=tmp_path) as watch:
            assert watch.wait_for("monitor: open") == "monitor: open - pnl 0"
        assert gateway.finish() == 0, gateway.output
    summary = gateway.lines[-1]
    assert summary.startswith("ec gateway: stopped by SIGINT;")
    assert "0 malformed, 0 refused, 0 failed" in summary
    assert "intents waited" in summary
