"""The built-in safety plugin: validators registered through the hook (replaceable by
another plugin) and the ``ec kill-switch`` command."""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.clock import ManualClock
from ec_core.errors import Violation
from ec_core.model import OrderRequest
from ec_core.plugins import PluginHost
from ec_core.plugins.markers import hookimpl
from ec_core.safety import (
    KillSwitch,
    KillSwitchState,
    LimitsFile,
    PreTradeChecks,
    kill_switch_path,
)
from ec_core.safety.rules import builtin_validators
from ec_core.validation import PreTradeContext, ValidatorRegistry
from safety_support import NOW_NS

BUILTIN_NAMES = [
    "required_fields",
    "enum_values",
    "quantity",
    "price_fields",
    "order_qualifiers",
    "price_tick",
    "price_floor",
    "stop_limit",
    "price_band",
    "good_thru_date",
    "trading_hours",
    "notional",
    "position",
    "open_orders",
    "self_trade",
]


@pytest.fixture
def host() -> PluginHost:
    return PluginHost.load(entry_points_enabled=False, strict=True)


def test_builtin_validators_register_through_the_hook(host: PluginHost) -> None:
    assert host.validators().names() == BUILTIN_NAMES
    assert [v.name for v in builtin_validators()] == BUILTIN_NAMES


class _MyQuantity:
    name = "quantity"

    def validate(self, request: OrderRequest, context: PreTradeContext) -> Iterable[Violation]:
        return ()


class _ReplacingPlugin:
    @hookimpl
    def ec_register_validators(self, validators: ValidatorRegistry) -> None:
        validators.add(_MyQuantity(), replace=True)
        validators.remove("self_trade")


def test_a_plugin_replaces_and_removes_builtins(host: PluginHost) -> None:
    assert host.register(_ReplacingPlugin(), name="mine")
    try:
        registry = host.validators()
        assert isinstance(next(v for v in registry if v.name == "quantity"), _MyQuantity)
        assert "self_trade" not in registry.names()
    finally:
        host.unregister("mine")
    assert "self_trade" in host.validators().names()


def test_kill_switch_command(host: PluginHost, tmp_path: Path) -> None:
    limits = tmp_path / "limits.toml"
    limits.write_text('[accounts."*"]\n', encoding="utf-8")
    clock = ManualClock(NOW_NS)
    running = KillSwitch.beside(limits, clock=clock, poll_interval_ms=100)
    runner = CliRunner()
    cli = build_cli(host)

    result = runner.invoke(cli, ["kill-switch", "--limits", str(limits), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["state"] == "ACTIVE"

    result = runner.invoke(
        cli, ["kill-switch", "halt", "--limits", str(limits), "--reason", "fat finger"]
    )
    assert result.exit_code == 0, result.output
    assert "HALTED" in result.output
    assert kill_switch_path(limits).exists()
    clock.advance(100_000_000)
    assert running.state_at(clock.now_ns()) is KillSwitchState.HALTED
    assert running.reason == "fat finger"
    assert running.record.source.startswith("cli:")

    result = runner.invoke(cli, ["kill-switch", "reduce", "--limits", str(limits)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["kill-switch", "status", "--limits", str(limits), "--json"])
    assert json.loads(result.output)["state"] == "REDUCING"

    result = runner.invoke(cli, ["kill-switch", "resume"], env={"EC_LIMITS_FILE": str(limits)})
    assert result.exit_code == 0, result.output
    clock.advance(100_000_000)
    assert running.state_at(clock.now_ns()) is KillSwitchState.ACTIVE


def test_kill_switch_command_needs_a_limits_file(
    host: PluginHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EC_LIMITS_FILE", raising=False)
    monkeypatch.delenv("EC_SETTINGS", raising=False)
    result = CliRunner().invoke(build_cli(host), ["kill-switch", "halt"])
    assert result.exit_code == 2
    assert "--limits" in result.output
    settings = tmp_path / "ec.toml"
    limits = tmp_path / "risk.toml"
    settings.write_text(f'limits_file = "{limits.as_posix()}"\n', encoding="utf-8")
    limits.write_text('[accounts."*"]\n', encoding="utf-8")
    monkeypatch.setenv("EC_SETTINGS", str(settings))
    result = CliRunner().invoke(build_cli(host), ["kill-switch", "halt"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "risk.killswitch.json").exists()


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("", KillSwitchState.REDUCING),
        ('[kill_switch]\non_limits_reload_error = "HALTED"\n', KillSwitchState.HALTED),
        ('[kill_switch]\non_limits_reload_error = "ACTIVE"\n', KillSwitchState.ACTIVE),
    ],
)
def test_a_failed_limits_reload_is_loud_and_kill_switch_status_shows_it(
    host: PluginHost,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    policy: str,
    expected: KillSwitchState,
) -> None:
    limits = tmp_path / "limits.toml"
    limits.write_text(f'{policy}[instruments."*"]\nmax_order_qty = 5\n[accounts."*"]\n')
    clock = ManualClock(NOW_NS)
    checks = PreTradeChecks(
        ValidatorRegistry(),
        limits=LimitsFile(limits, clock=clock, poll_interval_ms=0),
        clock=clock,
        kill_switch=KillSwitch.beside(limits, clock=clock),
    )
    limits.write_text('[instruments."*"]\nmax_ordr_qty = 9\n[accounts."*"]\n')  # a typo
    st = limits.stat()
    os.utime(limits, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    with caplog.at_level(logging.ERROR):
        kept = checks.limits_source.current(clock.now_ns())
    assert kept.resolve("A", "X").max_order_qty == 5  # the last good limits stay in force
    assert "not reloaded" in caplog.text
    assert checks.kill_switch.state is expected
    result = CliRunner().invoke(build_cli(host), ["kill-switch", "status", "--limits", str(limits)])
    assert result.exit_code == 0, result.output
    assert f"kill switch: {expected.value}" in result.output
    assert "limits file: DOES NOT LOAD" in result.output
    assert "max_ordr_qty" in result.output
    if expected is not KillSwitchState.ACTIVE:
        assert "set by limits-reload" in result.output
    limits.write_text('[instruments."*"]\nmax_order_qty = 7\n[accounts."*"]\n')  # fixed
    os.utime(limits, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000))
    assert checks.limits_source.current(clock.now_ns()).resolve("A", "X").max_order_qty == 7
    assert checks.kill_switch.state is expected  # never back on its own: an operator resumes


def test_a_plugin_may_record_the_context_it_judged() -> None:
    # A context is a plain struct a plugin's validator may keep, copy or write down (an
    # audit of what it judged); one that sets no ``extra`` is no exception.
    context = PreTradeContext(now_ns=NOW_NS, vendor="mock")
    assert msgspec.json.decode(msgspec.json.encode(context))["extra"] == {}
    assert copy.deepcopy(context) == context
    assert pickle.loads(pickle.dumps(context)) == context
