"""``ec gateway``'s body: open the session and one order path per account, then serve.

The same parts as :func:`ec_core.connect` (the session from the plugin host, the
pre-trade checks of the limits file with the kill switch beside it, a journal per
account recovered before anything trades, a reconciliation with the venue), shared
by every worker through :class:`~ec_core.gateway.service.Gateway`. The instruments of
what each account holds after its recovery (open orders, positions) are resolved
by its order path before it serves.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

import anyio

from ec_core.data.feed import FeedSet
from ec_core.front import pre_trade_checks, require_limits, venue_clock
from ec_core.gateway.config import GatewayConfig
from ec_core.gateway.redis_io import open_redis
from ec_core.gateway.service import Gateway
from ec_core.gateway.tap import EventTap
from ec_core.journal import Journal
from ec_core.model import Instrument
from ec_core.plugins import PluginHost
from ec_core.strategy.rig import OrderPath, order_path
from ec_core.vendor import OpensAccounts

__all__ = ["open_gateway", "serve_gateway"]


@asynccontextmanager
async def open_gateway(
    config: GatewayConfig,
    host: PluginHost,
    *,
    env: Mapping[str, str] | None = None,
    consumer: str | None = None,
) -> AsyncIterator[Gateway]:
    """Connect Redis and the vendor, build every account's order path; yield the gateway
    (not serving yet: run :meth:`Gateway.serve`)."""
    settings = config.settings
    vendor = settings.vendor
    host.require_vendor(vendor)
    factory = host.vendor_factory(vendor)
    require_limits(factory, settings, "ec gateway")
    table = settings.vendor_settings(vendor)
    opener: object = factory  # mypy cannot narrow a VendorFactory to it
    if isinstance(opener, OpensAccounts):  # a simulator: it opens the accounts it is told
        table = opener.with_accounts(table, config.accounts)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            open_redis(
                config.url,
                os.environ if env is None else env,
                user_env=config.user_env,
                password_env=config.password_env,
            )
        )
        session = await stack.enter_async_context(host.open_session(vendor, table))
        clock = venue_clock(session)
        checks = (
            pre_trade_checks(host, settings.limits_file, clock) if settings.limits_file else None
        )
        instruments: dict[str, Instrument] = {}
        feeds = FeedSet()  # the market the gateway streams: the price band's reference
        paths: dict[str, OrderPath] = {}
        taps: dict[str, EventTap] = {}
        for account in config.accounts:
            tap = taps[account] = EventTap()
            journal_path = config.journal_for(account)
            journal = stack.enter_context(Journal(journal_path)) if journal_path else None
            paths[account] = await stack.enter_async_context(
                order_path(
                    host,
                    session,
                    account_id=account,
                    clock=clock,
                    instruments=instruments,
                    checks=checks,
                    journal=journal,
                    ack_timeout=config.ack_timeout,
                    prices=feeds.prices,
                    stale_market=feeds.stale,
                    reconcile=True,
                    tap=tap,
                )
            )
        yield Gateway(
            config=config,
            client=client,
            host=host,
            session=session,
            paths=paths,
            taps=taps,
            instruments=instruments,
            consumer=consumer or f"gateway-{os.getpid()}",
            feeds=feeds,
        )


async def serve_gateway(
    config: GatewayConfig,
    host: PluginHost,
    *,
    on_ready: Callable[[Gateway], None] | None = None,
) -> None:
    """Run the gateway until cancelled; ``on_ready`` once it answers intents."""
    async with open_gateway(config, host) as gateway, anyio.create_task_group() as tg:
        await tg.start(gateway.serve)
        if on_ready is not None:
            on_ready(gateway)
