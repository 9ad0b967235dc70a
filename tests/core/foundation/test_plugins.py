"""The plugin host: throwaway plugins, defensive registration, isolation, strict mode."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any, cast

import click
import pytest
from ec_core.errors import PluginError, VendorNotFoundError, Violation
from ec_core.model import Fill, Side
from ec_core.plugins import PluginHost, PluginStatus, VendorRegistry, hookimpl, hookspec
from ec_core.plugins.host import BUILTIN_PLUGINS
from ec_core.validation import ValidatorRegistry
from ec_core.vendor import Session, VendorInfo

FILL = Fill(
    fill_id="f1",
    account_id="A",
    symbol="X",
    side=Side.BUY,
    qty=1,
    price=Decimal(1),
    ts_ns=0,
)


class NeverOpened(AbstractAsyncContextManager[Session]):
    async def __aenter__(self) -> Session:
        raise NotImplementedError("these tests never connect")

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class FakeFactory:
    """A vendor factory whose sessions are never opened: enough to test registration."""

    def __init__(self, name: str, distribution: str = "ec-test") -> None:
        self.info = VendorInfo(name=name, version="9.9", distribution=distribution)
        self.opened: list[Mapping[str, Any]] = []

    def open(
        self, settings: Mapping[str, Any], *, on_state: object = None
    ) -> AbstractAsyncContextManager[Session]:
        self.opened.append(settings)
        return NeverOpened()


class VendorPlugin:
    def __init__(self, *names: str, distribution: str = "ec-test") -> None:
        self.factories = [FakeFactory(n, distribution) for n in names]

    @hookimpl
    def ec_register_vendors(self, vendors: VendorRegistry) -> None:
        for factory in self.factories:
            vendors.add(factory)


class FillObserver:
    def __init__(self) -> None:
        self.fills: list[Fill] = []

    @hookimpl
    def ec_on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)


class RaisingObserver:
    @hookimpl
    def ec_on_fill(self, fill: Fill) -> None:
        raise RuntimeError("observer bug")


class AsyncHookPlugin:
    @hookimpl
    async def ec_register_vendors(self, vendors: VendorRegistry) -> None:
        vendors.add(FakeFactory("never"))


class AsyncGenHookPlugin:
    @hookimpl
    async def ec_on_fill(self, fill: Fill) -> AsyncIterator[None]:
        yield


class WrongArgumentPlugin:
    """``ec_on_fill`` is fine and would be registered first; ``registry`` is not the spec's name."""

    @hookimpl
    def ec_on_fill(self, fill: Fill) -> None:
        raise AssertionError("must not stay registered")

    @hookimpl
    def ec_register_vendors(self, registry: VendorRegistry) -> None:
        registry.add(FakeFactory("never"))


class MisspeltPlugin:
    @hookimpl
    def ec_register_vendor(self, vendors: VendorRegistry) -> None:  # missing "s"
        vendors.add(FakeFactory("never"))


class OptionalHookPlugin:
    @hookimpl(optionalhook=True)
    def ec_other_distribution_hook(self, thing: object) -> None:
        """A hook of another distribution that may not be installed: not an error."""


class RegistrationBugPlugin:
    """Adds a vendor and a validator, then raises: both must be undone."""

    @hookimpl
    def ec_register_vendors(self, vendors: VendorRegistry) -> None:
        vendors.add(FakeFactory("half"))
        raise RuntimeError("vendor registration bug")


@pytest.fixture
def host() -> PluginHost:
    """Built-ins only: the installed distributions' plugins stay out of these tests."""
    return PluginHost.load(entry_points_enabled=False)


@pytest.fixture
def throwaway(host: PluginHost) -> Iterator[VendorPlugin]:
    """A plugin registered for one test and unregistered afterwards."""
    plugin = VendorPlugin("throwaway")
    assert host.register(plugin, name="throwaway", distribution="ec-throwaway", version="0.1")
    yield plugin
    host.unregister("throwaway")
    assert "throwaway" not in host.vendors()
    assert host.pluggy_manager.get_plugin("throwaway") is None
    assert "throwaway" not in {r.name for r in host.records}


def status(host: PluginHost, name: str) -> tuple[PluginStatus, str]:
    record = {r.name: r for r in host.records}[name]
    return record.status, record.error


def test_builtins_are_loaded_and_marked(host: PluginHost) -> None:
    records = {r.name: r for r in host.records}
    assert set(records) == set(BUILTIN_PLUGINS)
    for record in records.values():
        assert record.builtin
        assert record.distribution == "ec-core"
        assert record.status is PluginStatus.LOADED, record.error
    assert set(records["ec_core.builtin.defaults"].hooks) == {
        "ec_open_session",
        "ec_order_gateway",
        "ec_market_data",
        "ec_trade_monitor",
    }
    assert host.vendors().names() == []


def test_throwaway_plugin_provides_a_vendor(host: PluginHost, throwaway: VendorPlugin) -> None:
    assert host.vendors().names() == ["throwaway"]
    assert status(host, "throwaway") == (PluginStatus.LOADED, "")
    manager = host.open_session("throwaway", {"url": "x"})
    assert throwaway.factories[0].opened == [{"url": "x"}]
    assert isinstance(manager, NeverOpened)


