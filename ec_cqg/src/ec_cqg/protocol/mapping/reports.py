"""CQG statuses and reports → core objects (execution reports, instruments, accounts).

An ``OrderStatus`` carries the order's whole current state plus the *new* transaction
statuses since the last one. :class:`ReportMapper` turns it into one core
:class:`~ec_core.model.ExecutionReport` per transaction (one per trade for fills), each
carrying the order's current state, as the core's FIX-like model expects; a status with no
transaction (a snapshot) gives one ``STATUS`` report. ``OrderStatus.order`` may be left out
when the order did not change, so the mapper remembers the last one per chain.

Prices come from scaled integers through the contract's :class:`PriceScale`, exactly;
``avg_fill_price_correct`` is an average (a double, off-grid by nature) and is converted
with :func:`~ec_cqg.protocol.prices.double_to_decimal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec
from ec_core.errors import ProtocolError
from ec_core.model import (
    Account,
    ExecutionReport,
    Fill,
    Instrument,
    ReportKind,
    Side,
)

from ec_cqg.protocol.mapping.codes import (
    duration_from_cqg,
    order_state_from_cqg,
    order_type_from_cqg,
    side_from_cqg,
    transaction_report_kind,
)
from ec_cqg.protocol.pb import decimal as decimal_pb
from ec_cqg.protocol.pb import metadata_2, order_2, trading_account_2
from ec_cqg.protocol.prices import PriceScale, double_to_decimal, qty_from_cqg
from ec_cqg.protocol.timestamps import BaseTime, timestamp_to_ns

__all__ = [
    "ContractBook",
    "ContractRef",
    "ReportMapper",
    "accounts_from_report",
    "instrument_from_metadata",
    "unseen_fill",
]


class ContractRef(msgspec.Struct, frozen=True, kw_only=True):
    """A resolved contract of this session: its CQG id, our symbol, its price scale."""

    contract_id: int
    symbol: str
    prices: PriceScale


class ContractBook:
    """Contracts resolved in this session, by CQG ``contract_id`` (valid for one session)."""

    def __init__(self) -> None:
        self._by_id: dict[int, ContractRef] = {}

    def add(self, ref: ContractRef) -> ContractRef:
        self._by_id[ref.contract_id] = ref
        return ref

    def add_metadata(
        self, metadata: metadata_2.ContractMetadata, *, symbol: str | None = None
    ) -> ContractRef:
        """Register from metadata; ``symbol`` defaults to ``contract_symbol``."""
        return self.add(
            ContractRef(
                contract_id=metadata.contract_id,
                symbol=symbol or metadata.contract_symbol,
                prices=PriceScale.from_metadata(metadata),
            )
        )

    def get(self, contract_id: int) -> ContractRef | None:
        return self._by_id.get(contract_id)

    def require(self, contract_id: int) -> ContractRef:
        ref = self._by_id.get(contract_id)
        if ref is None:
            raise ProtocolError(f"contract_id {contract_id} was never resolved in this session")
        return ref

    def clear(self) -> None:
        """Forget everything: contract ids are only valid until the next logon."""
        self._by_id.clear()

    def __len__(self) -> int:
        return len(self._by_id)


def instrument_from_metadata(
    metadata: metadata_2.ContractMetadata,
    *,
    symbol: str | None = None,
    negative_prices: bool = False,
) -> Instrument:
    """A core :class:`Instrument`: tick size exact, multiplier = tick value / tick size.

    CQG's metadata carries no lowest price. A futures outright (CFI code ``F…``) takes
    one tick: a price of zero or below is a typo the venue rejects, so ec denies it
    before sending. ``negative_prices`` (a product that trades below zero, such as
    crude oil in April 2020) and any other contract: no lowest price.

    A spread or strategy is not an outright: its price is a difference of legs, below
    zero routinely, so it gets no lowest price. CQG says so by setting the metadata's
    ``strategy_definition`` (field 30), whatever the exchange's CFI code; that is the
    signal ec trusts. The CFI rule (``FM…``: multi-leg, as CME codes its spreads; ISO
    10962 has no ``FM`` group) stays for metadata without it: a server that leaves the
    field out must not put a floor on a spread it codes ``FM``.
    """
    tick_size = double_to_decimal(metadata.tick_size)
    tick_value = double_to_decimal(metadata.tick_value)
    multiplier = tick_value / tick_size if tick_value > 0 else tick_size / tick_size
    cfi = metadata.cfi_code
    strategy = metadata.HasField("strategy_definition") or cfi.startswith("FM")
    outright_future = cfi.startswith("F") and not strategy
    return Instrument(
        symbol=symbol or metadata.contract_symbol,
        tick_size=tick_size,
        multiplier=multiplier,
        currency=metadata.currency or "USD",
        vendor_id=str(metadata.contract_id),
        description=metadata.title or metadata.description,
        min_price=tick_size if outright_future and not negative_prices else None,
    )


def accounts_from_report(report: trading_account_2.AccountsReport) -> list[Account]:
    """Every account of every brokerage and sales series, with CQG's id as ``account_id``."""
    return [
        Account(account_id=str(account.account_id), name=account.name)
        for brokerage in report.brokerages
        for series in brokerage.sales_series
        for account in series.accounts
    ]


