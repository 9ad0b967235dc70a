"""Report builders: an :class:`~ec_core.model.ExecutionReport` from what changed.

A vendor knows an order (the request it placed it with, or the last report it gave
for it) and learns what happened to it; these functions make the venue's next word
on the order, whole, so a plugin never fills twenty fields by hand:

=======================  ==========================================================
``accepted(order)``      a new order is working (``ACCEPTED``, ``WORKING``)
``rejected(order)``      a new order is refused (``REJECTED``, state ``REJECTED``)
``refused(report, req)`` a modify or cancel of a *live* order is refused: the order
                         keeps its state (never ``REJECTED``), the request is named
``unknown_order(req)``   a modify or cancel names an order the venue does not have:
                         side, type and quantity are left out (the venue cannot know)
``modified(report, req)`` the order now has the modify's quantity and prices
``cancelled(report)``    the order ended, keeping what it filled
``filled(report, ...)``  one execution: the fill, filled quantity, average, state
``status(report)``       the order as it stands (snapshots, status queries)
=======================  ==========================================================

Each returns a new report with ``fill``, ``request_type`` and the reject fields
cleared unless the step sets them; times are the caller's (``ts_ns``).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from ec_core.model import (
    CancelOrder,
    ExecutionReport,
    Fill,
    ModifyOrder,
    NewOrder,
    OrderState,
    ReportKind,
    RequestType,
)

__all__ = [
    "accepted",
    "cancelled",
    "filled",
    "modified",
    "refused",
    "rejected",
    "status",
    "unknown_order",
]

_CLEARED: dict[str, object] = {
    "fill": None,
    "request_type": None,
    "reject_code": "",
    "reject_text": "",
}


def _next(
    report: ExecutionReport, kind: ReportKind, ts_ns: int, **changes: object
) -> ExecutionReport:
    return msgspec.structs.replace(report, kind=kind, ts_ns=ts_ns, **{**_CLEARED, **changes})


def accepted(order: NewOrder, *, ts_ns: int, venue_order_id: str = "") -> ExecutionReport:
    """The new order is working at the venue."""
    return ExecutionReport(
        kind=ReportKind.ACCEPTED,
        account_id=order.account_id,
        symbol=order.symbol,
        cl_order_id=order.cl_order_id,
        chain_id=order.cl_order_id,
        state=OrderState.WORKING,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        duration=order.duration,
        good_thru_date=order.good_thru_date,
        venue_order_id=venue_order_id,
        ts_ns=ts_ns,
    )


def rejected(order: NewOrder, code: str, text: str, *, ts_ns: int) -> ExecutionReport:
    """The venue refused the new order: it ends ``REJECTED`` (``code`` is the venue's)."""
    return _next(
        accepted(order, ts_ns=ts_ns),
        ReportKind.REJECTED,
        ts_ns,
        state=OrderState.REJECTED,
        request_type=RequestType.NEW,
        reject_code=code,
        reject_text=text,
    )


def refused(
    report: ExecutionReport,
    request: ModifyOrder | CancelOrder,
    code: str,
    text: str,
    *,
    ts_ns: int,
) -> ExecutionReport:
    """A modify or cancel of the live order ``report`` is refused; the order is unchanged
    and keeps its state (a refused request never makes a live order ``REJECTED``)."""
    return _next(
        report,
        ReportKind.REJECTED,
        ts_ns,
        cl_order_id=request.cl_order_id,
        orig_cl_order_id=report.cl_order_id,
        request_type=request.request_type,
        reject_code=code,
        reject_text=text,
    )


def unknown_order(
    request: ModifyOrder | CancelOrder, code: str, text: str, *, ts_ns: int
) -> ExecutionReport:
    """A modify or cancel names an order the venue does not have: nothing to report but
    the refusal. Side, order type and quantity stay unset: the venue cannot know them."""
    return ExecutionReport(
        kind=ReportKind.REJECTED,
        account_id=request.account_id,
        symbol=request.symbol,
        cl_order_id=request.cl_order_id,
        orig_cl_order_id=request.orig_cl_order_id,
        state=OrderState.REJECTED,
        request_type=request.request_type,
        reject_code=code,
        reject_text=text,
        ts_ns=ts_ns,
    )


def modified(report: ExecutionReport, request: ModifyOrder, *, ts_ns: int) -> ExecutionReport:
    """The order after the modify: its new client id, and each field the modify sets."""
    return _next(
        report,
        ReportKind.MODIFIED,
        ts_ns,
        cl_order_id=request.cl_order_id,
        orig_cl_order_id=report.cl_order_id,
        qty=report.qty if request.qty is None else request.qty,
        limit_price=report.limit_price if request.limit_price is None else request.limit_price,
        stop_price=report.stop_price if request.stop_price is None else request.stop_price,
        duration=report.duration if request.duration is None else request.duration,
        good_thru_date=(
            report.good_thru_date if request.good_thru_date is None else request.good_thru_date
        ),
    )


def cancelled(
    report: ExecutionReport, *, ts_ns: int, request: CancelOrder | None = None
) -> ExecutionReport:
    """The order ended (by ``request``, or by the venue: a market order's rest, an
    expiry, a cancel-all), keeping what it filled."""
    ids = (
        {}
        if request is None
        else {"cl_order_id": request.cl_order_id, "orig_cl_order_id": report.cl_order_id}
    )
    return _next(report, ReportKind.CANCELLED, ts_ns, state=OrderState.CANCELLED, **ids)


def filled(
    report: ExecutionReport, *, qty: int, price: Decimal, fill_id: str, ts_ns: int
) -> ExecutionReport:
    """One execution of ``qty`` at ``price``: the fill (``fill_id`` unique at the venue),
    the filled quantity, the average price and ``PARTIALLY_FILLED`` / ``FILLED``."""
    if report.side is None or report.order_type is None:
        raise ValueError(f"{report.cl_order_id}: a fill needs the order (side, type, qty)")
    done = report.filled_qty + qty
    paid = (report.avg_fill_price or Decimal(0)) * report.filled_qty + price * qty
    fill = Fill(
        fill_id=fill_id,
        account_id=report.account_id,
        symbol=report.symbol,
        side=report.side,
        qty=qty,
        price=price,
        ts_ns=ts_ns,
        cl_order_id=report.cl_order_id,
        chain_id=report.chain_id,
        venue_order_id=report.venue_order_id,
    )
    state = OrderState.FILLED if done >= report.qty else OrderState.PARTIALLY_FILLED
    return _next(
        report,
        ReportKind.FILL,
        ts_ns,
        state=state,
        filled_qty=done,
        avg_fill_price=paid / done,
        fill=fill,
    )


def status(report: ExecutionReport, *, ts_ns: int | None = None) -> ExecutionReport:
    """The order as it stands, for a snapshot or a status query (``STATUS``)."""
    return _next(report, ReportKind.STATUS, report.ts_ns if ts_ns is None else ts_ns)
