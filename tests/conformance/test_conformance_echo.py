"""The conformance kit against the tutorial's echo vendor, with the tutorial's own test file:
echo over a real WebSocket on 127.0.0.1 to ec-mock's ``json`` dialect, one venue per test.

``docs/tutorials/example_plugin/tests/test_conformance.py`` is what the tutorial tells a
plugin author to copy; it finds the plugin through its entry point. ec-echo is not
installed here, so this subclass changes only that: its ``host`` registers the plugin
module from the source tree, as ``tests/core/foundation/test_tutorial_plugin.py`` does, and
``vendor_capabilities`` reads them from that host (the kit's default asks the installed
plugins). Every kit test must pass, none skipped: echo declares every capability the kit
tests, and the tutorial's class gives a market control.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from ec_core.plugins import PluginHost
from ec_core.testing.conformance import (
    CONNECTION_CONTROL,
    MARKET_CONTROL,
    VendorConformance,
    requirements_of,
)
from ec_core.vendor import Capability
from file_modules import load_file_module

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "example_plugin"


def _tutorial_module() -> ModuleType:
    path = EXAMPLE / "tests" / "test_conformance.py"
    return load_file_module("echo_tutorial_conformance", path)


if TYPE_CHECKING:
    TutorialConformance = VendorConformance  # the tutorial's class adds only fixtures
else:
    TutorialConformance = _tutorial_module().TestEchoConformance


@pytest.fixture
def echo_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginHost]:
    """A host with the tutorial's plugin module registered from the source tree."""
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    plugin = importlib.import_module("ec_echo.plugin")
    host = PluginHost.load(entry_points_enabled=False)
    assert host.register(plugin, name="echo", distribution="ec-echo", version="0.1.0")
    host.check_pending()
    yield host
    host.unregister("echo")
    for name in [m for m in sys.modules if m == "ec_echo" or m.startswith("ec_echo.")]:
        del sys.modules[name]


def declared(host: PluginHost) -> frozenset[Capability]:
    factory = host.vendors().get("echo")
    assert factory is not None
    return factory.info.capabilities


class TestEchoConformance(TutorialConformance):
    @pytest.fixture
    def host(self, echo_host: PluginHost) -> PluginHost:
        return echo_host

    @pytest.fixture
    def vendor_capabilities(self, host: PluginHost) -> frozenset[Capability]:
        return declared(host)  # the kit's default asks the installed plugins


def test_echo_declares_every_capability_the_kit_tests(echo_host: PluginHost) -> None:
    """So no kit test is skipped above but history's, depth's and reconnect's: the tutorial's
    class also gives a market control; history, depth and reconnect (echo's session ends when
    its line drops) are optional extensions it leaves out."""
    needs = {
        need
        for test in VendorConformance.kit_tests()
        for need in requirements_of(getattr(VendorConformance, test))
    }
    assert MARKET_CONTROL in needs
    optional = {Capability.HISTORY, Capability.DEPTH, Capability.RECONNECT}
    assert needs - {MARKET_CONTROL, CONNECTION_CONTROL, *optional} <= declared(echo_host)
    assert not optional & declared(echo_host)


def test_the_tutorial_shows_the_counts_its_kit_run_gives() -> None:
    """The page's ``N passed, M skipped`` is what a plugin author gets: the kit's tests as
    collected for the tutorial's class (one per contract where a test takes the symbol),
    skipped where they need what echo leaves out. The page said 50 passed when the run
    gave 49."""
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", __file__],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    items = [line for line in collected.stdout.splitlines() if "::TestEchoConformance::" in line]
    optional = {Capability.HISTORY, Capability.DEPTH, Capability.RECONNECT, CONNECTION_CONTROL}
    skipped = 0
    for item in items:
        name = item.split("::")[-1].split("[", 1)[0]
        skipped += bool(requirements_of(getattr(VendorConformance, name)) & optional)
    page = (EXAMPLE.parent / "write-a-vendor-plugin.md").read_text(encoding="utf-8")
    assert f"\n{len(items) - skipped} passed, {skipped} skipped\n" in page