class ReportMapper:
    """``OrderStatus`` → execution reports, for one session.

    Keeps the last ``Order`` seen per ``chain_order_id`` (CQG omits it when unchanged)
    and reads contracts from a :class:`ContractBook`, adding any ``contract_metadata``
    that statuses carry. ``base_time`` converts ``good_thru_date``; set it at each logon.
    """

    def __init__(self, contracts: ContractBook, *, base_time: BaseTime | None = None) -> None:
        self.contracts = contracts
        self.base_time = base_time
        self._orders: dict[str, order_2.Order] = {}

    def forget(self, chain_order_id: str) -> None:
        self._orders.pop(chain_order_id, None)

    def reports(self, status: order_2.OrderStatus, *, chain_id: str = "") -> list[ExecutionReport]:
        """Reports for one status, in transaction order. Raises :class:`ProtocolError`.

        ``chain_id`` (the chain's first client order id, when the caller knows it) is set
        on every report as it is built, instead of on a copy afterwards.
        """
        announced = status.contract_metadata
        if announced:  # (slices below: iterating a upb container costs far more)
            for metadata in announced[:]:
                self.contracts.add_metadata(metadata)
        if status.HasField("order"):
            # kept by reference: a decoded status is never mutated, and a copy per
            # status costs more than the rest of the mapping
            order = status.order
            self._orders[status.chain_order_id] = order
        else:
            found = self._orders.get(status.chain_order_id)
            if found is None:
                raise ProtocolError(
                    f"order status of chain {status.chain_order_id!r} has no order"
                    " and none was seen before"
                )
            order = found
        contract = self.contracts.require(order.contract_id)
        base = self._base(status, order, contract, chain_id)
        transactions = status.transaction_statuses
        if not transactions:
            return [
                msgspec.structs.replace(
                    base, kind=ReportKind.STATUS, ts_ns=timestamp_to_ns(status.status_utc_timestamp)
                )
            ]
        return [
            report
            for trans in transactions[:]
            for report in self._from_transaction(base, status, trans, contract)
        ]

    def _base(
        self,
        status: order_2.OrderStatus,
        order: order_2.Order,
        contract: ContractRef,
        chain_id: str = "",
    ) -> ExecutionReport:
        prices = contract.prices
        filled = _qty(
            status.fill_qty if status.HasField("fill_qty") else None,
            status.uint32_fill_qty if status.HasField("uint32_fill_qty") else None,
        )
        qty = _qty(
            order.qty if order.HasField("qty") else None,
            order.uint32_qty if order.HasField("uint32_qty") else None,
        )
        good_thru = None
        if order.HasField("good_thru_date") and self.base_time is not None:
            good_thru = self.base_time.to_date(order.good_thru_date)
        return ExecutionReport(
            kind=ReportKind.STATUS,
            account_id=str(status.account_id),
            symbol=contract.symbol,
            cl_order_id=order.cl_order_id,
            state=order_state_from_cqg(status.status, filled_qty=filled),
            side=side_from_cqg(order.side),
            order_type=order_type_from_cqg(order.order_type, order.exec_instructions),
            qty=qty,
            filled_qty=filled,
            avg_fill_price=(
                double_to_decimal(status.avg_fill_price_correct) if filled > 0 else None
            ),
            limit_price=(
                prices.to_price(order.scaled_limit_price)
                if order.HasField("scaled_limit_price")
                else None
            ),
            stop_price=(
                prices.to_price(order.scaled_stop_price)
                if order.HasField("scaled_stop_price")
                else None
            ),
            duration=duration_from_cqg(order.duration),
            good_thru_date=good_thru,
            venue_order_id=status.order_id,
            reject_text=status.reject_message,
            chain_id=chain_id,
        )

    def _from_transaction(
        self,
        base: ExecutionReport,
        status: order_2.OrderStatus,
        trans: order_2.TransactionStatus,
        contract: ContractRef,
    ) -> Iterator[ExecutionReport]:
        kind, request_type = transaction_report_kind(trans.status)
        report = msgspec.structs.replace(
            base,
            kind=kind,
            request_type=request_type,
            cl_order_id=trans.cl_order_id,
            orig_cl_order_id=trans.orig_cl_order_id,
            ts_ns=timestamp_to_ns(trans.trans_utc_timestamp),
        )
        if kind is ReportKind.REJECTED:
            report = msgspec.structs.replace(
                report,
                reject_code=str(trans.reject_code) if trans.HasField("reject_code") else "",
                reject_text=trans.text_message or status.reject_message,
            )
        if kind is not ReportKind.FILL:
            yield report
            return
        for fill in _fills(status, trans, contract, report):
            yield msgspec.structs.replace(report, fill=fill)


