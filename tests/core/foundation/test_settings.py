"""Settings: TOML for everything, environment variables for secrets, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from ec_core.settings import (
    Settings,
    is_secret_key,
    load_settings,
    parse_settings,
    resolve_secrets,
)

GOOD = """
vendor = "cqg"
account_id = "123456"
journal_path = "journal.sqlite"
log_level = "DEBUG"

[vendors.cqg]
url = "wss://demoapi.example:443"
user = "jdoe"
password_env = "EC_TEST_CQG_PASSWORD"
retries = 3

[vendors.cqg.proxy]
host = "127.0.0.1"
token_env = "EC_TEST_PROXY_TOKEN"

[vendors.mock]
latency_ms = 5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_file_is_parsed(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.vendor == "cqg"
    assert settings.account_id == "123456"
    assert settings.journal_path == "journal.sqlite"
    assert settings.log_level == "DEBUG"
    assert settings.limits_file is None
    assert settings.vendors["mock"] == {"latency_ms": 5}


def test_secrets_come_from_the_environment_wrapped(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    env = {"EC_TEST_CQG_PASSWORD": "pw-1", "EC_TEST_PROXY_TOKEN": "tok-2"}
    cqg = settings.vendor_settings("cqg", env=env)
    assert cqg["url"] == "wss://demoapi.example:443"
    assert cqg["retries"] == 3
    assert "password_env" not in cqg
    assert isinstance(cqg["password"], Secret)
    assert cqg["password"].reveal() == "pw-1"
    assert cqg["proxy"]["token"].reveal() == "tok-2"  # nested tables too
    assert "pw-1" not in repr(cqg)


def test_default_environment_is_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EC_TEST_CQG_PASSWORD", "from-os")
    monkeypatch.setenv("EC_TEST_PROXY_TOKEN", "t")
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.vendor_settings("cqg")["password"].reveal() == "from-os"


def test_a_missing_variable_names_the_key_and_the_variable(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    with pytest.raises(ConfigError) as info:
        settings.vendor_settings("cqg", env={"EC_TEST_PROXY_TOKEN": "t"})
    assert info.value.path == "vendors.cqg.password_env"
    assert "EC_TEST_CQG_PASSWORD" in str(info.value)


def test_variables_of_unused_vendors_are_not_needed(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.vendor_settings("mock", env={}) == {"latency_ms": 5}
    assert settings.vendor_settings("absent", env={}) == {}


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[vendors.cqg]\npassword = "hunter2"', "vendors.cqg.password"),
        ('[vendors.cqg]\napi_key = "k"', "vendors.cqg.api_key"),
        ('[vendors.cqg]\ndb_password = "p"', "vendors.cqg.db_password"),
        ('[vendors.cqg.proxy]\ntoken = "t"', "vendors.cqg.proxy.token"),
    ],
)
def test_plain_secrets_are_refused_when_the_file_is_loaded(
    tmp_path: Path, table: str, key: str
) -> None:
    path = write(tmp_path, table)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.path == key
    assert info.value.file == str(path)
    assert key in str(info.value)
    assert "_env" in str(info.value)  # says what to do instead
    assert "hunter2" not in str(info.value)


def test_plain_secrets_are_allowed_when_the_table_says_so(tmp_path: Path) -> None:
    text = (
        '[vendors.mock]\nallow_secrets_in_file = true\npassword = "demo"\n'
        '[vendors.mock.x]\ntoken = "t"'
    )
    settings = load_settings(write(tmp_path, text))
    mock = settings.vendor_settings("mock", env={})
    assert mock["password"] == Secret("demo")
    assert mock["x"]["token"] == Secret("t")
    assert "allow_secrets_in_file" not in mock


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("account_id = 5", "account_id"),
        ('colour = "red"', "colour"),
        ('vendors = "cqg"', "vendors"),
        ("vendors = {cqg = 1}", "vendors"),
        ("[vendors.cqg]\npassword_env = 5", "vendors.cqg.password_env"),
        ('[vendors.cqg]\nallow_secrets_in_file = "yes"', "vendors.cqg.allow_secrets_in_file"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.path == key
    assert str(info.value).startswith(f"{path}: {key}: ")


def test_bad_toml_and_missing_file_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "vendor = ")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings(path)
    assert info.value.file == str(path)
    with pytest.raises(ConfigError, match="not found") as missing:
        load_settings(tmp_path / "nope.toml")
    assert missing.value.file == str(tmp_path / "nope.toml")


def test_no_file_means_defaults_and_ec_settings_names_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EC_SETTINGS", raising=False)
    assert load_settings() == Settings()
    assert Settings().vendor == "mock"
    monkeypatch.setenv("EC_SETTINGS", str(write(tmp_path, 'vendor = "cqg"')))
    assert load_settings().vendor == "cqg"


def test_parse_settings_takes_a_parsed_document() -> None:
    assert parse_settings({"vendor": "cqg"}).vendor == "cqg"
    with pytest.raises(ConfigError) as info:
        parse_settings({"vendors": {"x": {"secret": "s"}}})
    assert info.value.path == "vendors.x.secret"
    assert info.value.file is None


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("token", True),
        ("api_key", True),
        ("private_key", True),
        ("admin_password", True),
        ("user", False),
        ("password_hint_shown", False),
        ("tokens_per_second", False),
    ],
)
def test_which_keys_are_secrets(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_resolve_secrets_keeps_existing_secrets_and_plain_values() -> None:
    already = Secret("x")
    resolved = resolve_secrets({"password": already, "n": 1}, env={})
    assert resolved == {"password": already, "n": 1}
