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
keys (``password``, ``token``, ``secret``…, also as a suffix: ``db_password``) in
the file are refused unless the table sets ``allow_secrets_in_file = true``, so a
settings file can be shared. The file is checked for plain secrets when it is
loaded; environment variables are read only when a vendor's table is asked for,
so settings for a vendor you do not use need no variables set.
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from ec_core.errors import ConfigError
from ec_core.secrets import Secret

__all__ = [
    "SECRET_KEYS",
    "Settings",
    "check_no_plain_secrets",
    "convert_vendor_settings",
    "is_secret_key",
    "load_settings",
    "parse_settings",
    "read_toml",
    "resolve_secrets",
    "validation_key",
    "validation_text",
]

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
        """The table of vendor ``name``, secrets resolved from ``env`` (default: ``os.environ``).

        A ``"dist:name"`` selection (see ``ec plugins``) reads the table of the bare name.
        """
        table = name.rpartition(":")[2]
        return resolve_secrets(
            self.vendors.get(table, {}),
            env=os.environ if env is None else env,
            path=f"vendors.{table}",
        )


def is_secret_key(key: str) -> bool:
    """``password``, ``api_key``… or a name ending in one of them (``db_password``), in
    any case (``Password`` is as secret as ``password``)."""
    key = key.lower()
    return key in SECRET_KEYS or any(key.endswith(f"_{name}") for name in SECRET_KEYS)


def resolve_secrets(
    table: Mapping[str, Any], *, env: Mapping[str, str], path: str = ""
) -> dict[str, Any]:
    """Replace ``<key>_env`` entries by ``<key>: Secret(env[...])``; refuse plain secrets.

    Nested tables are resolved too; ``allow_secrets_in_file`` applies to the table
    that sets it and the tables inside it.
    """
    return _resolve(table, env=env, path=path, allow_plain=False)


def check_no_plain_secrets(table: Mapping[str, Any], *, path: str = "") -> None:
    """Raise :class:`ConfigError` for a plain secret in ``table``; reads no environment."""
    _resolve(table, env=None, path=path, allow_plain=False)


def _resolve(
    table: Mapping[str, Any], *, env: Mapping[str, str] | None, path: str, allow_plain: bool
) -> dict[str, Any]:
    allow_plain = allow_plain or table.get("allow_secrets_in_file", False) is True
    resolved: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{path}.{key}" if path else key
        if key == "allow_secrets_in_file":
            if not isinstance(value, bool):
                raise ConfigError("must be true or false", path=where)
            if env is None:  # checking only: keep the table as it was written
                resolved[key] = value
            continue
        if key.endswith("_env"):
            if not isinstance(value, str) or not value:
                raise ConfigError("must name an environment variable", path=where)
            if env is None:  # checking only: resolved when the vendor's table is asked for
                resolved[key] = value
                continue
            if value not in env:
                raise ConfigError(f"environment variable {value} is not set", path=where)
            resolved[key.removesuffix("_env")] = Secret(env[value])
        elif isinstance(value, Mapping):
            resolved[key] = _resolve(value, env=env, path=where, allow_plain=allow_plain)
        elif is_secret_key(key) and not isinstance(value, Secret):
            if not allow_plain:
                raise ConfigError(
                    f'secrets do not belong in the settings file; use {key}_env = "VAR"'
                    " (or set allow_secrets_in_file = true)",
                    path=where,
                )
            resolved[key] = Secret(str(value))
        elif isinstance(value, list):  # an array of tables holds secrets like any table
            resolved[key] = [
                _resolve(item, env=env, path=f"{where}[{index}]", allow_plain=allow_plain)
                if isinstance(item, Mapping)
                else item
                for index, item in enumerate(value)
            ]
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
    return parse_settings(read_toml(file, "settings file"), file=str(file))


def read_toml(file: Path, what: str) -> dict[str, Any]:
    """The parsed TOML of ``file``; a missing file or bad TOML is a :class:`ConfigError`
    naming the file (``what``: how the error names it, e.g. "settings file")."""
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} not found", file=str(file)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(file)) from exc


