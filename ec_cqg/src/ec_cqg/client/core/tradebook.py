"""The trade book: what the client knows of its orders, fills and positions.

One :class:`TradeBook` per session (it outlives lines and logons). Order statuses become
core execution reports per chain (CQG ``chain_order_id``); a fill is published once,
whether it came live or was found in a snapshot; positions are kept per account and
contract as CQG's open-position rows. Subscribers (trade sinks) are per account.

A live status publishes every report it carries. A snapshot status publishes only what
changed since we last knew (see :mod:`.reconcile`): the fills we never saw, and the
chain's current status.
"""

from __future__ import annotations

import logging
from collections import Counter
from decimal import Decimal
from typing import Final, final

import msgspec
from ec_core.errors import OrderDeniedError, Violation
from ec_core.model import (
    Account,
    AccountReport,
    CancelOrder,
    ExecutionReport,
    Fill,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Position,
    PositionReport,
    ReportKind,
    Side,
    TradeEvent,
)
from ec_core.streams import TradeHub

from ec_cqg.client.core.contracts import ContractDirectory
from ec_cqg.protocol.mapping.codes import ORDER_STATUS_TO_STATE
from ec_cqg.protocol.mapping.reports import ContractRef, unseen_fill
from ec_cqg.protocol.mapping.requests import OrderTarget
from ec_cqg.protocol.pb import order_2, trade_routing_2
from ec_cqg.protocol.prices import double_to_decimal, qty_from_cqg

log = logging.getLogger("ec_cqg.client")

__all__ = ["Chain", "TradeBook"]


def _same(known: ExecutionReport | None, current: ExecutionReport) -> bool:
    """Whether a snapshot status tells nothing new about the chain."""
    return (
        known is not None
        and known.state is current.state
        and known.filled_qty == current.filled_qty
        and known.venue_order_id == current.venue_order_id
        and known.cl_order_id == current.cl_order_id
    )


_CODE: Final = "CQG_SESSION"


@final
class Chain:
    """What we know of one order chain (CQG ``chain_order_id``).

    ``top`` is the status with the most contracts filled we have seen (statuses can
    arrive out of order); ``told_qty``/``told_value`` are the contracts and money the
    fills published to subscribers add up to. A fill that would take ``told_qty``
    past ``top.filled_qty`` is not new (a duplicate, or one already made up for).
    """

    __slots__ = (
        "account_id",
        "chain_order_id",
        "first_cl",
        "last",
        "order_id",
        "told_qty",
        "told_value",
        "top",
    )

    def __init__(self, chain_order_id: str) -> None:
        self.chain_order_id = chain_order_id
        self.order_id = ""
        self.account_id = 0
        self.first_cl = ""
        self.last: ExecutionReport | None = None
        self.top: ExecutionReport | None = None
        self.told_qty = 0
        self.told_value = Decimal(0)

    def tell(self, fill: Fill) -> None:
        self.told_qty += fill.qty
        self.told_value += fill.qty * fill.price

    def told(self) -> ExecutionReport | None:
        """What subscribers were told of the fills, as a report (for :func:`unseen_fill`)."""
        top = self.top
        if top is None or not self.told_qty:
            return None
        avg = self.told_value / self.told_qty
        return msgspec.structs.replace(top, filled_qty=self.told_qty, avg_fill_price=avg)


