"""The documented seed example runs and takes the documented path."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[3] / "docs" / "strategy" / "examples" / "seed_tree.py"


@pytest.mark.anyio
async def test_seed_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(EXAMPLE), run_name="seed_example")
    await module["main"]()
    out = capsys.readouterr().out
    assert "sent: NEW ec1, MODIFY ec3, NEW ec5" in out
    assert "signal: DONE" in out
    assert 'n_TargetEntry -- "ModifyTargetEntry" --> n_ModifyTargetEntry' in out
