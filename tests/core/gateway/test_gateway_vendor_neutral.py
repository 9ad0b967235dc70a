"""The gateway knows no vendor: it tells a factory that opens the accounts its settings
name (``OpensAccounts``, the mock's) which accounts it trades, through core's protocol."""

from __future__ import annotations

import ast
from pathlib import Path

import anyio
import ec_core.gateway
import pytest
from ec_core.gateway.config import parse_gateway_config
from ec_core.plugins import PluginHost
from ec_core.testing.redis_server import RedisServer
from ec_core.vendor import OpensAccounts
from gateway_support import new_namespace, running_gateway

import ec_core
from ec_core import NewOrder, OrderType, Side

pytestmark = pytest.mark.anyio


def test_no_module_of_the_gateway_names_a_vendor() -> None:
    named: list[str] = []
    for path in sorted(Path(ec_core.gateway.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                for value in (node.left, *node.comparators):
                    if isinstance(value, ast.Constant) and value.value in ("mock", "cqg"):
                        named.append(f"{path.name}:{node.lineno}")
    assert named == []


def test_the_mock_factory_opens_the_accounts_it_is_told() -> None:
    factory: object = PluginHost.load().vendor_factory("mock")
    assert isinstance(factory, OpensAccounts)
    table = factory.with_accounts({"seed": 7, "account_id": "OWN"}, ["A", "OWN", "B"])
    assert table == {"seed": 7, "account_id": "OWN", "accounts": ["A", "B"]}
    assert factory.with_accounts({}, ["A", "B"]) == {"account_id": "A", "accounts": ["B"]}
    listed = factory.with_accounts({"accounts": ["B"]}, ["A", "B", "C"])
    assert listed == {"account_id": "A", "accounts": ["B", "C"]}


async def test_a_gateway_trades_every_account_of_its_config_on_a_table_naming_another(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    config = parse_gateway_config(
        {
            "vendor": "mock",
            "vendors": {"mock": {"seed": 7, "account_id": "HOUSE"}},
            "gateway": {
                "url": redis_server.url,
                "namespace": namespace,
                "accounts": ["MOCK-1", "MOCK-2"],
                "workers": {"w1": {"accounts": ["MOCK-1", "MOCK-2"]}},
            },
        }
    )
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(30):
        async with running_gateway(config):
            for account in ("MOCK-1", "MOCK-2"):
                async with ec_core.connect(url, account_id=account, worker="w1") as trader:
                    buy = NewOrder(
                        account_id=account,
                        symbol="EP",
                        side=Side.BUY,
                        qty=1,
                        order_type=OrderType.MKT,
                    )
                    order = await trader.execute(buy)
                    assert order is not None
