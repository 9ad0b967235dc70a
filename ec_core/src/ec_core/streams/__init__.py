"""Event plumbing every vendor needs: bounded channels and snapshot-then-live trade fan-out.

* :class:`MarketChannel` -- market data, drops the oldest (counted) when a consumer lags;
* :class:`TradeChannel` -- trade events of one account; an overflow is a gap and a fresh
  snapshot, never silent loss or unbounded memory;
* :class:`TradeHub` -- a vendor's ``TradeMonitor.stream`` in one object: snapshot,
  ``SnapshotComplete``, live events per subscriber, ``DISCONNECTED`` / reconnect;
* :class:`AccountBook` -- what a streaming venue last said of its accounts: the hub's snapshot;
* :class:`MarketHub` -- a vendor's ``MarketDataFeed.stream`` for a venue that subscribes per symbol;
* :class:`MarketSubscribers` -- the synchronous table under it: who listens to which symbol,
  books only to depth subscribers, a burst in one delivery (mock and cqg use it as it is).

See docs/reference/streams.md.
"""

from ec_core.streams.book import AccountBook
from ec_core.streams.channels import (
    DEFAULT_MARKET_CAPACITY,
    DEFAULT_TRADE_CAPACITY,
    EventChannel,
    MarketChannel,
    TradeChannel,
)
from ec_core.streams.hub import Snapshot, TradeHub, TradeSink, account_of
from ec_core.streams.market import MarketHub, MarketSink, MarketSubscribers, SymbolCall

__all__ = [
    "DEFAULT_MARKET_CAPACITY",
    "DEFAULT_TRADE_CAPACITY",
    "AccountBook",
    "EventChannel",
    "MarketChannel",
    "MarketHub",
    "MarketSink",
    "MarketSubscribers",
    "Snapshot",
    "SymbolCall",
    "TradeChannel",
    "TradeHub",
    "TradeSink",
    "account_of",
]
