"""``ec_core.connect("redis://…")``: the same :class:`~ec_core.front.Trader` as a local
session, its orders executed by ``ec gateway``.

``trader.execute`` sends an intent and returns (or raises) what the gateway's
executor did; ``orders()``, ``positions()``, ``pnl()`` and ``wait_final()`` read a
tracker mirrored from the gateway's snapshot and the account's stream;
``quotes()`` reads the gateway's market-data streams. ``trader.session`` is
``None``: the gateway holds the session.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from urllib.parse import parse_qs, urlsplit

import anyio

from ec_core.clock import WallClock
from ec_core.front import Trader
from ec_core.gateway.layout import StreamLayout
from ec_core.gateway.link import WorkerLink, worker_name
from ec_core.gateway.redis_io import open_redis
from ec_core.task_errors import lone_error

__all__ = ["connect_gateway", "open_link"]


def _namespace(url: str) -> str:
    """``?namespace=desk`` in the URL (default ``ec``); the client ignores other keys."""
    values = parse_qs(urlsplit(url).query).get("namespace")
    return values[0] if values else "ec"


def _without_query(url: str) -> str:
    return urlsplit(url)._replace(query="").geturl()


@asynccontextmanager
async def open_link(
    url: str,
    *,
    account_id: str,
    worker: str | None = None,
    namespace: str | None = None,
    env: Mapping[str, str] | None = None,
    answer_timeout: float = 30.0,
    heartbeat_interval: float = 2.0,
    hello_timeout: float = 10.0,
    follow_account: bool = True,
) -> AsyncIterator[WorkerLink]:
    """A running :class:`WorkerLink`: connected, snapshot applied, heartbeats going.

    ``follow_account=False``: the tracker hears only this worker's orders after the
    snapshot (each worker that follows the account reads every event of it)."""
    layout = StreamLayout(namespace or _namespace(url))
    redis_url = _without_query(url)
    with lone_error():  # one failure is raised as itself
        async with _running_link(
            redis_url,
            layout,
            account_id=account_id,
            worker=worker,
            env=env,
            answer_timeout=answer_timeout,
            heartbeat_interval=heartbeat_interval,
            hello_timeout=hello_timeout,
            follow_account=follow_account,
        ) as link:
            yield link


@asynccontextmanager
async def _running_link(
    redis_url: str,
    layout: StreamLayout,
    *,
    account_id: str,
    worker: str | None,
    env: Mapping[str, str] | None,
    answer_timeout: float,
    heartbeat_interval: float,
    hello_timeout: float,
    follow_account: bool,
) -> AsyncIterator[WorkerLink]:
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            open_redis(redis_url, os.environ if env is None else env)
        )
        link = WorkerLink(
            client=client,
            url=redis_url,
            layout=layout,
            worker=worker or worker_name(),
            account_id=account_id,
            clock=WallClock(),
            answer_timeout=answer_timeout,
            follow_account=follow_account,
        )
        tg = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(tg.cancel_scope.cancel)
        await tg.start(link.run)
        await link.hello(hello_timeout)
        tg.start_soon(link.heartbeats, heartbeat_interval)
        tg.start_soon(link.price_unpriced)
        yield link


@asynccontextmanager
async def connect_gateway(
    url: str,
    *,
    account_id: str,
    worker: str | None = None,
    env: Mapping[str, str] | None = None,
    answer_timeout: float = 30.0,
) -> AsyncIterator[Trader]:
    """A :class:`Trader` whose orders ``ec gateway`` at ``url`` executes."""
    async with open_link(
        url, account_id=account_id, worker=worker, env=env, answer_timeout=answer_timeout
    ) as link:
        yield Trader(
            session=None,
            host=None,
            account_id=account_id,
            executor=link,
            tracker=link.tracker,
            instruments=link.instruments,
            market=link.quotes,
            lookup=link.instrument,
        )
