"""The Executor example of docs/safety/execution.md runs as written, against the mock."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[3] / "docs" / "safety" / "execution.md"


def first_python_block(text: str) -> str:
    match = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert match is not None, "no python block"
    return match.group(1)


def test_the_executor_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EC_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)  # its journal, orders.sqlite, is written here
    code = first_python_block(PAGE.read_text(encoding="utf-8"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(PAGE), "exec"), {"__name__": "execution_example"})
    assert out.getvalue().split() == ["WORKING", "CANCELLED"]
    assert (tmp_path / "orders.sqlite").is_file()
