"""Review regressions of the settings: no credential in a repr, wherever it sits.

Before the fixes, a table with ``allow_secrets_in_file = true`` kept its password as
a plain str inside :class:`Settings` (its repr, a log line or a traceback showed
it), a secret inside an array of tables (``[[vendors.cqg.accounts]]``) was neither
refused nor wrapped, and ``Password`` (any case but lower) was not a secret key.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from ec_core.settings import is_secret_key, load_settings, parse_settings

SECRET = "hunter2-review"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_allowed_plain_secret_never_shows_in_the_settings_repr(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = f'[vendors.cqg]\nallow_secrets_in_file = true\nuser = "u"\npassword = "{SECRET}"\n'
    settings = load_settings(_write(tmp_path, text))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("review").debug("settings %r / %s", settings, settings)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in caplog.text
    resolved = settings.vendor_settings("cqg", env={})
    assert isinstance(resolved["password"], Secret)
    assert resolved["password"].reveal() == SECRET  # still usable where it is handed over
    assert resolved["user"] == "u"
    assert SECRET not in repr(resolved)


def test_env_references_survive_the_wrapping() -> None:
    settings = parse_settings(
        {"vendors": {"cqg": {"user": "u", "password_env": "EC_REVIEW_PW", "nested": {"x": 1}}}}
    )
    resolved = settings.vendor_settings("cqg", env={"EC_REVIEW_PW": SECRET})
    assert resolved["password"] == Secret(SECRET)
    assert resolved["nested"] == {"x": 1}


def test_a_secret_inside_an_array_of_tables_is_refused(tmp_path: Path) -> None:
    text = f'[[vendors.cqg.accounts]]\nid = 1\npassword = "{SECRET}"\n'
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text))
    assert info.value.path == "vendors.cqg.accounts[0].password"
    assert SECRET not in str(info.value)


def test_a_secret_inside_an_allowed_array_of_tables_is_wrapped() -> None:
    settings = parse_settings(
        {
            "vendors": {
                "cqg": {"allow_secrets_in_file": True, "accounts": [{"id": 1, "token": SECRET}]}
            }
        }
    )
    assert SECRET not in repr(settings)
    (account,) = settings.vendor_settings("cqg", env={})["accounts"]
    assert account["token"] == Secret(SECRET)
    assert account["id"] == 1


def test_an_env_reference_inside_an_array_of_tables_is_resolved() -> None:
    settings = parse_settings({"vendors": {"cqg": {"accounts": [{"password_env": "PW"}]}}})
    (account,) = settings.vendor_settings("cqg", env={"PW": SECRET})["accounts"]
    assert account["password"] == Secret(SECRET)


@pytest.mark.parametrize("key", ["Password", "API_KEY", "Db_Password", "TOKEN"])
def test_secret_keys_are_recognised_in_any_case(key: str) -> None:
    assert is_secret_key(key)
    with pytest.raises(ConfigError) as info:
        parse_settings({"vendors": {"cqg": {key: SECRET}}})
    assert info.value.path == f"vendors.cqg.{key}"
    assert SECRET not in str(info.value)
