"""``ec plugins`` with deliberately broken plugins installed through real entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.plugins import ENTRY_POINT_GROUP, PluginHost, PluginStatus

import ec_core

BROKEN = {
    # entry point name: (distribution, version, module name, module source)
    "broken": (
        "ec-broken-plugin",
        "1.2.3",
        "ec_test_broken_mod",
        "import ec_dependency_that_is_not_installed  # fails at import\n",
    ),
    "badsig": (
        "ec-badsig-plugin",
        "0.4",
        "ec_test_badsig_mod",
        textwrap.dedent(
            """
            from ec_core.plugins import hookimpl

            @hookimpl
            def ec_register_vendors(registry):  # the spec says `vendors`
                raise AssertionError("never called")
            """
        ),
    ),
}


def install_fake_distributions(site: Path) -> None:
    """Write ``*.dist-info`` folders and modules the way an installer would."""
    for name, (dist, version, module, source) in BROKEN.items():
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\n{name} = {module}\n", encoding="utf-8"
        )
        (site / f"{module}.py").write_text(source, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    install_fake_distributions(site)
    monkeypatch.syspath_prepend(str(site))
    yield site
    for _, _, module, _ in BROKEN.values():
        sys.modules.pop(module, None)


def broken_host() -> PluginHost:
    """Built-ins plus only the fake distributions (the real ones are tested elsewhere)."""
    host = PluginHost(strict=False)
    host.load_builtins()
    host.load_entry_points(ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name in BROKEN)
    host.check_pending()
    return host


def test_entry_points_of_the_fake_distributions_are_seen(site: Path) -> None:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name in BROKEN}
    assert set(found) == set(BROKEN)
    assert found["broken"].dist is not None
    assert found["broken"].dist.name == "ec-broken-plugin"


def test_broken_plugins_are_recorded_with_distribution_and_cause(site: Path) -> None:
    host = broken_host()
    records = {r.name: r for r in host.records}
    assert records["broken"].status is PluginStatus.FAILED
    assert records["broken"].distribution == "ec-broken-plugin"
    assert records["broken"].version == "1.2.3"
    assert "import of ec_test_broken_mod failed" in records["broken"].error
    assert "ModuleNotFoundError" in records["broken"].error
    assert "ec_dependency_that_is_not_installed" in records["broken"].error
    assert records["badsig"].status is PluginStatus.FAILED
    assert records["badsig"].distribution == "ec-badsig-plugin"
    assert "hook signature does not match the spec" in records["badsig"].error
    assert records["ec_core.builtin.defaults"].status is PluginStatus.LOADED


def test_ec_plugins_shows_distribution_and_cause(site: Path) -> None:
    result = CliRunner().invoke(build_cli(broken_host()), ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    broken = next(line for line in lines if line.startswith("FAILED broken "))
    assert "distribution ec-broken-plugin 1.2.3" in broken
    assert "No module named 'ec_dependency_that_is_not_installed'" in broken
    badsig = next(line for line in lines if line.startswith("FAILED badsig "))
    assert "ec-badsig-plugin" in badsig
    assert "registry" in badsig  # the offending argument is named
    assert "ec_core.builtin" in result.output
    assert "vendors: none" in result.output


def test_ec_plugins_strict_exits_1(site: Path) -> None:
    result = CliRunner().invoke(build_cli(broken_host()), ["plugins", "--strict"])
    assert result.exit_code == 1
    assert "FAILED broken" in result.output


def test_ec_plugins_strict_exits_0_when_all_is_well() -> None:
    host = PluginHost.load(entry_points_enabled=False)
    result = CliRunner().invoke(build_cli(host), ["plugins", "--strict"])
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.output


def test_ec_plugins_json(site: Path) -> None:
    result = CliRunner().invoke(build_cli(broken_host()), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    by_name = {p["name"]: p for p in document["plugins"]}
    assert by_name["broken"]["status"] == "failed"
    assert by_name["broken"]["distribution"] == "ec-broken-plugin"
    assert "ModuleNotFoundError" in by_name["broken"]["error"]
    assert by_name["ec_core.builtin.defaults"]["builtin"] is True
    assert document["vendors"] == []


def test_the_real_ec_command_reports_broken_plugins(site: Path) -> None:
    """End to end: the ``ec`` entry function in a fresh interpreter, every installed plugin."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-c", "from ec_core.cli.main import main; main()"]
    strict = subprocess.run(
        [*command, "plugins", "--strict"], env=env, capture_output=True, text=True, timeout=60
    )
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "FAILED broken (distribution ec-broken-plugin 1.2.3)" in strict.stdout
    assert "ec_dependency_that_is_not_installed" in strict.stdout
    assert strict.stderr == ""  # the fault is reported once, in the listing, not as a log

    version = subprocess.run(
        [*command, "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0  # a broken plugin does not break other commands
    assert ec_core.__version__ in version.stdout


@pytest.mark.parametrize("args", [["demo"], ["mock", "serve", "--dialect", "cqg"], ["demo", "-h"]])
def test_a_command_of_a_distribution_not_installed_names_what_to_install(args: list[str]) -> None:
    """With ec-core alone, ``ec demo`` said only "No such command 'demo'": the commands
    of ec's own distributions name the one to install."""
    host = PluginHost.load(entry_points_enabled=False)
    result = CliRunner().invoke(build_cli(host), args)
    assert result.exit_code == 2, result.output
    assert f"`ec {args[0]}` comes with ec-mock, which is not installed" in result.output
    assert "pip install ec-mock" in result.output
    assert "Traceback" not in result.output


def test_ec_help_of_a_command_not_installed_says_where_it_comes_from() -> None:
    host = PluginHost.load(entry_points_enabled=False)
    result = CliRunner().invoke(build_cli(host), ["help", "demo"])
    assert result.exit_code == 0, result.output
    assert "`ec demo` comes with ec-mock, which is not installed" in result.output


def test_commands_not_installed_stay_out_of_the_help() -> None:
    host = PluginHost.load(entry_points_enabled=False)
    result = CliRunner().invoke(build_cli(host), ["--help"])
    assert result.exit_code == 0
    assert " demo " not in result.output
    assert " mock " not in result.output
