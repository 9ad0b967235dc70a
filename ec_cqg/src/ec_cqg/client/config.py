"""The ``[vendors.cqg]`` settings table, checked once, before any I/O.

::

    [vendors.cqg]
    url = "wss://demoapi.cqg.com:443"
    user = "jdoe"
    password_env = "EC_CQG_PASSWORD"     # resolved by ec_core.settings into a Secret
    client_app_id = "ec"

Every bad value raises :class:`~ec_core.errors.ConfigError` naming the key
(``vendors.cqg.request_timeout``). The password stays a :class:`~ec_core.secrets.Secret`
and never appears in a repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, final
from urllib.parse import urlsplit

from ec_core.clock import Clock, WallClock
from ec_core.errors import ConfigError
from ec_core.network import is_loopback
from ec_core.secrets import Secret

__all__ = ["CqgSettings", "check_url", "is_loopback", "parse_cqg_settings"]

_PATH: Final = "vendors.cqg"
_KNOWN: Final = frozenset(
    {
        "url",
        "user",
        "password",
        "client_app_id",
        "client_version",
        "allow_insecure",
        "request_timeout",
        "logon_timeout",
        "heartbeat_interval",
        "heartbeat_timeout",
        "reconnect",
        "backoff_initial",
        "backoff_max",
        "backoff_seed",
        "max_reconnect_attempts",
        "hold_timeout",
        "outbound_queue",
        "record_path",
        "ssl",
        "clock",
        "throttle",
        "accounts",
        "market_buffer",
        "negative_prices",
    }
)


def check_url(url: str, *, allow_insecure: bool) -> None:
    """Refuse anything but ``wss://``, or ``ws://`` to loopback (unless ``allow_insecure``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ConfigError(f"not a WebSocket URL: {url!r}", path="vendors.cqg.url")
    if parts.scheme == "ws" and not allow_insecure and not is_loopback(parts.hostname):
        raise ConfigError(
            f"plain ws:// to {parts.hostname} would send the password unencrypted; use wss://"
            " or set allow_insecure = true",
            path="vendors.cqg.url",
        )


@final
class CqgSettings:
    """Checked settings of one CQG session (see the module docstring for the keys)."""

    __slots__ = (
        "accounts",
        "allow_insecure",
        "backoff_initial",
        "backoff_max",
        "backoff_seed",
        "client_app_id",
        "client_version",
        "clock",
        "heartbeat_interval",
        "heartbeat_timeout",
        "hold_timeout",
        "logon_timeout",
        "market_buffer",
        "max_reconnect_attempts",
        "negative_prices",
        "outbound_queue",
        "password",
        "reconnect",
        "record_path",
        "request_timeout",
        "ssl",
        "throttle",
        "url",
        "user",
    )

    def __init__(
        self,
        *,
        url: str,
        user: str,
        password: Secret,
        client_app_id: str = "ec",
        client_version: str = "ec-cqg-0.1",
        allow_insecure: bool = False,
        request_timeout: float = 10.0,
        logon_timeout: float = 10.0,
        heartbeat_interval: float = 10.0,
        heartbeat_timeout: float = 30.0,
        reconnect: bool = True,
        backoff_initial: float = 0.25,
        backoff_max: float = 30.0,
        backoff_seed: int | None = None,
        max_reconnect_attempts: int | None = None,
        hold_timeout: float = 10.0,
        outbound_queue: int = 1024,
        record_path: Path | None = None,
        ssl: Any = None,
        clock: Clock | None = None,
        throttle: bool = True,
        accounts: tuple[str, ...] = (),
        market_buffer: int = 10_000,
        negative_prices: tuple[str, ...] = (),
    ) -> None:
        self.url = url
        self.user = user
        self.password = password
        self.client_app_id = client_app_id
        self.client_version = client_version
        self.allow_insecure = allow_insecure
        self.request_timeout = request_timeout
        self.logon_timeout = logon_timeout
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.reconnect = reconnect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_seed = backoff_seed
        self.max_reconnect_attempts = max_reconnect_attempts
        self.hold_timeout = hold_timeout
        self.outbound_queue = outbound_queue
        self.record_path = record_path
        self.ssl = ssl
        self.clock: Clock = clock if clock is not None else WallClock()
        self.throttle = throttle
        self.accounts = accounts
        self.market_buffer = market_buffer
        self.negative_prices = negative_prices

    def __repr__(self) -> str:
        return (
            f"CqgSettings(url={self.url!r}, user={self.user!r}, password={self.password!r},"
            f" client_app_id={self.client_app_id!r})"
        )


