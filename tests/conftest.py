"""Settings shared by the whole suite. Keep this file minimal: fixtures live next to their tests."""

from __future__ import annotations

import pytest
from hypothesis import settings

# Two shared cores: timing varies too much for hypothesis' per-example deadline.
settings.register_profile("ec", deadline=None)
settings.load_profile("ec")


def pytest_addoption(parser: pytest.Parser) -> None:
    # anyio's plugin reads the backend from a fixture, not from the ini file; declaring
    # the option here makes `anyio_backend = "asyncio"` in pyproject valid under
    # --strict-config, and the fixture below applies it to every @pytest.mark.anyio test.
    parser.addini("anyio_backend", "backend of @pytest.mark.anyio tests", default="asyncio")


@pytest.fixture(scope="session")
def anyio_backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getini("anyio_backend"))
