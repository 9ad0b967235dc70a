"""Reconciliation: compare our books with the venue's, and what it found.

The venue wins: every disagreement is applied (a status report, an adopted
position) and reported as a :class:`Difference`. A difference has a deterministic
id (a hash of what was compared), so running reconcile twice over the same
disagreement names it the same way, and a journal replay that meets it again
recognises it.

One status query per order is out at a time, whoever asks (a reconnect's resync, the
follow-up of an order the venue reported UNKNOWN, ``resolve_unknown``, ``reconcile``): a
second asker waits for the first's answer and takes it (:attr:`Reconciler.joined`)
instead of asking the venue the same question again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import final

import anyio
import msgspec

from ec_core.clock import Clock
from ec_core.journal import AdoptedPosition, JournalRecord
from ec_core.model import ExecutionReport, Order, OrderState, Position, TradeEvent
from ec_core.tracking import OrderTracker
from ec_core.vendor import OrderGateway, TradeMonitor

__all__ = ["Difference", "DifferenceKind", "ReconcileReport", "Reconciler", "difference_id"]

log = logging.getLogger("ec_core.execution.executor")


class DifferenceKind(StrEnum):
    EXTERNAL_ORDER = "EXTERNAL_ORDER"  # open at the venue, unknown here: adopted
    STATE_MISMATCH = "STATE_MISMATCH"  # both know it, they disagree: the venue wins
    CLOSED_AT_VENUE = "CLOSED_AT_VENUE"  # open here, final at the venue: closed here
    MISSING_AT_VENUE = "MISSING_AT_VENUE"  # open here, the venue never heard of it (voided
    # when the absence is positive and it had no fills, see ReconcileReport.voided)
    POSITION_MISMATCH = "POSITION_MISMATCH"  # the venue's position is adopted


def difference_id(account_id: str, kind: DifferenceKind, key: str, ours: str, venue: str) -> str:
    text = "|".join((account_id, kind.value, key, ours, venue))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class Difference(msgspec.Struct, frozen=True, kw_only=True):
    """One disagreement; ``key`` is the chain id or the symbol, ``ours``/``venue`` the values."""

    id: str
    kind: DifferenceKind
    account_id: str
    key: str
    ours: str
    venue: str

    @classmethod
    def of(
        cls, account_id: str, kind: DifferenceKind, key: str, ours: object, venue: object
    ) -> Difference:
        ours_text, venue_text = str(ours), str(venue)
        return cls(
            id=difference_id(account_id, kind, key, ours_text, venue_text),
            kind=kind,
            account_id=account_id,
            key=key,
            ours=ours_text,
            venue=venue_text,
        )


class ReconcileReport(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    ts_ns: int
    orders_checked: int
    positions_checked: int
    differences: tuple[Difference, ...] = ()
    still_unknown: tuple[str, ...] = ()
    voided: tuple[str, ...] = ()  # chains closed as VOIDED: the venue does not have them

    @property
    def clean(self) -> bool:
        return not self.differences and not self.still_unknown


@final
class _Asked:
    """A status query out for one order: its answer once ``done`` is set (``answered``
    says it came; a query that failed or was cancelled leaves it ``False``)."""

    __slots__ = ("answered", "done", "status")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.answered = False
        self.status: ExecutionReport | None = None


@final
class Reconciler:
    """Asks the venue about our orders and positions and applies its answers.

    ``apply`` takes a venue event the way the trade stream does (journal, then
    tracker, then the payloads it settles); ``void`` closes an order the venue does
    not have; ``append`` journals; ``flush`` commits.
    """

    def __init__(
        self,
        *,
        gateway: OrderGateway,
        monitor: TradeMonitor | None,
        tracker: OrderTracker,
        clock: Clock,
        apply: Callable[[TradeEvent], None],
        void: Callable[[str, str, str], Order],
        append: Callable[[JournalRecord], None],
        flush: Callable[[], None],
    ) -> None:
        self.gateway = gateway
        self.monitor = monitor
        self.tracker = tracker
        self.clock = clock
        self._apply = apply
        self._void = void
        self._append = append
        self._flush = flush
        self._asking: dict[str, _Asked] = {}  # chain id -> its status query out now
        self.joined = 0  # queries that took the answer of one already out for the order

    def asking(self, chain_id: str) -> bool:
        """A status query about ``chain_id`` is out now."""
        return chain_id in self._asking

    async def query(self, order: Order) -> ExecutionReport | None:
        """Ask the venue for the status of ``order`` (its newest id first) and apply it.

        A query about the same order already out: wait for it and return its answer
        (applied once, by it); if it got none (it failed or was cancelled), ask."""
        chain_id = order.chain_id
        while (out := self._asking.get(chain_id)) is not None:
            await out.done.wait()
            if out.answered:
                self.joined += 1
                return out.status
        asked = self._asking[chain_id] = _Asked()
        try:
            asked.status = await self._ask(order)
            asked.answered = True
            return asked.status
        finally:
            del self._asking[chain_id]
            asked.done.set()

    async def _ask(self, order: Order) -> ExecutionReport | None:
        for cl_order_id in reversed(self.tracker.client_order_ids(order.chain_id)):
            status = await self.gateway.order_status(order.account_id, cl_order_id)
            if status is not None:
                self._apply(status)
                return status
        return None

    async def resolve_unknown(self, account_id: str | None = None) -> list[Order]:
        """Ask the venue about every UNKNOWN order; return those still unknown. Cancel-safe."""
        for order, _age in self.tracker.unknown_orders(account_id):
            await self.query(order)
        return [order for order, _ in self.tracker.unknown_orders(account_id)]

    async def reconcile(self, account_id: str) -> ReconcileReport:
        """See ``Executor.reconcile``: orders the venue has, ours it may not, positions."""
        differences: list[Difference] = []
        voided: list[str] = []
        seen: set[str] = set()  # chain ids the venue reported open
        checked = await self._venue_orders(account_id, differences, seen)
        checked += await self._our_orders(account_id, differences, seen, voided)
        positions_checked = await self._positions(account_id, differences)
        self._flush()
        for difference in differences:
            log.warning("reconcile %s: %s %s ours=%s venue=%s", account_id, difference.kind.value,
                        difference.key, difference.ours, difference.venue)  # fmt: skip
        return ReconcileReport(
            account_id=account_id,
            ts_ns=self.clock.now_ns(),
            orders_checked=checked,
            positions_checked=positions_checked,
            differences=tuple(differences),
            still_unknown=tuple(o.chain_id for o, _ in self.tracker.unknown_orders(account_id)),
            voided=tuple(voided),
        )

    async def _venue_orders(
        self, account_id: str, differences: list[Difference], seen: set[str]
    ) -> int:
        """The venue's open orders: adopt the unknown ones, take its state for ours."""
        tracker = self.tracker
        venue_open = await self.gateway.open_orders(account_id)
        for report in venue_open:
            ours = tracker.order(report.chain_id or report.cl_order_id) or (
                tracker.order(report.orig_cl_order_id) if report.orig_cl_order_id else None
            )
            if ours is None:
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.EXTERNAL_ORDER,
                        report.chain_id or report.cl_order_id, "-", report.state.value,
                    )
                )  # fmt: skip
            elif (ours.state, ours.filled_qty) != (report.state, report.filled_qty):
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.STATE_MISMATCH, ours.chain_id,
                        f"{ours.state.value}/{ours.filled_qty}",
                        f"{report.state.value}/{report.filled_qty}",
                    )
                )  # fmt: skip
            self._apply(report)
            chain_id = tracker.chain_id(report.cl_order_id)
            if chain_id is not None:
                seen.add(chain_id)
        return len(venue_open)

    async def _our_orders(
        self, account_id: str, differences: list[Difference], seen: set[str], voided: list[str]
    ) -> int:
        """Our open orders the venue did not report open: ask about each.

        An order MISSING_AT_VENUE whose absence is positive (the account's snapshot
        is complete, the status query answered "not found") that the venue had
        acknowledged and that had no fills is VOIDED; any other is the operator's call.
        """
        tracker = self.tracker
        checked = 0
        for order in tracker.open_orders(account_id):
            if order.chain_id in seen:
                continue
            checked += 1
            status = await self.query(order)
            if status is None:
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.MISSING_AT_VENUE, order.chain_id,
                        order.state.value, "-",
                    )
                )  # fmt: skip
                if (
                    order.filled_qty == 0
                    # the venue acknowledged it once and no longer has it; a PENDING_NEW or
                    # UNKNOWN one may still be on its way: the operator's call
                    and order.state not in (OrderState.PENDING_NEW, OrderState.UNKNOWN)
                    and tracker.snapshots(account_id) > 0
                ):
                    self._void(
                        order.chain_id,
                        "reconcile: snapshot complete, order status not found at the venue,"
                        " no fills",
                        "reconcile",
                    )
                    voided.append(order.chain_id)
                continue
            if status.state.is_final:
                differences.append(
                    Difference.of(
                        account_id, DifferenceKind.CLOSED_AT_VENUE, order.chain_id,
                        order.state.value, status.state.value,
                    )
                )  # fmt: skip
        return checked

    async def _positions(self, account_id: str, differences: list[Difference]) -> int:
        """The venue's positions (if a monitor can tell): a different quantity is adopted."""
        if self.monitor is None:
            return 0
        tracker = self.tracker
        venue_positions = {p.symbol: p for p in await self.monitor.positions(account_id)}
        our_symbols = {p.symbol for p in tracker.positions(account_id)}
        checked = 0
        for symbol in sorted(venue_positions.keys() | our_symbols):
            checked += 1
            venue = venue_positions.get(symbol) or Position(account_id=account_id, symbol=symbol)
            ours = tracker.position(account_id, symbol)
            if venue.qty != ours.qty:
                difference = Difference.of(
                    account_id, DifferenceKind.POSITION_MISMATCH, symbol, ours.qty, venue.qty
                )
                differences.append(difference)
                adopted = msgspec.structs.replace(venue, realized_pnl=ours.realized_pnl)
                self._append(
                    AdoptedPosition(
                        position=adopted, difference_id=difference.id, ts_ns=self.clock.now_ns()
                    )
                )
                tracker.adopt_position(adopted, keep_realized=True)
        return checked
