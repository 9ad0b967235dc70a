"""Wire-dialect front ends: serve the simulator in some vendor's protocol on 127.0.0.1.

ec-mock declares one hook, :func:`ec_mock_add_dialects`. A vendor distribution
implements it to register a :class:`Dialect`, e.g. ec-cqg registers ``cqg`` so its
own adapter can be tested end to end over a real socket against the simulator::

    from ec_core.plugins import hookimpl

    @hookimpl(optionalhook=True)   # optional: ec-mock may not be installed
    def ec_mock_add_dialects(dialects):
        dialects.add(CqgDialect())

``ec mock serve --dialect NAME`` then builds a venue, enters
``dialect.serve(venue, options)``, prints the endpoint's URL and serves until
Ctrl-C. A dialect's ``serve`` does its heavy imports inside, binds to
``options.host``/``options.port`` (port 0: any free port, read it back), and on
exit closes every connection it accepted.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, final, runtime_checkable

import msgspec
from ec_core.errors import ConfigError, PluginError
from ec_core.network import is_loopback
from ec_core.plugins.markers import hookspec
from ec_core.secrets import Secret

if TYPE_CHECKING:
    from ec_core.plugins import PluginHost

    from ec_mock.vendor.venue import MockVenue

__all__ = [
    "Dialect",
    "DialectRegistry",
    "Endpoint",
    "ServeOptions",
    "collect_dialects",
    "ec_mock_add_dialects",
]


@hookspec
def ec_mock_add_dialects(dialects: DialectRegistry) -> None:
    """Register wire dialects: call ``dialects.add(dialect)`` for each :class:`Dialect`.

    Called when ``ec mock serve`` (or a test) collects dialects, once per call of
    :func:`collect_dialects`. Must be cheap: import protocol libraries in
    ``Dialect.serve``, not here. Implement it with ``@hookimpl(optionalhook=True)``
    so your plugin still loads when ec-mock is not installed.
    """


@final
class Endpoint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where a dialect is serving: ``url`` is what ``ec mock serve`` prints.

    ``accounts`` maps a venue account (``MOCK-1``) to the id a client of the dialect
    trades it as, where the two differ (CQG numbers its accounts); ``ec mock serve``
    prints it beside the venue's name, as that id is what goes in the client's settings.
    """

    url: str
    host: str
    port: int
    accounts: dict[str, str] = {}


@final
class ServeOptions:
    """How to serve: where to bind, with or without TLS, and which credentials a client
    must present.

    ``user`` ``None`` means the dialect decides (``cqg`` makes up credentials and prints
    them); a given ``user`` needs a non-empty password, and an empty password never
    matches. A host beyond loopback needs TLS (``certfile`` and ``keyfile``, PEM) or an
    explicit ``insecure_public=True``: a plain-text server on a public interface would
    carry passwords and orders in clear. Every refusal is a
    :class:`~ec_core.errors.ConfigError` naming the option. The password is a
    :class:`~ec_core.secrets.Secret` and never shows in a repr.
    """

    __slots__ = (
        "certfile",
        "host",
        "insecure_public",
        "keyfile",
        "password",
        "port",
        "seed",
        "user",
    )

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str | None = None,
        password: Secret | None = None,
        seed: int = 0,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        insecure_public: bool = False,
    ) -> None:
        if not 0 <= port <= 65_535:
            raise ValueError(f"port must be in 0..65535, got {port}")
        if user is not None and (password is None or not password.reveal()):
            raise ConfigError(
                f"user {user!r} needs a non-empty password (EC_MOCK_PASSWORD or --password);"
                " leave out --user to have one generated",
                path="password",
            )
        if password is not None and user is None:
            raise ConfigError("a password needs a user", path="user")
        if (certfile is None) != (keyfile is None):
            raise ConfigError("certfile and keyfile go together", path="keyfile")
        if not is_loopback(host) and certfile is None and not insecure_public:
            raise ConfigError(
                f"host {host!r} is beyond loopback: serve it with TLS (certfile and keyfile)"
                " or pass insecure_public to serve plain text on purpose",
                path="host",
            )
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.seed = seed
        self.certfile = certfile
        self.keyfile = keyfile
        self.insecure_public = insecure_public

    @property
    def tls(self) -> bool:
        return self.certfile is not None

    @property
    def public_in_clear(self) -> bool:
        """Plain text on an interface other machines can reach (warn whoever runs it)."""
        return not self.tls and not is_loopback(self.host)

    def with_credentials(self, user: str, password: Secret) -> ServeOptions:
        """These options with ``user``/``password`` (for a dialect that generates them)."""
        return ServeOptions(
            host=self.host,
            port=self.port,
            user=user,
            password=password,
            seed=self.seed,
            certfile=self.certfile,
            keyfile=self.keyfile,
            insecure_public=self.insecure_public,
        )

    def accepts(self, user: str, password: str) -> bool:
        """True if ``user``/``password`` may log on (constant-time comparison).

        An empty password never matches, whatever the options say.
        """
        if not password:
            return False
        if self.user is None:
            return True
        expected = self.password.reveal() if self.password is not None else ""
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        password_ok = hmac.compare_digest(password.encode(), expected.encode())
        return user_ok and password_ok and bool(expected)

    def __repr__(self) -> str:
        return (
            f"ServeOptions(host={self.host!r}, port={self.port}, user={self.user!r},"
            f" password={self.password!r}, seed={self.seed}, tls={self.tls},"
            f" insecure_public={self.insecure_public})"
        )


@runtime_checkable
class Dialect(Protocol):
    """Serves a venue over one wire protocol."""

    @property
    def name(self) -> str:
        """The name given to ``ec mock serve --dialect``."""
        ...

    @property
    def description(self) -> str: ...

    def serve(
        self, venue: MockVenue, options: ServeOptions
    ) -> AbstractAsyncContextManager[Endpoint]:
        """Bind and serve ``venue`` until the context exits; yield where it listens."""
        ...


@final
class DialectRegistry:
    """Dialects by name; two plugins claiming one name is an error naming both."""

    def __init__(self) -> None:
        self._dialects: dict[str, Dialect] = {}

    def add(self, dialect: Dialect) -> None:
        existing = self._dialects.get(dialect.name)
        if existing is not None and existing is not dialect:
            raise PluginError(
                f"dialect {dialect.name!r} registered twice: by {type(existing).__module__}"
                f" and by {type(dialect).__module__}",
                plugin=dialect.name,
            )
        self._dialects[dialect.name] = dialect

    def get(self, name: str) -> Dialect | None:
        return self._dialects.get(name)

    def remove(self, name: str) -> None:
        """Forget dialect ``name`` (the host undoes a failed plugin's additions with this)."""
        self._dialects.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._dialects)

    def __iter__(self) -> Iterator[Dialect]:
        return iter([self._dialects[n] for n in self.names()])

    def __contains__(self, name: object) -> bool:
        return name in self._dialects

    def __len__(self) -> int:
        return len(self._dialects)


def collect_dialects(host: PluginHost) -> DialectRegistry:
    """Ask every plugin of ``host`` for its dialects, through the host's isolation."""
    registry = DialectRegistry()
    host.call_registration_hook(
        "ec_mock_add_dialects",
        argname="dialects",
        registry=registry,
        keys=lambda: set(registry.names()),
        remove=registry.remove,
    )
    return registry