def parse_settings(data: Mapping[str, Any], *, file: str | None = None) -> Settings:
    """Settings from an already parsed TOML document; errors name the key."""
    try:
        settings = msgspec.convert(data, Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(
            validation_text(exc, Settings), path=validation_key(exc), file=file
        ) from exc
    vendors: dict[str, dict[str, Any]] = {}
    for name, table in settings.vendors.items():
        try:
            # Refuses plain secrets, and wraps those a table allows in Secret: the
            # Settings (its repr, a log line, a traceback) never holds one in clear.
            vendors[name] = _resolve(table, env=None, path=f"vendors.{name}", allow_plain=False)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=exc.path, file=file) from exc
    return msgspec.structs.replace(settings, vendors=vendors)


_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"unknown field `(?P<field>[^`]+)`")
_MISSING = re.compile(r"missing required field `(?P<field>[^`]+)`")
T = TypeVar("T")


def convert_vendor_settings(settings: Mapping[str, Any], into: type[T], *, vendor: str) -> T:
    """A vendor's table of settings as its own ``msgspec.Struct`` ``into``, checked.

    A factory declares its settings once, as a struct (types, ``Meta`` constraints,
    ``Secret`` for secrets), and calls this in ``open``: every bad, missing or unknown
    key is a :class:`~ec_core.errors.ConfigError` whose ``path`` names it
    (``vendors.acme.url``); a secret given in clear is refused with the way to give it.
    """
    try:
        return msgspec.convert(dict(settings), into)
    except msgspec.ValidationError as exc:
        text = validation_text(exc, into)
        missing = _MISSING.search(str(exc))
        key = missing.group("field") if missing else validation_key(exc)
        path = f"vendors.{vendor}" + (f".{key}" if key else "")
        if "Expected `Secret`" in text:
            text += f' (secrets come from the environment: set {key}_env = "VARIABLE")'
        raise ConfigError(text, path=path) from exc


def validation_text(exc: msgspec.ValidationError, into: type) -> str:
    """What a settings table converted to ``into`` got wrong, in msgspec's words; a
    misspelt key of ``into`` itself is "unknown key" and the keys there are (a user who
    wrote ``vendr`` or ``sed`` sees ``vendor`` or ``seed``)."""
    text = str(exc)
    at = _AT.search(text)
    path = at.group("path").replace("[...]", "").split(".") if at else []
    if _UNKNOWN.search(text):  # in ``into`` itself or in a table of it (``[kill_switch]``)
        fields = getattr(_kind_at(into, path), "__struct_fields__", None)
        if fields:
            return f"unknown key (known: {', '.join(sorted(fields))})"
    if at and text.startswith("Invalid enum value"):  # a misspelt choice: say the choices
        choices = _choices(into, path)
        if choices:
            return f"{text[: at.start()]} (one of: {', '.join(choices)})"
    return text


def _kind_at(into: object, path: list[str]) -> object:
    """The type of the field at ``path`` of struct ``into`` (``X | None`` read as ``X``),
    or ``None`` if the path leaves the structs."""
    kind: object = into
    for key in path:
        fields = getattr(kind, "__struct_fields__", None)
        if not fields or key not in fields:
            return None
        kind = typing.get_type_hints(kind).get(key)
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(options) == 1 and typing.get_origin(kind) is not typing.Literal:
            kind = options[0]  # X | None
    return kind


def _choices(into: object, path: list[str]) -> list[str]:
    """The values a Literal or Enum field at ``path`` of struct ``into`` takes ([] if none)."""
    kind = _kind_at(into, path)
    if typing.get_origin(kind) is typing.Literal:
        return [str(value) for value in typing.get_args(kind)]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return [str(member.value) for member in kind]
    return []


def validation_key(exc: msgspec.ValidationError) -> str | None:
    """The dotted key a msgspec validation error points at (``vendors.cqg``), if any."""
    text = str(exc)
    unknown = _UNKNOWN.search(text)
    at = _AT.search(text)
    base = at.group("path").replace("[...]", "") if at else ""
    if unknown:
        return f"{base}.{unknown.group('field')}" if base else unknown.group("field")
    return base or None
