"""Vendor-name conflicts, ``ec_addhooks`` roll-back, unmarked hooks and the 80-column listing."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.errors import AmbiguousVendorError, OrderDeniedError, Violation
from ec_core.plugins import ENTRY_POINT_GROUP, PluginHost, PluginStatus, VendorRegistry, hookimpl
from ec_core.safety.codes import Code
from ec_core.settings import Settings
from ec_core.vendor import Session, VendorInfo

# entry point name: (distribution, module name, vendor names it registers)
CLAIMANTS = {
    "genuine": ("ec-genuine", "ec_test_genuine_mod", ("venue", "solo")),
    "impostor": ("ec-impostor", "ec_test_impostor_mod", ("venue",)),
}


class FakeFactory:
    """A vendor factory that records the settings it is opened with, and never connects."""

    def __init__(self, name: str, distribution: str) -> None:
        self.info = VendorInfo(name=name, version="9.9", distribution=distribution)
        self.opened: list[Mapping[str, Any]] = []

    def open(
        self, settings: Mapping[str, Any], *, on_state: object = None
    ) -> AbstractAsyncContextManager[Session]:
        self.opened.append(settings)
        return nullcontext(cast(Session, None))


class VendorPlugin:
    def __init__(self, *names: str, distribution: str) -> None:
        self.factories = [FakeFactory(n, distribution) for n in names]

    @hookimpl
    def ec_register_vendors(self, vendors: VendorRegistry) -> None:
        for factory in self.factories:
            vendors.add(factory)


def status(host: PluginHost, name: str) -> tuple[PluginStatus, str]:
    record = {r.name: r for r in host.records}[name]
    return record.status, record.error


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Two fake installed distributions that both register the vendor ``venue``."""
    site = tmp_path / "site"
    for name, (dist, module, vendors) in CLAIMANTS.items():
        info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\n{name} = {module}\n", encoding="utf-8"
        )
        source = f"""
            from ec_core.plugins import hookimpl
            from ec_core.vendor import VendorInfo

            class Factory:
                def __init__(self, name):
                    self.info = VendorInfo(name=name, version="1.0", distribution={dist!r})

                def open(self, settings):
                    raise NotImplementedError

            @hookimpl
            def ec_register_vendors(vendors):
                for vendor in {vendors!r}:
                    vendors.add(Factory(vendor))
            """
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    yield site
    for _, module, _ in CLAIMANTS.values():
        sys.modules.pop(module, None)


def claimant_host() -> PluginHost:
    host = PluginHost(strict=False)
    host.load_builtins()
    host.load_entry_points(
        ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name in CLAIMANTS
    )
    host.check_pending()
    return host


@pytest.fixture
def host() -> PluginHost:
    return PluginHost.load(entry_points_enabled=False)


def test_a_vendor_name_claimed_by_two_distributions_is_ambiguous_whatever_the_order() -> None:
    for order in (("a", "b"), ("b", "a")):
        fresh = PluginHost.load(entry_points_enabled=False)
        for name in order:
            fresh.register(VendorPlugin("dup", name * 3, distribution=f"ec-{name}"), name=name)
        registry = fresh.vendors()
        assert all(r.status is PluginStatus.LOADED for r in fresh.records), fresh.records
        assert registry.conflicts() == {"dup": ("ec-a", "ec-b")}
        assert registry.get("dup") is None  # never the one loaded last
        with pytest.raises(AmbiguousVendorError) as info:
            fresh.require_vendor("dup")
        assert info.value.distributions == ("ec-a", "ec-b")
        assert 'vendor = "ec-a:dup"' in str(info.value)
        with pytest.raises(AmbiguousVendorError):
            fresh.open_session("dup", {})
        chosen = registry.get("ec-b:dup")
        assert chosen is not None
        assert chosen.info.distribution == "ec-b"
        assert registry.names() == ["aaa", "bbb", "dup"]


def test_an_explicit_dist_name_selection_opens_that_distributions_factory(
    host: PluginHost,
) -> None:
    first = VendorPlugin("dup", distribution="ec-first")
    second = VendorPlugin("dup", distribution="ec-second")
    host.register(first, name="first")
    host.register(second, name="second")
    host.open_session("ec-first:dup", {"k": 1})
    assert first.factories[0].opened == [{"k": 1}]
    assert second.factories[0].opened == []
    host.require_vendor("ec-second:dup")


def test_a_dist_name_selection_reads_the_bare_names_settings_table() -> None:
    settings = Settings(vendor="ec-b:dup", vendors={"dup": {"url": "ws://127.0.0.1:1"}})
    assert settings.vendor_settings(settings.vendor) == {"url": "ws://127.0.0.1:1"}


def test_one_distribution_adding_a_vendor_twice_is_still_its_own_bug(host: PluginHost) -> None:
    class Twice:
        @hookimpl
        def ec_register_vendors(self, vendors: VendorRegistry) -> None:
            vendors.add(FakeFactory("x", "ec-twice"))
            vendors.add(FakeFactory("x", "ec-twice"))

    host.register(Twice(), name="twice")
    host.vendors()
    state, error = status(host, "twice")
    assert state is PluginStatus.FAILED
    assert "vendor 'x' registered twice by ec-twice" in error


