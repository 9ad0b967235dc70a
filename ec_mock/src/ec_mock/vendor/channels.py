"""The ``mock`` session's channels: core's :mod:`ec_core.streams`, under their old names.

Market data drops the oldest event when a consumer lags (``dropped`` counts them);
trade events of an account are bounded too, and an overflow is a gap followed by a
fresh snapshot (see :class:`~ec_core.streams.TradeChannel`). A trade channel is also
a :class:`~ec_core.execution.DirectFeed`.
"""

from __future__ import annotations

from typing import final

from ec_core.errors import SessionError
from ec_core.streams import (
    DEFAULT_MARKET_CAPACITY,
    DEFAULT_TRADE_CAPACITY,
    MarketChannel,
    TradeChannel,
)

__all__ = [
    "DEFAULT_MARKET_BUFFER",
    "DEFAULT_TRADE_BUFFER",
    "MarketDataChannel",
    "TradeBufferOverflowError",
    "TradeEventChannel",
]

DEFAULT_MARKET_BUFFER = DEFAULT_MARKET_CAPACITY
DEFAULT_TRADE_BUFFER = DEFAULT_TRADE_CAPACITY

MarketDataChannel = MarketChannel
"""The old name of :class:`ec_core.streams.MarketChannel`."""

TradeEventChannel = TradeChannel
"""The old name of :class:`ec_core.streams.TradeChannel`."""


@final
class TradeBufferOverflowError(SessionError):
    """No longer raised: a trade channel's overflow is now a ``GAP`` and a fresh snapshot
    on the stream (:class:`ec_core.streams.TradeChannel`). Kept so that code catching
    it still imports."""

    code = "TRADE_BUFFER_OVERFLOW"

    def __init__(self, *, capacity: int, account_id: str) -> None:
        super().__init__(f"{self.code}: account {account_id!r}, capacity {capacity}")
        self.capacity = capacity
        self.account_id = account_id
