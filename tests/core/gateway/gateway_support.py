"""An in-process ``ec gateway`` on the mock vendor, on the suite's real Redis."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anyio
from ec_core.gateway.config import GatewayConfig, parse_gateway_config
from ec_core.gateway.layout import StreamLayout
from ec_core.gateway.process import open_gateway
from ec_core.gateway.redis_io import Redis, open_redis, read_streams
from ec_core.gateway.service import Gateway
from ec_core.gateway.wire import Answer, decode
from ec_core.model import ExecutionReport, NewOrder, OrderType, Quote, Side
from ec_core.plugins import PluginHost
from ec_core.testing.redis_server import RedisServer

import ec_core
from ec_core import Trader

_namespaces = itertools.count(1)


def new_namespace() -> str:
    """Each test its own streams on the shared server."""
    return f"t{next(_namespaces)}"


def gateway_config(url: str, namespace: str, **gateway: Any) -> GatewayConfig:
    table: dict[str, Any] = {
        "url": url,
        "namespace": namespace,
        "accounts": ["MOCK-1", "MOCK-2"],
        "workers": {"w1": {"accounts": ["MOCK-1"]}, "w2": {"accounts": ["MOCK-1", "MOCK-2"]}},
    }
    table.update(gateway)
    return parse_gateway_config(
        {"vendor": "mock", "vendors": {"mock": {"seed": 7}}, "gateway": table}
    )


@asynccontextmanager
async def running_gateway(
    config: GatewayConfig, host: PluginHost | None = None
) -> AsyncIterator[Gateway]:
    async with (
        open_gateway(config, host or PluginHost.load(), consumer="gw-test") as gateway,
        anyio.create_task_group() as tg,
    ):
        await tg.start(gateway.serve)
        yield gateway
        tg.cancel_scope.cancel()


@asynccontextmanager
async def served_trader(
    redis_server: RedisServer,
    account_id: str = "MOCK-1",
    worker: str = "w1",
    host: PluginHost | None = None,
) -> AsyncIterator[tuple[Gateway, Trader]]:
    """A gateway of :func:`gateway_config` on its own namespace, and a trader connected to it."""
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace)
    url = f"{redis_server.url}?namespace={namespace}"
    async with (
        running_gateway(config, host) as gateway,
        ec_core.connect(url, account_id=account_id, worker=worker) as trader,
    ):
        yield gateway, trader


@asynccontextmanager
async def served_client(redis_server: RedisServer) -> AsyncIterator[tuple[Gateway, Redis]]:
    """A gateway of :func:`gateway_config` on its own namespace, and a raw Redis client
    (to write intents entries and read replies as no worker would)."""
    async with (
        running_gateway(gateway_config(redis_server.url, new_namespace())) as gateway,
        open_redis(redis_server.url, {}) as client,
    ):
        yield gateway, client


async def far_bid(gateway: Gateway) -> Decimal:
    """A buy price the mock's market does not reach while a test runs: half its bid.

    The gateway's mock venue steps its simulated market as fast as the CPU allows, so a
    price a few ticks away is reached after a while: with seed 7, a bid 40 ticks under
    the first was filled after about 13,000 steps (14 s on an idle machine), which a slow
    test on a loaded machine gets to. The walk's range grows with the square root of the
    steps: half the price is out of reach for hours."""
    instrument = await gateway.session.resolve("EP")
    async with gateway.host.market_data(gateway.session).stream([instrument]) as events:
        async for event in events:
            if isinstance(event, Quote) and event.bid is not None:
                return instrument.to_price(event.bid // 2)
    raise AssertionError("no quote")


def resting_buy(price: Decimal, account_id: str = "MOCK-1") -> NewOrder:
    """A one-lot EP bid at ``price`` (:func:`far_bid`: it rests)."""
    return NewOrder(
        account_id=account_id,
        symbol="EP",
        side=Side.BUY,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=price,
    )


def venue_orders(gateway: Gateway, account_id: str) -> list[ExecutionReport]:
    """Every order the mock venue received for the account (rejected ones too)."""
    exchange = gateway.session.venue.exchange  # type: ignore[attr-defined]
    found: list[ExecutionReport] = exchange.historical_orders(account_id, 0, 2**62)
    return found


async def read_answers(
    client: Redis, layout: StreamLayout, worker: str, wanted: int
) -> list[Answer]:
    """The answers on ``worker``'s reply stream, read until ``wanted`` came."""
    answers: list[Answer] = []
    last = "0-0"
    while len(answers) < wanted:
        read = await read_streams(client, {layout.replies(worker): last}, count=100, block_ms=5000)
        for _, entries in read:
            for entry_id, data in entries:
                last = entry_id
                message = decode(data)
                if isinstance(message, Answer):
                    answers.append(message)
    return answers
