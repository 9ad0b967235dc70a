"""The gateway's price band judges a worker's limit order against the market the gateway
streams, as ``connect()``'s does against the trader's quotes: without it, a limits file
that sets a band (the shipped sample does) denied every limit order NO_REFERENCE_PRICE."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from ec_core.cli.limits_cmd import sample_limits_text
from ec_core.gateway.config import GatewayConfig, parse_gateway_config
from ec_core.testing.redis_server import RedisServer
from gateway_support import new_namespace, running_gateway, venue_orders

import ec_core
from ec_core import (
    ConnectionLostError,
    NewOrder,
    OrderDeniedError,
    OrderState,
    OrderType,
    Side,
)

pytestmark = pytest.mark.anyio


def _banded_gateway(
    redis_server: RedisServer, tmp_path: Path, **gateway: Any
) -> tuple[GatewayConfig, str]:
    """A mock gateway for MOCK-1 (worker w1) under the shipped sample limits (a 40-tick
    band), on its own namespace; and the url a worker connects to."""
    limits = tmp_path / "limits.toml"
    limits.write_text(sample_limits_text().replace('"CHANGE-ME"', '"MOCK-1"'), encoding="utf-8")
    namespace = new_namespace()
    config = parse_gateway_config(
        {
            "vendor": "mock",
            "limits_file": str(limits),
            "vendors": {"mock": {"seed": 7}},
            "gateway": {
                "url": redis_server.url,
                "namespace": namespace,
                "accounts": ["MOCK-1"],
                "workers": {"w1": {"accounts": ["MOCK-1"]}},
                **gateway,
            },
        }
    )
    return config, f"{redis_server.url}?namespace={namespace}"


def _limit_buy(price: Decimal) -> NewOrder:
    return NewOrder(
        account_id="MOCK-1", symbol="EP", side=Side.BUY, qty=1, order_type=OrderType.LMT,
        limit_price=price,
    )  # fmt: skip


async def test_a_workers_limit_order_is_banded_by_the_market_the_gateway_streams(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    config, url = _banded_gateway(redis_server, tmp_path)
    with anyio.fail_after(30):
        async with (
            running_gateway(config) as gateway,
            ec_core.connect(url, account_id="MOCK-1", worker="w1") as trader,
        ):
            with pytest.raises(OrderDeniedError) as denied:
                await trader.execute(_limit_buy(Decimal("4500.25")))  # nothing streamed yet
            assert denied.value.codes == ("NO_REFERENCE_PRICE",)
            assert "subscribe to its quotes" in denied.value.violations[0].rule  # what to do
            assert venue_orders(gateway, "MOCK-1") == []
            async with trader.quotes(["EP"]) as ticks:
                async for _tick in ticks:  # the worker's feeds note what it streams too
                    if trader.feeds["EP"].bid is not None:
                        break
            _last, bid, _ask = gateway.feeds.prices("EP")  # what the gateway's band reads
            assert bid is not None  # it read the quote before the worker could
            inside = await trader.execute(_limit_buy(bid))
            assert inside is not None
            assert inside.state is not OrderState.REJECTED  # sent and acknowledged
            with pytest.raises(OrderDeniedError) as far:
                await trader.execute(_limit_buy(bid - 100 * Decimal("0.25")))  # band: 40 ticks
            assert far.value.codes == ("PRICE_OUTSIDE_BAND",)
            sent = [r.cl_order_id for r in venue_orders(gateway, "MOCK-1")]
            assert sent == [inside.cl_order_id]  # the denied ones never reached the venue


async def test_a_failed_market_follow_is_no_band_reference_until_the_market_flows_again(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """The venue ends the gateway's market subscription with an error: the frozen last
    prices judge no order (NO_REFERENCE_PRICE naming why, nothing sent) until the worker
    resubscribes and the next quote comes."""
    config, url = _banded_gateway(redis_server, tmp_path, symbols=["EP"])
    with anyio.fail_after(30):
        async with (
            running_gateway(config) as gateway,
            ec_core.connect(url, account_id="MOCK-1", worker="w1") as trader,
        ):
            async with trader.quotes(["EP"]) as ticks:
                async for _tick in ticks:
                    if trader.feeds["EP"].bid is not None:
                        break
            frozen = gateway.feeds.prices("EP")[1]
            assert frozen is not None
            session: Any = gateway.session  # the mock venue ends its subscription
            for channel in session.market_subscribers.sinks():
                channel.fail(ConnectionLostError("market data line dropped"))
            while gateway.feeds.stale("EP") is None:  # until the gateway's follow saw it end
                await anyio.lowlevel.checkpoint()
            assert gateway.counters["market_failures"] == 1
            assert gateway.feeds.prices("EP") == (None, None, None)
            with pytest.raises(OrderDeniedError) as denied:
                await trader.execute(_limit_buy(frozen))  # inside the band of the frozen bid
            assert denied.value.codes == ("NO_REFERENCE_PRICE",)
            rule = denied.value.violations[0].rule
            assert "market data of EP stopped: " in rule
            assert "market data line dropped" in rule  # why
            assert "resubscribe" in rule  # what to do
            assert venue_orders(gateway, "MOCK-1") == []  # nothing sent
            async with trader.quotes(["EP"]) as ticks:  # resubscribed: the gateway follows again
                async for _tick in ticks:
                    if gateway.feeds.stale("EP") is None:  # its next quote cleared the mark
                        break
            _last, bid, _ask = gateway.feeds.prices("EP")
            assert bid is not None
            inside = await trader.execute(_limit_buy(bid))
            assert inside is not None
            assert inside.state is not OrderState.REJECTED  # judged and sent again
            assert [r.cl_order_id for r in venue_orders(gateway, "MOCK-1")] == [inside.cl_order_id]
