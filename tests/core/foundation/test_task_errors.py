"""A task group's lone failure comes out as itself; several stay a group."""

from __future__ import annotations

import anyio
import pytest
from ec_core.task_errors import lone_error


async def _fail(exc: Exception) -> None:
    raise exc


def test_a_lone_failure_is_raised_as_itself() -> None:
    async def run() -> None:
        with lone_error():
            async with anyio.create_task_group() as tg:
                tg.start_soon(_fail, KeyError("k"))

    with pytest.raises(KeyError) as caught:
        anyio.run(run)
    assert caught.value.__suppress_context__


def test_several_failures_stay_a_group() -> None:
    async def run() -> None:
        with lone_error():
            async with anyio.create_task_group() as tg:
                tg.start_soon(_fail, KeyError("k"))
                tg.start_soon(_fail, ValueError("v"))

    with pytest.raises(BaseExceptionGroup) as caught:
        anyio.run(run)
    assert {type(e) for e in caught.value.exceptions} == {KeyError, ValueError}