def test_registering_invalidates_the_cached_vendor_list(host: PluginHost) -> None:
    assert host.vendors().names() == []
    host.register(VendorPlugin("late"), name="late")
    assert host.vendors().names() == ["late"]
    host.unregister("late")
    assert host.vendors().names() == []


@pytest.mark.parametrize("plugin_class", [AsyncHookPlugin, AsyncGenHookPlugin])
def test_async_hook_is_rejected_with_a_clear_record(
    host: PluginHost, throwaway: VendorPlugin, plugin_class: type
) -> None:
    assert not host.register(plugin_class(), name="asyncy", distribution="ec-asyncy")
    state, error = status(host, "asyncy")
    assert state is PluginStatus.FAILED
    assert "is async" in error
    assert "synchronous" in error
    assert host.pluggy_manager.get_plugin("asyncy") is None
    assert host.vendors().names() == ["throwaway"]  # the others keep working
    assert not host.has_observers("ec_on_fill")


def test_wrong_argument_name_is_caught_at_registration_and_rolled_back(
    host: PluginHost, throwaway: VendorPlugin
) -> None:
    assert not host.register(WrongArgumentPlugin(), name="wrongarg", distribution="ec-wrong")
    state, error = status(host, "wrongarg")
    assert state is PluginStatus.FAILED
    assert "hook signature does not match the spec" in error
    assert "registry" in error
    # pluggy had already added ec_on_fill before it met the bad hook: nothing may remain.
    assert not host.has_observers("ec_on_fill")
    host.notify_fill(FILL)
    assert host.observer_errors == {}
    assert host.vendors().names() == ["throwaway"]


def test_misspelt_hook_name_is_caught_by_check_pending(
    host: PluginHost, throwaway: VendorPlugin
) -> None:
    assert host.register(MisspeltPlugin(), name="typo", distribution="ec-typo")
    host.check_pending()
    state, error = status(host, "typo")
    assert state is PluginStatus.FAILED
    assert error == "implements unknown hook(s): ec_register_vendor"
    assert host.pluggy_manager.get_plugin("typo") is None
    assert status(host, "throwaway") == (PluginStatus.LOADED, "")


def test_optional_hook_of_an_absent_distribution_is_not_an_error(host: PluginHost) -> None:
    assert host.register(OptionalHookPlugin(), name="optional")
    host.check_pending()
    assert status(host, "optional") == (PluginStatus.LOADED, "")


@pytest.mark.parametrize(
    ("plugin", "match"),
    [
        (AsyncHookPlugin(), "is async"),
        (WrongArgumentPlugin(), "signature does not match"),
        (MisspeltPlugin(), "unknown hook"),
        (RegistrationBugPlugin(), "vendor registration bug"),
    ],
    ids=["async", "signature", "misspelt", "raises"],
)
def test_strict_mode_raises_naming_plugin_and_distribution(plugin: object, match: str) -> None:
    host = PluginHost.load(strict=True, entry_points_enabled=False)

    def load_bad() -> None:
        host.register(plugin, name="bad", distribution="ec-bad", version="3.1")
        host.check_pending()
        host.vendors()

    with pytest.raises(PluginError, match=match) as info:
        load_bad()
    assert info.value.plugin == "bad"
    assert "ec-bad 3.1" in str(info.value)


def test_a_registration_hook_that_raises_fails_its_plugin_only(
    host: PluginHost, throwaway: VendorPlugin
) -> None:
    host.register(RegistrationBugPlugin(), name="buggy", distribution="ec-buggy")
    assert host.vendors().names() == ["throwaway"]  # "half" was added, then undone
    state, error = status(host, "buggy")
    assert state is PluginStatus.FAILED
    assert "ec_register_vendors raised RuntimeError('vendor registration bug')" in error
    assert host.pluggy_manager.get_plugin("buggy") is None


def test_a_name_clash_does_not_disturb_the_plugin_already_registered(
    host: PluginHost, throwaway: VendorPlugin
) -> None:
    assert not host.register(VendorPlugin("impostor"), name="throwaway", distribution="ec-other")
    assert status(host, "throwaway") == (PluginStatus.LOADED, "")
    state, error = status(host, "throwaway[ec-other]")
    assert state is PluginStatus.FAILED
    assert "already taken by ec-throwaway" in error
    assert host.vendors().names() == ["throwaway"]
    # The same object under a second name is refused and the first registration kept.
    assert not host.register(throwaway, name="again")
    assert "already registered as 'throwaway'" in status(host, "again")[1]
    assert host.pluggy_manager.get_plugin("throwaway") is throwaway


