"""Settings: one TOML file for everything but secrets, which come from the environment.

::

    vendor = "cqg"                  # default vendor for `ec run`
    account_id = "123456"

    [vendors.cqg]
    url = "wss://demoapi.cqg.com:443"
    user = "jdoe"
    password_env = "EC_CQG_PASSWORD"   # the password is read from this variable

A key ending in ``_env`` names an environment variable; the value lands under the
key without the suffix, wrapped in :class:`~ec_core.secrets.Secret`. Plain secret
keys (``password``, ``token``, ``secret``…) in the file are refused unless the
table sets ``allow_secrets_in_file = true``, so a settings file can be shared.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from ec_core.errors import ConfigError
from ec_core.secrets import Secret

__all__ = ["SECRET_KEYS", "Settings", "load_settings", "resolve_secrets"]

SECRET_KEYS = frozenset({"password", "token", "secret", "api_key", "private_key"})
ENV_SETTINGS_FILE = "EC_SETTINGS"


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The parsed settings file. Vendor tables stay raw until their factory reads them."""

    vendor: str = "mock"
    account_id: str = ""
    vendors: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    limits_file: str | None = None
    journal_path: str | None = None
    log_level: str = "INFO"

    def vendor_settings(self, name: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The table of vendor ``name``, secrets resolved from ``env`` (default: ``os.environ``)."""
        return resolve_secrets(
            self.vendors.get(name, {}),
            env=os.environ if env is None else env,
            path=f"vendors.{name}",
        )


def resolve_secrets(
    table: Mapping[str, Any], *, env: Mapping[str, str], path: str = ""
) -> dict[str, Any]:
    """Replace ``<key>_env`` entries by ``<key>: Secret(env[...])``; refuse plain secrets."""
    allow_plain = bool(table.get("allow_secrets_in_file", False))
    resolved: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{path}.{key}" if path else key
        if key == "allow_secrets_in_file":
            continue
        if key.endswith("_env"):
            if not isinstance(value, str):
                raise ConfigError("must name an environment variable", path=where)
            if value not in env:
                raise ConfigError(f"environment variable {value} is not set", path=where)
            resolved[key.removesuffix("_env")] = Secret(env[value])
        elif key in SECRET_KEYS and not isinstance(value, Secret):
            if not allow_plain:
                raise ConfigError(
                    f'secrets do not belong in the settings file; use {key}_env = "VAR"'
                    " (or set allow_secrets_in_file = true)",
                    path=where,
                )
            resolved[key] = Secret(str(value))
        else:
            resolved[key] = value
    return resolved


def load_settings(path: str | Path | None = None) -> Settings:
    """Read ``path`` (or ``$EC_SETTINGS``); no file means defaults (the ``mock`` vendor)."""
    if path is None:
        env_path = os.environ.get(ENV_SETTINGS_FILE)
        if not env_path:
            return Settings()
        path = env_path
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("settings file not found", path=str(file)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(file)) from exc
    try:
        return msgspec.convert(data, Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(str(exc), path=str(file)) from exc
