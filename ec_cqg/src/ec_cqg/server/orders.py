"""Order chains and the ``OrderStatus`` messages the server sends about them.

The engine reports orders by client id (``ExecutionReport``); CQG clients know them by
server ``order_id`` (new after every acknowledged modify) and ``chain_order_id`` (stable).
:class:`OrderChains` keeps that mapping for the whole server, so ids survive a client's
reconnect. Each engine report, and each request the server receives, becomes a
:class:`StatusPlan`: session-independent facts. :func:`render_status` turns a plan into
the ``order_2.OrderStatus`` of one session, whose contract ids and base time differ.
Every ``required`` field of ``OrderStatus``, ``Order``, ``TransactionStatus`` and
``Trade`` is filled.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from ec_core.calendar import utc_midnight_ns
from ec_core.model import (
    ExecutionReport,
    Fill,
    Instrument,
    OrderState,
    ReportKind,
    RequestType,
)

from ec_cqg.protocol.mapping.codes import (
    DURATION_TO_CQG,
    ORDER_TYPE_TO_CQG,
    SIDE_TO_CQG,
)
from ec_cqg.protocol.pb import order_2, shared_1
from ec_cqg.protocol.prices import PriceScale, qty_to_cqg
from ec_cqg.protocol.timestamps import BaseTime, ns_to_timestamp
from ec_cqg.server.codes import ORDER_STATUS_OF_STATE, reject_number, transaction_status
from ec_cqg.server.contracts import price_scale_of

__all__ = [
    "OrderChain",
    "OrderChains",
    "StatusPlan",
    "TransPlan",
    "render_status",
]

_TS = shared_1.TransactionStatus
_OS = shared_1.OrderStatus
_MS_PER_DAY = 86_400_000
_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class TransPlan:
    """One transaction: what happened to the order at ``ts_ns``."""

    status: int
    trans_id: int
    ts_ns: int
    cl_order_id: str
    orig_cl_order_id: str = ""
    fill: Fill | None = None
    reject_code: int | None = None
    text: str = ""
    previous: ExecutionReport | None = None  # the order before a modify


@dataclass(frozen=True, slots=True)
class StatusPlan:
    """Everything an ``OrderStatus`` says, independent of the session it goes to."""

    report: ExecutionReport  # the order's whole state now
    status: int
    chain_order_id: str
    order_id: str
    account_id: int
    user: str
    submitted_ns: int
    fill_cnt: int
    exec_instructions: tuple[int, ...]
    transactions: tuple[TransPlan, ...] = ()


@dataclass(slots=True)
class OrderChain:
    """Server-side record of one order chain."""

    chain_order_id: str
    order_id: str
    venue_account: str
    account_id: int
    symbol: str
    user: str
    submitted_ns: int
    exec_instructions: tuple[int, ...] = ()
    fill_cnt: int = 0
    last: ExecutionReport | None = None
    order_ids: list[str] = field(default_factory=list)


class OrderChains:
    """Every order chain the server has seen, by engine chain id and by CQG order id."""

    def __init__(self, account_id_of: Callable[[str], int]) -> None:
        self._account_id_of = account_id_of
        self._by_chain: dict[tuple[str, str], OrderChain] = {}
        self._by_order_id: dict[str, OrderChain] = {}
        self._order_ids = itertools.count(1)
        self._trans_ids = itertools.count(1)

    def next_trans_id(self) -> int:
        return next(self._trans_ids)

    def _new_order_id(self, chain: OrderChain | None) -> str:
        order_id = str(next(self._order_ids))
        if chain is not None:
            chain.order_id = order_id
            chain.order_ids.append(order_id)
            self._by_order_id[order_id] = chain
        return order_id

    def open_chain(
        self,
        venue_account: str,
        cl_order_id: str,
        *,
        symbol: str,
        user: str,
        ts_ns: int,
        exec_instructions: tuple[int, ...] = (),
    ) -> OrderChain:
        """A chain for a new order the server is about to submit (its chain id is its cl id)."""
        key = (venue_account, cl_order_id)
        order_id = self._new_order_id(None)
        chain = OrderChain(
            chain_order_id=order_id,
            order_id=order_id,
            venue_account=venue_account,
            account_id=self._account_id_of(venue_account),
            symbol=symbol,
            user=user,
            submitted_ns=ts_ns,
            exec_instructions=exec_instructions,
            order_ids=[order_id],
        )
        self._by_chain[key] = chain
        self._by_order_id[order_id] = chain
        return chain

    def has_chain(self, venue_account: str, cl_order_id: str) -> bool:
        return (venue_account, cl_order_id) in self._by_chain

    def by_order_id(self, order_id: str) -> OrderChain | None:
        return self._by_order_id.get(order_id)

    def by_chain_order_id(self, chain_order_id: str) -> OrderChain | None:
        chain = self._by_order_id.get(chain_order_id)
        return chain if chain is not None and chain.chain_order_id == chain_order_id else None

    def chain_of(self, report: ExecutionReport) -> OrderChain:
        """The chain of an engine report, made on first sight (orders entered elsewhere)."""
        key = (report.account_id, report.chain_id or report.cl_order_id)
        chain = self._by_chain.get(key)
        if chain is None:
            chain = self.open_chain(
                report.account_id,
                key[1],
                symbol=report.symbol,
                user="",
                ts_ns=report.ts_ns,
                exec_instructions=(),
            )
        return chain

    def forget_all(self) -> None:
        """The exchange restarted empty: no order survives."""
        self._by_chain.clear()
        self._by_order_id.clear()

    # -- plans ----------------------------------------------------------------------

    def plan_pending(
        self,
        chain: OrderChain,
        report: ExecutionReport,
        *,
        status: int,
        trans_status: int,
        cl_order_id: str,
        orig_cl_order_id: str = "",
        ts_ns: int,
    ) -> StatusPlan:
        """IN_TRANSIT / IN_MODIFY / IN_CANCEL: the server got a request for the chain."""
        trans = TransPlan(
            status=trans_status,
            trans_id=self.next_trans_id(),
            ts_ns=ts_ns,
            cl_order_id=cl_order_id,
            orig_cl_order_id=orig_cl_order_id,
        )
        return self._plan(chain, report, status, (trans,))

    def plan_report(self, report: ExecutionReport) -> StatusPlan | None:
        """The status an engine report becomes (``None`` for a reject of no known order)."""
        if report.kind is ReportKind.REJECTED and report.request_type not in (
            None,
            RequestType.NEW,
        ):
            key = (report.account_id, report.chain_id or report.orig_cl_order_id)
            if not report.chain_id and key not in self._by_chain:
                return None
        chain = self.chain_of(report)
        previous = chain.last
        trans_status = transaction_status(report.kind, report.request_type)
        if report.kind is ReportKind.MODIFIED and report.request_type is RequestType.MODIFY:
            self._new_order_id(chain)
        if report.kind is ReportKind.FILL:
            chain.fill_cnt += 1
        reject = None
        text = ""
        if report.kind is ReportKind.REJECTED:
            reject = reject_number(report.reject_code)
            text = f"{report.reject_code}: {report.reject_text}"
        trans = TransPlan(
            status=trans_status,
            trans_id=self.next_trans_id(),
            ts_ns=report.ts_ns,
            cl_order_id=report.cl_order_id,
            orig_cl_order_id=report.orig_cl_order_id,
            fill=report.fill,
            reject_code=reject,
            text=text,
            previous=previous if trans_status == _TS.ACK_MODIFY else None,
        )
        if report.kind is ReportKind.REJECTED and previous is not None:
            # a refused modify or cancel leaves the order as it was
            state_report = previous
            status = ORDER_STATUS_OF_STATE[previous.state]
        else:
            state_report = report
            status = ORDER_STATUS_OF_STATE[report.state]
        return self._plan(chain, state_report, status, (trans,), remember=True)

    def plan_snapshot(self, report: ExecutionReport) -> StatusPlan:
        """The order as it stands, no transaction (trade-subscription snapshots, queries)."""
        chain = self.chain_of(report)
        return self._plan(chain, report, ORDER_STATUS_OF_STATE[report.state], ())

    def _plan(
        self,
        chain: OrderChain,
        report: ExecutionReport,
        status: int,
        transactions: tuple[TransPlan, ...],
        *,
        remember: bool = False,
    ) -> StatusPlan:
        if remember:
            chain.last = report
        return StatusPlan(
            report=report,
            status=status,
            chain_order_id=chain.chain_order_id,
            order_id=chain.order_id,
            account_id=chain.account_id,
            user=chain.user,
            submitted_ns=chain.submitted_ns,
            fill_cnt=chain.fill_cnt,
            exec_instructions=chain.exec_instructions,
            transactions=transactions,
        )


def _day_offset(base: BaseTime, ns: int) -> int:
    """A "date in time format": midnight UTC of the day of ``ns``, as a base-time offset."""
    day_ms = (ns // _NS_PER_MS) // _MS_PER_DAY * _MS_PER_DAY
    return base.to_offset_ms(day_ms * _NS_PER_MS)


def _gtd_offset(base: BaseTime, report: ExecutionReport) -> int | None:
    if report.good_thru_date is None:
        return None
    return base.to_offset_ms(utc_midnight_ns(report.good_thru_date))


def _scaled(prices: PriceScale, price: Decimal | None) -> int | None:
    return None if price is None else prices.to_scaled(price)


def render_status(
    plan: StatusPlan,
    *,
    instrument: Instrument,
    contract_id: int,
    base: BaseTime,
    subscription_ids: list[int] | None = None,
    is_snapshot: bool = False,
) -> order_2.OrderStatus:
    """The ``OrderStatus`` of ``plan`` for one session."""
    report = plan.report
    prices = price_scale_of(instrument)
    avg = report.avg_fill_price
    status = order_2.OrderStatus(
        status=plan.status,
        order_id=plan.order_id,
        chain_order_id=plan.chain_order_id,
        fill_cnt=plan.fill_cnt,
        scaled_avg_fill_price=(
            int((avg / prices.scale).to_integral_value(ROUND_HALF_EVEN)) if avg is not None else 0
        ),
        avg_fill_price_correct=float(avg) if avg is not None else 0.0,
        entered_by_user=plan.user or "ec-mock",
        first_statement_date=_day_offset(base, plan.submitted_ns),
        account_id=plan.account_id,
    )
    if subscription_ids:
        status.subscription_ids.extend(subscription_ids)
    if is_snapshot:
        status.is_snapshot = True
    ts = report.ts_ns
    ns_to_timestamp(ts, status.status_utc_timestamp)
    ns_to_timestamp(plan.submitted_ns, status.submission_utc_timestamp)
    qty_to_cqg(report.filled_qty, status.fill_qty)
    remaining = 0 if report.state.is_final else max(report.qty - report.filled_qty, 0)
    qty_to_cqg(remaining, status.remaining_qty)
    if report.state is OrderState.REJECTED:
        ns_to_timestamp(ts, status.reject_utc_timestamp)
        status.reject_message = f"{report.reject_code}: {report.reject_text}"
    elif report.state is OrderState.CANCELLED:
        ns_to_timestamp(ts, status.cancel_utc_timestamp)
    if report.fill is not None:
        ns_to_timestamp(report.fill.ts_ns, status.fill_utc_timestamp)
    _fill_order(status.order, plan, report, prices=prices, contract_id=contract_id, base=base)
    for trans in plan.transactions:
        _fill_transaction(
            status.transaction_statuses.add(),
            trans,
            report,
            prices=prices,
            contract_id=contract_id,
            base=base,
        )
    return status


def _fill_order(
    order: order_2.Order,
    plan: StatusPlan,
    report: ExecutionReport,
    *,
    prices: PriceScale,
    contract_id: int,
    base: BaseTime,
) -> None:
    # the engine's reports always name their order (only a venue's reject of an
    # unknown order leaves these unset, and the server never renders one as an order)
    assert report.side is not None
    assert report.order_type is not None
    order.account_id = plan.account_id
    order.contract_id = contract_id
    order.cl_order_id = report.cl_order_id
    order.order_type = ORDER_TYPE_TO_CQG[report.order_type]
    order.duration = DURATION_TO_CQG[report.duration]
    order.side = SIDE_TO_CQG[report.side]
    qty_to_cqg(report.qty, order.qty)
    limit = _scaled(prices, report.limit_price)
    if limit is not None:
        order.scaled_limit_price = limit
    stop = _scaled(prices, report.stop_price)
    if stop is not None:
        order.scaled_stop_price = stop
    gtd = _gtd_offset(base, report)
    if gtd is not None:
        order.good_thru_date = gtd
    order.exec_instructions.extend(plan.exec_instructions)
    ns_to_timestamp(plan.submitted_ns, order.when_utc_timestamp)


def _fill_transaction(
    out: order_2.TransactionStatus,
    trans: TransPlan,
    report: ExecutionReport,
    *,
    prices: PriceScale,
    contract_id: int,
    base: BaseTime,
) -> None:
    out.status = trans.status
    out.trans_id = trans.trans_id
    out.cl_order_id = trans.cl_order_id
    if trans.orig_cl_order_id:
        out.orig_cl_order_id = trans.orig_cl_order_id
    ns_to_timestamp(trans.ts_ns, out.trans_utc_timestamp)
    if trans.reject_code is not None:
        out.reject_code = trans.reject_code
    if trans.text:
        out.text_message = trans.text
    fill = trans.fill
    if fill is not None:
        scaled = prices.to_scaled(fill.price)
        out.scaled_fill_price = scaled
        qty_to_cqg(fill.qty, out.fill_qty)
        trade = out.trades.add(
            trade_id=fill.fill_id,
            contract_id=contract_id,
            statement_date=_day_offset(base, fill.ts_ns),
            trade_date=_day_offset(base, fill.ts_ns),
            scaled_price=scaled,
            side=SIDE_TO_CQG[fill.side],
            price_correct=float(fill.price),
        )
        ns_to_timestamp(fill.ts_ns, trade.trade_utc_timestamp)
        qty_to_cqg(fill.qty, trade.qty)
        if fill.is_aggressor is not None:
            out.is_aggressive = trade.is_aggressive = fill.is_aggressor
    previous = trans.previous
    if previous is not None:
        qty_to_cqg(previous.qty, out.prev_order_qty)
        qty_to_cqg(report.qty, out.order_qty)
        for name, before, after in (
            ("limit_price", previous.limit_price, report.limit_price),
            ("stop_price", previous.stop_price, report.stop_price),
        ):
            if before is not None:
                setattr(out, f"scaled_prev_{name}", prices.to_scaled(before))
            if after is not None:
                setattr(out, f"scaled_{name}", prices.to_scaled(after))
        out.prev_duration = DURATION_TO_CQG[previous.duration]
        out.duration = DURATION_TO_CQG[report.duration]
