"""The gateway's config: errors name the key; a client without a gateway is told so."""

from __future__ import annotations

import anyio
import pytest
from ec_core.errors import ConfigError, GatewayUnavailableError
from ec_core.gateway.client import open_link
from ec_core.gateway.config import load_gateway_config, parse_gateway_config
from ec_core.testing.redis_server import RedisServer
from gateway_support import new_namespace


def test_the_gateway_table_and_the_settings_share_one_file() -> None:
    config = parse_gateway_config(
        {
            "vendor": "mock",
            "journal_path": "gw-{account}.journal",
            "gateway": {
                "accounts": ["A", "B"],
                "workers": {"w1": {"accounts": ["A"]}},
            },
        }
    )
    assert config.settings.vendor == "mock"
    assert config.journal_for("B") == "gw-B.journal"
    assert config.allowed("w1", "A")
    assert not config.allowed("w1", "B")
    assert not config.allowed("w9", "A")


def test_two_accounts_need_a_journal_each() -> None:
    with pytest.raises(ConfigError, match=r"put \{account\} in journal_path") as caught:
        parse_gateway_config({"journal_path": "one.journal", "gateway": {"accounts": ["A", "B"]}})
    assert caught.value.path == "journal_path"


def test_no_account_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="no account") as caught:
        parse_gateway_config({"gateway": {}})
    assert caught.value.path == "gateway.accounts"


def test_a_bad_value_names_the_gateway_table(tmp_path: object) -> None:
    with pytest.raises(ConfigError, match="on_worker_lost"):
        parse_gateway_config({"gateway": {"accounts": ["A"], "on_worker_lost": "panic"}})
    with pytest.raises(ConfigError, match="gateway config not found"):
        load_gateway_config("/nonexistent/gw.toml")


@pytest.mark.anyio
async def test_a_client_without_a_gateway_is_told_what_to_check(
    redis_server: RedisServer,
) -> None:
    namespace = new_namespace()
    url = f"{redis_server.url}?namespace={namespace}"
    with anyio.fail_after(10), pytest.raises(GatewayUnavailableError) as caught:
        async with open_link(url, account_id="A", worker="w1", hello_timeout=0.3):
            pytest.fail("a snapshot without a gateway")
    assert f"namespace {namespace!r}" in str(caught.value)
    assert "ec gateway" in str(caught.value)
