"""The ``mock`` plugin as the host loads it: vendor, commands, dialect hook, settings."""

from __future__ import annotations

import click
import pytest
from ec_core.errors import ConfigError, SymbolNotFoundError
from ec_core.model import SessionState
from ec_core.plugins import PluginHost, PluginStatus, hookimpl
from ec_core.vendor import Capability, Session, SupportsClock, VendorFactory
from ec_mock.dialects import DialectRegistry, Endpoint, ServeOptions, collect_dialects
from ec_mock.vendor import MockVenue


def test_entry_point_registers_the_mock_vendor(host: PluginHost) -> None:
    record = next(r for r in host.records if r.name == "mock")
    assert record.status is PluginStatus.LOADED
    assert record.distribution == "ec-mock"
    assert {"ec_addhooks", "ec_register_vendors", "ec_add_commands"} <= set(record.hooks)
    factory = host.vendors().get("mock")
    assert isinstance(factory, VendorFactory)
    assert factory.info.distribution == "ec-mock"
    assert Capability.ORDERS in factory.info.capabilities


def test_commands_are_added(host: PluginHost) -> None:
    cli = click.Group("ec")
    host.add_commands(cli)
    assert "demo" in cli.commands
    mock = cli.commands["mock"]
    assert isinstance(mock, click.Group)
    assert "serve" in mock.commands


def test_dialect_hook_is_declared_and_collects_dialects(host: PluginHost) -> None:
    class Plugin:
        @hookimpl
        def ec_mock_add_dialects(self, dialects: DialectRegistry) -> None:
            dialects.add(_NullDialect())

    installed = set(collect_dialects(host).names())  # e.g. ec-cqg's dialect
    assert "null" not in installed
    assert host.register(Plugin(), name="test-dialects")
    host.check_pending()
    registry = collect_dialects(host)
    assert set(registry.names()) == installed | {"null"}
    assert "null" in registry


def test_a_dialect_hook_that_raises_fails_its_plugin_only(host: PluginHost) -> None:
    """Plugin-defined hooks get the host's isolation: what the plugin added is undone."""

    class Good:
        @hookimpl
        def ec_mock_add_dialects(self, dialects: DialectRegistry) -> None:
            dialects.add(_NullDialect())

    class Broken:
        @hookimpl
        def ec_mock_add_dialects(self, dialects: DialectRegistry) -> None:
            half = _NullDialect()
            half.name = "half"
            dialects.add(half)
            raise RuntimeError("dialect bug")

    installed = set(collect_dialects(host).names())
    host.register(Good(), name="good-dialects")
    host.register(Broken(), name="broken-dialects", distribution="ec-broken")
    registry = collect_dialects(host)
    assert set(registry.names()) == installed | {"null"}
    record = {r.name: r for r in host.records}["broken-dialects"]
    assert record.status is PluginStatus.FAILED
    assert "ec_mock_add_dialects raised RuntimeError('dialect bug')" in record.error


def test_dialect_registered_twice_names_both() -> None:
    registry = DialectRegistry()
    registry.add(_NullDialect())
    with pytest.raises(Exception, match="registered twice"):
        registry.add(_NullDialect())


def test_serve_options_check_credentials_and_hide_the_password() -> None:
    from ec_core.secrets import Secret

    options = ServeOptions(user="alice", password=Secret("s3cret"))
    assert options.accepts("alice", "s3cret")
    assert not options.accepts("alice", "wrong")
    assert not options.accepts("bob", "s3cret")
    assert "s3cret" not in repr(options)
    assert ServeOptions().accepts("anyone", "anything")
    with pytest.raises(ValueError, match="port"):
        ServeOptions(port=70_000)


@pytest.mark.anyio
async def test_session_lifecycle_on_a_private_venue(host: PluginHost) -> None:
    async with host.open_session("mock", {"market": False, "seed": 3}) as session:
        assert isinstance(session, Session)
        assert session.vendor == "mock"
        assert session.state is SessionState.LOGGED_ON
        accounts = await session.accounts()
        assert [a.account_id for a in accounts] == ["MOCK-1"]
        assert accounts[0].balance > 0
        instrument = await session.resolve("CLE")
        assert instrument.tick_size > 0
        assert await session.resolve("CLE") is instrument
    assert session.state.value == "CLOSED"  # read again: the block moved it


@pytest.mark.anyio
async def test_resolve_unknown_symbol_names_the_listed_ones(trader: Session) -> None:
    with pytest.raises(SymbolNotFoundError) as caught:
        await trader.resolve("NOPE")
    assert type(caught.value) is SymbolNotFoundError  # core's, not a mock-only class
    assert caught.value.code == "UNKNOWN_INSTRUMENT"
    assert caught.value.symbol == "NOPE"
    assert caught.value.known == ("ESX", "ZNX")
    assert "listed: ESX, ZNX" in str(caught.value)


def test_the_old_unknown_symbol_error_name_is_a_deprecated_alias() -> None:
    import ec_mock.vendor
    import ec_mock.vendor.session

    for module in (ec_mock.vendor, ec_mock.vendor.session):
        with pytest.warns(DeprecationWarning, match="SymbolNotFoundError"):
            old = module.UnknownSymbolError
        assert old is SymbolNotFoundError


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"clock": "fast"}, "vendors.mock.clock"),
        ({"bogus": 1}, "vendors.mock.bogus"),
        ({"step_ms": 0}, "vendors.mock.step_ms"),
        ({"venue": object()}, "vendors.mock.venue"),
        ({"clock": "wall", "start": "2024-01-10T15:00:00"}, "vendors.mock.start"),  # no zone
        ({"start": "2024-01-10T15:00:00Z"}, "vendors.mock.start"),  # a simulated clock
    ],
)
def test_bad_settings_raise_config_error_naming_the_key(
    host: PluginHost, settings: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        host.open_session("mock", settings)
    assert caught.value.path == key


@pytest.mark.anyio
async def test_a_wall_clock_with_a_start_runs_from_that_instant(
    host: PluginHost,
) -> None:
    """``start`` with ``clock = "wall"``: the venue's time begins at that instant (a
    Wednesday 09:00 in Chicago here) and runs at wall pace, so tests and off-hours demos
    do not depend on the hour they run at (the E-mini halts 16:00-17:00 Chicago time)."""
    start_ns = 1_704_898_800 * 1_000_000_000
    async with host.open_session(
        "mock", {"clock": "wall", "start": "2024-01-10T15:00:00Z", "market": False}
    ) as session:
        assert isinstance(session, SupportsClock)
        now = session.clock.now_ns()
        assert start_ns <= now < start_ns + 60 * 1_000_000_000


class _NullDialect:
    name = "null"
    description = "serves nothing"

    def serve(self, venue: MockVenue, options: ServeOptions) -> _NullServer:
        return _NullServer()


class _NullServer:
    async def __aenter__(self) -> Endpoint:
        return Endpoint(url="null://", host="127.0.0.1", port=0)

    async def __aexit__(self, *exc: object) -> None:
        return None
