"""``connect("redis://…")`` through an in-process gateway on the mock, on a real Redis."""

from __future__ import annotations

import time
from typing import Any

import anyio
import msgspec
import pytest
from ec_core.gateway.layout import StreamLayout
from ec_core.gateway.link import WorkerLink
from ec_core.gateway.redis_io import Redis, open_redis, read_streams
from ec_core.gateway.service import Gateway
from ec_core.gateway.wire import FIELD, Answer, IntentMsg, Outcome, decode, encode
from ec_core.testing.redis_server import RedisServer
from gateway_support import (
    gateway_config,
    new_namespace,
    read_answers,
    running_gateway,
    served_client,
    served_trader,
    venue_orders,
)

import ec_core
from ec_core import NewOrder, OrderDeniedError, OrderState, OrderType, Side

pytestmark = pytest.mark.anyio

S = 1_000_000_000  # ns in a second


def _buy(account: str = "MOCK-1", qty: int = 1, cl_order_id: str = "") -> NewOrder:
    return NewOrder(
        account_id=account,
        symbol="EP",
        side=Side.BUY,
        qty=qty,
        order_type=OrderType.MKT,
        cl_order_id=cl_order_id,
    )


async def test_a_remote_trader_trades_like_a_local_one(redis_server: RedisServer) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server) as (gateway, trader):
            assert trader.session is None
            order = await trader.execute(_buy(qty=2))
            assert order is not None
            assert order.cl_order_id.startswith("w1.")
            final = await trader.wait_final(order)
            assert final.state is OrderState.FILLED
            assert [(p.symbol, p.qty) for p in trader.positions()] == [("EP", 2)]
            assert [o.chain_id for o in trader.orders()] == [order.chain_id]
            local = gateway.paths["MOCK-1"].tracker.order(order.chain_id)
            assert local is not None
            assert local.state is OrderState.FILLED
            async with trader.quotes(["EP"]) as quotes:
                first = await anext(quotes)
            assert first.symbol == "EP"


async def test_an_account_the_worker_may_not_trade_is_denied_and_nothing_sent(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server) as (gateway, trader):
            with pytest.raises(OrderDeniedError, match="ACCOUNT_NOT_ALLOWED") as caught:
                await trader.execute(_buy(account="MOCK-2"))
            assert caught.value.violations[0].value == "MOCK-2"
            assert venue_orders(gateway, "MOCK-2") == []


