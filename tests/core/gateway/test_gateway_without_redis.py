"""Without ec-core's ``gateway`` extra (the redis package), each way into the gateway names
the extra to install. ``ec gateway`` said "unexpected ModuleNotFoundError ... a defect of ec",
``connect("redis://...")`` raised the bare ModuleNotFoundError (found with ec-core installed
from its wheel alone)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from ec_core.cli.main import build_cli
from ec_core.errors import ConfigError
from ec_core.plugins import PluginHost

import ec_core

NEEDS = "needs the redis package: pip install 'ec-core[gateway]'"


@pytest.fixture(autouse=True)
def _no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # as if it were not installed


def test_ec_gateway_names_the_extra(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('[gateway]\nurl = "redis://127.0.0.1:1/0"\naccounts = ["MOCK-1"]\n')
    host = PluginHost.load(entry_points_enabled=False)
    result = CliRunner().invoke(build_cli(host), ["gateway", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert f"ec gateway {NEEDS}" in result.output
    assert "defect" not in result.output


def test_ec_run_through_a_gateway_names_the_extra(tmp_path: Path) -> None:
    strategy = tmp_path / "strat.py"
    strategy.write_text(
        "from ec_core.strategy import OpStrategy\n\n\n"
        "class S(OpStrategy):\n"
        "    def generate(self, ctx, symbol):\n"
        "        return None\n\n\n"
        "def strategy():\n"
        '    return S(symbols=["EP"])\n'
    )
    host = PluginHost.load()  # the settings' default vendor, the mock
    args = ["run", str(strategy), "--gateway", "redis://127.0.0.1:1/0", "--account", "MOCK-1"]
    result = CliRunner().invoke(build_cli(host), args)
    assert result.exit_code == 1, result.output
    assert f"ec run --gateway {NEEDS}" in result.output
    assert "defect" not in result.output


@pytest.mark.anyio
async def test_connect_to_a_gateway_names_the_extra() -> None:
    with pytest.raises(ConfigError, match=r"connect\(redis://\.\.\.\) needs the redis package"):
        async with ec_core.connect("redis://127.0.0.1:1/0", account_id="MOCK-1"):
            pytest.fail("connected without redis")
