"""``ec gateway --config FILE``: an ec settings file with a ``[gateway]`` table.

::

    vendor = "mock"                       # the settings ec run reads: vendor, its table,
    limits_file = "limits.toml"           # limits (with the kill switch beside them) and
    journal_path = "gw-{account}.journal" # the journal, one per account ({account})

    [vendors.mock]
    clock = "wall"

    [gateway]
    url = "redis://127.0.0.1:6379/0"      # ACL user / password: EC_REDIS_USER / EC_REDIS_PASSWORD
    namespace = "ec"
    accounts = ["MOCK-1"]                 # the accounts it trades (default: the settings')
    symbols = ["EP"]                      # market data published from the start
    market_maxlen = 10000                 # entries kept per symbol stream (MAXLEN ~)
    on_worker_lost = "leave"              # or "cancel": its working orders, after
    heartbeat_timeout = 15.0              # this many seconds without a heartbeat
    max_symbols_per_request = 100         # in one lookup or subscription of a worker
    max_symbols_per_worker = 1000         # distinct symbols a worker may name

    [gateway.workers.w1]                  # who may send intents, for which accounts
    accounts = ["MOCK-1"]

A worker not listed, or an account not in its list, gets every intent DENIED
(``WORKER_NOT_ALLOWED`` / ``ACCOUNT_NOT_ALLOWED``) and nothing is sent, and its hello
(the account's orders, positions and P&L) or subscription refused the same way; see
:mod:`ec_core.gateway.access`. The symbols a worker may make the gateway resolve are
bounded: see :mod:`ec_core.gateway.symbols`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, final

import msgspec

from ec_core.errors import ConfigError
from ec_core.gateway.symbols import SYMBOL_RULE, is_symbol
from ec_core.settings import Settings, parse_settings, read_toml

__all__ = ["GatewayConfig", "WorkerAccess", "load_gateway_config", "parse_gateway_config"]


@final
class WorkerAccess(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    accounts: tuple[str, ...] = ()


@final
class GatewayConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The ``[gateway]`` table; ``settings`` is the rest of the file."""

    url: str = "redis://127.0.0.1:6379/0"
    namespace: str = "ec"
    accounts: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    workers: dict[str, WorkerAccess] = msgspec.field(default_factory=dict)
    market_maxlen: Annotated[int, msgspec.Meta(ge=10)] = 10_000
    account_maxlen: Annotated[int, msgspec.Meta(ge=100)] = 100_000
    outbox_limit: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    on_worker_lost: Literal["leave", "cancel"] = "leave"
    heartbeat_timeout: Annotated[float, msgspec.Meta(gt=0)] = 15.0
    max_in_flight: Annotated[int, msgspec.Meta(ge=1)] = 256
    max_symbols_per_request: Annotated[int, msgspec.Meta(ge=1)] = 100
    max_symbols_per_worker: Annotated[int, msgspec.Meta(ge=1)] = 1000
    ack_timeout: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    user_env: str = "EC_REDIS_USER"
    password_env: str = "EC_REDIS_PASSWORD"
    settings: Settings = msgspec.field(default_factory=Settings)

    def allowed(self, worker: str, account_id: str) -> bool:
        access = self.workers.get(worker)
        return access is not None and account_id in access.accounts

    def journal_for(self, account_id: str) -> str | None:
        path = self.settings.journal_path
        if path is None:
            return None
        return path.replace("{account}", account_id)


def parse_gateway_config(data: dict[str, Any], *, file: str | None = None) -> GatewayConfig:
    """The gateway's configuration from a parsed TOML document; errors name the key."""
    document = dict(data)
    table = document.pop("gateway", {})
    settings = parse_settings(document, file=file)
    try:
        config = msgspec.convert(table, GatewayConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(str(exc), path="gateway", file=file) from exc
    accounts = config.accounts or ((settings.account_id,) if settings.account_id else ())
    if not accounts:
        raise ConfigError(
            "no account: list gateway.accounts (or set account_id)",
            path="gateway.accounts",
            file=file,
        )
    journal = settings.journal_path
    if journal is not None and len(accounts) > 1 and "{account}" not in journal:
        raise ConfigError(
            "one journal per account: put {account} in journal_path when the gateway trades"
            f" {len(accounts)} accounts",
            path="journal_path",
            file=file,
        )
    for symbol in config.symbols:
        if not is_symbol(symbol):
            raise ConfigError(
                f"{symbol!r}: must be {SYMBOL_RULE}", path="gateway.symbols", file=file
            )
    return msgspec.structs.replace(config, accounts=accounts, settings=settings)


def load_gateway_config(path: str | Path) -> GatewayConfig:
    file = Path(path)
    return parse_gateway_config(read_toml(file, "gateway config"), file=str(file))
