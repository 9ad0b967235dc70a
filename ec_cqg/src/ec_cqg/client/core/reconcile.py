"""Trade snapshot collection and the diff against the trade book after a reconnect.

From the moment a line is lost (a restored session may replay its snapshot before the
subscription is renewed) until the completion of every scope of the new trade
subscription, snapshot statuses are collected, not applied. Then they are diffed against
the book: subscribers get ``SessionEvent(GAP)`` (we cannot know what happened while we
were away), the fills and statuses that changed, a flat position for every position the
venue no longer lists, UNKNOWN for open orders the venue no longer lists,
``SnapshotComplete`` per account, ``RECONNECTED`` and ``RECONCILED``. The
first snapshot of a session publishes nothing: it is the starting state.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import final

from ec_core.errors import PriceError, ProtocolError
from ec_core.model import SessionEvent, SessionEventKind, SnapshotComplete

from ec_cqg.client.core.tradebook import TradeBook
from ec_cqg.protocol.pb import order_2, trade_routing_2

__all__ = ["SnapshotCollector"]

log = logging.getLogger("ec_cqg.client")

ApplyStatus = Callable[[order_2.OrderStatus, bool, bool], int]  # status, live, publish
SnapshotItem = order_2.OrderStatus | trade_routing_2.PositionStatus


@final
class SnapshotCollector:
    """The trade snapshot being gathered, if any, and its application."""

    __slots__ = ("_book", "_counters", "_first", "_items", "_scopes", "_subscription_id")

    def __init__(self, book: TradeBook, counters: Counter[str]) -> None:
        self._book = book
        self._counters = counters
        self._items: list[SnapshotItem] | None = None
        self._subscription_id: int | None = None
        self._scopes: set[int] = set()
        self._first = True

    @property
    def collecting(self) -> bool:
        return self._items is not None

    def line_lost(self) -> None:
        """Collect from now on; no completion of the old subscription counts."""
        if self._items is None:
            self._items = []
        self._subscription_id = None

    def expect(self, subscription_id: int, scopes: Iterable[int], *, first: bool) -> None:
        """A trade subscription goes out: its completion ends the collection."""
        if self._items is None:
            self._items = []
        self._subscription_id = subscription_id
        self._scopes = set(scopes)
        self._first = first

    def collect(self, item: SnapshotItem) -> bool:
        """Keep a snapshot item if a snapshot is being gathered; False if not."""
        items = self._items
        if items is None:
            return False
        items.append(item)
        return True

    def on_completion(self, item: trade_routing_2.TradeSnapshotCompletion) -> bool:
        """A scope of a subscription completed; True once every scope of ours did."""
        if item.subscription_id != self._subscription_id or self._items is None:
            return False
        self._scopes.difference_update(item.subscription_scopes)
        return not self._scopes

    def apply(self, apply_status: ApplyStatus, now_ns: int) -> None:
        """Diff what was gathered against the book; publish GAP … RECONCILED after a drop."""
        items, self._items = self._items or [], None
        self._subscription_id = None
        book = self._book
        first = self._first
        if not first:
            book.publish_all(SessionEvent(kind=SessionEventKind.GAP, ts_ns=now_ns))
        changed = 0
        seen_chains: set[str] = set()
        book.flatten_missing(
            {
                (item.account_id, item.contract_id)
                for item in items
                if isinstance(item, trade_routing_2.PositionStatus)
            },
            now_ns,
            publish=not first,
        )
        for item in items:
            try:
                if isinstance(item, order_2.OrderStatus):
                    seen_chains.add(item.chain_order_id)
                    changed += apply_status(item, False, not first)
                else:
                    book.on_position_status(item, now_ns, publish=not first)
            except (ProtocolError, PriceError, ValueError) as exc:
                self._counters["bad_items"] += 1
                log.warning("cqg: dropped a snapshot item: %s", exc)
        if first:
            return
        missing = book.open_missing(seen_chains, now_ns)
        for report in missing:  # open here, unknown at the venue: let the core resolve it
            book.publish(report)
        for account_id in book.subscribed_accounts():
            book.publish(SnapshotComplete(account_id=account_id, ts_ns=now_ns))
        book.publish_all(SessionEvent(kind=SessionEventKind.RECONNECTED, ts_ns=now_ns))
        book.publish_all(
            SessionEvent(
                kind=SessionEventKind.RECONCILED,
                detail=f"orders changed: {changed}; missing at venue: {len(missing)}",
                ts_ns=now_ns,
            )
        )
        self._counters["reconciled_changes"] += changed
