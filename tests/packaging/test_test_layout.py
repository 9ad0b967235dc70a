"""The suite's own layout: test files are named by their subject, and each name is unique.

Names such as ``test_review_*`` or ``test_found_*`` say when a test was written, not what it
covers; a reader looking for the tracker's tests should find them by ``test_tracker*``. Pytest's
default import mode also needs unique basenames across ``tests/`` (there are no packages).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
HISTORY_PREFIX = re.compile(r"^test_(found|review|audit|round\d*)_")


def _test_files() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def test_test_files_are_named_by_subject_not_by_history() -> None:
    named_by_history = [p.relative_to(TESTS) for p in _test_files() if HISTORY_PREFIX.match(p.name)]
    assert named_by_history == [], f"rename by subject: {named_by_history}"


def test_test_file_basenames_are_unique() -> None:
    counts = Counter(p.name for p in _test_files())
    assert [name for name, n in counts.items() if n > 1] == []
