"""The front door knows no vendor by name: what it needs comes from the factory.

A factory declares ``paper`` (trades without a limits file) and ``default_account`` in its
``VendorInfo``, opens the accounts it is told (``OpensAccounts``) and takes ``ec run``'s
seed (``TakesSeed``). A test vendor declaring what the mock declares gets the mock's
behaviour; one declaring nothing gets a real vendor's. Both open real mock sessions.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from click.testing import CliRunner
from ec_core.cli.run_cmd import run_command
from ec_core.errors import ConfigError
from ec_core.plugins import PluginHost, VendorRegistry, hookimpl
from ec_core.session import StateListener
from ec_core.settings import Settings
from ec_core.vendor import OpensAccounts, Session, TakesSeed, VendorInfo
from ec_mock.vendor.config import DEFAULT_ACCOUNT
from ec_mock.vendor.factory import MOCK_INFO, MockVendorFactory

import ec_core
from ec_core import NewOrder, OrderState, OrderType, Side

pytestmark = pytest.mark.anyio

MOCK = MockVendorFactory()


class PlainFactory:
    """Declares nothing: a real vendor as far as core can tell (its sessions are the mock's)."""

    def __init__(self, name: str = "plain", *, refuse: bool = False) -> None:
        self.info = VendorInfo(name=name, version="1.0", distribution=f"ec-{name}")
        self.opened: list[dict[str, Any]] = []
        self._refuse = refuse

    def open(
        self, settings: Mapping[str, Any], *, on_state: StateListener | None = None
    ) -> AbstractAsyncContextManager[Session]:
        self.opened.append(dict(settings))
        if self._refuse:
            raise ConfigError("this test venue opens nothing", path="vendors.test")
        return MOCK.open(settings, on_state=on_state)


class SimFactory(PlainFactory):
    """Declares what the mock declares, under another name and another default account."""

    def __init__(self, name: str = "sim", *, refuse: bool = False) -> None:
        super().__init__(name, refuse=refuse)
        self.info = msgspec.structs.replace(self.info, paper=True, default_account="SIM-1")

    def with_accounts(self, settings: Mapping[str, Any], accounts: Sequence[str]) -> dict[str, Any]:
        return MOCK.with_accounts(settings, accounts)

    def with_seed(self, settings: Mapping[str, Any], seed: int) -> dict[str, Any]:
        return MOCK.with_seed(settings, seed)


class VendorsPlugin:
    def __init__(self, *factories: PlainFactory) -> None:
        self.factories = factories

    @hookimpl
    def ec_register_vendors(self, vendors: VendorRegistry) -> None:
        for factory in self.factories:
            vendors.add(factory)


def host_with(*factories: PlainFactory) -> PluginHost:
    host = PluginHost.load(strict=True)
    assert host.register(VendorsPlugin(*factories), name="test-vendors")
    return host


@pytest.fixture(autouse=True)
def _no_settings_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EC_SETTINGS", raising=False)


def _vendor_names_in(path: Path) -> list[str]:
    """Every string constant naming a vendor, but a parameter's default (``connect("mock")``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defaults = {
        id(d)
        for node in ast.walk(tree)
        if isinstance(node, ast.arguments)
        for d in (*node.defaults, *node.kw_defaults)
        if d is not None
    }
    return [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in ("mock", "cqg", "MOCK-1")
        and id(node) not in defaults
    ]


def test_the_front_door_and_ec_run_name_no_vendor() -> None:
    core = Path(ec_core.__file__).parent
    assert _vendor_names_in(core / "front.py") == []
    assert _vendor_names_in(core / "cli" / "run_cmd.py") == []


def test_the_mock_factory_declares_paper_its_default_account_and_takes_a_seed() -> None:
    assert MOCK_INFO.paper is True
    assert MOCK_INFO.default_account == DEFAULT_ACCOUNT
    assert isinstance(MOCK, OpensAccounts)
    assert isinstance(MOCK, TakesSeed)
    table = {"seed": 1, "account_id": "A"}
    assert MOCK.with_seed(table, 9) == {"seed": 9, "account_id": "A"}
    assert table == {"seed": 1, "account_id": "A"}  # not changed
    assert not isinstance(PlainFactory(), OpensAccounts | TakesSeed)


async def _buy_filled(trader: ec_core.Trader) -> None:
    order = await trader.execute(
        NewOrder(
            account_id=trader.account_id,
            symbol="EP",
            side=Side.BUY,
            qty=1,
            order_type=OrderType.MKT,
        )
    )
    assert order is not None
    with anyio.fail_after(10):
        assert (await trader.wait_final(order)).state is OrderState.FILLED


async def test_a_paper_vendor_trades_without_limits_on_its_default_account() -> None:
    sim = SimFactory()
    async with ec_core.connect("sim", host=host_with(sim)) as trader:
        assert trader.account_id == "SIM-1"
        await _buy_filled(trader)
    assert sim.opened[-1]["account_id"] == "SIM-1"  # the factory was told to open it


async def test_a_vendor_declaring_nothing_needs_a_limits_file_and_an_account() -> None:
    plain = PlainFactory()
    host = host_with(plain)
    with pytest.raises(ConfigError, match="no limits_file") as caught:
        async with ec_core.connect("plain", host=host):
            pytest.fail("connected without limits")
    assert "default deny" in str(caught.value)
    settings = Settings(vendor="plain", limits_file="limits.toml")
    with pytest.raises(ConfigError, match="no account"):
        async with ec_core.connect(settings, host=host):
            pytest.fail("connected without an account")
    assert plain.opened == []  # refused before anything connects


async def test_a_dist_qualified_paper_vendor_is_still_paper() -> None:
    async with ec_core.connect("ec-sim:sim", host=host_with(SimFactory())) as trader:
        assert trader.account_id == "SIM-1"


async def test_the_mock_opens_the_account_connect_names_beside_its_tables() -> None:
    table = {"seed": 3, "account_id": "HOUSE"}
    async with ec_core.connect("mock", account_id="OTHER", vendor_settings=table) as trader:
        assert trader.account_id == "OTHER"
        accounts = await trader.venue.accounts() if trader.venue else []
        assert {a.account_id for a in accounts} == {"HOUSE", "OTHER"}
        await _buy_filled(trader)
    assert table == {"seed": 3, "account_id": "HOUSE"}  # the caller's dict is not changed


STRATEGY = """
from ec_core.strategy import OpStrategy


class Idle(OpStrategy):
    def generate(self, ctx, symbol):
        return None


def strategy(info):
    return Idle(symbols=["EP"])
"""


def _run(host: PluginHost, tmp_path: Path, *args: str) -> tuple[int, str]:
    (tmp_path / "s.py").write_text(STRATEGY, encoding="utf-8")
    result = CliRunner().invoke(run_command, [str(tmp_path / "s.py"), *args], obj=host)
    return result.exit_code, result.output


def test_ec_run_seeds_a_vendor_that_takes_a_seed(tmp_path: Path) -> None:
    sim = SimFactory(refuse=True)
    code, output = _run(host_with(sim), tmp_path, "--vendor", "sim", "--seed", "5")
    assert "this test venue opens nothing" in output, output
    assert code == 1
    assert sim.opened == [{"seed": 5, "account_id": "SIM-1"}]


def test_ec_run_refuses_a_seed_for_a_vendor_that_takes_none(tmp_path: Path) -> None:
    plain = PlainFactory(refuse=True)
    code, output = _run(host_with(plain), tmp_path, "--vendor", "plain", "--seed", "5")
    assert code == 2
    assert "--seed: vendor 'plain' takes no seed" in output
    assert plain.opened == []
