"""Every request the gateway reads is answered, whatever fails while it serves it (the
venue cannot resolve a symbol, Redis refuses a write for a while, a stream key holds
something else), and the gateway serves on: no failure of one request stops it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from ec_core.errors import ConnectionLostError, OrderNotSentError
from ec_core.execution import Payload
from ec_core.gateway import GatewayRefusedError
from ec_core.gateway.client import open_link
from ec_core.gateway.redis_io import open_redis, read_streams
from ec_core.gateway.wire import FIELD, Answer, IntentMsg, Outcome, decode, encode
from ec_core.model import SessionState
from ec_core.plugins import PluginHost, hookimpl
from ec_core.testing.redis_server import RedisServer
from ec_core.vendor import Session, VendorFactory
from gateway_support import (
    gateway_config,
    new_namespace,
    running_gateway,
    served_trader,
    venue_orders,
)

from ec_core import NewOrder, OrderState, OrderType, Side

pytestmark = pytest.mark.anyio

LOST = "LOST"  # the symbol the venue's connection drops on
BUG = "BUG"  # the symbol a plugin's bug raises on (no EcError)


class _LosesResolve:
    """The mock session, except that resolving ``LOST`` fails as a dropped connection does
    on a real vendor (not as an unknown symbol), and ``BUG`` as a plugin's bug would."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def resolve(self, symbol: str) -> Any:
        if symbol == LOST:
            raise ConnectionLostError(f"connection lost while resolving {symbol}")
        if symbol == BUG:
            raise RuntimeError(f"a bug while resolving {symbol}")
        return await self._session.resolve(symbol)


class _LosesResolvePlugin:
    """Wraps the session the way a recording plugin would (``ec_open_session``)."""

    @hookimpl(tryfirst=True)
    def ec_open_session(
        self,
        vendor: str,
        settings: Mapping[str, Any],
        factory: VendorFactory | None,
        on_state: Callable[[SessionState, SessionState], None],
    ) -> AbstractAsyncContextManager[Any]:
        assert factory is not None

        @asynccontextmanager
        async def opened() -> AsyncIterator[Any]:
            async with factory.open(settings, on_state=on_state) as session:
                yield _LosesResolve(session)

        return opened()


def _host() -> PluginHost:
    host = PluginHost.load()
    assert host.register(_LosesResolvePlugin(), name="loses-resolve")
    return host


class _Logged(logging.Handler):
    """An event set when the gateway logs a line containing ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()

    async def wait(self) -> None:
        await self.seen.wait()


def _buy(symbol: str = "EP", cl_order_id: str = "") -> NewOrder:
    return NewOrder(
        account_id="MOCK-1",
        symbol=symbol,
        side=Side.BUY,
        qty=1,
        order_type=OrderType.MKT,
        cl_order_id=cl_order_id,
    )


async def test_an_intent_whose_symbol_the_venue_cannot_resolve_is_answered(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server, host=_host()) as (gateway, trader):
            with pytest.raises(OrderNotSentError, match="ConnectionLostError"):
                await trader.execute(_buy(LOST))
            assert venue_orders(gateway, "MOCK-1") == []
            order = await trader.execute(_buy())  # the gateway serves on
            assert order is not None


async def test_a_subscription_the_venue_cannot_resolve_is_answered(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server, host=_host()) as (gateway, trader):
            with pytest.raises(GatewayRefusedError, match="SUBSCRIBE_FAILED") as caught:
                async with trader.quotes([LOST]):
                    pass
            assert "ConnectionLostError" in str(caught.value)
            assert gateway.counters["request_failures"] == 1
            async with trader.quotes(["EP"]) as quotes:  # the gateway serves on
                assert (await anext(quotes)).symbol == "EP"


async def test_a_market_stream_key_of_another_type_fails_the_subscription_not_the_gateway(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server) as (gateway, trader):
            await gateway.client.set(gateway.layout.market("EP"), b"not a stream")
            with pytest.raises(GatewayRefusedError, match=r"SUBSCRIBE_FAILED.*WRONGTYPE"):
                async with trader.quotes(["EP"]):
                    pass
            order = await trader.execute(_buy())  # the gateway serves on
            assert order is not None


async def test_an_answer_redis_refuses_for_a_while_is_written_once_it_takes_it(
    tmp_path: Path,
) -> None:
    refused = _Logged("waits for redis")
    logger = logging.getLogger("ec_core.gateway.replies")
    logger.addHandler(refused)
    try:
        with RedisServer(tmp_path / "redis") as server:
            config = gateway_config(server.url, "oom")
            with anyio.fail_after(60):
                async with (
                    running_gateway(config) as gateway,
                    open_redis(server.url, {}) as client,
                ):
                    layout = gateway.layout
                    intent = IntentMsg(worker="w1", request=_buy(cl_order_id="w1.oom.1"))
                    async with client.pipeline(transaction=True) as pipe:
                        pipe.xadd(layout.intents, {FIELD: encode(intent)})
                        pipe.config_set("maxmemory", "1")  # from now on every write is refused
                        await pipe.execute()
                    await refused.wait()  # it tried to answer
                    assert len(venue_orders(gateway, "MOCK-1")) == 1
                    await client.config_set("maxmemory", "0")
                    read = await read_streams(
                        client, {layout.replies("w1"): "0-0"}, count=100, block_ms=10_000
                    )
                    found = [decode(data) for _, entries in read for _, data in entries]
                    answers = [m for m in found if isinstance(m, Answer)]
                    assert [(a.intent_id, a.outcome) for a in answers] == [
                        ("w1.oom.1", Outcome.ACCEPTED)
                    ]
                    pending = await client.xpending(layout.intents, "gateway")
                    assert pending["pending"] == 0
                    assert len(venue_orders(gateway, "MOCK-1")) == 1  # sent once
    finally:
        logger.removeHandler(refused)


async def test_an_intent_that_fails_unexpectedly_is_answered_not_sent(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server, host=_host()) as (gateway, trader):
            with pytest.raises(OrderNotSentError, match=r"GATEWAY_FAILURE.*RuntimeError"):
                await trader.execute(_buy(BUG))
            # the worker's lookup of the instrument (refused LOOKUP_FAILED), then its intent
            assert gateway.counters["request_failures"] == 2
            assert venue_orders(gateway, "MOCK-1") == []
            order = await trader.execute(_buy())  # the gateway serves on
            assert order is not None


async def test_an_account_stream_key_of_another_type_costs_its_entries_not_the_answers(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace)
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with (
            running_gateway(config) as gateway,
            open_link(url, account_id="MOCK-1", worker="w1", follow_account=False) as link,
        ):
            stream = gateway.layout.account("MOCK-1")
            await gateway.client.delete(stream)
            await gateway.client.set(stream, b"not a stream")
            order = await link.execute(Payload(request=_buy()))  # its events on its replies
            assert order is not None
            final = await link.tracker.wait_for(order.chain_id, lambda o: o.state.is_final)
            assert final.state is OrderState.FILLED
            # The account stream's copy of those events may still be queued: a write
            # through the outbox's lock settles everything queued before it.
            await gateway.outbox.write_with(lambda _pipe: None)
            assert gateway.outbox.dropped[stream] >= 1
            again = await link.execute(Payload(request=_buy()))  # the gateway serves on
            assert again is not None
