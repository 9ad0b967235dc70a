"""What the protocol core keeps for one CQG session: it outlives lines and logons.

The parts of :class:`~ec_cqg.client.core.protocol.CqgClientProtocol` (routing, the
logon sequence, request builders, the intake of order statuses) share this state; each
part is a base class of the protocol, and this one holds the fields and the ids they
draw from.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Final

from ec_cqg.client.core.bars import LiveBars
from ec_cqg.client.core.calls import CallTable
from ec_cqg.client.core.contracts import ContractDirectory
from ec_cqg.client.core.market import MarketSubscriptions
from ec_cqg.client.core.reconcile import SnapshotCollector
from ec_cqg.client.core.tradebook import TradeBook
from ec_cqg.protocol.correlation import Correlator
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["NS", "ProtocolState"]

NS: Final = 1_000_000_000


class ProtocolState:
    """Protocol state of one CQG session (it outlives lines and logons)."""

    def __init__(
        self,
        *,
        cl_prefix: str,
        request_timeout_s: float,
        accounts: Sequence[str] = (),
        negative_prices: Sequence[str] = (),
    ) -> None:
        self.counters: Counter[str] = Counter()
        self.correlator = Correlator()
        self.contracts = ContractDirectory(negative_prices=negative_prices)
        self.book = TradeBook(self.contracts, self.counters)
        self.market = MarketSubscriptions(self.counters)
        self.bars = LiveBars(self.counters)
        self.snapshot = SnapshotCollector(self.book, self.counters)
        self.base_time: BaseTime | None = None
        # the server's clock minus ours, learned at each logon/restore (server_time)
        self.server_offset_ns: int | None = None
        self.session_token = ""
        self.ready = False  # logged on with the trade snapshot applied
        self._request_timeout_s = request_timeout_s
        self._accounts = tuple(accounts)
        self._ids = itertools.count(1)
        self._cl_ids = itertools.count(1)
        self._cl_prefix = cl_prefix
        self._pings = itertools.count(1)
        self.calls = CallTable(self.correlator)
        self._outbox: list[bytes] = []
        self._trade_sub_id = 0
        self._now_ns = 0  # the time of the frame being processed

    def next_request_id(self) -> int:
        """A fresh request id (shared by every request kind of this session)."""
        return next(self._ids)

    def _set_base_time(self, base: BaseTime, server_time_ms: int) -> None:
        """A logon's or restore's base time, and its ``server_time`` (ms from the base)
        read against the time of the frame that carried it."""
        self.base_time = base
        self.contracts.mapper.base_time = base
        self._server_time(base, server_time_ms, self._now_ns)

    def _server_time(self, base: BaseTime, offset_ms: int, now_ns: int) -> None:
        """The server's time (``offset_ms`` from ``base``) as read at our ``now_ns``: at
        each logon, restore and server ping, so a server not at wall pace is followed."""
        self.server_offset_ns = base.to_ns(offset_ms) - now_ns

    def venue_time_ns(self, now_ns: int) -> int | None:
        """The server's time at our ``now_ns`` (to its millisecond, less the answer's
        transit); ``None`` before the first logon. A served venue started at another date
        (``ec mock serve --start``) or a demo replay runs behind the wall clock."""
        offset = self.server_offset_ns
        return None if offset is None else now_ns + offset
