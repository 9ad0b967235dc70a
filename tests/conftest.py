"""Settings shared by the whole suite. Keep this file minimal: fixtures live next to their tests."""

from __future__ import annotations

import os

import pytest
from cqg_reference import ENV_VAR, MARKER, SKIP_REASON, configured_path
from hypothesis import settings

# Two shared cores: timing varies too much for hypothesis' per-example deadline.
# Locally ("ec") examples are random, so runs keep exploring; CI (CI set, as .ci/run runs)
# derandomizes and keeps no example database, so a landing is judged on the same examples
# every time. A failure found locally becomes a deterministic regression test.
settings.register_profile("ec", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "ec")


def pytest_addoption(parser: pytest.Parser) -> None:
    # anyio's plugin reads the backend from a fixture, not from the ini file; declaring
    # the option here makes `anyio_backend = "asyncio"` in pyproject valid under
    # --strict-config, and the fixture below applies it to every @pytest.mark.anyio test.
    parser.addini("anyio_backend", "backend of @pytest.mark.anyio tests", default="asyncio")


@pytest.fixture(scope="session")
def anyio_backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getini("anyio_backend"))


def pytest_report_header() -> str:
    path = configured_path()
    if path is None:
        return f"cqg reference: {ENV_VAR} unset, the tests against CQG's descriptor set skip"
    return f"cqg reference: {path}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``cqg_reference`` skip, saying why, when the reference is not configured."""
    if configured_path() is not None:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker(MARKER) is not None:
            item.add_marker(skip)
