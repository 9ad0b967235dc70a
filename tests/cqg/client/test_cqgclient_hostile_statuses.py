"""Well-formed but hostile order statuses from the server's own line, over real loopback:
a copy of the server's genuine status of our order with one value made impossible; and
answers to nothing the client asked.

Each is logged and counted or mapped to a state that says what is known; the session
stays logged on; an order whose fate the status leaves unknown is ``UNKNOWN`` and the
executor reconciles it with the venue (which still has it WORKING). A negative quantity
was taken as is: a fill of -5 would have turned the position and its P&L the wrong way.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cqgclient_real import ACCOUNT, Served, next_event, of_type, report_of, served, settings
from ec_core.execution import Executor, Payload, ValidatorGate
from ec_core.model import (
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    SessionState,
    Side,
    SnapshotComplete,
)
from ec_core.tracking import OrderTracker
from ec_cqg.client import CqgSession
from ec_cqg.client.recorder import read_recording
from ec_cqg.protocol.pb import ServerMsg, order_2, shared_1

pytestmark = pytest.mark.anyio

_OS = shared_1.OrderStatus


def negative_fill(status: order_2.OrderStatus) -> None:
    status.status = _OS.FILLED
    status.fill_qty.significand, status.fill_qty.exponent = -5, 0
    status.fill_cnt = 1


def negative_order_qty(status: order_2.OrderStatus) -> None:
    status.order.qty.significand = -2


def fractional_fill(status: order_2.OrderStatus) -> None:
    status.fill_qty.significand, status.fill_qty.exponent = 5, -1


@dataclass
class Placed:
    """A resting bid H1 placed through the executor on a session recording its wire."""

    srv: Served
    session: CqgSession
    watch: Any  # a second subscriber to the account's trade events
    executor: Executor
    tracker: OrderTracker
    genuine: ServerMsg  # the server's last status of H1

    def put_spoiled(self, spoil: Callable[[order_2.OrderStatus], None]) -> None:
        bad = ServerMsg()
        bad.CopyFrom(self.genuine)
        spoil(bad.order_statuses[0])
        self.srv.put_frame(bad.SerializePartialToString())


@asynccontextmanager
async def placed() -> AsyncIterator[Placed]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wire.rec"
        async with (
            served(market=False) as srv,
            CqgSession(settings(srv.url, record_path=str(path))) as session,
        ):
            instrument = await session.resolve("EP")
            tracker = OrderTracker(clock=session.clock)
            executor = Executor(
                gateway=session.orders, checks=ValidatorGate([]), tracker=tracker,
                journal=None, clock=session.clock, vendor="cqg",
                instruments={"EP": instrument}, monitor=session.trades,
            )  # fmt: skip
            async with (
                session.trades.stream(ACCOUNT) as events,
                session.trades.stream(ACCOUNT) as watch,
                executor.consume(events),
            ):
                await next_event(watch, of_type(SnapshotComplete))
                bid = NewOrder(
                    account_id=ACCOUNT, symbol="EP", side=Side.BUY, qty=2,
                    order_type=OrderType.LMT, limit_price=Decimal("4000.00"), cl_order_id="H1",
                )  # fmt: skip
                await executor.execute(Payload(request=bid))
                await next_event(watch, report_of("H1", ReportKind.ACCEPTED))
                session.flush_recording()
                frames = [
                    ServerMsg.FromString(f.data)
                    for f in read_recording(path)
                    if f.direction == "in"
                ]
                [*_, genuine] = [
                    m for m in frames if any(s.order.cl_order_id == "H1" for s in m.order_statuses)
                ]
                yield Placed(srv, session, watch, executor, tracker, genuine)


@pytest.mark.parametrize(
    "spoil", [negative_fill, negative_order_qty, fractional_fill], ids=lambda f: f.__name__
)
async def test_a_status_with_an_impossible_quantity_is_counted_and_dropped(
    spoil: Callable[[order_2.OrderStatus], None],
) -> None:
    async with placed() as p:
        before = p.session.stats().get("bad_items", 0)
        p.put_spoiled(spoil)
        # the line is FIFO: once this answer is in, the frame above was handled
        assert ACCOUNT in {a.account_id for a in await p.session.accounts()}
        assert p.session.stats().get("bad_items", 0) == before + 1
        assert p.session.state is SessionState.LOGGED_ON
        order = p.tracker.order("H1")
        assert order is not None
        assert (order.state, order.filled_qty, order.qty) == (OrderState.WORKING, 0, 2)
        p.srv.venue.exchange.cancel("E2E-1", "H1")  # the genuine end of the order follows
        end = await next_event(p.watch, report_of("H1", ReportKind.CANCELLED))
        assert end.filled_qty == 0  # no fill was made of the bad status
        assert p.session.stats().get("fills_made_up", 0) == 0


async def test_a_status_code_the_adapter_does_not_know_is_unknown_then_reconciled() -> None:
    """Nobody calls resolve_unknown and the line stays up: the executor asks the venue
    about the order on its own (one status query) and takes its real state."""
    async with placed() as p:
        p.put_spoiled(lambda s: setattr(s, "status", 99))
        about_h1 = report_of("H1")
        told = await next_event(p.watch, lambda e: about_h1(e) and e.state is OrderState.UNKNOWN)
        assert told.cl_order_id == "H1"  # not WORKING, not dropped: its state is unknown
        assert p.session.stats()["unknown_status_codes"] == 1  # counted (and logged)
        # the line is FIFO: once this answer is in, the executor has the report too
        assert ACCOUNT in {a.account_id for a in await p.session.accounts()}
        await p.executor.unknown_followed_up()
        order = p.tracker.order("H1")
        assert order is not None
        assert (order.state, order.filled_qty) == (OrderState.WORKING, 0)  # the venue's
        stats = p.executor.stats()
        assert (stats.unknown_queries, stats.unknown_resolved, stats.unknown_unresolved) == (
            1, 1, 0,
        )  # fmt: skip
        assert stats.unknown_followed == ()
        assert p.session.state is SessionState.LOGGED_ON
        assert p.session.stats().get("reconnects", 0) == 0  # no reconnect did it


async def test_an_order_the_venue_filled_while_reporting_it_unknown_is_reconciled_filled() -> None:
    async with placed() as p:
        p.put_spoiled(lambda s: setattr(s, "status", 99))
        p.srv.venue.exchange.cancel("E2E-1", "H1")  # the venue's real state moves on
        await next_event(p.watch, report_of("H1", ReportKind.CANCELLED))
        await p.executor.unknown_followed_up()
        order = p.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.CANCELLED


def _unsolicited(kind: str) -> ServerMsg:
    msg = ServerMsg()
    if kind == "logon_result":
        result = msg.logon_result
        result.result_code, result.base_time, result.server_time = 0, "2024-01-01T00:00:00", 0
        result.protocol_version_major, result.protocol_version_minor = 2, 230
    elif kind == "information_report":
        msg.information_reports.add(id=987_654, status_code=0, is_report_complete=True)
    elif kind == "order_request_reject":
        msg.order_request_rejects.add(request_id=99_999, reject_code=1).text_message = "?"
    else:
        msg.pong.token, msg.pong.ping_utc_time, msg.pong.pong_utc_time = "never-sent", 0, 0
    return msg


@pytest.mark.parametrize(
    "kind", ["logon_result", "information_report", "order_request_reject", "pong"]
)
async def test_an_answer_to_nothing_asked_is_a_counted_dead_letter(kind: str) -> None:
    async with placed() as p:
        p.srv.put_frame(_unsolicited(kind).SerializePartialToString())
        assert ACCOUNT in {a.account_id for a in await p.session.accounts()}
        assert p.session.stats().get("dead_letters_total", 0) == 1
        assert p.session.state is SessionState.LOGGED_ON
        order = p.tracker.order("H1")
        assert order is not None
        assert order.state is OrderState.WORKING  # nothing about our order changed
