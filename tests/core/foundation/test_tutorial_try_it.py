"""The "Try it" example of the vendor tutorial runs as written: it trades the echo plugin
through ``ec_core.connect``, so through the Executor, never ``session.orders.send``, against
``ec mock serve --dialect json`` started as the tutorial says (a real subprocess)."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ec_core.plugins import PluginHost
from mock_serve import serve_subprocess

TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials"
PAGE = TUTORIAL / "write-a-vendor-plugin.md"


def try_it_section() -> str:
    return PAGE.read_text(encoding="utf-8").split("## 6. Try it", 1)[1].split("\n## ", 1)[0]


def try_it_block() -> str:
    match = re.search(r"```py(?:thon)?\n(.*?)```", try_it_section(), re.DOTALL)
    assert match is not None
    return match.group(1)


def try_it_files() -> tuple[str, str]:
    """The page's ``ec.toml`` and ``limits.toml``, as written (a reader copies them)."""
    settings, limits = re.findall(r"```toml\n(.*?)```", try_it_section(), re.DOTALL)
    return settings, limits


@pytest.fixture
def echo_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``PluginHost.load()`` finds the tutorial's plugin, as if it were pip-installed."""
    monkeypatch.syspath_prepend(str(TUTORIAL / "example_plugin" / "src"))
    plugin = importlib.import_module("ec_echo.plugin")
    load = PluginHost.load

    def load_with_echo(**options: bool) -> PluginHost:
        host = load(**options)
        host.register(plugin, name="echo", distribution="ec-echo", version="0.1.0")
        return host

    monkeypatch.setattr(PluginHost, "load", staticmethod(load_with_echo))
    yield
    for name in [m for m in sys.modules if m == "ec_echo" or m.startswith("ec_echo.")]:
        del sys.modules[name]


def test_the_try_it_example_runs_through_the_executor(
    echo_installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = try_it_block()
    assert "ec_core.connect(settings)" in code
    assert "trader.execute(" in code
    assert ".send(" not in code  # users never send around the Executor
    settings, limits = try_it_files()
    (tmp_path / "limits.toml").write_text(limits, encoding="utf-8")
    serve = ("--dialect", "json", "--no-market", "--user", "me", "--account", "ECHO-1")
    with serve_subprocess(*serve, "--start", "2024-01-10T15:00Z", password="pw") as (_, url):
        printed = "ws://127.0.0.1:53917"  # the page's example of what the server printed
        assert printed in settings
        (tmp_path / "ec.toml").write_text(settings.replace(printed, url), encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("EC_ECHO_PASSWORD", "pw")
        monkeypatch.delenv("EC_SETTINGS", raising=False)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(PAGE), "exec"), {"__name__": "try_it"})
    state, ids = out.getvalue().split(" ", 1)
    assert state == "WORKING"
    assert len(eval(ids)) == 1  # the tracker lists the one order
