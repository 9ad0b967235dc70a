"""The venue's answer to each request sent: awaited, settled, or held until it comes.

A request's answer is awaited with a deadline; no answer in time, or a lost
connection, makes the order UNKNOWN (never void). An acknowledged order's payload
stays here until the order is final; an UNKNOWN one until a report (or a status
query) tells what happened. A bulk request
(cancel-all, liquidate, go-flat) that timed out is no order, so nothing else would
ever settle it: it is kept for ``unknown_bulk_ttl`` seconds, then forgotten.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import final

import anyio
import anyio.lowlevel

from ec_core.clock import Clock
from ec_core.errors import (
    ConnectionLostError,
    OrderRejectedError,
    OrderUnknownError,
    RequestTimeoutError,
)
from ec_core.execution.payload import Payload, PayloadStatus
from ec_core.journal import JournalRecord, MarkedUnknown
from ec_core.model import FINAL_STATES, NewOrder, Order, OrderRequest
from ec_core.tracking import OrderTracker, RequestOutcome

__all__ = ["Answers"]

log = logging.getLogger("ec_core.execution.executor")

_P = PayloadStatus


@final
class Answers:
    """Awaits and settles answers; holds payloads not final (by chain id) and bulk
    requests without an answer. ``append`` journals (a no-op without a journal)."""

    __slots__ = (
        "_append",
        "_bulk_unknown",
        "_by_chain",
        "ack_timeout",
        "clock",
        "tracker",
        "unknown_bulk_ttl",
    )

    def __init__(
        self,
        tracker: OrderTracker,
        clock: Clock,
        *,
        append: Callable[[JournalRecord], None],
        ack_timeout: float,
        unknown_bulk_ttl: float,
    ) -> None:
        self.tracker = tracker
        self.clock = clock
        self._append = append
        self.ack_timeout = ack_timeout
        self.unknown_bulk_ttl = unknown_bulk_ttl
        self._by_chain: dict[str, list[Payload]] = {}
        # Bulk requests without an answer, oldest first: (since ns, payload).
        self._bulk_unknown: OrderedDict[str, tuple[int, Payload]] = OrderedDict()

    @property
    def chains(self) -> int:
        """How many orders have a payload waiting for them to end."""
        return len(self._by_chain)

    @property
    def bulk_unknown(self) -> tuple[str, ...]:
        """The bulk requests still waiting for a late answer, oldest first."""
        return tuple(self._bulk_unknown)

    def interrupted(self, payload: Payload, cl_order_id: str) -> None:
        """The wait for a sent request's answer ended early (cancelled, or an error while
        resyncing): settle it if the answer is in, else make it UNKNOWN, so that it is
        reconciled and never left SENT and PENDING with nobody asking about it."""
        outcome = self.tracker.outcome(cl_order_id)
        if outcome is None:
            self.unknown(payload, cl_order_id, "interrupted while awaiting the answer")
            return
        with contextlib.suppress(OrderRejectedError):  # the payload is REJECTED: settled
            self.settle(payload, cl_order_id, outcome)

    async def await_answer(
        self,
        payload: Payload,
        request: OrderRequest,
        targets: list[str] | None,
        *,
        disconnects: int,
    ) -> Order | None:
        """``targets``: for a bulk request, the orders it should end (None otherwise).
        ``disconnects``: the tracker's count before the send; a disconnect applied since
        (even before this wait began) means the answer is lost with the line."""
        cl_order_id = request.cl_order_id
        tracker = self.tracker
        outcome = tracker.outcome(cl_order_id)
        if outcome is None and targets is None:
            # An in-process or fast venue has usually queued the answer already: one
            # turn of the loop lets the consumer apply it, without a deadline scope.
            await anyio.lowlevel.checkpoint()
            outcome = tracker.outcome(cl_order_id)
        lost: ConnectionLostError | None = None
        if outcome is None and tracker.disconnects != disconnects:
            lost = ConnectionLostError(f"disconnected while waiting for {cl_order_id}")
        elif outcome is None or targets:
            with anyio.move_on_after(self.ack_timeout):
                try:
                    if targets is not None:
                        outcome = await self._await_bulk(cl_order_id, targets)
                    else:
                        outcome = await tracker.wait_outcome(cl_order_id)
                except ConnectionLostError as exc:
                    lost = exc
        if outcome is None:
            reason = f"disconnected: {lost}" if lost else f"no answer within {self.ack_timeout}s"
            self.unknown(payload, cl_order_id, reason)
            if lost is not None:
                raise OrderUnknownError(
                    f"order {cl_order_id}: connection lost after sending; state UNKNOWN",
                    cl_order_id=cl_order_id,
                ) from lost
            raise RequestTimeoutError(cl_order_id=cl_order_id, timeout=self.ack_timeout)
        return self.settle(payload, cl_order_id, outcome)

    async def _await_bulk(self, cl_order_id: str, targets: list[str]) -> RequestOutcome | None:
        tracker = self.tracker

        def settled(order: Order) -> bool:
            return order.state.is_final or tracker.outcome(cl_order_id) is RequestOutcome.REJECTED

        for chain_id in targets:
            await tracker.wait_for(chain_id, settled)
            if tracker.outcome(cl_order_id) is RequestOutcome.REJECTED:
                return RequestOutcome.REJECTED
        return tracker.outcome(cl_order_id) or RequestOutcome.ACCEPTED

    def settle(self, payload: Payload, cl_order_id: str, outcome: RequestOutcome) -> Order | None:
        """Move the payload to what the venue's answer means; raise on a reject."""
        order = self.tracker.order(cl_order_id)
        if outcome is RequestOutcome.REJECTED and not self._filled_after_reject(payload, order):
            report = self.tracker.outcome_report(cl_order_id)
            code = report.reject_code if report else ""
            text = report.reject_text if report else ""
            payload.advance(_P.REJECTED, f"{code}: {text}")
            raise OrderRejectedError(
                text or "rejected",
                code=code or None,
                cl_order_id=cl_order_id,
                details={"request_type": payload.request.request_type.value},
            )
        if outcome is RequestOutcome.ACCEPTED:
            payload.advance(_P.ACKNOWLEDGED)
        if order is None or order.state in FINAL_STATES:
            payload.advance(_P.DONE)
        else:
            self.hold(order.chain_id, payload)
        return order

    @staticmethod
    def _filled_after_reject(payload: Payload, order: Order | None) -> bool:
        """A new order the venue rejected and then filled: its fills are the truth (the
        tracker raised the impossible fill), so the caller gets the order, not a reject."""
        return isinstance(payload.request, NewOrder) and order is not None and order.filled_qty > 0

    def unknown(self, payload: Payload, cl_order_id: str, reason: str) -> None:
        now = self.clock.now_ns()
        self._append(MarkedUnknown(cl_order_id=cl_order_id, reason=reason, ts_ns=now))
        tracker = self.tracker
        order = tracker.mark_unknown(cl_order_id, reason) or tracker.order(cl_order_id)
        if payload.status is _P.SENT:
            payload.advance(_P.UNKNOWN, reason)
        if order is None:  # a bulk request: no order of its own to settle it
            self.hold_bulk(cl_order_id, payload, now)
            return
        self.hold(order.chain_id, payload)
        if order.state.is_final:  # it ended meanwhile: nothing more will come about it
            self.settle_chain(order)

    # -- held until settled ----------------------------------------------------

    def hold(self, chain_id: str, payload: Payload) -> None:
        """Keep ``payload`` until its order's reports settle it."""
        self._by_chain.setdefault(chain_id, []).append(payload)

    def hold_bulk(self, cl_order_id: str, payload: Payload, now_ns: int) -> None:
        """Keep an unanswered bulk request until its late answer or the ttl."""
        self._bulk_unknown[cl_order_id] = (now_ns, payload)
        self.expire_bulk(now_ns)

    def on_report(self, cl_order_id: str) -> None:
        """A report about ``cl_order_id`` was applied: settle what it answers."""
        if self._by_chain:  # a payload waits for its order to end (none: nothing to look up)
            order = self.tracker.order(cl_order_id)  # by any id of its chain
            if order is not None and order.chain_id in self._by_chain:
                self.settle_chain(order)
        if self._bulk_unknown:
            self._settle_bulk(cl_order_id)

    def settle_chain(self, order: Order) -> None:
        """Settle the payloads held for ``order``'s chain (``order``: the tracker's now,
        which the caller has in hand) by what its reports said."""
        chain_id = order.chain_id
        final = order.state in FINAL_STATES
        payloads = self._by_chain.get(chain_id, [])
        for payload in list(payloads):
            if payload.status is _P.UNKNOWN:
                outcome = self.tracker.outcome(payload.request.cl_order_id)
                if outcome is RequestOutcome.ACCEPTED:
                    payload.advance(_P.ACKNOWLEDGED, "resolved")
                elif outcome is RequestOutcome.REJECTED:
                    payload.advance(_P.REJECTED, "resolved: rejected by the venue")
                elif outcome is RequestOutcome.OVERTAKEN or final:
                    # A final order hears nothing more: this request is moot.
                    payload.advance(_P.DONE, "resolved: order final before an answer")
            if payload.status is _P.ACKNOWLEDGED and final:
                payload.advance(_P.DONE)
            if payload.status.is_final:
                payloads.remove(payload)
        if not payloads:
            self._by_chain.pop(chain_id, None)

    def _settle_bulk(self, cl_order_id: str) -> None:
        """An answer to a bulk request that timed out: settle its payload and drop it."""
        self.expire_bulk(self.clock.now_ns())
        found = self._bulk_unknown.get(cl_order_id)
        if found is None:
            return
        outcome = self.tracker.outcome(cl_order_id)
        if outcome is None:
            return
        payload = found[1]
        if outcome is RequestOutcome.REJECTED:
            payload.advance(_P.REJECTED, "resolved: rejected by the venue")
        else:
            payload.advance(_P.ACKNOWLEDGED, "resolved")
            payload.advance(_P.DONE)
        del self._bulk_unknown[cl_order_id]

    def expire_bulk(self, now_ns: int) -> None:
        """Forget bulk requests unanswered for ``unknown_bulk_ttl``: they hold no order
        (each order they targeted is tracked and settled on its own); the caller had
        its :class:`~ec_core.errors.RequestTimeoutError` and the payload stays UNKNOWN."""
        oldest_allowed = now_ns - int(self.unknown_bulk_ttl * 1e9)
        pending = self._bulk_unknown
        while pending:
            cl_order_id, (since, _) = next(iter(pending.items()))
            if since >= oldest_allowed:
                return
            log.warning("bulk request %s: no answer in %ss, forgotten", cl_order_id,
                        self.unknown_bulk_ttl)  # fmt: skip
            pending.popitem(last=False)
