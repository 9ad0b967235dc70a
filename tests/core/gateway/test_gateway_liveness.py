"""When the gateway declares a worker lost (``on_worker_lost = "cancel"``): only after a
silence it has seen, never while the worker's intent is in flight, and not for good once
the worker is heard again by an intent."""

from __future__ import annotations

import time

import anyio
import pytest
from ec_core.execution import Payload
from ec_core.gateway.client import open_link
from ec_core.gateway.workers import Liveness
from ec_core.testing.redis_server import RedisServer
from gateway_support import far_bid, gateway_config, new_namespace, resting_buy, running_gateway

from ec_core import OrderState


def test_a_worker_with_an_intent_in_flight_is_not_silent() -> None:
    liveness = Liveness()
    liveness.beat("w1", 0, now=0.0)
    liveness.begin("w1", now=0.5)  # its intent waits on the venue ...
    assert liveness.newly_silent(now=10.0, timeout=1.0) == []
    liveness.end("w1", now=10.0)  # ... for ten seconds: it lived when it sent it
    assert liveness.newly_silent(now=10.5, timeout=1.0) == []
    assert liveness.newly_silent(now=11.5, timeout=1.0) == ["w1"]


def test_a_lost_worker_heard_again_by_an_intent_can_be_lost_again() -> None:
    liveness = Liveness()
    liveness.beat("w1", 0, now=0.0)
    assert liveness.newly_silent(now=2.0, timeout=1.0) == ["w1"]
    liveness.begin("w1", now=3.0)
    liveness.end("w1", now=3.1)
    assert liveness.lost == set()
    assert liveness.newly_silent(now=4.5, timeout=1.0) == ["w1"]


@pytest.mark.anyio
async def test_an_order_placed_after_its_worker_was_declared_lost_is_cancelled_later(
    redis_server: RedisServer,
) -> None:
    """A worker silent past the timeout is declared lost (its order cancelled); then its
    intent arrives (it lives), the new order rests, and it dies without another
    heartbeat: that order is cancelled too, once the silence after it passes the timeout."""
    namespace = new_namespace()
    config = gateway_config(
        redis_server.url, namespace, on_worker_lost="cancel", heartbeat_timeout=0.3
    )
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with running_gateway(config) as gateway:
            price = await far_bid(gateway)
            tracker = gateway.paths["MOCK-1"].tracker
            # one heartbeat at the start, then none (as a starved, then killed worker)
            async with open_link(
                url, account_id="MOCK-1", worker="w1", heartbeat_interval=3600
            ) as link:
                first = await link.execute(Payload(request=resting_buy(price)))
                assert first is not None
                final = await tracker.wait_for(first.cl_order_id, lambda o: o.state.is_final)
                assert final.state is OrderState.CANCELLED  # declared lost
                second = await link.execute(Payload(request=resting_buy(price)))
                assert second is not None
                assert second.state is OrderState.WORKING
            final = await tracker.wait_for(second.cl_order_id, lambda o: o.state.is_final)
            assert final.state is OrderState.CANCELLED
            assert gateway.counters["cancelled_for_lost_worker"] == 2
            assert gateway.counters["workers_lost"] >= 2  # a late first beat may add one


@pytest.mark.anyio
async def test_a_stalled_gateway_does_not_declare_a_beating_worker_lost(
    redis_server: RedisServer,
) -> None:
    """The gateway's own loop stalls past the timeout while the worker's heartbeats wait
    unread in Redis: the worker is judged by what the gateway has read, not by its clock."""
    namespace = new_namespace()
    config = gateway_config(
        redis_server.url, namespace, on_worker_lost="cancel", heartbeat_timeout=0.3
    )
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with running_gateway(config) as gateway:
            price = await far_bid(gateway)
            async with open_link(
                url, account_id="MOCK-1", worker="w1", heartbeat_interval=0.05
            ) as link:
                # two round trips: the first heartbeat (sent during the first) is read
                orders = [await link.execute(Payload(request=resting_buy(price))) for _ in range(2)]
                for _stall in range(3):
                    # the fault: the whole loop (gateway and worker) stalls past the timeout
                    time.sleep(0.6)  # noqa: ASYNC251
                    orders.append(await link.execute(Payload(request=resting_buy(price))))
            tracker = gateway.paths["MOCK-1"].tracker
            known = [tracker.order(o.cl_order_id) for o in orders if o is not None]
            assert [o.state if o else None for o in known] == [OrderState.WORKING] * 5
            assert gateway.counters["cancelled_for_lost_worker"] == 0
            assert gateway.counters["workers_lost"] == 0
