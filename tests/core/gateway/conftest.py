"""A real redis-server for the gateway tests (see ec_core.testing.redis_server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ec_core.testing.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server
