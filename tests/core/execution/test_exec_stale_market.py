"""A feed whose market data stopped (its subscription failed) is no reference: the price
band and max_order_notional deny NO_REFERENCE_PRICE naming why, and nothing is sent,
until the symbol's next quote or trade. Its frozen last prices judged every order before:
a limit far from today's market could pass the band."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.clock import ManualClock
from ec_core.data import FeedSet
from ec_core.errors import OrderDeniedError
from ec_core.execution import Payload
from ec_core.model import NewOrder, OrderType, Quote, Side, Trade
from ec_core.safety import PreTradeChecks
from ec_mock.instruments import builtin_instruments
from exec_rig import ACCOUNT, SYMBOL, builtin_checks, limit, rig

pytestmark = pytest.mark.anyio

BANDED = """
[defaults]
max_order_qty = 20
max_order_notional = 100_000_000
price_band_ticks = 40

[instruments.CLE]

[accounts."*"]
orders_per_second = 1000
"""

WHY = "ConnectionLostError: market data line dropped"


def banded(clock: ManualClock) -> PreTradeChecks:
    return builtin_checks(clock, BANDED)


def cle_feeds() -> FeedSet:
    feeds = FeedSet.of([i for i in builtin_instruments() if i.symbol == SYMBOL])
    feeds.on_event(Quote(symbol=SYMBOL, ts_ns=1, bid=7000, ask=7002))  # 70.00 / 70.02
    feeds.on_event(Trade(symbol=SYMBOL, ts_ns=2, price=7001, size=1))
    return feeds


def test_a_stale_feed_gives_no_prices_until_its_next_event() -> None:
    feeds = cle_feeds()
    assert feeds.stale(SYMBOL) is None
    feeds.mark_stale(SYMBOL, WHY)
    assert feeds.stale(SYMBOL) == WHY
    assert feeds.prices(SYMBOL) == (None, None, None)  # frozen prices are no reference
    assert feeds[SYMBOL].bid == Decimal("70.00")  # what the feed held stays readable
    feeds.on_event(Quote(symbol=SYMBOL, ts_ns=3, bid=7010, ask=7012))
    assert feeds.stale(SYMBOL) is None  # the market flows again
    assert feeds.prices(SYMBOL) == (Decimal("70.01"), Decimal("70.10"), Decimal("70.12"))
    feeds.mark_stale(SYMBOL, WHY)
    feeds.on_event(Trade(symbol=SYMBOL, ts_ns=4, price=7011, size=1))  # a trade clears it too
    assert feeds.prices(SYMBOL)[0] == Decimal("70.11")
    feeds.mark_stale("NOPE", WHY)  # no feed: nothing to mark
    assert feeds.stale("NOPE") is None


async def test_an_order_is_denied_naming_why_the_market_data_stopped() -> None:
    feeds = cle_feeds()
    async with rig(checks_factory=banded, prices=feeds.prices, stale_market=feeds.stale) as r:
        inside = limit(price="70.00")
        assert await r.executor.execute(Payload(request=inside)) is not None  # the band passes
        feeds.mark_stale(SYMBOL, WHY)
        with pytest.raises(OrderDeniedError) as band:
            await r.executor.execute(Payload(request=limit(price="70.00")))
        assert band.value.codes == ("NO_REFERENCE_PRICE",)
        rule = band.value.violations[0].rule
        assert f"market data of {SYMBOL} stopped: {WHY}" in rule
        assert "resubscribe" in rule
        market = NewOrder(
            account_id=ACCOUNT, symbol=SYMBOL, side=Side.BUY, qty=1, order_type=OrderType.MKT
        )
        with pytest.raises(OrderDeniedError) as notional:  # no price to value it by
            await r.executor.execute(Payload(request=market))
        assert notional.value.codes == ("NO_REFERENCE_PRICE",)
        assert WHY in notional.value.violations[0].rule
        assert len(r.received()) == 1  # the denied ones were not sent
        feeds.on_event(Quote(symbol=SYMBOL, ts_ns=3, bid=7000, ask=7002))
        assert await r.executor.execute(Payload(request=limit(price="70.00"))) is not None
        assert len(r.received()) == 2


async def test_the_stale_lookup_is_its_own_parameter_beside_any_price_source() -> None:
    """The executor asks ``stale_market`` why a symbol has no price, whatever the price
    source is (here a plain function over the feeds, not FeedSet.prices itself)."""
    feeds = cle_feeds()

    def prices(symbol: str) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        return feeds.prices(symbol)

    async with rig(checks_factory=banded, prices=prices, stale_market=feeds.stale) as r:
        feeds.mark_stale(SYMBOL, WHY)
        with pytest.raises(OrderDeniedError) as band:
            await r.executor.execute(Payload(request=limit(price="70.00")))
        assert band.value.codes == ("NO_REFERENCE_PRICE",)
        assert f"market data of {SYMBOL} stopped: {WHY}" in band.value.violations[0].rule
        assert r.received() == []


async def test_without_a_stale_lookup_no_price_is_denied_without_a_reason() -> None:
    """FeedSet.prices alone names no reason: the lookup is never guessed from the price
    source's owner."""
    feeds = cle_feeds()
    async with rig(checks_factory=banded, prices=feeds.prices) as r:
        feeds.mark_stale(SYMBOL, WHY)
        with pytest.raises(OrderDeniedError) as band:
            await r.executor.execute(Payload(request=limit(price="70.00")))
        assert band.value.codes == ("NO_REFERENCE_PRICE",)
        assert WHY not in band.value.violations[0].rule
        assert r.received() == []
