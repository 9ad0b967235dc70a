"""A CQG-dialect server on the ec-mock engine: CQG WebAPI 2.230 over WebSocket.

Registered as ec-mock's ``cqg`` dialect (``ec mock serve --dialect cqg``), so a client
written for the real CQG WebAPI can log on, resolve symbols, stream market data,
subscribe to trades and place orders against the simulator. See ``docs/cqg/server.md``.

- :class:`CqgDialect` — the dialect factory (cheap to import; heavy imports in ``serve``)
- :class:`ServerConfig` — tunables
- :mod:`ec_cqg.server.core` — the Sans-I/O server (``CqgServerCore``, ``ConnectionCore``)
- :mod:`ec_cqg.server.shell` — the websockets I/O shell (``CqgServer``)
"""

from ec_cqg.server.config import ServerConfig
from ec_cqg.server.dialect import GENERATED_USER, CqgDialect

__all__ = ["GENERATED_USER", "CqgDialect", "ServerConfig"]
