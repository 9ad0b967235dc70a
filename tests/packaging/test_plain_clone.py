"""The suite passes on a plain clone: tests against CQG's descriptor set skip, saying why.

CQG's published descriptor set is not in the repository. Its tests take the path from
``EC_CQG_REFERENCE``; unset, they skip with a reason that names the variable; set to a
missing file, they fail naming it (a typo must not quietly drop the oracle).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIRE = "tests/cqg/protocol/test_cqg_proto_wire.py"


def pytest_in_child(*args: str, reference: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EC_CQG_REFERENCE"}
    if reference is not None:
        env["EC_CQG_REFERENCE"] = reference
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_the_reference_its_tests_skip_and_say_how_to_run_them() -> None:
    result = pytest_in_child(WIRE, reference=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" in result.stdout
    assert "SKIPPED" in result.stdout
    assert "set EC_CQG_REFERENCE to the path of descriptor_set.binpb" in result.stdout


def test_a_reference_path_that_does_not_exist_fails_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "descriptor_set.binpb"
    result = pytest_in_child(WIRE, "-m", "cqg_reference", reference=str(missing))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"EC_CQG_REFERENCE={missing}: no such file" in result.stdout
