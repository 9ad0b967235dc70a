"""A fill of a symbol the trader does not hold (an order placed from another terminal on
the same account, seen on the account's stream) is never added to the P&L as if its
price points were money: ``trader.pnl()`` refuses naming it, and answers the exact money
once the trader learns the instrument."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from ec_core.cli.run_view import instrument_lines
from ec_core.journal import Journal
from ec_core.model import Fill, Instrument
from ec_core.model.money import format_money
from ec_core.plugins import PluginHost, hookimpl
from ec_core.settings import Settings
from ec_core.strategy import OpSignal, OpStrategy, StrategyContext
from ec_core.strategy.loader import StrategyPlan
from ec_core.strategy.replay import replay_feed
from ec_core.strategy.rig import order_path, trading_rig

import ec_core
from ec_core import NewOrder, OrderType, PnlUnknownError, Side

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _no_settings_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EC_SETTINGS", raising=False)


class _Fills:
    """Hears the tracker's fills: the test waits for one, not for time to pass."""

    def __init__(self) -> None:
        self.fills: list[Fill] = []
        self.heard = anyio.Event()

    @hookimpl
    def ec_on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)
        self.heard.set()

    async def next(self) -> Fill:
        await self.heard.wait()
        self.heard = anyio.Event()
        return self.fills[-1]


def _elsewhere(side: Side, n: int) -> NewOrder:
    """CLE at market, sent by another terminal: past this trader's executor."""
    return NewOrder(
        account_id="MOCK-1", symbol="CLE", side=side, qty=2, order_type=OrderType.MKT,
        cl_order_id=f"elsewhere.{n}",
    )  # fmt: skip


async def test_a_fill_of_a_symbol_not_held_makes_pnl_refuse_until_the_instrument_is_known() -> None:
    host = PluginHost.load()
    fills = _Fills()
    host.register(fills, name="fills")
    with anyio.fail_after(30):
        async with ec_core.connect("mock", host=host) as trader:
            venue = trader.venue
            assert venue is not None
            points = Decimal(0)
            for n in range(0, 10, 2):  # until the round trips gain or lose (the spread)
                await venue.orders.send(_elsewhere(Side.BUY, n))
                bought = await fills.next()
                await venue.orders.send(_elsewhere(Side.SELL, n + 1))
                sold = await fills.next()
                points += (sold.price - bought.price) * 2
                if points:
                    break
            assert points != 0
            # CLE was booked in points: the P&L in money refuses, naming it
            assert trader.tracker.unpriced() == ("CLE",)
            assert trader.tracker.realized_points("MOCK-1", "CLE") == points
            with pytest.raises(PnlUnknownError, match="CLE") as caught:
                trader.pnl()
            assert caught.value.symbols == ("CLE",)
            # learnt: priced at once, $1,000 a point, exact
            cle = await trader.instrument("CLE")
            assert trader.tracker.unpriced() == ()
            assert trader.pnl() == points * cle.multiplier == points * 1000
            [position] = trader.positions()
            assert position.realized_pnl == points * 1000


async def test_fills_recovered_from_the_journal_are_priced_at_connect(tmp_path: Path) -> None:
    """Connected again on the same journal, the tracker rebuilds EP's fills before anything
    resolved EP: the order path resolves the recovered symbols at start, so pnl() is
    money at once (it refused naming EP; before that it read the points as money)."""
    settings = Settings(vendor="mock", journal_path=str(tmp_path / "journal.db"))

    def market(side: Side) -> NewOrder:
        return NewOrder(
            account_id="MOCK-1", symbol="EP", side=side, qty=2, order_type=OrderType.MKT
        )

    with anyio.fail_after(30):
        async with ec_core.connect(settings) as trader, trader.quotes(["EP"]) as ticks:
            points = Decimal(0)
            for _ in range(10):  # until the round trips gain or lose (the spread)
                bought = await trader.wait_final(await trader.execute(market(Side.BUY)) or "")
                await anext(ticks)
                sold = await trader.wait_final(await trader.execute(market(Side.SELL)) or "")
                assert bought.avg_fill_price is not None
                assert sold.avg_fill_price is not None
                points += (sold.avg_fill_price - bought.avg_fill_price) * 2
                if points:
                    break
            assert points != 0
            assert trader.pnl() == points * 50
        async with ec_core.connect(settings) as again:
            assert again.tracker.unpriced() == ()
            assert again.pnl() == points * 50
        # ec run's rig on the same journal, its plan on CLE: EP is priced for the P&L,
        # and the run's own instruments (what it streams) stay the plan's
        host = PluginHost.load()
        vendor = {"clock": "simulated", "market": False, "account_id": "MOCK-1"}
        async with host.open_session("mock", vendor) as session:
            venue_feed = replay_feed(session)
            with Journal(settings.journal_path or "") as journal:
                async with trading_rig(
                    host,
                    session,
                    StrategyPlan([_Watch(symbols=["CLE"])]),
                    account_id="MOCK-1",
                    clock=venue_feed.clock,
                    engine_clock=None,
                    journal=journal,
                ) as rig:
                    assert list(rig.instruments) == ["CLE"]
                    assert rig.tracker.unpriced() == ()
                    assert rig.tracker.realized_pnl("MOCK-1") == points * 50
                    # its view and stop summary still show EP, now in money
                    ep = format_money(points * 50, 2, "USD", sign=True)
                    assert instrument_lines(rig)[1:] == [
                        f"EP: position +0, realized {ep} (not traded by this run)"
                    ]


async def test_the_symbol_of_an_order_working_across_a_restart_is_resolved_at_start(
    tmp_path: Path,
) -> None:
    """An order left working (nothing filled) is recovered from the journal: the order
    path resolves its symbol at start, so its first fill after the restart is booked in
    money, inside the daily loss limit's sum (it was left to the gateway process alone:
    connect() and ec run booked that fill in price points)."""
    settings = Settings(vendor="mock", journal_path=str(tmp_path / "journal.db"))
    with anyio.fail_after(30):
        async with ec_core.connect(settings) as trader:
            far_below = NewOrder(
                account_id="MOCK-1", symbol="EP", side=Side.BUY, qty=1,
                order_type=OrderType.LMT, limit_price=Decimal("1000.00"),
            )  # fmt: skip
            order = await trader.execute(far_below)
            assert order is not None
            assert not order.state.is_final
        host = PluginHost.load()
        vendor = {"clock": "simulated", "market": False, "account_id": "MOCK-1"}
        async with host.open_session("mock", vendor) as session:
            venue_feed = replay_feed(session)
            instruments: dict[str, Instrument] = {}
            with Journal(settings.journal_path or "") as journal:
                async with order_path(
                    host,
                    session,
                    account_id="MOCK-1",
                    clock=venue_feed.clock,
                    instruments=instruments,
                    journal=journal,
                ) as path:
                    assert [o.symbol for o in path.tracker.open_orders("MOCK-1")] == ["EP"]
                    assert list(instruments) == ["EP"]


class _Watch(OpStrategy):
    def generate(self, ctx: StrategyContext, symbol: str) -> OpSignal | None:
        return None
