"""The public surface: ``ec_core.__all__`` is sorted, complete and importable, and so is every
module's ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import ec_core


def ec_core_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(ec_core.__path__, prefix="ec_core.")
        if not info.name.rsplit(".", 1)[-1].startswith("_")
    )


def test_top_level_all_is_sorted_and_importable() -> None:
    assert ec_core.__all__ == sorted(ec_core.__all__)
    assert len(set(ec_core.__all__)) == len(ec_core.__all__)
    namespace: dict[str, object] = {}
    exec("from ec_core import *", namespace)  # what a user gets
    assert set(ec_core.__all__) <= set(namespace)


def test_top_level_all_is_complete() -> None:
    """Every public name at the top level is listed: nothing is exported by accident."""
    public = {
        name
        for name, value in vars(ec_core).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "version", "PackageNotFoundError"}
    }
    assert public == set(ec_core.__all__) - {"__version__"}


def test_top_level_names_are_the_real_objects_of_their_home_module() -> None:
    for name in ec_core.__all__:
        value = getattr(ec_core, name)
        module = getattr(value, "__module__", None)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert module is not None, name
            assert module.startswith("ec_core."), name
            home = importlib.import_module(module)
            assert getattr(home, name) is value, name


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert ec_core.__version__ == version("ec-core")


@pytest.mark.parametrize("module_name", ec_core_modules())
def test_every_module_imports_and_its_all_names_exist(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", ()):
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name!r}"


@pytest.mark.parametrize(
    ("package", "heavy"), [("ec_mock", "ec_mock.engine.core"), ("ec_cqg", "ec_cqg.client.session")]
)
def test_vendor_packages_export_their_names_lazily(package: str, heavy: str) -> None:
    import importlib
    import subprocess
    import sys

    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr(module, "nope")  # noqa: B009
    probe = f"import sys, {package}; print({heavy!r} in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # the package alone stays light
