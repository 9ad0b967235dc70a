"""Each distribution builds its own wheel and installs alone, with only its declared dependencies.

Slow (wheels are built and installed into fresh virtual environments with uv; the uv cache
makes it take seconds, not minutes), but it is the only test that catches a module importing
a package its distribution does not declare, or a plugin that only works inside the workspace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = {"ec-core": "ec_core", "ec-mock": "ec_mock", "ec-cqg": "ec_cqg"}
# Imports that may be missing because they belong to an optional extra of the distribution.
EXTRAS_IMPORTS = {"ec_core": {"redis"}, "ec_mock": set(), "ec_cqg": {"ec_mock"}}
# Test kits meant to run under pytest: they import it; their users' test environment has it.
PYTEST_KITS = {"ec-core": {"ec_core.testing.conformance"}, "ec-mock": set(), "ec-cqg": set()}


def pytest_plugin_modules(dist: str) -> set[str]:
    """Modules named by the distribution's ``pytest11`` entry points: only pytest loads them."""
    folder = ROOT / dist.replace("-", "_") / "pyproject.toml"
    project = tomllib.loads(folder.read_text(encoding="utf-8"))["project"]
    return set(project.get("entry-points", {}).get("pytest11", {}).values())


def allowed_missing(dist: str, module: str) -> set[str]:
    allowed = set(EXTRAS_IMPORTS[DISTRIBUTIONS[dist]])
    if any(
        module == m or module.startswith(f"{m}.")
        for m in pytest_plugin_modules(dist) | PYTEST_KITS[dist]
    ):
        allowed.add("pytest")
    return allowed


