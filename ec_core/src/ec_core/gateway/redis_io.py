"""Redis for the gateway and its clients: how to connect, and the stream commands typed.

One place translates the ``redis`` package's connection failures into
:class:`~ec_core.errors.GatewayUnavailableError` (:func:`unavailable`), so neither
the gateway nor a worker handles a transport library's exceptions.

Credentials never sit in a URL in a settings file: the ACL user and password come
from the environment (``EC_REDIS_USER``, ``EC_REDIS_PASSWORD`` by default; a
configuration may name other variables). ``rediss://`` is TLS; ``EC_REDIS_CA``
names a CA bundle to trust (default: the system's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeAlias, cast
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
import redis.exceptions

from ec_core.errors import ConfigError, GatewayUnavailableError
from ec_core.gateway.wire import FIELD

__all__ = [
    "Entry",
    "Redis",
    "autoclaim",
    "ensure_group",
    "open_redis",
    "read_group",
    "read_streams",
    "redacted",
    "redis_options",
    "unavailable",
]

Redis: TypeAlias = "aioredis.Redis"
Entry: TypeAlias = tuple[str, bytes]
"""One stream entry: its id and the encoded message (``FIELD``)."""

DEFAULT_USER_ENV = "EC_REDIS_USER"
DEFAULT_PASSWORD_ENV = "EC_REDIS_PASSWORD"
CA_ENV = "EC_REDIS_CA"


def redacted(url: str) -> str:
    """``url`` without a password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def redis_options(
    url: str,
    env: Mapping[str, str],
    *,
    user_env: str = DEFAULT_USER_ENV,
    password_env: str = DEFAULT_PASSWORD_ENV,
) -> dict[str, Any]:
    """What ``redis.asyncio.Redis.from_url(url, **options)`` needs beyond the URL."""
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss"):
        raise ConfigError(
            f"gateway url {redacted(url)!r}: the scheme must be redis:// or rediss:// (TLS)",
            path="gateway.url",
        )
    options: dict[str, Any] = {}
    if env.get(user_env):
        options["username"] = env[user_env]
    if env.get(password_env):
        options["password"] = env[password_env]
    if scheme == "rediss" and env.get(CA_ENV):
        options["ssl_ca_certs"] = env[CA_ENV]
    return options


# A server that is up but cannot take a command now: out of memory (maxmemory with
# noeviction), a replica that became read-only in a failover, a cluster slot moving, a
# transaction discarded for one of those. Retried like a lost connection.
_REFUSES_FOR_NOW = (
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ExecAbortError,
)


@contextmanager
def unavailable(url: str) -> Iterator[None]:
    """Translate the transport's failures, and a server that refuses commands for now
    (out of memory, read-only, an ACL without the command), into
    :class:`GatewayUnavailableError`."""
    try:
        yield
    except redis.exceptions.AuthenticationError as exc:
        raise GatewayUnavailableError(
            f"redis at {redacted(url)} refused the logon ({exc}): set the ACL user and password"
            f" in {DEFAULT_USER_ENV} / {DEFAULT_PASSWORD_ENV}"
        ) from exc
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
        raise GatewayUnavailableError(f"redis at {redacted(url)} unavailable: {exc}") from exc
    except _REFUSES_FOR_NOW as exc:
        raise GatewayUnavailableError(
            f"redis at {redacted(url)} unavailable: it refuses the command for now ({exc})"
        ) from exc
    except redis.exceptions.NoPermissionError as exc:
        raise GatewayUnavailableError(
            f"redis at {redacted(url)} refused a command ({exc}): the ACL user needs it (see"
            " the scale-out guide's Security section)"
        ) from exc


@asynccontextmanager
async def open_redis(
    url: str,
    env: Mapping[str, str],
    *,
    user_env: str = DEFAULT_USER_ENV,
    password_env: str = DEFAULT_PASSWORD_ENV,
) -> AsyncIterator[aioredis.Redis]:
    """A client of ``url`` (checked with a PING); closed on exit."""
    options = redis_options(url, env, user_env=user_env, password_env=password_env)
    client = aioredis.Redis.from_url(url, **options)
    try:
        with unavailable(url):
            await client.ping()
        yield client
    finally:
        await client.aclose()


def _entries(raw: Any) -> list[Entry]:
    out: list[Entry] = []
    for entry_id, fields in raw or ():
        if not fields:  # deleted meanwhile (XAUTOCLAIM of a trimmed entry)
            continue
        out.append((_text(entry_id), cast(bytes, fields.get(FIELD, b""))))
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def ensure_group(client: aioredis.Redis, stream: str, group: str) -> None:
    """Create ``group`` on ``stream`` (and the stream) unless it exists."""
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.exceptions.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def read_group(
    client: aioredis.Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    count: int,
    block_ms: int,
) -> list[Entry]:
    """New entries for ``consumer`` (``>``), waiting up to ``block_ms``."""
    raw: Any = await client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
    return [entry for _, entries in raw or () for entry in _entries(entries)]


async def autoclaim(
    client: aioredis.Redis, stream: str, group: str, consumer: str, *, min_idle_ms: int
) -> list[Entry]:
    """Every entry pending in ``group`` idle for ``min_idle_ms``, claimed for ``consumer``."""
    claimed: list[Entry] = []
    start = "0-0"
    while True:
        result = await client.xautoclaim(
            stream, group, consumer, min_idle_time=min_idle_ms, start_id=start, count=100
        )
        claimed.extend(_entries(result[1]))
        start = _text(result[0])
        if start == "0-0":
            return claimed


async def read_streams(
    client: aioredis.Redis, streams: Mapping[str, str], *, count: int, block_ms: int | None
) -> list[tuple[str, list[Entry]]]:
    """XREAD after the given id of each stream."""
    wanted: dict[Any, Any] = dict(streams)
    raw: Any = await client.xread(wanted, count=count, block=block_ms)
    return [(_text(name), _entries(entries)) for name, entries in raw or ()]
