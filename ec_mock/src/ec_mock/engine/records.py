"""The engine's mutable, private order record. Prices are integer ticks.

Reports (:class:`ec_core.model.ExecutionReport`) are snapshots built from a record
at the moment something happens; the record itself never leaves the engine.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, final

from ec_core.model import Duration, OrderState, OrderType

if TYPE_CHECKING:
    from ec_mock.engine.book import Level, OrderBook
    from ec_mock.engine.ledger import PositionLedger
    from ec_mock.engine.smp import SelfMatchPrevention

__all__ = ["OrderRecord"]


@final
class OrderRecord:
    """One order as the engine holds it. ``pos`` is bound when the order is accepted."""

    pos: PositionLedger  # the account's position in ``symbol``: fills and working qty go there
    level: Level  # its price level while ``resting`` (set by ``OrderBook.rest``); OFF_BOOK once
    # it left the book; unset while it never rested (read only while ``resting``)
    __slots__ = (
        "account_id",
        "aon",
        "book",
        "chain_id",
        "cl_order_id",
        "cost",
        "created_ns",
        "display",
        "duration",
        "exec_instructions",
        "expire_ns",
        "filled",
        "gtd",
        "level",
        "min_qty",
        "oid",
        "order_type",
        "orig_cl_order_id",
        "pos",
        "price",
        "qty",
        "resting",
        "seq",
        "shown",
        "side",
        "smp",
        "state",
        "stop",
        "symbol",
        "triggered",
        "updated_ns",
    )

    def __init__(
        self,
        oid: int,
        account_id: str,
        symbol: str,
        side: int,
        qty: int,
        order_type: OrderType,
        price: int | None,
        stop: int | None,
        duration: Duration,
        gtd: date | None,
        aon: bool,
        cl_order_id: str,
        ts_ns: int,
        exec_instructions: tuple[str, ...],
        book: OrderBook,
        state: OrderState = OrderState.PENDING_NEW,
        expire_ns: int = 0,
    ) -> None:
        self.oid = oid
        self.account_id = account_id
        self.symbol = symbol
        self.side = side  # +1 buy, -1 sell
        self.qty = qty
        self.filled = 0
        self.cost = 0  # sum of fill qty * fill price ticks: avg price = cost / filled
        self.order_type = order_type
        self.price = price  # limit price in ticks, None for market
        self.stop = stop  # stop trigger in ticks
        self.duration = duration
        self.gtd = gtd
        self.aon = aon
        self.exec_instructions = exec_instructions
        self.cl_order_id = cl_order_id
        self.orig_cl_order_id = ""
        self.chain_id = cl_order_id
        self.state = state
        self.seq = 0  # time priority; a new value means a new place in the queue
        self.resting = False  # in a price level of the book
        self.triggered = False  # a stop that has fired
        self.expire_ns = expire_ns  # GTD expiry time, 0 if none
        self.smp: SelfMatchPrevention | None = None  # its own or its account's, on acceptance
        # Iceberg: ``display`` is the quantity shown at a time (0: not an iceberg) and
        # ``shown`` what is left of the slice on display while it rests (book.rest).
        self.display = 0
        self.shown = 0
        self.min_qty = 0  # an IOC order's minimum quantity (0: none)
        self.created_ns = ts_ns
        self.updated_ns = ts_ns
        self.book = book  # the book of ``symbol``

    @property
    def remaining(self) -> int:
        return self.qty - self.filled

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    @property
    def is_stop_waiting(self) -> bool:
        return self.stop is not None and not self.triggered

    def __repr__(self) -> str:
        return (
            f"OrderRecord(oid={self.oid}, {self.account_id}/{self.symbol}"
            f" {'B' if self.side > 0 else 'S'} {self.filled}/{self.qty}"
            f" {self.order_type} px={self.price} stp={self.stop} {self.state})"
        )