# Run inside a venv: import every module of one package, report what could not be imported.
IMPORT_ALL = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys, traceback
    package = importlib.import_module(sys.argv[1])
    failures = []
    for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            failures.append([info.name, "missing", (exc.name or "").split(".")[0]])
        except Exception:
            failures.append([info.name, "error", traceback.format_exc()])
    print(json.dumps(failures))
    """
)


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv is required to build and install the wheels"
    return found


def clean_env() -> dict[str, str]:
    """The environment without the workspace's venv, so nothing leaks into the fresh ones."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["UV_NO_PROGRESS"] = "1"
    return env


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One wheel per distribution, each built on its own."""
    out = tmp_path_factory.mktemp("wheels")
    built = {}
    for dist in DISTRIBUTIONS:
        target = out / dist
        run(uv(), "build", "--package", dist, "--wheel", "--out-dir", target)
        (wheel,) = target.glob("*.whl")
        built[dist] = wheel
    return built


def make_venv(path: Path, *wheels: Path) -> Path:
    run(uv(), "venv", "--quiet", "--python", sys.executable, path)
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run(uv(), "pip", "install", "--quiet", "--python", python, *wheels)
    return python


def ec_plugins(python: Path) -> dict[str, Any]:
    ec = python.parent / ("ec.exe" if os.name == "nt" else "ec")
    result = run(ec, "plugins", "--json", cwd=python.parent.parent)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def import_failures(python: Path, package: str) -> list[list[str]]:
    result = run(python, "-c", IMPORT_ALL, package, cwd=python.parent.parent)
    failures: list[list[str]] = json.loads(result.stdout)
    return failures


def check_imports_alone(python: Path, dist: str) -> None:
    """Import every module of ``dist`` in a venv that holds only what ``dist`` declares."""
    failures = import_failures(python, DISTRIBUTIONS[dist])
    errors = [f for f in failures if f[1] == "error"]
    undeclared = [
        f for f in failures if f[1] == "missing" and f[2] not in allowed_missing(dist, f[0])
    ]
    assert errors == [], errors
    assert undeclared == [], f"{dist} imports packages it does not declare: {undeclared}"


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory, wheels: dict[str, Path]) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv") / "core", wheels["ec-core"])


def test_ec_core_alone_lists_only_builtins(core_venv: Path) -> None:
    document = ec_plugins(core_venv)
    assert document["vendors"] == []
    assert document["plugins"]
    for plugin in document["plugins"]:
        assert plugin["builtin"] is True, plugin
        assert plugin["distribution"] == "ec-core"
        assert plugin["status"] == "loaded", plugin
    run(uv(), "pip", "check", "--python", core_venv)


def test_ec_core_modules_import_with_only_its_dependencies(core_venv: Path) -> None:
    check_imports_alone(core_venv, "ec-core")
    # The fresh venv really holds ec-core alone: the workspace does not leak into it.
    leaked = subprocess.run(
        [core_venv, "-c", "import ec_mock"],
        cwd=core_venv.parent.parent,
        env=clean_env(),
        capture_output=True,
        timeout=60,
    )
    assert leaked.returncode != 0


def test_ec_core_alone_helps_and_names_what_a_missing_command_needs(core_venv: Path) -> None:
    """``pip install ec-core`` alone: ``ec --help`` works, and ``ec demo`` names ec-mock."""
    ec = core_venv.parent / ("ec.exe" if os.name == "nt" else "ec")
    assert "Commands:" in run(ec, "--help", cwd=core_venv.parent.parent).stdout
    demo = subprocess.run(
        [ec, "demo"], cwd=core_venv.parent.parent, env=clean_env(), capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert demo.returncode == 2, demo.stdout + demo.stderr
    assert "`ec demo` comes with ec-mock, which is not installed: pip install ec-mock" in (
        demo.stderr
    )


def test_adding_the_mock_wheel_adds_the_mock_vendor(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    # a venv of its own: adding to the shared core_venv left ec-mock in it for the
    # ec-core-alone tests whenever they ran after this one (a shuffled order did)
    python = make_venv(tmp_path / "core", wheels["ec-core"])
    run(uv(), "pip", "install", "--quiet", "--python", python, wheels["ec-mock"])
    document = ec_plugins(python)
    records = {p["name"]: p for p in document["plugins"]}
    assert records["mock"]["status"] == "loaded", records["mock"]
    assert records["mock"]["distribution"] == "ec-mock"
    assert [v["name"] for v in document["vendors"]] == ["mock"]
    run(uv(), "pip", "check", "--python", python)
    check_imports_alone(python, "ec-mock")


def test_ec_cqg_installs_alone_with_its_own_dependencies(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    python = make_venv(tmp_path / "cqg", wheels["ec-core"], wheels["ec-cqg"])
    run(uv(), "pip", "check", "--python", python)
    check_imports_alone(python, "ec-cqg")
    document = ec_plugins(python)
    records = {p["name"]: p for p in document["plugins"]}
    assert records["cqg"]["status"] == "loaded", records["cqg"]
    assert "mock" not in records


# -- ready to publish, and installable with pip alone --------------------------------------

PUBLISHED_CLASSIFIERS = {
    "Programming Language :: Python :: 3.11",
    "Operating System :: OS Independent",
    "Typing :: Typed",
}


def wheel_metadata(wheel: Path) -> str:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name).decode("utf-8")


def test_each_wheel_carries_the_metadata_publishing_needs(wheels: dict[str, Path]) -> None:
    import zipfile

    for dist, wheel in wheels.items():
        metadata = wheel_metadata(wheel)
        headers = metadata.split("\n\n", 1)[0].splitlines()
        classifiers = {h.split(": ", 1)[1] for h in headers if h.startswith("Classifier: ")}
        assert classifiers >= PUBLISHED_CLASSIFIERS, (dist, classifiers)
        assert "License-Expression: MIT" in headers, dist
        # PEP 639: the expression replaces licence classifiers (indexes refuse both)
        assert not [c for c in classifiers if c.startswith("License ::")], dist
        # Nothing is published anywhere yet (no public repository, no docs site): a
        # Project-URL would send a user to a made-up address, so none is listed.
        urls = [h for h in headers if h.startswith(("Project-URL: ", "Home-page: "))]
        assert not urls, (dist, urls)
        assert "Description-Content-Type: text/markdown" in headers, dist
        assert f"# {dist}" in metadata.split("\n\n", 1)[1], dist  # the README is the long text
        with zipfile.ZipFile(wheel) as archive:
            licences = [n for n in archive.namelist() if n.endswith("/LICENSE")]
            assert licences, dist
            assert "MIT License" in archive.read(licences[0]).decode()


def test_every_extra_is_named_in_its_distributions_readme() -> None:
    """The README is the long description: an extra it does not name is one nobody finds
    (ec-core's four were named nowhere a user of the wheel reads)."""
    for dist, folder in DISTRIBUTIONS.items():
        project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))
        readme = (ROOT / folder / "README.md").read_text(encoding="utf-8")
        extras = project["project"].get("optional-dependencies", {})
        assert [e for e in extras if f"`{dist}[{e}]`" not in readme] == [], dist


def test_the_ec_core_wheel_ships_the_sample_limits_file(wheels: dict[str, Path]) -> None:
    import zipfile

    with zipfile.ZipFile(wheels["ec-core"]) as archive:
        assert "ec_core/safety/limits.sample.toml" in archive.namelist()


def test_the_three_wheels_install_into_a_fresh_venv_with_pip_alone(
    tmp_path: Path, wheels: dict[str, Path]
) -> None:
    """What the README tells a user without uv: ``pip install`` of the built distributions."""
    venv = tmp_path / "pip-venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120, env=clean_env())
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run(*pip, "install", *wheels.values(), cwd=tmp_path)
    run(*pip, "check", cwd=tmp_path)
    document = ec_plugins(python)
    assert sorted(v["name"] for v in document["vendors"]) == ["cqg", "mock"]
    demo = run(python.parent / ("ec.exe" if os.name == "nt" else "ec"), "demo", cwd=tmp_path)
    assert "ec demo: done" in demo.stdout
