"""The real CQG-dialect server (``ec_cqg.server``) on an ec-mock venue, for client tests.

Faults come from the server itself: its ec-mock fault plan (dropped or stalled acks,
dropped frames), its venue (an exchange restart), a line it drops, or a frame it puts on
the line. The venue runs on a :class:`~ec_core.clock.ManualClock`: the market moves
only when a test steps it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from ec_core.clock import ManualClock
from ec_core.model import ExecutionReport, ReportKind
from ec_core.secrets import Secret
from ec_cqg.client import CqgSettings, parse_cqg_settings
from ec_cqg.server import CqgDialect
from ec_cqg.server.core import ConnectionCore, CqgServerCore
from ec_mock.dialects import ServeOptions
from ec_mock.faults import FaultPlan
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

USER, PASSWORD = "alice", "pw-e2e"
VENUE_ACCOUNTS = ("E2E-1", "E2E-2")
ACCOUNT, OTHER = "1001", "1002"  # the server numbers the venue accounts from 1001
LIMIT_S = 5.0

T = TypeVar("T")


@dataclass
class Served:
    url: str
    venue: MockVenue
    dialect: CqgDialect

    @property
    def core(self) -> CqgServerCore:
        (server,) = self.dialect.servers
        return server.core

    def connection(self) -> ConnectionCore:
        """The one client line the server has now."""
        (connection,) = self.core.connections
        assert isinstance(connection, ConnectionCore)
        return connection

    def put_frame(self, frame: bytes) -> None:
        """Send ``frame`` to the client on the server's own line, as the server would."""
        self.connection().deliver(frame)


@asynccontextmanager
async def served(faults: FaultPlan | None = None, *, market: bool = True) -> AsyncIterator[Served]:
    """``market=False``: no simulated market, the book holds only the tests' orders."""
    venue = MockVenue.create(
        seed=3, clock=ManualClock(SIM_START_NS), accounts=VENUE_ACCOUNTS, market=market
    )
    if market:
        venue.step(20)  # a book and some trades
    dialect = CqgDialect(faults=faults, announce=lambda _: None)
    options = ServeOptions(user=USER, password=Secret(PASSWORD), seed=1)
    async with dialect.serve(venue, options) as endpoint:
        yield Served(endpoint.url, venue, dialect)
    venue.check()


def settings(url: str, **extra: Any) -> CqgSettings:
    """Fast reconnects (backoff in ms), seeded jitter, generous request deadlines."""
    table: dict[str, Any] = {
        "url": url,
        "user": USER,
        "password": Secret(PASSWORD),
        "backoff_seed": 1,
        "backoff_initial": 0.005,
        "backoff_max": 0.02,
        "request_timeout": LIMIT_S,
        "hold_timeout": LIMIT_S,
    }
    table.update(extra)
    return parse_cqg_settings(table)


async def next_event(
    events: Any, found: Callable[[Any], bool], seen: list[Any] | None = None
) -> Any:
    """The next event ``found`` accepts; every event read is appended to ``seen``."""
    with anyio.fail_after(LIMIT_S):
        async for event in events:
            if seen is not None:
                seen.append(event)
            if found(event):
                return event
    raise AssertionError("the stream ended")


def report_of(cl_order_id: str, *kinds: ReportKind) -> Callable[[Any], bool]:
    def found(event: Any) -> bool:
        return (
            isinstance(event, ExecutionReport)
            and cl_order_id in (event.cl_order_id, event.orig_cl_order_id, event.chain_id)
            and (not kinds or event.kind in kinds)
        )

    return found


def of_type(cls: type[T]) -> Callable[[Any], bool]:
    return lambda event: isinstance(event, cls)
