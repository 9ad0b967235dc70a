"""The conformance kit against the ``cqg`` vendor over a real loopback WebSocket.

The ``cqg`` client (ec_cqg.client), loaded through the plugin host, logs on to the
CQG-dialect server of ec-cqg (ec_cqg.server) serving a quiet mock venue on
127.0.0.1. The market control is an in-process ``mock`` session of another account
on the same venue: the counterparty trades in the engine, the kit sees it over CQG.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conformance_support import TRADER, MockKitFixtures
from ec_core.plugins import PluginHost
from ec_core.secrets import Secret
from ec_core.testing.conformance import SessionOpener, VendorConformance
from ec_core.vendor import Session
from ec_cqg.server import CqgDialect
from ec_mock.dialects import ServeOptions
from ec_mock.vendor import MockVenue

USER, PASSWORD = "kit", "kit-password"


class TestCqgConformance(MockKitFixtures, VendorConformance):
    vendor_name = "cqg"
    timeout = 5.0  # a real socket: a generous safety net, never waited out when all is well

    @pytest.fixture
    async def url(self, venue: MockVenue) -> AsyncIterator[str]:
        options = ServeOptions(user=USER, password=Secret(PASSWORD))
        async with CqgDialect(announce=lambda _: None).serve(venue, options) as endpoint:
            yield endpoint.url

    @pytest.fixture
    def venue_clock(self, venue: MockVenue) -> Callable[[], int]:
        """The mock venue's simulated time: history is asked in the server's time."""
        return venue.clock.now_ns

    @pytest.fixture
    def open_vendor_session(self, host: PluginHost, url: str) -> SessionOpener:
        settings: dict[str, Any] = {
            "url": url,
            "user": USER,
            "password": Secret(PASSWORD),
            "backoff_seed": 1,
            "backoff_initial": 0.005,  # the reconnect test: come back at once
            "backoff_max": 0.02,
            "request_timeout": self.timeout,
        }
        return lambda: host.open_session("cqg", settings)

    @pytest.fixture
    async def account_id(self, vendor_session: Session) -> str:
        """CQG numbers accounts; the server shows the venue's name as the account name."""
        accounts = await vendor_session.accounts()
        named = [a.account_id for a in accounts if a.name == TRADER]
        assert named, f"no account named {TRADER} among {accounts}"
        return named[0]
