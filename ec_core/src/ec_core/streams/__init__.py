"""Event plumbing every vendor needs: bounded channels and snapshot-then-live trade fan-out.

* :class:`MarketChannel` -- market data, drops the oldest (counted) when a consumer lags;
* :class:`TradeChannel` -- trade events of one account; an overflow is a gap and a fresh
  snapshot, never silent loss or unbounded memory;
* :class:`TradeHub` -- a vendor's ``TradeMonitor.stream`` in one object: snapshot,
  ``SnapshotComplete``, live events per subscriber, ``DISCONNECTED`` / reconnect.

See docs/reference/streams.md.
"""

from ec_core.streams.channels import (
    DEFAULT_MARKET_CAPACITY,
    DEFAULT_TRADE_CAPACITY,
    EventChannel,
    MarketChannel,
    TradeChannel,
)
from ec_core.streams.hub import Snapshot, TradeHub, TradeSink, account_of

__all__ = [
    "DEFAULT_MARKET_CAPACITY",
    "DEFAULT_TRADE_CAPACITY",
    "EventChannel",
    "MarketChannel",
    "Snapshot",
    "TradeChannel",
    "TradeHub",
    "TradeSink",
    "account_of",
]
