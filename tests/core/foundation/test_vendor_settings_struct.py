"""``convert_vendor_settings``: a vendor's settings table as its own struct, every bad key a
``ConfigError`` naming it (the factory of the tutorial's plugin checks its settings so)."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from ec_core.settings import convert_vendor_settings


class AcmeSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(pattern="^wss?://")]
    password: Secret
    retries: Annotated[int, msgspec.Meta(ge=0)] = 3


def test_a_good_table_converts() -> None:
    settings = convert_vendor_settings(
        {"url": "wss://acme", "password": Secret("pw")}, AcmeSettings, vendor="acme"
    )
    assert (settings.url, settings.password.reveal(), settings.retries) == ("wss://acme", "pw", 3)


@pytest.mark.parametrize(
    ("table", "path", "words"),
    [
        ({"url": "http://acme", "password": Secret("pw")}, "vendors.acme.url", "regex"),
        (
            {"url": "ws://a", "password": Secret("pw"), "retries": -1},
            "vendors.acme.retries",
            ">= 0",
        ),
        (
            {"url": "ws://a", "password": Secret("pw"), "colour": 1},
            "vendors.acme.colour",
            "unknown",
        ),
        ({"password": Secret("pw")}, "vendors.acme.url", "missing"),
        ({"url": "ws://a", "password": "pw"}, "vendors.acme.password", "password_env"),
    ],
)
def test_a_bad_table_is_a_config_error_naming_the_key(
    table: dict[str, object], path: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        convert_vendor_settings(table, AcmeSettings, vendor="acme")
    assert info.value.path == path
    assert "pw'" not in str(info.value)  # never the secret's value
