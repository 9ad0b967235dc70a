"""pytest is a requirement of the kit's users only: ``import ec_core`` never imports it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ec_core.testing import conformance
from ec_core.testing.conformance import (
    CONNECTION_CONTROL,
    MARKET_CONTROL,
    VendorConformance,
    requirements_of,
)
from ec_core.vendor import Capability

PROBE = """
import sys
import ec_core, ec_core.testing, ec_core.vendor
from ec_core.plugins import PluginHost
PluginHost.load()
print("before:", "pytest" in sys.modules)
import ec_core.testing.conformance
print("after:", "pytest" in sys.modules)
"""


def test_pytest_is_imported_by_the_kit_module_only() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["before:", "False", "after:", "True"], result.stderr


def test_public_names_are_unique_and_real() -> None:
    assert len(set(conformance.__all__)) == len(conformance.__all__)
    for name in conformance.__all__:
        assert getattr(conformance, name) is not None, name


@pytest.mark.parametrize("name", sorted(VendorConformance.kit_tests()))
def test_every_kit_test_is_async_and_marked_for_anyio(name: str) -> None:
    import inspect

    function = getattr(VendorConformance, name)
    assert inspect.iscoroutinefunction(function), name
    assert any(m.name == "anyio" for m in getattr(function, "pytestmark", [])), name


def test_requirements_name_only_capabilities_and_the_controls() -> None:
    needs = set().union(
        *(requirements_of(getattr(VendorConformance, n)) for n in VendorConformance.kit_tests())
    )
    assert needs <= {*Capability, MARKET_CONTROL, CONNECTION_CONTROL}
    # a declared capability is a tested one: every capability is needed by some kit test
    assert set(Capability) - needs == set()


def test_every_assert_of_the_kit_names_the_rule_it_holds() -> None:
    """A kit failure is read by a vendor author who did not write the kit: a bare
    ``assert x == y`` (a tuple, a ``KeyError``) does not tell them which rule broke."""
    import ast
    from pathlib import Path

    sentence = (ast.JoinedStr, ast.Constant, ast.Name)  # a string, or a rule kept in a name
    bare = []
    for path in sorted(Path(conformance.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert) and not isinstance(node.msg, sentence):
                bare.append(f"{path.name}:{node.lineno}: assert {ast.unparse(node.test)}")
    assert bare == [], "kit asserts without a sentence naming the rule:\n" + "\n".join(bare)
