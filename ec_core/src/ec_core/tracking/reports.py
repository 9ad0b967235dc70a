"""What the venue says: execution reports applied to the tracker's state, idempotently.

A report carries the order's whole state, so applying one twice, late or out of
order changes nothing it should not:

* a fill whose ``fill_id`` was seen before is ignored (and counted);
* a report older than what we know (fewer lots filled) is ignored as stale;
* a report asking for a transition the table in :mod:`ec_core.model.state`
  forbids (e.g. a late WORKING after FILLED) is logged, counted and ignored;
* an order we never sent (snapshot, placed elsewhere) is adopted;
* a report about a chain retired from memory (see
  :mod:`~ec_core.tracking.retention`) is late: a new fill of it is still booked.

Nothing here raises into the trading path.
"""

from __future__ import annotations

import logging
from typing import final

import msgspec

from ec_core.model import (
    FINAL_STATES,
    ExecutionReport,
    Order,
    OrderState,
    ReportKind,
    RequestType,
    can_transition,
)
from ec_core.tracking.chain import Chain, order_after_report, order_from_report
from ec_core.tracking.events import FillAnomalyKind, OrderEventKind, RequestOutcome
from ec_core.tracking.retention import RetiredChain
from ec_core.tracking.state import TrackerState

__all__ = ["ReportIntake"]

log = logging.getLogger(__name__)

_S = OrderState
_FINAL = FINAL_STATES
_PENDING = frozenset({_S.PENDING_NEW, _S.PENDING_MODIFY, _S.PENDING_CANCEL})
_UNANSWERED = _PENDING | {_S.UNKNOWN}
_BULK = frozenset({RequestType.CANCEL_ALL, RequestType.LIQUIDATE_ALL, RequestType.GO_FLAT})
_REQUESTS = frozenset({RequestType.MODIFY, RequestType.CANCEL})
_replace = msgspec.structs.replace


