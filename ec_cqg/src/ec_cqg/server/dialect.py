"""``CqgDialect``: the ``cqg`` wire dialect of ec-mock (``ec mock serve --dialect cqg``).

Cheap to import: protobuf and websockets load in :meth:`CqgDialect.serve`. Registered by
ec-cqg's plugin through ec-mock's ``ec_mock_add_dialects`` hook::

    @hookimpl(optionalhook=True)
    def ec_mock_add_dialects(dialects):
        from ec_cqg.server import CqgDialect
        dialects.add(CqgDialect())

When ``ec mock serve`` is given no ``--user``, the dialect makes up credentials and
prints them once at start (they are for the person running the server); any other
credentials are refused with logon result 101.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, final

from ec_cqg.server.config import ServerConfig

if TYPE_CHECKING:
    from ec_mock.dialects import Endpoint, ServeOptions
    from ec_mock.faults import FaultPlan
    from ec_mock.vendor.venue import MockVenue

    from ec_cqg.server.shell import CqgServer

__all__ = ["GENERATED_USER", "CqgDialect"]

GENERATED_USER = "ec-mock"


def _print(line: str) -> None:
    print(line, flush=True)


@final
class CqgDialect:
    """Serves an ec-mock venue in CQG WebAPI 2.230 (see :mod:`ec_cqg.server`).

    ``faults`` applies an ec-mock fault plan to every connection's outbound frames;
    ``announce`` prints generated credentials (default: stdout). :attr:`servers` lists the
    servers running now (tests reach the core through it).
    """

    name = "cqg"
    description = "CQG WebAPI 2.230 over WebSocket (binary protobuf frames)"

    def __init__(
        self,
        *,
        config: ServerConfig | None = None,
        faults: FaultPlan | None = None,
        announce: Callable[[str], None] = _print,
    ) -> None:
        self.config = config or ServerConfig()
        self.faults = faults
        self.announce = announce
        self.servers: list[CqgServer] = []

    @asynccontextmanager
    async def serve(self, venue: MockVenue, options: ServeOptions) -> AsyncIterator[Endpoint]:
        """Bind to ``options.host``/``options.port`` and serve ``venue`` until the block exits."""
        from ec_core.secrets import Secret

        from ec_cqg.server.shell import CqgServer

        if options.user is None:
            password = secrets.token_urlsafe(12)
            options = options.with_credentials(GENERATED_USER, Secret(password))
            self.announce(
                f"ec mock serve: cqg logon with user {GENERATED_USER!r} password {password!r}"
            )
        server = CqgServer(
            venue,
            options.accepts,
            host=options.host,
            port=options.port,
            tls=(options.certfile, options.keyfile)
            if options.certfile and options.keyfile
            else None,
            config=self.config,
            faults=self.faults,
            fault_seed=options.seed if self.faults is not None else None,
        )
        self.servers.append(server)
        try:
            async with server.listen() as endpoint:
                yield endpoint
        finally:
            self.servers.remove(server)
            sys.stdout.flush()
