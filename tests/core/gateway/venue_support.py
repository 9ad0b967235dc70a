"""A mock venue in the test process, served over the CQG dialect on loopback, that a
gateway *process* trades on: the venue outlives a gateway killed with SIGKILL, so a test
can ask it what it received."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import anyio
from ec_core.clock import ManualClock
from ec_core.model import ExecutionReport, Quote
from ec_core.plugins import PluginHost
from ec_core.secrets import Secret
from ec_cqg.server import CqgDialect
from ec_mock.dialects import ServeOptions
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

USER, PASSWORD, PASSWORD_ENV = "gw", "gw-password", "EC_TEST_CQG_PASSWORD"
VENUE_ACCOUNT = "G-1"
LIMITS = """\
version = 1
[defaults]
max_order_qty = 10
max_position = 1000
max_open_orders = 1000
[instruments.EP]
[accounts."*"]
"""


class ServedVenue:
    """The venue, its CQG url, the account id a logon sees and a price far under the bid."""

    def __init__(self, venue: MockVenue, url: str) -> None:
        self.venue = venue
        self.url = url
        self.account_id = ""
        self.far_bid = Decimal(0)

    def orders(self) -> list[ExecutionReport]:
        """Every order the venue received for the account (rejected ones too)."""
        found: list[ExecutionReport] = self.venue.exchange.historical_orders(
            VENUE_ACCOUNT, 0, 2**62
        )
        return found

    def gateway_toml(self, redis_url: str, namespace: str, folder: Path, **gateway: str) -> str:
        (folder / "limits.toml").write_text(LIMITS, encoding="utf-8")
        extra = "".join(f"{key} = {value}\n" for key, value in gateway.items())
        return f"""\
vendor = "cqg"
limits_file = "limits.toml"
journal_path = "gw-{{account}}.journal"

[vendors.cqg]
url = "{self.url}"
user = "{USER}"
password_env = "{PASSWORD_ENV}"

[gateway]
url = "{redis_url}"
namespace = "{namespace}"
accounts = ["{self.account_id}"]
{extra}
[gateway.workers.w1]
accounts = ["{self.account_id}"]
"""


@asynccontextmanager
async def served_venue() -> AsyncIterator[ServedVenue]:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), seed=5, accounts=[VENUE_ACCOUNT])
    venue.step(50)  # a book to price against
    options = ServeOptions(user=USER, password=Secret(PASSWORD))
    async with CqgDialect(announce=lambda _: None).serve(venue, options) as endpoint:
        served = ServedVenue(venue, endpoint.url)
        settings = {"url": endpoint.url, "user": USER, "password": Secret(PASSWORD)}
        async with PluginHost.load().open_session("cqg", settings) as probe:
            accounts = await probe.accounts()
            served.account_id = next(a.account_id for a in accounts if a.name == VENUE_ACCOUNT)
            instrument = await probe.resolve("EP")
            async with probe.market_data.stream([instrument]) as events:
                with anyio.fail_after(10):
                    async for event in events:
                        if isinstance(event, Quote) and event.bid is not None:
                            served.far_bid = instrument.to_price(event.bid - 40)
                            break
        yield served