@final
class ReportIntake:
    """Applies venue execution reports to one :class:`TrackerState`."""

    def __init__(self, state: TrackerState) -> None:
        self._state = state
        self._now_ns = state.now_ns
        # The maps are never rebound: bind them once, they are read on every report.
        self._chains = state.chains
        self._chain_of = state.chain_of
        self._open = state.open
        self._fills = state.fills
        self._outcomes = state.outcomes
        self._bulk = state.bulk
        self._counts = state.counts
        self._retention = state.retention

    def apply(self, report: ExecutionReport, ts_ns: int | None) -> None:
        """Apply one execution report. Never raises on odd input: it is counted instead."""
        self._counts["reports"] += 1
        if report.request_type in _BULK or report.cl_order_id in self._bulk:
            if report.kind is ReportKind.REJECTED:
                self._state.resolve(report.cl_order_id, RequestOutcome.REJECTED, report)
            else:
                self._state.resolve(report.cl_order_id, RequestOutcome.ACCEPTED, report)
            self._state.bulk_seen(report.cl_order_id)
            for open_chain in list(self._open.values()):  # bulk waiters watch these orders
                if open_chain.order.account_id == report.account_id:
                    open_chain.wake()
            if report.request_type in _BULK:
                return
        self._state.report_seq += 1
        chain = self._chain_for(report)
        if chain is None:
            retired = self._retention.for_report(report)
            if retired is not None:
                self._late(retired, report, ts_ns)
            else:
                self._adopt(report, ts_ns)
            return
        chain.heard = self._state.report_seq
        # A client id the chain did not have: the answer to a modify or cancel whose
        # send was not recorded yet (the trade stream raced the send), or one placed
        # elsewhere. Either way that request has been answered.
        fresh = bool(report.cl_order_id) and report.cl_order_id not in self._chain_of
        if fresh:
            self._state.link(chain, report.cl_order_id)
        if report.orig_cl_order_id and report.orig_cl_order_id not in self._chain_of:
            self._state.link(chain, report.orig_cl_order_id)  # (already linked: nothing to do)
        before = chain.order
        new_fill = report.fill is not None and self._accept_fill(chain, report, ts_ns)
        if new_fill and before.state in _FINAL:
            self._after_final(chain, report, ts_ns)
        else:
            self._apply_state(chain, report, ts_ns, new_fill=new_fill, fresh=fresh)
            if new_fill:
                self._check_fill(chain, before, report, ts_ns)
        if chain.waiters:  # a task waits on this order (none: no call)
            chain.wake()

    def _apply_state(
        self,
        chain: Chain,
        report: ExecutionReport,
        ts_ns: int | None,
        *,
        new_fill: bool,
        fresh: bool = False,
    ) -> None:
        current = chain.order
        answered = chain.pending.get(report.cl_order_id)
        if answered is None and fresh and report.cl_order_id not in self._outcomes:
            # Resolve it as if it had been pending: its late track_request then finds
            # the outcome (a no-op) instead of waiting in vain, and a refused cancel
            # leaves the order working instead of turning it REJECTED.
            answered = (
                report.request_type
                if report.request_type in _REQUESTS
                else RequestType.CANCEL
                if report.kind is ReportKind.CANCELLED
                else RequestType.MODIFY
            )
        if report.kind is ReportKind.REJECTED and answered in (
            RequestType.MODIFY,
            RequestType.CANCEL,
        ):
            # A modify or cancel was refused: the order itself is as the venue says.
            chain.pending.pop(report.cl_order_id, None)
            self._state.resolve(report.cl_order_id, RequestOutcome.REJECTED, report)
            state = report.state if report.state not in _UNANSWERED else current.state
            if state is _S.REJECTED:  # the venue names the order's state, not the request's
                state = _S.PARTIALLY_FILLED if current.filled_qty else _S.WORKING
            self._move(chain, report, state, current.cl_order_id, ts_ns, new_fill=new_fill)
            return
        if report.filled_qty < current.filled_qty:
            self._counts["stale_reports"] += 1
            self._state.record(
                chain,
                OrderEventKind.STALE,
                report.cl_order_id,
                current.state,
                ts_ns,
                f"filled {report.filled_qty} < known {current.filled_qty}",
                report=report,
            )
            return
        state = report.state
        cl_order_id = current.cl_order_id
        if answered is not None and report.state not in _UNANSWERED:
            chain.pending.pop(report.cl_order_id, None)
            outcome = (
                RequestOutcome.REJECTED
                if report.kind is ReportKind.REJECTED
                else RequestOutcome.ACCEPTED
            )
            self._state.resolve(report.cl_order_id, outcome, report)
            if outcome is RequestOutcome.ACCEPTED:
                cl_order_id = report.cl_order_id
        elif report.kind is ReportKind.MODIFIED:
            cl_order_id = report.cl_order_id
        elif (
            chain.pending
            and current.state in (_S.PENDING_MODIFY, _S.PENDING_CANCEL)
            and state in (_S.WORKING, _S.PARTIALLY_FILLED)
        ):
            state = current.state  # our request is still unanswered: stay pending
        if not can_transition(current.state, state):
            self._counts["illegal_transitions"] += 1
            log.warning(
                "order %s: ignored illegal transition %s -> %s (report %s)",
                current.chain_id,
                current.state.value,
                state.value,
                report.kind.value,
            )
            self._state.record(
                chain,
                OrderEventKind.ILLEGAL,
                report.cl_order_id,
                current.state,
                ts_ns,
                f"{current.state.value} -> {state.value}",
                report=report,
            )
            return
        self._move(chain, report, state, cl_order_id, ts_ns, new_fill=new_fill)

    def _move(
        self,
        chain: Chain,
        report: ExecutionReport,
        state: OrderState,
        cl_order_id: str,
        ts_ns: int | None,
        *,
        new_fill: bool,
    ) -> None:
        current = chain.order
        now = self._now_ns() if ts_ns is None else ts_ns
        candidate = order_after_report(current, report, state, cl_order_id)
        # a report that moves the state changes the order: no field by field comparison
        if state is current.state and candidate == current:
            if not new_fill:
                self._counts["duplicate_reports"] += 1
                self._state.record(
                    chain,
                    OrderEventKind.DUPLICATE,
                    report.cl_order_id,
                    current.state,
                    ts_ns,
                    report=report,
                )
            return
        # candidate is ours alone until stored: stamp it without building another copy
        msgspec.structs.force_setattr(candidate, "updated_ns", now)
        chain.order = candidate
        final = state in _FINAL
        if final:
            self._open.pop(current.chain_id, None)
            if current.state not in _FINAL:
                self._retention.ended(current.chain_id, now)
        if current.state is _S.UNKNOWN and state is not _S.UNKNOWN:
            chain.unknown_since_ns = None
        if final:
            for pending in chain.pending:
                self._state.resolve(pending, RequestOutcome.OVERTAKEN, report)
            chain.ended()
        self._state.record(
            chain, OrderEventKind.REPORT, report.cl_order_id, current.state, now, report=report
        )
        self._state.notify_order(chain.order, current)

    def _accept_fill(self, chain: Chain, report: ExecutionReport, ts_ns: int | None) -> bool:
        fill = report.fill
        if fill is None:
            return False
        if fill.fill_id in self._fills or self._retention.has_fill(fill.fill_id):
            self._counts["duplicate_fills"] += 1
            self._state.record(
                chain,
                OrderEventKind.DUPLICATE,
                report.cl_order_id,
                chain.order.state,
                ts_ns,
                f"fill {fill.fill_id}",
                fill=fill,
            )
            return False
        if not fill.chain_id:
            fill = _replace(fill, chain_id=chain.order.chain_id)
        self._fills[fill.fill_id] = fill
        chain.add_fill(fill)
        self._state.record(
            chain, OrderEventKind.FILL, report.cl_order_id, chain.order.state, ts_ns, fill=fill
        )
        self._state.book_fill(fill)
        return True

    def _adopt(self, report: ExecutionReport, ts_ns: int | None) -> None:
        if report.side is None or report.order_type is None:
            return  # a reject naming an order nobody knows: there is no order to adopt
        chain_id = report.chain_id or report.orig_cl_order_id or report.cl_order_id
        order = order_from_report(report, chain_id, self._now_ns() if ts_ns is None else ts_ns)
        chain = Chain(order)
        chain.heard = self._state.report_seq
        self._state.add_chain(chain)
        for cl_order_id in (chain_id, report.orig_cl_order_id, report.cl_order_id):
            if cl_order_id:
                self._state.link(chain, cl_order_id)
        self._counts["adopted"] += 1
        self._state.record(
            chain, OrderEventKind.ADOPTED, report.cl_order_id, None, ts_ns, report=report
        )
        self._state.notify_order(order, None)
        if self._accept_fill(chain, report, ts_ns):
            self._check_fill(chain, order, report, ts_ns)
        if report.state not in _UNANSWERED:
            outcome = (
                RequestOutcome.REJECTED
                if report.kind is ReportKind.REJECTED
                else RequestOutcome.ACCEPTED
            )
            self._state.resolve(report.cl_order_id, outcome, report)

    def _chain_for(self, report: ExecutionReport) -> Chain | None:
        if report.chain_id and report.chain_id in self._chains:
            return self._chains[report.chain_id]
        chain = self._state.chain_for_id(report.cl_order_id)
        if chain is None and report.orig_cl_order_id:
            chain = self._state.chain_for_id(report.orig_cl_order_id)
        return chain

    def _late(self, retired: RetiredChain, report: ExecutionReport, ts_ns: int | None) -> None:
        """A report about a retired (final) chain: book a fill we have not seen, else ignore."""
        self._counts["late_reports"] += 1
        fill = report.fill
        if fill is None:
            return
        if fill.fill_id in self._fills or self._retention.has_fill(fill.fill_id):
            self._counts["duplicate_fills"] += 1
            return
        if not fill.chain_id:
            fill = _replace(fill, chain_id=retired.order.chain_id)
        self._retention.add_fill(retired, fill.fill_id)
        self._state.book_fill(fill)
        before = retired.order
        retired.order = _replace(
            before,
            state=report.state if report.state.is_final else before.state,
            filled_qty=before.filled_qty + fill.qty,
            updated_ns=self._now_ns() if ts_ns is None else ts_ns,
        )
        self._state.raise_anomaly(FillAnomalyKind.FILL_AFTER_FINAL, before, retired.order, fill)

    # -- impossible fills (docs/safety/policies.md) -------------------------

    def _after_final(self, chain: Chain, report: ExecutionReport, ts_ns: int | None) -> None:
        """A new fill on a final order: booked already; the order's record follows it.

        A final state named by the report replaces ours (a REJECTED order the venue
        then FILLED is FILLED); an open one does not reopen the order.
        """
        current = chain.order
        state = report.state if report.state.is_final else current.state
        candidate = order_after_report(current, report, state, current.cl_order_id)
        chain.order = self._agreeing(chain, candidate, self._now_ns() if ts_ns is None else ts_ns)
        self._state.notify_order(chain.order, current)
        self._raise(chain, FillAnomalyKind.FILL_AFTER_FINAL, current, report, ts_ns)

    def _check_fill(
        self, chain: Chain, before: Order, report: ExecutionReport, ts_ns: int | None
    ) -> None:
        """After a new fill: the order's record agrees with its fills; an overfill is raised."""
        current = chain.order
        if current.filled_qty < chain.booked_qty:
            chain.order = self._agreeing(chain, current, self._now_ns() if ts_ns is None else ts_ns)
            self._state.notify_order(chain.order, current)
        if chain.booked_qty > max(before.qty, current.qty):
            self._raise(chain, FillAnomalyKind.OVERFILL, before, report, ts_ns)

    @staticmethod
    def _agreeing(chain: Chain, order: Order, now_ns: int) -> Order:
        """``order`` with at least the filled quantity (and its average) its fills book."""
        booked = chain.booked_qty
        if order.filled_qty >= booked:
            return _replace(order, updated_ns=now_ns)
        return _replace(
            order,
            filled_qty=booked,
            avg_fill_price=chain.booked_cost / booked,
            updated_ns=now_ns,
        )

    def _raise(
        self,
        chain: Chain,
        kind: FillAnomalyKind,
        before: Order,
        report: ExecutionReport,
        ts_ns: int | None,
    ) -> None:
        fill = self._fills[report.fill.fill_id] if report.fill is not None else None
        assert fill is not None  # only called after a fill was accepted
        self._state.record(
            chain,
            OrderEventKind.ANOMALY,
            report.cl_order_id,
            before.state,
            ts_ns,
            f"{kind.value}: order qty {chain.order.qty}, fills book {chain.booked_qty}",
            report=report,
            fill=fill,
        )
        self._state.raise_anomaly(kind, before, chain.order, fill, booked=chain.booked_qty)
