"""The ``json`` wire dialect of ec-mock: ``ec mock serve --dialect json``.

A small JSON-over-WebSocket venue protocol of ec-mock's own (schema in
:mod:`ec_mock.jsonwire.schema`, reference in docs/mock/json-dialect.md), served on the
real engine: the venue to write and test a vendor plugin against. The tutorial's
example plugin (ec-echo) is its client. Cheap to import: websockets loads in
:meth:`JsonDialect.serve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, final

from ec_core.errors import ConfigError

if TYPE_CHECKING:
    from ec_mock.dialects import Endpoint, ServeOptions
    from ec_mock.jsonwire.shell import JsonServer
    from ec_mock.vendor.venue import MockVenue

__all__ = ["JsonDialect"]


@final
class JsonDialect:
    """Serves an ec-mock venue in the ``json`` dialect.

    Without ``--user`` any user with a non-empty password may log on, which is only
    allowed on loopback. :attr:`servers` lists the servers running now (tests reach
    each one's core and counters through it).
    """

    name = "json"
    description = "ec-mock's own JSON over WebSocket (text frames; the tutorial's venue)"

    def __init__(self) -> None:
        self.servers: list[JsonServer] = []

    @asynccontextmanager
    async def serve(self, venue: MockVenue, options: ServeOptions) -> AsyncIterator[Endpoint]:
        """Bind to ``options.host``/``options.port`` and serve ``venue`` until the block exits."""
        from ec_core.network import is_loopback

        from ec_mock.jsonwire.shell import JsonServer

        if options.user is None and not is_loopback(options.host):
            raise ConfigError(
                f"host {options.host!r} is beyond loopback: give --user and a password",
                path="user",
            )
        tls = (options.certfile, options.keyfile) if options.certfile and options.keyfile else None
        server = JsonServer(venue, options.accepts, host=options.host, port=options.port, tls=tls)
        self.servers.append(server)
        try:
            async with server.listen() as endpoint:
                yield endpoint
        finally:
            self.servers.remove(server)
