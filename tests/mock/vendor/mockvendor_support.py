"""Helpers shared by the mock-vendor tests: a deterministic venue and event waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any, TypeVar

import anyio
from ec_core.clock import ManualClock
from ec_core.model import ExecutionReport, Instrument, ReportKind, TradeEvent
from ec_mock.vendor import MockVenue

# Always open (no trading hours), so tests do not depend on the time of day.
ESX = Instrument(
    symbol="ESX", tick_size=Decimal("0.25"), multiplier=Decimal(50), description="test e-mini"
)
ZNX = Instrument(
    symbol="ZNX", tick_size=Decimal("0.015625"), multiplier=Decimal(1000), description="test note"
)
START_NS = 1_704_898_800_000_000_000  # 2024-01-10 15:00 UTC
TRADER = "TRADER-1"
HOUSE = "HOUSE-1"
WAIT_S = 2.0  # safety net only: events are delivered synchronously

T = TypeVar("T")


def quiet_venue(**options: Any) -> MockVenue:
    """A venue without background market: only what a test sends happens."""
    return MockVenue.create(
        clock=ManualClock(START_NS),
        instruments=[ESX, ZNX],
        accounts=[TRADER, HOUSE],
        market=False,
        **options,
    )


async def next_matching(
    events: AsyncIterator[T], predicate: Callable[[T], bool] = lambda _: True
) -> T:
    """The next event that satisfies ``predicate`` (skipping the others)."""
    with anyio.fail_after(WAIT_S):
        async for event in events:
            if predicate(event):
                return event
    raise AssertionError("stream ended before a matching event")


async def next_report(
    events: AsyncIterator[TradeEvent], cl_order_id: str, *kinds: ReportKind
) -> ExecutionReport:
    def matches(event: TradeEvent) -> bool:
        if not isinstance(event, ExecutionReport) or event.cl_order_id != cl_order_id:
            return False
        if event.kind is ReportKind.REJECTED and ReportKind.REJECTED not in kinds:
            raise AssertionError(f"{cl_order_id} rejected: {event.reject_code} {event.reject_text}")
        return not kinds or event.kind in kinds

    event = await next_matching(events, matches)
    assert isinstance(event, ExecutionReport)
    return event
