"""The ``anyio_backend`` fixture of ec-mock's pytest plugin, read from the ini option.

A module of its own so the plugin can register it last (in ``pytest_configure``):
registered after anyio's pytest plugin, its fixture wins over anyio's (which runs
every installed backend); a project's conftest fixture still wins over both.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anyio_backend(pytestconfig: pytest.Config) -> str:
    """The ``anyio_backend`` ini option (default ``asyncio``: ec supports asyncio only)."""
    return str(pytestconfig.getini("anyio_backend"))
