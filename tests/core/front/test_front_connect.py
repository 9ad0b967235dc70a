"""The front door: ``ec_core.connect`` builds the order path ``ec run`` uses.

The quick start's example is run as written against the mock vendor.
"""

from __future__ import annotations

import contextlib
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ec_core.cli.limits_cmd import sample_limits_text
from ec_core.errors import OrderDeniedError
from ec_core.execution import Executor
from ec_core.settings import Settings

import ec_core
from ec_core import ConfigError, ConnectionLostError, NewOrder, OrderState, OrderType, Side

QUICKSTART = Path(__file__).parents[3] / "docs" / "quickstart.md"


def _connect_example() -> str:
    text = QUICKSTART.read_text(encoding="utf-8")
    section = text.split("## Trade from Python: `ec_core.connect`", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


@pytest.fixture(autouse=True)
def _no_settings_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EC_SETTINGS", raising=False)


def test_the_quick_start_example_runs_against_the_mock() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_connect_example(), str(QUICKSTART), "exec"), {"__name__": "quickstart"})
    first, second = out.getvalue().splitlines()
    assert first.startswith("FILLED [Position(account_id='MOCK-1', symbol='EP', qty=1")
    assert first.endswith(" 0 1")
    assert second.startswith("Quote(symbol='EP'")


def test_connect_is_exported() -> None:
    assert "connect" in ec_core.__all__
    assert "Trader" in ec_core.__all__


@pytest.mark.anyio
async def test_a_real_vendor_without_a_limits_file_is_refused_before_it_connects() -> None:
    with pytest.raises(ConfigError, match="no limits_file") as caught:
        async with ec_core.connect("cqg"):
            pytest.fail("connected without limits")
    assert "default deny" in str(caught.value)


@pytest.mark.anyio
async def test_orders_go_through_the_executor_checks_and_are_tracked() -> None:
    async with ec_core.connect("mock") as trader:
        order = await trader.execute(
            NewOrder(
                account_id=trader.account_id, symbol="EP", side=Side.SELL, qty=2,
                order_type=OrderType.MKT,
            )
        )  # fmt: skip
        assert order is not None
        final = await trader.wait_final(order.chain_id)
        assert final.state is OrderState.FILLED
        assert [o.chain_id for o in trader.orders()] == [order.chain_id]
        assert [(p.symbol, p.qty) for p in trader.positions()] == [("EP", -2)]
        assert isinstance(trader.executor, Executor)
        assert trader.executor.stats().in_flight == 0


def _limit_buy(price: Decimal) -> NewOrder:
    return NewOrder(
        account_id="MOCK-1", symbol="EP", side=Side.BUY, qty=1, order_type=OrderType.LMT,
        limit_price=price,
    )  # fmt: skip


@pytest.mark.anyio
async def test_the_quotes_a_trader_streamed_are_its_price_band_reference(tmp_path: Path) -> None:
    """With a limits file that sets a price band (the sample does), a limit order needs a
    reference price: the trader's own quotes give it, as a strategy's feeds do in ec run.
    Without them every limit order of connect() was denied NO_REFERENCE_PRICE."""
    limits = tmp_path / "limits.toml"
    limits.write_text(sample_limits_text().replace('"CHANGE-ME"', '"MOCK-1"'), encoding="utf-8")
    async with ec_core.connect(Settings(vendor="mock", limits_file=str(limits))) as trader:
        with pytest.raises(OrderDeniedError) as denied:
            await trader.execute(_limit_buy(Decimal("4500.25")))  # no quote seen yet
        assert denied.value.codes == ("NO_REFERENCE_PRICE",)
        async with trader.quotes(["EP"]) as ticks:
            await anext(ticks)
        bid = trader.feeds["EP"].bid
        assert bid is not None
        assert await trader.execute(_limit_buy(bid)) is not None
        with pytest.raises(OrderDeniedError) as far:
            await trader.execute(_limit_buy(bid - 100 * Decimal("0.25")))  # band: 40 ticks
        assert far.value.codes == ("PRICE_OUTSIDE_BAND",)


async def _read_until_the_venue_drops_the_quotes(trader: ec_core.Trader) -> None:
    async with trader.quotes(["EP"]) as ticks:
        await anext(ticks)
        session: Any = trader.session  # the mock venue ends the subscription
        for channel in session.market_subscribers.sinks():
            channel.fail(ConnectionLostError("market data line dropped"))
        async for _tick in ticks:  # what was queued, then the error
            pass


@pytest.mark.anyio
async def test_quotes_that_end_with_an_error_are_no_band_reference(tmp_path: Path) -> None:
    """A subscription the venue ends with an error leaves frozen prices: they judge no
    order (NO_REFERENCE_PRICE naming why, nothing sent) until the next quote comes."""
    limits = tmp_path / "limits.toml"
    limits.write_text(sample_limits_text().replace('"CHANGE-ME"', '"MOCK-1"'), encoding="utf-8")
    async with ec_core.connect(Settings(vendor="mock", limits_file=str(limits))) as trader:
        with pytest.raises(ConnectionLostError, match="line dropped"):
            await _read_until_the_venue_drops_the_quotes(trader)
        frozen = trader.feeds["EP"].bid
        assert frozen is not None
        with pytest.raises(OrderDeniedError) as denied:
            await trader.execute(_limit_buy(frozen))
        assert denied.value.codes == ("NO_REFERENCE_PRICE",)
        assert "market data of EP stopped: market data line dropped" in (
            denied.value.violations[0].rule
        )
        assert trader.orders() == []  # nothing sent
        async with trader.quotes(["EP"]) as ticks:  # subscribed again: the next quote
            await anext(ticks)
        bid = trader.feeds["EP"].bid
        assert bid is not None
        assert await trader.execute(_limit_buy(bid)) is not None


@pytest.mark.anyio
async def test_pnl_is_money_the_price_difference_times_the_multiplier() -> None:
    """EP is $50 a point: a round trip of 2 losing 0.75 points is -75.00 USD; trader.pnl()
    said -1.50 (the tracker's book had no multipliers: P&L in points)."""

    def market(side: Side) -> NewOrder:
        return NewOrder(
            account_id="MOCK-1", symbol="EP", side=side, qty=2, order_type=OrderType.MKT
        )

    async with ec_core.connect("mock") as trader, trader.quotes(["EP"]) as ticks:
        await anext(ticks)
        bought = await trader.wait_final(await trader.execute(market(Side.BUY)) or "")
        for _ in range(30):  # the seeded market moves
            await anext(ticks)
        sold = await trader.wait_final(await trader.execute(market(Side.SELL)) or "")
    assert bought.avg_fill_price is not None
    assert sold.avg_fill_price is not None
    points = sold.avg_fill_price - bought.avg_fill_price
    assert points != 0
    assert trader.pnl() == points * 2 * 50
    [ep] = [p for p in trader.positions() if p.symbol == "EP"]
    assert ep.realized_pnl == points * 2 * 50
