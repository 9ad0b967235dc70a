"""A worker cannot make the gateway resolve symbols without bound: a lookup or
subscription naming more than ``max_symbols_per_request``, a worker naming more than
``max_symbols_per_worker`` distinct symbols, or a malformed symbol is answered with a
refusal naming the rule (and the setting), and nothing of it is resolved."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from ec_core.errors import Violation
from ec_core.execution import Payload
from ec_core.gateway import GatewayRefusedError
from ec_core.gateway.client import open_link
from ec_core.gateway.link import WorkerLink
from ec_core.gateway.redis_io import Redis, open_redis, read_streams
from ec_core.gateway.service import Gateway
from ec_core.gateway.wire import FIELD, Answer, Lookup, Message, Outcome, Snapshot, decode, encode
from ec_core.testing.redis_server import RedisServer
from gateway_support import gateway_config, new_namespace, running_gateway, venue_orders

from ec_core import NewOrder, OrderDeniedError, OrderType, Side

pytestmark = pytest.mark.anyio

KNOWN = ("EP", "CLE", "ENQ", "GCE", "TYA", "EU6")  # the mock's instruments


@asynccontextmanager
async def _gateway(
    redis_server: RedisServer, per_request: int = 3, per_worker: int = 4
) -> AsyncIterator[tuple[Gateway, Redis, WorkerLink]]:
    """A gateway with small caps, a raw Redis client and worker w1's link."""
    namespace = new_namespace()
    config = gateway_config(
        redis_server.url,
        namespace,
        max_symbols_per_request=per_request,
        max_symbols_per_worker=per_worker,
    )
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with (
            running_gateway(config) as gateway,
            open_redis(redis_server.url, {}) as client,
            open_link(url, account_id="MOCK-1", worker="w1") as link,
        ):
            yield gateway, client, link


async def _ask(client: Redis, gateway: Gateway, worker: str, symbols: tuple[str, ...]) -> Message:
    """Write a lookup as a worker of another language could, and read its one reply."""
    hello_id = secrets.token_hex(4)
    layout = gateway.layout
    message = Lookup(worker=worker, symbols=symbols, hello_id=hello_id)
    after = "0-0"  # every reply of the worker: this one is found by its id
    await client.xadd(layout.intents, {FIELD: encode(message)})
    while True:
        read = await read_streams(client, {layout.replies(worker): after}, count=100, block_ms=5000)
        for _, entries in read:
            for entry_id, data in entries:
                after = entry_id
                reply = decode(data)
                if isinstance(reply, Answer) and reply.intent_id == hello_id:
                    return reply
                if isinstance(reply, Snapshot) and reply.hello_id == hello_id:
                    return reply


def _refusal(reply: Message) -> Violation:
    assert isinstance(reply, Answer), reply
    assert reply.outcome is Outcome.DENIED
    [violation] = reply.violations
    return violation


async def test_a_lookup_over_the_cap_is_refused_naming_it_and_nothing_is_resolved(
    redis_server: RedisServer,
) -> None:
    async with _gateway(redis_server) as (gateway, client, _):
        before = set(gateway.instruments)
        refused = _refusal(await _ask(client, gateway, "w2", KNOWN[:4]))
        assert refused.code == "TOO_MANY_SYMBOLS"
        assert refused.value == 4
        assert refused.limit == 3
        assert "gateway.max_symbols_per_request" in refused.rule
        assert set(gateway.instruments) == before  # none resolved
        reply = await _ask(client, gateway, "w2", KNOWN[:3])  # at the cap: served
        assert isinstance(reply, Snapshot)
        assert [i.symbol for i in reply.instruments] == list(KNOWN[:3])


async def test_a_subscription_over_the_cap_raises_naming_the_setting(
    redis_server: RedisServer,
) -> None:
    async with _gateway(redis_server) as (gateway, _, link):
        with pytest.raises(GatewayRefusedError, match="max_symbols_per_request") as caught:
            await link.subscribe(KNOWN[:4])
        assert caught.value.codes == ("TOO_MANY_SYMBOLS",)
        assert not set(KNOWN) & set(gateway.instruments)
        assert gateway.counters["refused"] == 1


@pytest.mark.parametrize(
    ("symbol", "shown"),
    [
        ("", "''"),
        (" EP", "' EP'"),
        ("EP ", "'EP '"),
        ("E\x00P", "'E\\x00P'"),
        ("EP\n", "'EP\\n'"),
        ("X" * 65, "'" + "X" * 63 + "..."),
    ],
)
async def test_a_malformed_symbol_is_refused_naming_the_rule(
    redis_server: RedisServer, symbol: str, shown: str
) -> None:
    async with _gateway(redis_server) as (gateway, client, _):
        refused = _refusal(await _ask(client, gateway, "w2", ("EP", symbol)))
        assert refused.code == "SYMBOL_MALFORMED"
        assert refused.field == "symbols"
        assert "at most 64 characters" in refused.rule
        assert refused.value == shown
        assert "EP" not in gateway.instruments  # the request's good symbol was not resolved


async def test_an_intent_with_a_padded_symbol_is_denied_and_not_sent(
    redis_server: RedisServer,
) -> None:
    async with _gateway(redis_server) as (gateway, _, link):
        order = NewOrder(
            account_id="MOCK-1", symbol="EP ", side=Side.BUY, qty=1, order_type=OrderType.MKT
        )
        with pytest.raises(OrderDeniedError, match="SYMBOL_MALFORMED"):
            await link.execute(Payload(request=order))
        assert venue_orders(gateway, "MOCK-1") == []


async def test_a_worker_naming_too_many_distinct_symbols_is_refused_others_are_not(
    redis_server: RedisServer,
) -> None:
    """w2 may name 4 distinct symbols: asking again for those it named is served, a fifth
    is refused (a lookup, and an intent), w1 is not held to w2's count."""
    async with _gateway(redis_server) as (gateway, client, link):
        assert isinstance(await _ask(client, gateway, "w2", KNOWN[:3]), Snapshot)
        assert isinstance(await _ask(client, gateway, "w2", ("NOPE",)), Snapshot)  # counts too
        assert isinstance(await _ask(client, gateway, "w2", KNOWN[:3]), Snapshot)
        refused = _refusal(await _ask(client, gateway, "w2", (KNOWN[3],)))
        assert refused.code == "SYMBOL_LIMIT_REACHED"
        assert refused.limit == 4
        assert "gateway.max_symbols_per_worker" in refused.rule
        assert "it has named 4" in refused.rule
        assert KNOWN[3] not in gateway.instruments
        assert gateway.symbol_quota.named("w2") == 4
        await link.lookup((KNOWN[3],))  # w1's own count
        assert KNOWN[3] in link.instruments


async def test_an_instrument_refused_by_the_caps_raises_the_refusal_not_symbol_not_found(
    redis_server: RedisServer,
) -> None:
    """trader.instrument(symbol) through a gateway (link.instrument): a lookup the caps
    refuse raises GatewayRefusedError naming the rule and the setting; it raised
    SymbolNotFoundError, as if the venue did not list a symbol it does list."""
    async with _gateway(redis_server, per_worker=1) as (gateway, _, link):
        assert (await link.instrument("EP")).symbol == "EP"
        with pytest.raises(GatewayRefusedError, match="max_symbols_per_worker") as caught:
            await link.instrument("CLE")
        assert caught.value.codes == ("SYMBOL_LIMIT_REACHED",)
        assert "CLE" not in link.instruments
        assert "CLE" not in gateway.instruments  # nothing resolved
