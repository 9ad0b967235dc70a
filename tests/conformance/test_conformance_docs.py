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
