"""docs/reference/conformance.md lists every kit test with its needs, and every code."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from ec_core.testing.conformance import (
    VendorConformance,
    guard,
    journal,
    requirements_of,
    sorted_requirements,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "conformance.md"


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(VendorConformance.kit_tests()))
def test_every_kit_test_has_its_row_with_its_needs(name: str) -> None:
    kit_class = VendorConformance.kit_tests()[name]
    needs = sorted_requirements(requirements_of(getattr(VendorConformance, name)))
    shown = ", ".join(f"`{n}`" for n in needs) or "—"
    assert f"| `{kit_class.__name__}` | `{name}` | {shown} |" in page()


def test_no_row_names_a_test_the_kit_does_not_have() -> None:
    rows = re.findall(r"^\| `\w+Conformance` \| `(test_\w+)` \|", page(), flags=re.M)
    assert sorted(rows) == sorted(VendorConformance.kit_tests())


@pytest.mark.parametrize("module", [guard, journal], ids=["guard", "journal"])
def test_every_code_raised_is_documented(module: object) -> None:
    source = inspect.getsource(module)  # type: ignore[arg-type]
    codes = set(re.findall(r'"([A-Z]+(?:_[A-Z]+)+)"', source))
    assert codes, "no codes found"
    text = page()
    missing = sorted(c for c in codes if f"`{c}`" not in text)
    assert missing == []


def test_the_quick_start_passes_the_password_as_a_secret_as_the_tutorial_asks() -> None:
    quick_start = page().split("## Quick start", 1)[1].split("## ", 1)[0]
    code = quick_start.split("```python", 1)[1].split("```", 1)[0]
    compile(code, "quick start", "exec")  # it is Python as written
    assert "password = Secret(" in code
    assert '"password": password' in code
    tutorial = PAGE.parents[1] / "tutorials" / "write-a-vendor-plugin.md"
    assert "    password: Secret\n" in tutorial.read_text(encoding="utf-8")  # factory's settings


def test_every_documented_rule_has_a_test_that_breaks_it() -> None:
    """Walking the page: each code of the rules table is asserted by a journal test (a report
    that breaks it) and the done-when rules by a kit run over a vendor with that bug."""
    table = page().split("## What every report is checked against", 1)[1].split("\n## ", 1)[0]
    codes = re.findall(r"^\| `([A-Z_]+)`", table, flags=re.M)
    codes += re.findall(r"^\| `[A-Z_]+` / `([A-Z_]+)`", table, flags=re.M)
    assert len(codes) >= 12, codes
    tests = PAGE.parents[2] / "tests" / "conformance"
    journal_tests = (tests / "test_conformance_journal.py").read_text(encoding="utf-8")
    missing = sorted(c for c in codes if f'"{c}"' not in journal_tests)
    assert missing == []
