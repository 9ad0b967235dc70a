"""Retention: how the tracker's memory stays bounded over a long run.

The journal keeps the full history, and a replay of it ends in the same state;
the tracker keeps what a live run needs:

* open orders are always kept, whole;
* at most ``retain_final`` final chains (and, with ``retain_final_ns``, none
  final for longer than that) are kept whole: order, history, fills, request
  outcomes. Older ones are *retired* from the tracker's maps, oldest final first;
* a retired chain is remembered compactly (its final order, client ids, request
  outcomes and fill ids) for ``retired_window`` more retired chains, so that a
  late or repeated report about it is recognised: its fills are deduplicated
  (a genuinely new one is still booked), it is counted as ``late_reports`` and
  it is never adopted as a stranger's order. Venues resend reports and fills
  around reconnects, snapshots and status queries, which concern open and
  recently final orders; a report about an order that ended ``retired_window``
  chains ago does not come back in practice;
* each chain's ``history`` keeps its last ``history_limit`` events.

Positions and P&L never depend on retention: they are booked from each accepted
fill as it comes (:class:`~ec_core.tracking.positions.PositionBook`).

:class:`Retention` owns the final-since order and the retired memory; the tracker
asks it which chains are due, drops them from its own maps and hands them over.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import final

import msgspec

from ec_core.clock import Clock
from ec_core.model import ExecutionReport, Order
from ec_core.tracking.events import RequestOutcome

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "DEFAULT_RETAIN_FINAL",
    "DEFAULT_RETIRED_WINDOW",
    "Outcome",
    "Retention",
    "RetiredChain",
]

DEFAULT_RETAIN_FINAL = 10_000
DEFAULT_RETIRED_WINDOW = 100_000
DEFAULT_HISTORY_LIMIT = 1_000


class Outcome(msgspec.Struct, frozen=True, gc=False):
    """How the venue answered one request (``kind``), and the report that said so.

    Not tracked by the garbage collector (it cannot form a cycle): a replay keeps
    one per request it sent."""

    kind: RequestOutcome
    report: ExecutionReport | None


class RetiredChain:
    """What is remembered of a chain retired from the hot maps (see the module docstring)."""

    __slots__ = ("fill_ids", "ids", "order", "outcomes")

    def __init__(
        self, order: Order, ids: list[str], fill_ids: list[str], outcomes: dict[str, Outcome]
    ) -> None:
        self.order = order
        self.ids = ids
        self.fill_ids = fill_ids
        self.outcomes = outcomes


@final
class Retention:
    """Which final chains are due to retire, and the compact memory of retired ones."""

    def __init__(
        self,
        *,
        clock: Clock,
        retain_final: int | None,
        retain_final_ns: int | None,
        retired_window: int,
    ) -> None:
        if retain_final is not None and retain_final < 1:
            raise ValueError("retain_final must be at least 1 (the order just ended is kept)")
        if retain_final_ns is not None and retain_final_ns < 0:
            raise ValueError("retain_final_ns must be >= 0")
        if retired_window < 0:
            raise ValueError("retired_window must be >= 0")
        self._clock = clock
        self._retain_final = retain_final
        self._retain_final_ns = retain_final_ns
        # Keeping every final chain (a replay): none is ever due, so none is queued.
        self._keeps_all = retain_final is None and retain_final_ns is None
        self.retired_window = retired_window
        self.final: OrderedDict[str, int] = OrderedDict()  # chain id -> final since (ns)
        self._by_id: dict[str, RetiredChain] = {}  # any id of a retired chain -> it
        # The retired chain with this chain id or client order id, while remembered: the
        # map's own get, bound once (asked on every new order and every look-up that
        # misses the hot maps; the map is never rebound)
        self.get: Callable[[str], RetiredChain | None] = self._by_id.get
        self._by_chain: OrderedDict[str, RetiredChain] = OrderedDict()  # chain id, FIFO
        self._fill_ids: set[str] = set()

    @property
    def retain_final(self) -> int | None:
        return self._retain_final

    @property
    def retain_final_ns(self) -> int | None:
        return self._retain_final_ns

    def ended(self, chain_id: str, since_ns: int) -> None:
        """The chain reached a final state: it becomes a candidate for retirement
        (unless every final chain is kept)."""
        if not self._keeps_all:
            self.final[chain_id] = since_ns

    def due(self) -> list[str]:
        """The chain ids to retire now (beyond ``retain_final`` or older than
        ``retain_final_ns``), oldest final first; they leave :attr:`final`."""
        final_ = self.final
        limit = self._retain_final
        max_age = self._retain_final_ns
        if max_age is None and (limit is None or len(final_) <= limit):
            return []  # nothing is due: the common case, decided without a clock read
        oldest_allowed = None if max_age is None else self._clock.now_ns() - max_age
        due: list[str] = []
        while final_:
            chain_id, since = next(iter(final_.items()))
            over = limit is not None and len(final_) > limit
            if not over and (oldest_allowed is None or since >= oldest_allowed):
                break
            del final_[chain_id]
            due.append(chain_id)
        return due

    def remember(
        self, order: Order, ids: list[str], fill_ids: list[str], outcomes: dict[str, Outcome]
    ) -> None:
        """Keep a compact record of a chain the tracker just retired (within the window)."""
        if self.retired_window == 0:
            return
        retired = RetiredChain(order, ids, fill_ids, outcomes)
        self._by_chain[order.chain_id] = retired
        for order_id in (order.chain_id, *ids):
            self._by_id[order_id] = retired
        self._fill_ids.update(fill_ids)
        while len(self._by_chain) > self.retired_window:
            _, forgotten = self._by_chain.popitem(last=False)
            for order_id in (forgotten.order.chain_id, *forgotten.ids):
                if self._by_id.get(order_id) is forgotten:
                    del self._by_id[order_id]
            self._fill_ids.difference_update(forgotten.fill_ids)

    def for_report(self, report: ExecutionReport) -> RetiredChain | None:
        """The retired chain a venue report is about, if it is one."""
        by_id = self._by_id
        if not by_id:
            return None
        for order_id in (report.chain_id, report.cl_order_id, report.orig_cl_order_id):
            if order_id and order_id in by_id:
                return by_id[order_id]
        return None

    def add_request(self, retired: RetiredChain, cl_order_id: str) -> None:
        """A modify or cancel sent for a chain already retired: it was overtaken."""
        if cl_order_id not in self._by_id:
            self._by_id[cl_order_id] = retired
            retired.ids.append(cl_order_id)
        retired.outcomes.setdefault(cl_order_id, Outcome(RequestOutcome.OVERTAKEN, None))

    def has_fill(self, fill_id: str) -> bool:
        return fill_id in self._fill_ids

    def add_fill(self, retired: RetiredChain, fill_id: str) -> None:
        """A new fill booked for a retired chain: later copies of it are duplicates."""
        retired.fill_ids.append(fill_id)
        self._fill_ids.add(fill_id)

    def sizes(self) -> dict[str, int]:
        return {
            "final": len(self.final),
            "retired": len(self._by_chain),
            "retired_ids": len(self._by_id),
            "retired_fill_ids": len(self._fill_ids),
        }