def test_ec_plugins_names_both_claimants_and_strict_exits_1(site: Path) -> None:
    result = CliRunner().invoke(build_cli(claimant_host()), ["plugins"])
    assert result.exit_code == 0, result.output
    conflict = next(line for line in result.output.splitlines() if line.startswith("CONFLICT"))
    assert "'venue'" in conflict
    assert "ec-genuine" in conflict
    assert "ec-impostor" in conflict
    assert 'vendor = "ec-genuine:venue"' in conflict
    strict = CliRunner().invoke(build_cli(claimant_host()), ["plugins", "--strict"])
    assert strict.exit_code == 1
    assert "CONFLICT" in strict.output
    json_out = CliRunner().invoke(build_cli(claimant_host()), ["plugins", "--json"])
    assert '"conflicts":{"venue":["ec-genuine","ec-impostor"]}' in json_out.output


class Child:
    @hookimpl
    def ec_on_fill(self, fill: object) -> None:
        raise AssertionError("the child of a failed plugin must not be called")


class ParentThatFails:
    """Registers a sub-plugin from ``ec_addhooks`` (as ec-cqg does), then fails."""

    @hookimpl
    def ec_addhooks(self, host: PluginHost) -> None:
        host.register(Child(), name="child", distribution="ec-parent")

    @hookimpl
    def ec_register_vendors(self, vendors: VendorRegistry) -> None:
        raise RuntimeError("parent bug")


class ParentWithAsyncHook:
    @hookimpl
    def ec_addhooks(self, host: PluginHost) -> None:
        host.register(Child(), name="child2", distribution="ec-parent")

    @hookimpl
    def ec_on_fill(self, fill: object) -> None:
        """Fine."""

    @hookimpl
    def ec_register_validators(self, wrong: object) -> None:
        """Argument name does not match: pluggy fails it at registration."""


def test_what_a_failed_plugin_registered_from_ec_addhooks_is_removed(host: PluginHost) -> None:
    host.register(ParentThatFails(), name="parent", distribution="ec-parent")
    assert status(host, "child")[0] is PluginStatus.LOADED
    host.vendors()
    assert status(host, "parent")[0] is PluginStatus.FAILED
    assert "child" not in {r.name for r in host.records}
    assert host.pluggy_manager.get_plugin("child") is None
    assert not host.has_observers("ec_on_fill")


def test_a_plugin_failing_at_registration_leaves_no_sub_plugin(host: PluginHost) -> None:
    assert not host.register(ParentWithAsyncHook(), name="parent2", distribution="ec-parent")
    assert status(host, "parent2")[0] is PluginStatus.FAILED
    assert host.pluggy_manager.get_plugin("child2") is None
    assert "child2" not in {r.name for r in host.records}


def test_an_unmarked_hook_like_function_is_warned_about(
    host: PluginHost,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "ec_test_unmarked_mod.py").write_text(
        textwrap.dedent(
            """
            from ec_core.plugins import hookimpl

            def ec_register_vendors(vendors):  # @hookimpl forgotten
                raise AssertionError("never called")

            @hookimpl
            def ec_on_fill(fill):
                pass

            def ec_helper_not_a_hook():
                pass

            def helper():
                pass
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("ec_test_unmarked_mod")
    try:
        with caplog.at_level(logging.WARNING, logger="ec_core.plugins.host"):
            assert host.register(module, name="unmarked", distribution="ec-unmarked")
    finally:
        sys.modules.pop("ec_test_unmarked_mod", None)
    record = {r.name: r for r in host.records}["unmarked"]
    assert record.status is PluginStatus.LOADED
    assert len(record.warnings) == 2, record.warnings
    assert any("ec_register_vendors" in w and "@hookimpl" in w for w in record.warnings)
    assert not any("ec_on_fill" in w for w in record.warnings)
    assert "ec_register_vendors" in caplog.text
    result = CliRunner().invoke(build_cli(host), ["plugins"])
    assert "WARNING unmarked" in result.output
    assert "ec_register_vendors" in result.output


def test_ec_plugins_at_80_columns_wraps_hook_names_instead_of_cutting(host: PluginHost) -> None:
    class Many:
        @hookimpl
        def ec_register_validators(self, validators: object) -> None:
            """Nothing."""

        @hookimpl
        def ec_on_fill_anomaly(self, anomaly: object) -> None:
            """Nothing."""

        @hookimpl
        def ec_on_session_state(self, vendor: str, old: object, new: object) -> None:
            """Nothing."""

    host.register(Many(), name="a_plugin_with_a_rather_long_name", distribution="ec-long-name")
    result = CliRunner().invoke(build_cli(host), ["plugins"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "…" not in result.output
    for record in host.records:
        for hook in record.hooks:
            assert hook in result.output, hook


def test_order_denied_codes_are_plain_strings() -> None:
    error = OrderDeniedError(
        [
            Violation(code=Code.PRICE_MISSING, field="price", rule="required"),
            Violation(code="VENDOR_RULE", field="qty", rule="max 5"),
        ]
    )
    assert error.codes == ("PRICE_MISSING", "VENDOR_RULE")
    assert all(type(code) is str for code in error.codes)
    assert all(type(v.code) is str for v in error.violations)
