"""End to end against the real CQG-dialect server of ec-cqg on the ec-mock engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anyio
import pytest
from ec_core.clock import ManualClock
from ec_core.errors import AuthError
from ec_core.model import (
    CancelOrder,
    ExecutionReport,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    Side,
    SnapshotComplete,
)
from ec_core.secrets import Secret
from ec_cqg.client import CqgSession, parse_cqg_settings
from ec_cqg.server import CqgDialect
from ec_mock.dialects import ServeOptions
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

pytestmark = pytest.mark.anyio
USER, PASSWORD = "alice", "pw-e2e"


@pytest.fixture
async def url() -> AsyncIterator[str]:
    venue = MockVenue.create(seed=3, clock=ManualClock(SIM_START_NS), accounts=["E2E-1"])
    venue.step(20)
    options = ServeOptions(user=USER, password=Secret(PASSWORD))
    async with CqgDialect(announce=lambda _: None).serve(venue, options) as endpoint:
        yield endpoint.url


def settings(url: str, password: str = PASSWORD, **extra: Any) -> Any:
    table: dict[str, Any] = {"url": url, "user": USER, "password": Secret(password)}
    table.update(backoff_seed=1, request_timeout=5.0, **extra)
    return parse_cqg_settings(table)


async def report(events: Any, kind: ReportKind) -> ExecutionReport:
    with anyio.fail_after(5):
        async for event in events:
            if isinstance(event, ExecutionReport) and event.kind is kind:
                return event
    raise AssertionError("stream ended")


async def test_bad_password_is_refused_with_the_cqg_code(url: str) -> None:
    with pytest.raises(AuthError) as info:
        async with CqgSession(settings(url, "wrong")):
            raise AssertionError("must not log on")
    assert info.value.code == 101


async def test_logon_resolve_order_lifecycle_and_history(url: str) -> None:
    async with CqgSession(settings(url)) as session:
        accounts = await session.accounts()
        assert accounts
        account = accounts[0].account_id
        assert account.lstrip("-").isdigit()
        instrument = await session.resolve("EP")
        assert instrument.tick_size > 0
        async with session.trades.stream(account) as events:
            with anyio.fail_after(5):
                async for event in events:
                    if isinstance(event, SnapshotComplete):
                        break
            far = instrument.to_price(1)  # far below the market: rests
            await session.orders.send(
                NewOrder(
                    account_id=account,
                    symbol="EP",
                    side=Side.BUY,
                    qty=1,
                    order_type=OrderType.LMT,
                    limit_price=far,
                    cl_order_id="E2E-A",
                )
            )
            accepted = await report(events, ReportKind.ACCEPTED)
            assert (accepted.cl_order_id, accepted.state) == ("E2E-A", OrderState.WORKING)
            assert accepted.limit_price == Decimal(far)
            await session.orders.send(
                CancelOrder(
                    account_id=account, symbol="EP", orig_cl_order_id="E2E-A", cl_order_id="E2E-B"
                )
            )
            cancelled = await report(events, ReportKind.CANCELLED)
            assert cancelled.state is OrderState.CANCELLED
        sim = datetime.fromtimestamp(SIM_START_NS / 1e9, UTC)
        history = await session.orders.historical_orders(
            account, sim - timedelta(days=2), sim + timedelta(days=2)
        )
        assert "E2E-B" in {r.cl_order_id for r in history} | {r.orig_cl_order_id for r in history}