async def test_a_redelivered_intent_is_answered_from_the_journal_not_sent_twice(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_trader(redis_server, worker="w2") as (gateway, trader):
            first = await trader.execute(_buy(cl_order_id="w2.same.1"))
            again = await trader.execute(_buy(cl_order_id="w2.same.1"))
            assert first is not None
            assert again is not None
            assert again.chain_id == first.chain_id
            sent = [r.cl_order_id for r in venue_orders(gateway, "MOCK-1")]
            assert sent == ["w2.same.1"]
            assert gateway.counters["replayed"] == 1


async def test_every_intent_gets_exactly_one_answer(redis_server: RedisServer) -> None:
    with anyio.fail_after(30):
        async with served_client(redis_server) as (gateway, client):
            layout = gateway.layout
            ids = [f"w1.many.{n}" for n in range(20)]
            for intent_id in ids:
                intent = IntentMsg(worker="w1", request=_buy(cl_order_id=intent_id))
                await client.xadd(layout.intents, {FIELD: encode(intent)})
            await client.xadd(layout.intents, {FIELD: b"not a message"})
            answers = await read_answers(client, layout, "w1", len(ids))
            assert sorted(a.intent_id for a in answers) == sorted(ids)
            assert {a.outcome for a in answers} == {Outcome.ACCEPTED}
            pending = await client.xpending(layout.intents, "gateway")
            assert pending["pending"] == 0
            assert gateway.counters["malformed"] == 1
            assert len(venue_orders(gateway, "MOCK-1")) == len(ids)


def test_a_worker_name_cannot_hide_a_separator() -> None:
    with pytest.raises(ValueError, match="worker name"):
        WorkerLink(
            client=None,  # type: ignore[arg-type]
            url="redis://x",
            layout=StreamLayout(),
            worker="a.b",
            account_id="A",
            clock=ec_core.WallClock(),
        )


async def test_a_malformed_intent_that_names_its_worker_is_denied_not_dropped(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_client(redis_server) as (gateway, client):
            intent = IntentMsg(worker="w1", request=_buy(cl_order_id="w1.bad.1"))
            body = msgspec.to_builtins(intent)
            body["request"]["qty"] = "lots"  # a field of the wrong type
            answer = await _answer_to_raw(gateway, client, body)
            assert answer.intent_id == "w1.bad.1"
            assert answer.violations[0].code == "MALFORMED_INTENT"
            assert venue_orders(gateway, "MOCK-1") == []


async def _answer_to_raw(gateway: Gateway, client: Redis, body: dict[str, Any]) -> Answer:
    """Write ``body`` as w1 would in version 1 and read its one answer: DENIED, counted
    as malformed, the entry acknowledged."""
    layout = gateway.layout
    await client.xadd(layout.intents, {FIELD: msgspec.msgpack.encode([1, body])})
    read = await read_streams(client, {layout.replies("w1"): "0-0"}, count=10, block_ms=5000)
    [(_, [(_, data)])] = read
    answer = decode(data)
    assert isinstance(answer, Answer)
    assert answer.outcome is Outcome.DENIED
    assert gateway.counters["malformed"] == 1
    pending = await client.xpending(layout.intents, "gateway")
    assert pending["pending"] == 0
    return answer


async def test_a_foreign_entry_on_an_account_stream_does_not_stop_the_gateway(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    config = gateway_config(redis_server.url, namespace)
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with open_redis(redis_server.url, {}) as client:
            layout = StreamLayout(namespace)
            await client.xadd(layout.account("MOCK-1"), {FIELD: b"\xc1 not ours"})
            await client.xadd(layout.account("MOCK-2"), {b"other": b"field"})
        async with (
            running_gateway(config) as gateway,
            ec_core.connect(url, account_id="MOCK-1", worker="w1") as trader,
        ):
            order = await trader.execute(_buy())
            assert order is not None
            assert gateway.counters["malformed"] == 2


async def test_how_long_intents_waited_for_the_gateway_is_in_its_status(
    redis_server: RedisServer,
) -> None:
    with anyio.fail_after(30):
        async with served_client(redis_server) as (gateway, client):
            layout = gateway.layout
            now = time.time_ns()
            waited = [  # sent 2 s and 0.5 s ago (a gateway that was busy, or down), and one
                IntentMsg(worker="w1", request=_buy(cl_order_id="w1.w.1"), sent_ns=now - 2 * S),
                IntentMsg(worker="w1", request=_buy(cl_order_id="w1.w.2"), sent_ns=now - S // 2),
                IntentMsg(worker="w1", request=_buy(cl_order_id="w1.w.3")),  # no stamp: not counted
            ]
            for intent in waited:
                await client.xadd(layout.intents, {FIELD: encode(intent)})
            await read_answers(client, layout, "w1", len(waited))
            status = gateway.status()
            assert status["intent_waits"] == 2
            assert 2000 <= status["intent_wait_ms_max"] < 2000 + 10_000
            assert status["intent_wait_ms_mean"] >= 1250
            assert status["intent_wait_ms_last"] >= 0


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("subscribe", {"symbols": ["EP", 7]}),  # a symbol of the wrong type
        ("lookup", {"symbols": "EP"}),  # a string where a list belongs
        ("hello", {"account_id": None}),
        ("lookup", {"symbols": ["EP"], "extra": 1}),  # a field this version does not know
    ],
)
async def test_a_malformed_request_that_names_its_worker_and_id_is_refused_not_dropped(
    redis_server: RedisServer, kind: str, fields: dict[str, object]
) -> None:
    """A hello, subscription or lookup the gateway cannot decode was acknowledged and never
    answered: the worker waited out its timeout and was told no gateway was running."""
    with anyio.fail_after(30):
        async with served_client(redis_server) as (gateway, client):
            body = {"kind": kind, "worker": "w1", "hello_id": "h1", **fields}
            answer = await _answer_to_raw(gateway, client, body)
            assert answer.intent_id == "h1"
            [violation] = answer.violations
            assert violation.code == "MALFORMED_REQUEST"
            assert violation.field == kind
            assert "malformed gateway message" in violation.rule