def _qty(value: decimal_pb.Decimal | None, legacy: int | None) -> int:
    try:
        return qty_from_cqg(value, legacy)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from exc


def _fills(
    status: order_2.OrderStatus,
    trans: order_2.TransactionStatus,
    contract: ContractRef,
    report: ExecutionReport,
) -> Iterable[Fill]:
    """One fill per trade; a transaction without trades is one fill with a derived id.
    Aggressor or passive: the trade's ``is_aggressive``, else the transaction's."""
    aggressive = trans.is_aggressive if trans.HasField("is_aggressive") else None

    def fill(
        fill_id: str, side: Side, qty: int, scaled: int, ts_ns: int, is_aggressor: bool | None
    ) -> Fill:
        return Fill(
            fill_id=fill_id,
            account_id=report.account_id,
            symbol=report.symbol,
            side=side,
            qty=qty,
            price=contract.prices.to_price(scaled),
            ts_ns=ts_ns,
            cl_order_id=trans.cl_order_id,
            venue_order_id=status.order_id,
            is_aggressor=is_aggressor,
        )

    if trans.trades:
        return [
            fill(
                trade.trade_id,
                side_from_cqg(trade.side),
                _qty(
                    trade.qty if trade.HasField("qty") else None,
                    trade.uint32_qty if trade.HasField("uint32_qty") else None,
                ),
                trade.scaled_price,
                timestamp_to_ns(trade.trade_utc_timestamp),
                trade.is_aggressive if trade.HasField("is_aggressive") else aggressive,
            )
            for trade in trans.trades[:]
        ]
    return [
        fill(
            f"{status.chain_order_id}:{trans.trans_id}",
            _side_of(report),
            _qty(
                trans.fill_qty if trans.HasField("fill_qty") else None,
                trans.uint32_fill_qty if trans.HasField("uint32_fill_qty") else None,
            ),
            trans.scaled_fill_price,
            timestamp_to_ns(trans.trans_utc_timestamp),
            aggressive,
        )
    ]


def unseen_fill(
    known: ExecutionReport | None, current: ExecutionReport, reported: int
) -> ExecutionReport | None:
    """The FILL for contracts filled while we were away that no trade accounts for.

    A snapshot status may carry no transactions and so no trades. ``known`` is what we
    last knew of the order (``None``: nothing). ``current`` is the snapshot's word, and
    ``reported`` the quantity its own trades already reported. The quantity is the
    filled-quantity delta. The price is that of the unseen contracts, from the two
    averages, and is an average itself when several fills went unseen. The id is
    deterministic (``<order id>:filled:<filled qty>``), so a replay is recognised.
    ``None`` when nothing is missing.
    """
    before = known.filled_qty if known is not None else 0
    missing = current.filled_qty - before - reported
    if missing <= 0 or current.avg_fill_price is None:
        return None
    total = current.avg_fill_price * current.filled_qty
    if known is not None and known.avg_fill_price is not None:
        total -= known.avg_fill_price * before
    fill = Fill(
        fill_id=f"{current.venue_order_id or current.chain_id}:filled:{current.filled_qty}",
        account_id=current.account_id,
        symbol=current.symbol,
        side=_side_of(current),
        qty=missing,
        price=(total / missing).normalize(),
        ts_ns=current.ts_ns,
        cl_order_id=current.cl_order_id,
        chain_id=current.chain_id,
        venue_order_id=current.venue_order_id,
    )
    return msgspec.structs.replace(current, kind=ReportKind.FILL, fill=fill)


def _side_of(report: ExecutionReport) -> Side:
    """The side of an order this mapping built (every report it makes names its order)."""
    if report.side is None:
        raise ValueError(f"{report.cl_order_id}: the report names no side")
    return report.side
