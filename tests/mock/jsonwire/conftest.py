"""Fixtures of the json-dialect tests: one quiet venue served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from ec_core.clock import ManualClock
from ec_core.secrets import Secret
from ec_mock.dialects import ServeOptions
from ec_mock.jsonwire import JsonDialect
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS


@pytest.fixture
def venue() -> Iterator[MockVenue]:
    venue = MockVenue.create(clock=ManualClock(SIM_START_NS), accounts=["A-1", "A-2"], market=False)
    yield venue
    venue.check()


@pytest.fixture
def dialect() -> JsonDialect:
    return JsonDialect()


@pytest.fixture
async def url(venue: MockVenue, dialect: JsonDialect) -> AsyncIterator[str]:
    options = ServeOptions(user="u", password=Secret("pw"))
    async with dialect.serve(venue, options) as endpoint:
        yield endpoint.url
