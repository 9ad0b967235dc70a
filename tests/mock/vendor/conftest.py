"""Fixtures of the mock-vendor tests: the real plugin host, one quiet venue, two sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from ec_core.plugins import PluginHost
from ec_core.vendor import Session
from ec_mock.vendor import MockVenue
from mockvendor_support import HOUSE, TRADER, quiet_venue


@pytest.fixture
def host() -> PluginHost:
    """Plugins loaded from their entry points, as `ec` loads them."""
    return PluginHost.load()


@pytest.fixture
def venue() -> Iterator[MockVenue]:
    venue = quiet_venue()
    yield venue
    venue.check()


@pytest.fixture
async def trader(host: PluginHost, venue: MockVenue) -> AsyncIterator[Session]:
    async with host.open_session("mock", {"venue": venue, "account_id": TRADER}) as session:
        yield session


@pytest.fixture
async def house(host: PluginHost, venue: MockVenue) -> AsyncIterator[Session]:
    """A second logon on the same venue: the other side of the trader's orders."""
    async with host.open_session("mock", {"venue": venue, "account_id": HOUSE}) as session:
        yield session