def _get(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if (
        isinstance(value, bool)
        and kind is not bool
        and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        raise ConfigError(f"must be a number, got {value!r}", path=f"{_PATH}.{key}")
    if not isinstance(value, kind):
        kinds = (kind,) if isinstance(kind, type) else kind
        expected = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(
            f"must be a {expected}, got {type(value).__name__}", path=f"{_PATH}.{key}"
        )
    return value


def _positive(table: Mapping[str, Any], key: str, default: float) -> float:
    value = float(_get(table, key, (int, float), default))
    if not value > 0:
        raise ConfigError(f"must be > 0, got {value}", path=f"{_PATH}.{key}")
    return value


def parse_cqg_settings(table: Mapping[str, Any]) -> CqgSettings:
    """Check ``table`` (secrets already resolved) and build :class:`CqgSettings`."""
    unknown = sorted(set(table) - _KNOWN - {"password_env"})
    if unknown:
        raise ConfigError(
            f"unknown key (known: {', '.join(sorted(_KNOWN))})", path=f"{_PATH}.{unknown[0]}"
        )
    url = _get(table, "url", str, None)
    if not url:
        raise ConfigError("is required (the WebSocket URL, wss://…)", path=f"{_PATH}.url")
    if not url.startswith(("ws://", "wss://")):
        raise ConfigError(f"must start with wss:// or ws://, got {url!r}", path=f"{_PATH}.url")
    check_url(url, allow_insecure=_get(table, "allow_insecure", bool, False))
    user = _get(table, "user", str, None)
    if not user:
        raise ConfigError("is required", path=f"{_PATH}.user")
    password = table.get("password")
    if isinstance(password, str):
        password = Secret(password)
    if not isinstance(password, Secret):
        raise ConfigError(
            'is required: set password_env = "VAR" to read it from the environment',
            path=f"{_PATH}.password",
        )
    seed = _get(table, "backoff_seed", int, None)
    attempts = _get(table, "max_reconnect_attempts", int, None)
    if attempts is not None and attempts < 0:
        raise ConfigError(f"must be >= 0, got {attempts}", path=f"{_PATH}.max_reconnect_attempts")
    queue = int(_get(table, "outbound_queue", int, 1024))
    if queue < 1:
        raise ConfigError(f"must be >= 1, got {queue}", path=f"{_PATH}.outbound_queue")
    market_buffer = int(_get(table, "market_buffer", int, 10_000))
    if market_buffer < 1:
        raise ConfigError(f"must be >= 1, got {market_buffer}", path=f"{_PATH}.market_buffer")
    record = _get(table, "record_path", (str, Path), None)
    clock = table.get("clock")
    if clock is not None and not isinstance(clock, Clock):
        raise ConfigError("must be an ec_core.clock.Clock", path=f"{_PATH}.clock")
    accounts = _get(table, "accounts", (list, tuple), ())
    if not all(isinstance(a, str | int) and not isinstance(a, bool) for a in accounts):
        raise ConfigError("must be a list of account ids", path=f"{_PATH}.accounts")
    negative = _get(table, "negative_prices", (list, tuple), ())
    if not all(isinstance(s, str) and s.strip() == s and s for s in negative):
        raise ConfigError(
            'must be a list of products or symbols that trade below zero (e.g. "CLE")',
            path=f"{_PATH}.negative_prices",
        )
    return CqgSettings(
        url=url,
        user=user,
        password=password,
        client_app_id=_get(table, "client_app_id", str, "ec"),
        client_version=_get(table, "client_version", str, "ec-cqg-0.1"),
        allow_insecure=_get(table, "allow_insecure", bool, False),
        request_timeout=_positive(table, "request_timeout", 10.0),
        logon_timeout=_positive(table, "logon_timeout", 10.0),
        heartbeat_interval=_positive(table, "heartbeat_interval", 10.0),
        heartbeat_timeout=_positive(table, "heartbeat_timeout", 30.0),
        reconnect=_get(table, "reconnect", bool, True),
        backoff_initial=_positive(table, "backoff_initial", 0.25),
        backoff_max=_positive(table, "backoff_max", 30.0),
        backoff_seed=seed,
        max_reconnect_attempts=attempts,
        hold_timeout=_positive(table, "hold_timeout", 10.0),
        outbound_queue=queue,
        record_path=None if record is None else Path(record),
        ssl=table.get("ssl"),
        clock=clock,
        throttle=_get(table, "throttle", bool, True),
        accounts=tuple(str(a) for a in accounts),
        market_buffer=market_buffer,
        negative_prices=tuple(negative),
    )
