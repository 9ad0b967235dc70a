"""Market-data subscriptions: which contracts at which level, and the fan-out of their
core events to the subscribers.

One subscription per symbol; its level is the highest any subscriber asked for (depth
or not). Contract ids change on a fresh logon: :meth:`MarketSubscriptions.rebind` moves
every subscription to its new contract before the resubscription goes out. The ingest
path (:meth:`MarketSubscriptions.apply_items`) runs for every market-data item: each
subscriber gets the events of a burst in one delivery; only subscribers that asked for
depth get :class:`~ec_core.model.BookDepth`. A subscriber joining a live subscription
first gets its current state (best bid/ask, depth), the snapshot it would have had.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Final, final

from ec_core.errors import PriceError, ProtocolError
from ec_core.model import BookDepth, MarketEvent
from ec_core.streams import MarketSubscribers

from ec_cqg.client.core.sinks import EventSink
from ec_cqg.client.marketdata import ContractQuotes
from ec_cqg.protocol.mapping.reports import ContractRef
from ec_cqg.protocol.pb import market_data_2
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["LEVEL_DEPTH", "LEVEL_NONE", "LEVEL_TOP", "MarketSubscriptions"]

log = logging.getLogger("ec_cqg.client")

_MD = market_data_2.MarketDataSubscription
LEVEL_NONE: Final = _MD.LEVEL_NONE
LEVEL_TOP: Final = _MD.LEVEL_TRADES_BBA_VOLUMES
LEVEL_DEPTH: Final = _MD.LEVEL_TRADES_BBA_DOM


MarketSink = EventSink[MarketEvent | BookDepth]


@final
class _Subscription:
    __slots__ = ("contract_id", "level", "quotes", "symbol")

    def __init__(self, symbol: str, contract_id: int, quotes: ContractQuotes, level: int) -> None:
        self.symbol = symbol
        self.contract_id = contract_id
        self.quotes = quotes
        self.level = level


@final
class MarketSubscriptions:
    """Subscriptions by contract id (the ingest path) and by symbol (the API); their
    subscribers are core's :class:`~ec_core.streams.MarketSubscribers` (``subscribers``)."""

    __slots__ = ("_by_contract", "_by_symbol", "_counters", "events", "subscribers")

    def __init__(self, counters: Counter[str]) -> None:
        self._counters = counters
        self._by_contract: dict[int, _Subscription] = {}
        self._by_symbol: dict[str, _Subscription] = {}
        self.subscribers: MarketSubscribers[MarketSink] = MarketSubscribers()
        self.events = 0  # core market events delivered (stats)

    def add(
        self, ref: ContractRef, sink: MarketSink, *, depth: bool, now_ns: int = 0
    ) -> int | None:
        """Add a subscriber of ``ref``'s symbol; the level to request, if one must go out.
        A subscriber joining at the level already in force gets the current state now."""
        symbol = ref.symbol
        level = LEVEL_DEPTH if depth else LEVEL_TOP
        sub = self._by_symbol.get(symbol)
        joined = sub is not None and level <= sub.level
        if sub is None:
            sub = _Subscription(symbol, ref.contract_id, ContractQuotes(symbol, ref.prices), level)
            self._by_symbol[symbol] = sub
            self._by_contract[ref.contract_id] = sub
        self.subscribers.subscribe(symbol, sink, depth=depth)
        if joined:
            state = sub.quotes.current(now_ns)
            sink.push_many(state if depth else [e for e in state if type(e) is not BookDepth])
            return None
        sub.level = level
        if depth:
            sub.quotes.track_dom()
        return level

    def remove(self, symbol: str, sink: MarketSink) -> int | None:
        """Remove a subscriber; the contract to unsubscribe if it was the last one."""
        sub = self._by_symbol.get(symbol)
        if sub is None or not self.subscribers.unsubscribe(symbol, sink):
            return None  # not subscribed, or others still are
        self._by_symbol.pop(symbol, None)
        self._by_contract.pop(sub.contract_id, None)
        return sub.contract_id

    def rebind(self, ref_of: Callable[[str], ContractRef]) -> list[tuple[int, int]]:
        """Move every subscription to its symbol's contract of this logon; the
        (contract id, level) pairs to subscribe again."""
        subs = list(self._by_symbol.values())
        self._by_contract.clear()
        out: list[tuple[int, int]] = []
        for sub in subs:
            ref = ref_of(sub.symbol)
            sub.contract_id = ref.contract_id
            sub.quotes.prices = ref.prices
            self._by_contract[ref.contract_id] = sub
            out.append((ref.contract_id, sub.level))
        return out

    def apply_items(self, items: Sequence[object], base: BaseTime | None, now_ns: int) -> None:
        """A burst of ``RealTimeMarketData`` items: each subscriber gets its events in
        one delivery. Consecutive items of one contract are converted together; a bad
        item is counted and dropped, the others go on."""
        market = self._by_contract
        out: dict[int, list[MarketEvent | BookDepth]] = {}
        count = 0
        run: list[object] = []
        run_sub: _Subscription | None = None
        run_id = -1
        for item in [*items, None]:  # None closes the last run
            contract_id: int = -2 if item is None else item.contract_id  # type: ignore[attr-defined]
            if contract_id == run_id:
                run.append(item)
                continue
            if run_sub is not None and base is not None:
                events = self._convert(run_sub, run, base, now_ns)
                count += len(events)
                gathered = out.get(run_id)
                if gathered is None:
                    out[run_id] = events
                else:
                    gathered += events
            elif run:
                self._counters["market_data_unsubscribed"] += len(run)
            if item is None:
                break
            run, run_id, run_sub = [item], contract_id, market.get(contract_id)
        self.events += count
        publish_many = self.subscribers.publish_many
        for contract_id, events in out.items():
            publish_many(market[contract_id].symbol, events)

    def _convert(
        self, sub: _Subscription, run: list[object], base: BaseTime, now_ns: int
    ) -> list[MarketEvent | BookDepth]:
        try:
            return sub.quotes.apply_many(run, base, now_ns)  # type: ignore[arg-type]
        except (ProtocolError, PriceError, ValueError) as exc:
            if len(run) == 1:
                self._counters["bad_items"] += 1
                log.warning("cqg: dropped an item: %s", exc)
                return []
        events: list[MarketEvent | BookDepth] = []  # one by one: only the bad items are dropped
        for item in run:
            events += self._convert(sub, [item], base, now_ns)
        return events
