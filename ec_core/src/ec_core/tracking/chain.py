"""One order chain's bookkeeping, and the orders the tracker builds from requests and reports.

A chain is keyed by its first client order id; modifies and cancels add client ids
to it. The builders here are pure: the tracker decides *whether* a report changes
the order, these say *what* the order then is. (The order we just sent is
:func:`ec_core.safety.checks.pending_order`, shared with in-flight accounting.)
"""

from __future__ import annotations

from decimal import Decimal

import anyio
import msgspec

from ec_core.model import ExecutionReport, Fill, Order, OrderState, RequestType
from ec_core.tracking.events import OrderEvent

__all__ = ["Chain", "order_after_report", "order_from_report"]

_ZERO = Decimal(0)
_replace = msgspec.structs.replace


class Chain:
    """Mutable bookkeeping of one order chain.

    Laid out for the many a replay keeps (every finished order, see
    :mod:`~ec_core.tracking.retention`): the history is a list trimmed to its limit
    (a bounded deque takes ~760 bytes even empty), the ids and fill ids are tuples (they
    grow by one now and then; a tuple of strings is not tracked by the garbage
    collector once it has been seen), there are no waiters until a task waits, and an
    order that ends drops the table of its answered requests.
    """

    __slots__ = (
        "booked_cost",
        "booked_qty",
        "events",
        "fill_ids",
        "heard",
        "ids",
        "order",
        "pending",
        "unknown_since_ns",
        "waiters",
    )

    def __init__(self, order: Order) -> None:
        self.order = order
        self.heard = 0  # the tracker's report_seq when a venue report about it last came
        self.ids: tuple[str, ...] = (order.cl_order_id,)
        self.events: list[OrderEvent] = []  # the last ``history_limit`` (TrackerState.record)
        self.fill_ids: tuple[str, ...] = ()
        self.booked_qty = 0  # what its accepted fills add up to (the position they made)
        self.booked_cost = _ZERO
        self.pending: dict[str, RequestType] = {}  # requests sent, not answered yet
        self.unknown_since_ns: int | None = None
        self.waiters: list[anyio.Event] | None = None  # tasks waiting on a change

    def add_fill(self, fill: Fill) -> None:
        self.fill_ids += (fill.fill_id,)
        self.booked_qty += fill.qty
        self.booked_cost += fill.price * fill.qty

    def add_id(self, cl_order_id: str) -> None:
        if cl_order_id not in self.ids:
            self.ids += (cl_order_id,)

    def ended(self) -> None:
        """The order reached a final state and its pending requests were resolved:
        nothing will be pending on it again, so its emptied table is let go."""
        self.pending = {}

    def waiter(self) -> anyio.Event:
        """An event set at the chain's next change (:meth:`wake`); drop it with
        :meth:`forget` when done waiting."""
        waiter = anyio.Event()
        if self.waiters is None:
            self.waiters = [waiter]
        else:
            self.waiters.append(waiter)
        return waiter

    def forget(self, waiter: anyio.Event) -> None:
        if self.waiters and waiter in self.waiters:
            self.waiters.remove(waiter)

    def wake(self) -> None:
        """Wake every task waiting on this chain (they re-check their predicate)."""
        if self.waiters:
            waiters, self.waiters = self.waiters, None
            for waiter in waiters:
                waiter.set()


def order_from_report(report: ExecutionReport, chain_id: str, now_ns: int) -> Order:
    """An order first heard of from the venue (adopted), as its report says (one that
    names the order: side and type set)."""
    if report.side is None or report.order_type is None:
        raise ValueError(f"{report.cl_order_id}: a report without side and type names no order")
    return Order(
        chain_id=chain_id,
        cl_order_id=report.cl_order_id,
        account_id=report.account_id,
        symbol=report.symbol,
        side=report.side,
        order_type=report.order_type,
        qty=report.qty,
        state=report.state,
        filled_qty=report.filled_qty,
        avg_fill_price=report.avg_fill_price,
        limit_price=report.limit_price,
        stop_price=report.stop_price,
        duration=report.duration,
        good_thru_date=report.good_thru_date,
        venue_order_id=report.venue_order_id,
        reject_code=report.reject_code,
        reject_text=report.reject_text,
        updated_ns=now_ns,
    )


def order_after_report(
    current: Order, report: ExecutionReport, state: OrderState, cl_order_id: str
) -> Order:
    """The order once ``report`` is applied in ``state`` (``updated_ns`` left as it was,
    so an unchanged order compares equal to ``current``).

    Filled quantity never goes back; the average follows the report that knows most.
    """
    # ``current`` with the report's fields: what a report cannot change (ids, account,
    # symbol, side, instructions, time) is copied by ``replace``, not passed again.
    order = _replace(
        current,
        cl_order_id=cl_order_id,
        # a reject naming an order the venue does not have carries none of these
        order_type=current.order_type if report.order_type is None else report.order_type,
        qty=current.qty if report.order_type is None else report.qty,
        state=state,
        # never back (a conditional, not max(): one call fewer per report)
        filled_qty=(
            report.filled_qty if report.filled_qty > current.filled_qty else current.filled_qty
        ),
        avg_fill_price=(
            report.avg_fill_price
            if report.filled_qty >= current.filled_qty and report.avg_fill_price is not None
            else current.avg_fill_price
        ),
        limit_price=report.limit_price,
        stop_price=report.stop_price,
        duration=report.duration,
        good_thru_date=report.good_thru_date,
        venue_order_id=report.venue_order_id or current.venue_order_id,
    )
    if state is OrderState.REJECTED:  # the new order is ours alone until returned
        msgspec.structs.force_setattr(order, "reject_code", report.reject_code)
        msgspec.structs.force_setattr(order, "reject_text", report.reject_text)
    return order
