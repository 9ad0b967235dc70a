"""What the UNKNOWN follow-up tests share: the account's venue stream relayed to the
executor by hand, the venue's word UNKNOWN, a status query that times out once, and a
sleep the test rings (its timers wake when told)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
import pytest
from ec_core.errors import RequestTimeoutError
from ec_core.execution import Payload
from ec_core.model import ExecutionReport, OrderState, ReportKind, TradeEvent
from ec_core.streams import TradeChannel
from exec_rig import ACCOUNT, Rig, limit, rig


class Relay:
    """The account's venue stream handed to the executor by hand (a plain iterator)."""

    def __init__(self, r: Rig, channel: TradeChannel, send: anyio.abc.ObjectSendStream[TradeEvent]):
        self.r = r
        self.channel = channel
        self.send = send

    async def forward(self, *more: TradeEvent) -> None:
        """Hand the executor what the venue sent, then ``more``, and let it act."""
        for event in [*self.channel.drain(), *more]:
            await self.send.send(event)
        await self.r.settle()


@asynccontextmanager
async def relayed(**options: Any) -> AsyncIterator[tuple[Rig, Relay]]:
    async with rig(consume=False, **options) as r, r.session.trades.stream(ACCOUNT) as channel:
        assert isinstance(channel, TradeChannel)
        send, receive = anyio.create_memory_object_stream[TradeEvent](1_000)
        with send, receive:
            async with r.executor.consume(receive):
                relay = Relay(r, channel, send)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(r.executor.execute, Payload(request=limit(cl_order_id="H1")))
                    await r.settle()
                    await relay.forward()
                yield r, relay


def unknown(report: ExecutionReport, **changes: object) -> ExecutionReport:
    """The venue's word that it cannot tell the order's state."""
    return msgspec.structs.replace(
        report, kind=ReportKind.STATUS, state=OrderState.UNKNOWN, **changes
    )


def first_query_times_out(r: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The venue's next status query is not answered (a timeout); the ones after it are."""
    answer = r.session.orders.order_status

    async def times_out_once(account_id: str, cl_order_id: str) -> ExecutionReport | None:
        monkeypatch.setattr(r.session.orders, "order_status", answer)
        raise RequestTimeoutError(cl_order_id=cl_order_id, timeout=2.0)

    monkeypatch.setattr(r.session.orders, "order_status", times_out_once)


class Alarm:
    """The executor's sleep in a test: every sleeper wakes when the test rings."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self._rung = anyio.Event()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self._rung.wait()

    def ring(self) -> None:
        self._rung.set()
        self._rung = anyio.Event()
