"""The CQG WebAPI client: transport, session, reconnect, throttle, recording, features.

- :mod:`.config` — the ``[vendors.cqg]`` settings table, checked before any I/O
- :mod:`.transport` — the WebSocket line: one reader, one writer, a bounded queue
- :mod:`.core` — the Sans-I/O protocol core (:class:`CqgClientProtocol`): frames and the
  time in, frames to send and core events out; contract directory, trade book and
  snapshot reconciliation, market subscriptions, information requests
- :mod:`.session` — the I/O shell: line, reconnect supervisor, heartbeat, throttle, and
  the core vendor contract
- :mod:`.features` — the order gateway, market-data feed and trade monitor over a session
- :mod:`.marketdata` — real-time market data → core quotes and trades (Sans-I/O)
- :mod:`.throttle` / :mod:`.backoff` — token buckets; exponential backoff with jitter
- :mod:`.recorder` — wire recording and replay of a recording against a server

See ``docs/cqg/client.md``.
"""

from ec_cqg.client.config import CqgSettings, parse_cqg_settings
from ec_cqg.client.core import CqgClientProtocol
from ec_cqg.client.features import CqgMarketDataFeed, CqgOrderGateway, CqgTradeMonitor
from ec_cqg.client.session import CqgSession, SymbolNotFoundError

__all__ = [
    "CqgClientProtocol",
    "CqgMarketDataFeed",
    "CqgOrderGateway",
    "CqgSession",
    "CqgSettings",
    "CqgTradeMonitor",
    "SymbolNotFoundError",
    "parse_cqg_settings",
]