@final
class TradeBook:
    """Order chains, fills seen, positions, requests in flight, and the trade sinks."""

    def __init__(self, contracts: ContractDirectory, counters: Counter[str]) -> None:
        self._contracts = contracts
        self._counters = counters
        self._chains: dict[str, Chain] = {}
        self._chain_of_cl: dict[str, Chain] = {}
        self._sent_new: set[str] = set()
        self._requests: dict[int, OrderRequest] = {}  # order requests by request id
        self._fills: set[str] = set()
        self._positions: dict[tuple[int, int], dict[int, tuple[int, Decimal]]] = {}
        self._position_reports: dict[tuple[str, str], Position] = {}
        # subscribers: core's fan-out (snapshot, SnapshotComplete, live events, bounded)
        self.hub = TradeHub(self._snapshot)

    # -- requests in flight ------------------------------------------------------

    def chain_of(self, cl_order_id: str) -> Chain | None:
        return self._chain_of_cl.get(cl_order_id)

    def order_target(self, request: OrderRequest, ref: ContractRef | None) -> OrderTarget:
        """CQG ids of ``request``; :class:`OrderDeniedError` for what cannot be sent."""
        try:
            account = int(request.account_id)
        except ValueError:
            raise OrderDeniedError(
                [
                    Violation(
                        code=_CODE,
                        field="account_id",
                        rule="must be a CQG numeric account id",
                        value=request.account_id,
                    )
                ]
            ) from None
        order_id = ""
        if isinstance(request, ModifyOrder | CancelOrder):
            chain = self.chain_of(request.orig_cl_order_id)
            if chain is None:
                raise OrderDeniedError(
                    [
                        Violation(
                            code=_CODE,
                            field="orig_cl_order_id",
                            rule="no such order in this session",
                            value=request.orig_cl_order_id,
                        )
                    ]
                )
            order_id = chain.order_id
        return OrderTarget(
            account_id=account,
            contract_id=None if ref is None else ref.contract_id,
            prices=None if ref is None else ref.prices,
            order_id=order_id,
        )

    def sent(self, request_id: int, request: OrderRequest) -> None:
        """``request`` goes on the wire as ``request_id``."""
        self._requests[request_id] = request
        if isinstance(request, NewOrder):
            self._sent_new.add(request.cl_order_id)

    def unsent(self, request_id: int) -> None:
        """The request could not be written, or will get no more answers."""
        self._requests.pop(request_id, None)

    def forget_requests(self) -> None:
        """The line dropped: no answer to a request in flight can come any more."""
        self._requests.clear()

    def on_reject(self, request_id: int, item: order_2.OrderRequestReject, now_ns: int) -> None:
        request = self._requests.pop(request_id, None)
        self._counters["order_request_rejects"] += 1
        if request is None:
            return
        self.publish(
            self._synthetic_report(
                request,
                kind=ReportKind.REJECTED,
                reject_code=str(item.reject_code),
                reject_text=item.text_message or item.details.text,
                now_ns=now_ns,
            )
        )

    def on_bulk_ack(self, request_id: int, now_ns: int) -> None:
        request = self._requests.get(request_id)
        if request is not None:
            self.publish(self._synthetic_report(request, kind=ReportKind.ACCEPTED, now_ns=now_ns))

    def _synthetic_report(
        self,
        request: OrderRequest,
        *,
        kind: ReportKind,
        now_ns: int,
        reject_code: str = "",
        reject_text: str = "",
    ) -> ExecutionReport:
        """A report for an answer that carries no order status (request reject, bulk ack)."""
        chain = None
        if isinstance(request, ModifyOrder | CancelOrder):
            chain = self._chain_of_cl.get(request.orig_cl_order_id)
        base = chain.last if chain is not None else None
        orig = getattr(request, "orig_cl_order_id", "")
        if base is not None:
            return msgspec.structs.replace(
                base,
                kind=kind,
                request_type=request.request_type,
                cl_order_id=request.cl_order_id,
                orig_cl_order_id=orig,
                reject_code=reject_code,
                reject_text=reject_text,
                fill=None,
                ts_ns=now_ns,
            )
        side: Side | None = None
        order_type: OrderType | None = None
        qty = 0
        if isinstance(request, NewOrder):
            side, order_type, qty = request.side, request.order_type, request.qty
            state = OrderState.REJECTED if kind is ReportKind.REJECTED else OrderState.WORKING
        else:  # no order we know of: side, type and qty stay unset (we cannot know them)
            state = OrderState.UNKNOWN if kind is ReportKind.REJECTED else OrderState.WORKING
        return ExecutionReport(
            kind=kind,
            account_id=request.account_id,
            symbol=getattr(request, "symbol", None) or "",
            cl_order_id=request.cl_order_id,
            orig_cl_order_id=orig,
            state=state,
            side=side,
            order_type=order_type,
            qty=qty,
            request_type=request.request_type,
            reject_code=reject_code,
            reject_text=reject_text,
            ts_ns=now_ns,
        )

    # -- order statuses ------------------------------------------------------------

    def on_order_status(
        self, status: order_2.OrderStatus, *, live: bool, publish: bool = True
    ) -> int:
        """Apply one status (its contract known); return how many reports it published
        (live) or 1 if it changed the chain (snapshot).

        Fills are told once: a fill id seen before, or a fill the contracts already told
        cover, is dropped; contracts a status counts as filled that no fill told are made
        up with :func:`unseen_fill` (a lost frame, or fills while we were away).
        """
        chain = self._chains.get(status.chain_order_id)
        if chain is None:
            chain = self._chains[status.chain_order_id] = Chain(status.chain_order_id)
        known = chain.last
        if not chain.first_cl:
            chain.first_cl = self._first_sent_cl(status)
        reports = self._contracts.mapper.reports(status, chain_id=chain.first_cl)
        if status.status not in ORDER_STATUS_TO_STATE:  # the order is UNKNOWN: say why
            self._counters["unknown_status_codes"] += 1
            log.warning(
                "cqg: order %s has status code %d, which ec does not know: it is UNKNOWN"
                " until reconciled",
                status.chain_order_id,
                status.status,
            )
        chain.order_id = status.order_id
        chain.account_id = status.account_id
        chain_of_cl = self._chain_of_cl
        for report in reports:
            if report.cl_order_id:
                chain_of_cl[report.cl_order_id] = chain
            if report.orig_cl_order_id:
                chain_of_cl[report.orig_cl_order_id] = chain
        current = reports[-1]
        chain.last = current
        if chain.top is None or current.filled_qty > chain.top.filled_qty:
            chain.top = current
        if not live and _same(known, current):
            return 0
        if not live and not publish:  # the first snapshot: the starting state
            for report in reports:
                if report.fill is not None:
                    self._fills.add(report.fill.fill_id)
            chain.told_qty = current.filled_qty
            chain.told_value = (current.avg_fill_price or Decimal(0)) * current.filled_qty
            return 1
        published = 0
        for report in reports:
            if report.fill is not None:
                if not self._new_fill(chain, report.fill):
                    continue
            elif not live:  # a snapshot publishes its fills, then one status
                continue
            self.publish(report)
            published += 1
        made_up = self._make_up_fills(chain)
        if made_up is not None:
            self.publish(made_up)
            published += 1
        if live:
            return published
        self.publish(msgspec.structs.replace(current, kind=ReportKind.STATUS, fill=None))
        return 1

    def _new_fill(self, chain: Chain, fill: Fill) -> bool:
        top = chain.top
        if fill.fill_id in self._fills or (
            top is not None and chain.told_qty + fill.qty > top.filled_qty
        ):
            self._fills.add(fill.fill_id)
            self._counters["duplicate_fills"] += 1
            return False
        self._fills.add(fill.fill_id)
        chain.tell(fill)
        return True

    def _make_up_fills(self, chain: Chain) -> ExecutionReport | None:
        top = chain.top
        if top is None or top.filled_qty <= chain.told_qty:
            return None
        unseen = unseen_fill(chain.told(), top, 0)
        if unseen is None or unseen.fill is None or unseen.fill.fill_id in self._fills:
            return None
        self._fills.add(unseen.fill.fill_id)
        chain.tell(unseen.fill)
        self._counters["fills_made_up"] += 1
        return unseen

    def _first_sent_cl(self, status: order_2.OrderStatus) -> str:
        """The chain's first client order id, if it is one of our new orders (else "")."""
        sent = self._sent_new
        for trans in status.transaction_statuses[:]:
            if trans.cl_order_id in sent:
                return trans.cl_order_id
            if trans.orig_cl_order_id in sent:
                return trans.orig_cl_order_id
        if status.HasField("order") and status.order.cl_order_id in sent:
            return status.order.cl_order_id
        return ""

    def open_missing(self, seen_chains: set[str], now_ns: int) -> list[ExecutionReport]:
        """Open chains a full snapshot did not list, reported as UNKNOWN: the core's
        reconciliation resolves them (we never guess an outcome)."""
        return [
            msgspec.structs.replace(
                c.last, kind=ReportKind.STATUS, state=OrderState.UNKNOWN, ts_ns=now_ns
            )
            for chain_id, c in self._chains.items()
            if chain_id not in seen_chains and c.last is not None and not c.last.state.is_final
        ]

    def open_orders(self, account_id: str) -> list[ExecutionReport]:
        return [
            msgspec.structs.replace(c.last, kind=ReportKind.STATUS, fill=None)
            for c in self._chains.values()
            if c.last is not None and c.last.account_id == account_id and not c.last.state.is_final
        ]

    # -- positions -------------------------------------------------------------------

    def on_position_status(
        self, item: trade_routing_2.PositionStatus, now_ns: int, *, publish: bool = True
    ) -> None:
        contracts = self._contracts
        if item.HasField("contract_metadata"):
            contracts.book.add_metadata(item.contract_metadata)
        symbol = contracts.symbol_of(item.contract_id)
        if not symbol:
            self._counters["positions_unknown_contract"] += 1
            return
        key = (item.account_id, item.contract_id)
        rows = self._positions.setdefault(key, {}) if not item.is_snapshot else {}
        for row in item.open_positions:
            qty = qty_from_cqg(row.qty if row.HasField("qty") else None, row.uint32_qty)
            if qty == 0:
                rows.pop(row.id, None)
            else:
                rows[row.id] = (-qty if row.is_short else qty, double_to_decimal(row.price_correct))
        self._set_position(key, symbol, rows, now_ns, publish=publish)

    def _set_position(
        self,
        key: tuple[int, int],
        symbol: str,
        rows: dict[int, tuple[int, Decimal]],
        now_ns: int,
        *,
        publish: bool,
    ) -> None:
        self._positions[key] = rows
        net = sum(q for q, _ in rows.values())
        gross = sum(abs(q) for q, _ in rows.values())
        avg = (
            sum((abs(q) * p for q, p in rows.values()), Decimal(0)) / gross if gross else Decimal(0)
        )
        position = Position(account_id=str(key[0]), symbol=symbol, qty=net, avg_price=avg)
        self._position_reports[(position.account_id, symbol)] = position
        if publish:
            self.publish(PositionReport(position=position, ts_ns=now_ns))

    def flatten_missing(self, seen: set[tuple[int, int]], now_ns: int, *, publish: bool) -> None:
        """A full snapshot lists every open position: one it does not list is flat."""
        for key, rows in list(self._positions.items()):
            if key in seen or not rows:
                continue
            symbol = self._contracts.symbol_of(key[1])
            if symbol:
                self._set_position(key, symbol, {}, now_ns, publish=publish)

    def positions_of(self, account_id: str) -> list[Position]:
        return [p for (a, _), p in self._position_reports.items() if a == account_id]

    # -- subscribers: core's TradeHub (``self.hub``) ---------------------------------

    def _snapshot(self, account_id: str, now_ns: int) -> list[TradeEvent]:
        """The hub's snapshot of an account: open orders, positions, the account."""
        return [
            *self.open_orders(account_id),
            *(PositionReport(position=p, ts_ns=now_ns) for p in self.positions_of(account_id)),
            AccountReport(account=Account(account_id=account_id), ts_ns=now_ns),
        ]

    def subscribed_accounts(self) -> list[str]:
        return self.hub.subscribed_accounts()

    def publish(self, event: TradeEvent) -> None:
        """To the subscribers of the event's account; session events go to every one."""
        self.hub.publish(event)

    def publish_all(self, event: TradeEvent) -> None:
        self.hub.publish_all(event)
