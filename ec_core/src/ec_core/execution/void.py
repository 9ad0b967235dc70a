"""Closing an order the venue does not have: VOIDED, journaled, never counted again.

An order left working by one run (``ec run --leave-working``) and gone from the
venue by the next (an exchange restart, a session that purged it) would stay
WORKING in our books forever, counting against open-order and position limits.
The policy (``docs/outcomes.md``):

* reconciliation voids it itself when the venue's word is positive: the account's
  snapshot is complete, the order-status query answered "not found" for every id
  of the chain, the venue had acknowledged it (not PENDING_NEW or UNKNOWN: one of
  those may still be on its way) and it had no fills (``by="reconcile"``);
* anything else (an UNKNOWN order, fills on our side, a venue that cannot answer)
  is the operator's call: ``ec orders list`` shows the journal's open orders,
  ``ec orders void ID`` closes one (``by="operator ..."``).

Both go through :func:`void_order`: one synthetic STATUS report with state VOIDED,
journaled as :class:`~ec_core.journal.OrderVoided` and applied to the tracker, so a
restart replays it.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from ec_core.errors import VoidRefusedError
from ec_core.journal import JournalRecord, OrderVoided
from ec_core.model import ExecutionReport, Order, OrderState, ReportKind
from ec_core.tracking import OrderTracker

__all__ = ["status_report", "void_order", "voided_report"]


def status_report(order: Order, now_ns: int) -> ExecutionReport:
    """The order as a STATUS report: what a tracker that never saw it needs to adopt it
    (a gateway's snapshot to a worker)."""
    return ExecutionReport(
        kind=ReportKind.STATUS,
        account_id=order.account_id,
        symbol=order.symbol,
        cl_order_id=order.cl_order_id,
        chain_id=order.chain_id,
        state=order.state,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        duration=order.duration,
        good_thru_date=order.good_thru_date,
        venue_order_id=order.venue_order_id,
        reject_code=order.reject_code,
        reject_text=order.reject_text,
        ts_ns=now_ns,
    )


def voided_report(order: Order, reason: str, now_ns: int) -> ExecutionReport:
    """The report that closes ``order`` as VOIDED (``reject_code`` ``VOIDED``, the reason)."""
    return msgspec.structs.replace(
        status_report(order, now_ns),
        state=OrderState.VOIDED,
        reject_code="VOIDED",
        reject_text=reason,
    )


def void_order(
    tracker: OrderTracker,
    order_id: str,
    *,
    reason: str,
    by: str,
    now_ns: int,
    journal: Callable[[JournalRecord], None] | None,
) -> Order:
    """Close the open order ``order_id`` (chain or client id) as VOIDED; journal first.

    Raises :class:`VoidRefusedError` for an id that is not an open order.
    """
    order = tracker.order(order_id)
    if order is None or order.state.is_final:
        state = "not tracked" if order is None else f"already {order.state.value}"
        raise VoidRefusedError(f"{order_id!r} is not an open order ({state})", order_id=order_id)
    if not reason.strip():
        raise VoidRefusedError("a void needs a reason (it is journaled)", order_id=order_id)
    report = voided_report(order, reason, now_ns)
    if journal is not None:
        journal(
            OrderVoided(chain_id=order.chain_id, report=report, reason=reason, by=by, ts_ns=now_ns)
        )
    tracker.apply(report, ts_ns=now_ns)
    voided = tracker.order(order.chain_id)
    assert voided is not None
    return voided