def test_observer_exceptions_are_isolated_counted_and_logged(
    host: PluginHost, caplog: pytest.LogCaptureFixture
) -> None:
    before, after = FillObserver(), FillObserver()
    host.register(before, name="before")
    host.register(RaisingObserver(), name="raising")
    host.register(after, name="after")
    assert host.has_observers("ec_on_fill")
    with caplog.at_level(logging.ERROR, logger="ec_core.plugins.host"):
        host.notify_fill(FILL)
        host.notify_fill(FILL)
    assert before.fills == after.fills == [FILL, FILL]
    assert host.observer_errors == {"raising": 2}
    assert "observer ec_on_fill of plugin raising raised" in caplog.text
    assert "observer bug" in caplog.text


def test_observers_run_in_pluggy_order(host: PluginHost) -> None:
    calls: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def ec_on_fill(self, fill: Fill) -> None:
            calls.append(self.name)

    for name in ("a", "b", "c"):
        host.register(Named(name), name=name)
    host.notify_fill(FILL)
    pluggy_calls = list(calls)
    calls.clear()
    host.pluggy_manager.hook.ec_on_fill(fill=FILL)
    assert pluggy_calls == calls == ["c", "b", "a"]


def test_vendor_not_found_lists_installed_vendors_and_the_distribution(
    host: PluginHost, throwaway: VendorPlugin
) -> None:
    with pytest.raises(VendorNotFoundError) as info:
        host.open_session("cqg", {})
    assert info.value.vendor == "cqg"
    assert info.value.installed == ("throwaway",)
    assert "installed vendors: throwaway" in str(info.value)
    assert "pip install ec-cqg" in str(info.value)
    with pytest.raises(VendorNotFoundError) as unknown:
        host.open_session("nosuch")
    assert "pip install" not in str(unknown.value)


def test_vendor_not_found_says_when_its_plugin_failed_to_load(host: PluginHost) -> None:
    host.register(AsyncHookPlugin(), name="cqg", distribution="ec-cqg", version="0.1.0")
    with pytest.raises(VendorNotFoundError) as info:
        host.open_session("cqg")
    assert "plugin 'cqg' of ec-cqg failed to load" in str(info.value)
    assert "is async" in str(info.value)


def test_a_plugin_overrides_a_builtin_default(host: PluginHost) -> None:
    sentinel = object()

    class Paper:
        @hookimpl
        def ec_order_gateway(self, session: Session) -> object:
            return sentinel

    class FakeSession:
        orders = "the session's own gateway"

    session = cast(Session, FakeSession())
    assert cast(object, host.order_gateway(session)) == "the session's own gateway"
    with pytest.warns(DeprecationWarning, match="ec_order_gateway is a plain implementation"):
        host.register(Paper(), name="paper")
    assert cast(object, host.order_gateway(session)) is sentinel  # still works, deprecated


def test_validators_are_registered_through_the_hook_and_isolated(host: PluginHost) -> None:
    class Rule:
        name = "always_ok"

        def validate(self, request: object, context: object) -> list[Violation]:
            return []

    class Good:
        @hookimpl
        def ec_register_validators(self, validators: ValidatorRegistry) -> None:
            validators.add(Rule())

    class Bad:
        @hookimpl
        def ec_register_validators(self, validators: ValidatorRegistry) -> None:
            half = Rule()
            half.name = "half"
            validators.add(half)
            raise KeyError("bad validator plugin")

    baseline = set(host.validators().names())
    host.register(Good(), name="good")
    host.register(Bad(), name="bad")
    assert set(host.validators().names()) - baseline == {"always_ok"}
    assert status(host, "bad")[0] is PluginStatus.FAILED


def test_plugin_hookspecs_via_ec_addhooks(host: PluginHost) -> None:
    class Specs:
        @staticmethod
        @hookspec
        def ec_test_extra(value: int) -> int:  # type: ignore[empty-body]
            """A hook another distribution declares."""

    class Declares:
        @hookimpl
        def ec_addhooks(self, host: PluginHost) -> None:
            host.add_hookspecs(Specs)

    class Implements:
        @hookimpl
        def ec_test_extra(self, value: int) -> int:
            return value + 1

    host.register(Implements(), name="implements")  # before the spec exists
    host.register(Declares(), name="declares")
    host.check_pending()
    assert status(host, "implements") == (PluginStatus.LOADED, "")
    assert host.pluggy_manager.hook.ec_test_extra(value=1) == [2]
    # a plugin's own hooks are listed apart from core's (the hook reference documents them)
    declared = host.plugin_hookspecs()
    assert "ec_test_extra" in declared
    assert "ec_on_fill" not in declared


def test_add_commands_isolates_a_failing_plugin() -> None:
    host = PluginHost.load(entry_points_enabled=False, builtins=False)

    class Adds:
        @hookimpl
        def ec_add_commands(self, cli: click.Group) -> None:
            cli.add_command(click.Command("hello", callback=lambda: None))

    class Breaks:
        @hookimpl
        def ec_add_commands(self, cli: click.Group) -> None:
            cli.add_command(click.Command("half", callback=lambda: None))
            raise RuntimeError("command bug")

    host.register(Adds(), name="adds")
    host.register(Breaks(), name="breaks")
    group = click.Group("ec")
    host.add_commands(group)
    assert set(group.commands) == {"hello"}
    assert "command bug" in status(host, "breaks")[1]
