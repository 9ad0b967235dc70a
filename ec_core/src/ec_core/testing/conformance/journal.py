"""Invariants every vendor's execution reports keep, checked on each report as it arrives.

The kit feeds every :class:`~ec_core.model.ExecutionReport` it reads into a
:class:`TradeJournal`. The journal links the reports of one order chain (through
``chain_id`` and ``orig_cl_order_id``, as the tracker does) and fails at the first
report that breaks a rule, so a violation is reported where it happened, not as a
wrong number at the end of a test:

* each state follows the previous one of its chain by :func:`ec_core.model.can_transition`;
* every fill has a ``fill_id`` never seen before, and its quantity is exactly what
  ``filled_qty`` grew by; ``filled_qty`` never exceeds ``qty`` nor shrinks;
* ``FILLED`` means ``filled_qty == qty``; a partial fill is ``PARTIALLY_FILLED``, never
  ``WORKING``; a reject names a code.

It needs no pytest and no backend: feed it reports and read :meth:`TradeJournal.states`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import final

from ec_core.model import (
    FINAL_STATES,
    ExecutionReport,
    OrderState,
    ReportKind,
    RequestType,
    Side,
    TradeEvent,
    can_transition,
)

__all__ = ["ConformanceViolation", "TradeJournal"]

# States that say nothing has filled: a report in one of them with a fill is a lie.
_UNFILLED_STATES = frozenset({OrderState.PENDING_NEW, OrderState.WORKING})


class ConformanceViolation(AssertionError):
    """A report broke a rule of the vendor contract. ``code`` names the rule."""

    def __init__(self, code: str, message: str, *, report: ExecutionReport | None = None) -> None:
        super().__init__(f"{code}: {message}" + (f"\n  report: {report!r}" if report else ""))
        self.code = code
        self.report = report


@final
class _Chain:
    __slots__ = ("filled", "reports", "state")

    def __init__(self) -> None:
        self.state: OrderState | None = None
        self.filled = 0
        self.reports: list[ExecutionReport] = []


@final
class TradeJournal:
    """Every execution report seen, by order chain, with the rules checked on the way in."""

    def __init__(self) -> None:
        self._chains: dict[str, _Chain] = {}
        self._chain_of: dict[str, str] = {}
        self._fill_ids: dict[str, ExecutionReport] = {}

    # -- feeding -----------------------------------------------------------------

    def observe(self, event: TradeEvent) -> None:
        """Record ``event`` if it is an execution report; raise :class:`ConformanceViolation`."""
        if isinstance(event, ExecutionReport):
            self._record(event)

    def observe_all(self, events: Iterable[TradeEvent]) -> None:
        for event in events:
            self.observe(event)

    def _record(self, report: ExecutionReport) -> None:
        if self._is_request_reject(report):
            self._check_reject(report)
            return
        key = self._link(report)
        chain = self._chains.setdefault(key, _Chain())
        self._check_transition(chain, report)
        if report.kind is ReportKind.REJECTED:
            self._check_reject(report)
        self._check_quantities(chain, report)
        chain.state = report.state
        chain.reports.append(report)

    def _is_request_reject(self, report: ExecutionReport) -> bool:
        """A rejected modify/cancel of an order this journal never saw: no chain to move."""
        return (
            report.kind is ReportKind.REJECTED
            and report.request_type not in (None, RequestType.NEW)
            and self._known(report) is None
        )

    def _known(self, report: ExecutionReport) -> str | None:
        for candidate in (report.cl_order_id, report.orig_cl_order_id, report.chain_id):
            if candidate and candidate in self._chain_of:
                return self._chain_of[candidate]
        return None

    def _link(self, report: ExecutionReport) -> str:
        key = self._known(report) or report.chain_id or report.orig_cl_order_id
        key = key or report.cl_order_id
        for candidate in (report.cl_order_id, report.orig_cl_order_id, report.chain_id):
            if candidate:
                self._chain_of.setdefault(candidate, key)
        return key

    # -- rules -------------------------------------------------------------------

    def _check_transition(self, chain: _Chain, report: ExecutionReport) -> None:
        previous = chain.state
        if previous is None:
            if report.kind is ReportKind.STATUS:
                return  # a snapshot may start a chain in any state
            previous = OrderState.PENDING_NEW
        if (
            report.kind is ReportKind.REJECTED
            and report.request_type in (RequestType.MODIFY, RequestType.CANCEL)
            and report.state is OrderState.REJECTED
            and previous not in FINAL_STATES
        ):
            raise ConformanceViolation(
                "LIVE_ORDER_REPORTED_REJECTED",
                f"order {report.cl_order_id!r}: a rejected {report.request_type} of a live order"
                f" must report the order's unchanged state ({previous}), not REJECTED:"
                " the order stays live",
                report=report,
            )
        if not can_transition(previous, report.state):
            raise ConformanceViolation(
                "ILLEGAL_TRANSITION",
                f"order {report.cl_order_id!r}: {previous} -> {report.state} is not allowed"
                f" by ec_core.model.TRANSITIONS (report kind {report.kind})",
                report=report,
            )

    def _check_reject(self, report: ExecutionReport) -> None:
        if not report.reject_code:
            raise ConformanceViolation(
                "REJECT_WITHOUT_CODE",
                f"reject of {report.cl_order_id!r} carries no reject_code",
                report=report,
            )

    def _check_quantities(self, chain: _Chain, report: ExecutionReport) -> None:
        cl = report.cl_order_id
        if report.filled_qty > report.qty:
            raise ConformanceViolation(
                "OVERFILL", f"{cl!r}: filled {report.filled_qty} of {report.qty}", report=report
            )
        if report.filled_qty < chain.filled:
            raise ConformanceViolation(
                "FILLED_QTY_SHRANK",
                f"{cl!r}: filled_qty went from {chain.filled} to {report.filled_qty}",
                report=report,
            )
        if report.state is OrderState.FILLED and report.filled_qty != report.qty:
            raise ConformanceViolation(
                "FILLED_NOT_FULL",
                f"{cl!r}: state FILLED with {report.filled_qty} of {report.qty} filled",
                report=report,
            )
        if report.state in _UNFILLED_STATES and 0 < report.filled_qty < report.qty:
            raise ConformanceViolation(
                "PARTIAL_FILL_NOT_PARTIALLY_FILLED",
                f"a partial fill's state is PARTIALLY_FILLED: {cl!r} has {report.filled_qty}"
                f" of {report.qty} filled but reports {report.state}",
                report=report,
            )
        fill = report.fill
        if report.kind is ReportKind.FILL:
            if fill is None:
                raise ConformanceViolation(
                    "FILL_MISSING", f"{cl!r}: a FILL report without a fill", report=report
                )
            seen = self._fill_ids.get(fill.fill_id)
            if not fill.fill_id or seen is not None:
                raise ConformanceViolation(
                    "FILL_ID_NOT_UNIQUE",
                    f"{cl!r}: fill_id {fill.fill_id!r} is empty or was already used"
                    + (f" by {seen.cl_order_id!r}" if seen is not None else ""),
                    report=report,
                )
            self._fill_ids[fill.fill_id] = report
            grown = report.filled_qty - chain.filled
            if fill.qty != grown:
                raise ConformanceViolation(
                    "FILL_QTY_MISMATCH",
                    f"{cl!r}: fill of {fill.qty} but filled_qty grew by {grown}"
                    f" ({chain.filled} -> {report.filled_qty})",
                    report=report,
                )
            if fill.qty <= 0:
                raise ConformanceViolation(
                    "FILL_QTY_INVALID", f"{cl!r}: fill qty {fill.qty}", report=report
                )
        elif (
            report.kind is not ReportKind.STATUS
            and chain.state is not None
            and report.filled_qty != chain.filled
        ):
            raise ConformanceViolation(
                "FILLED_QTY_WITHOUT_FILL",
                f"{cl!r}: filled_qty moved {chain.filled} -> {report.filled_qty}"
                f" on a {report.kind} report",
                report=report,
            )
        chain.filled = report.filled_qty

    # -- reading -----------------------------------------------------------------

    def chain_key(self, cl_order_id: str) -> str | None:
        """The chain ``cl_order_id`` belongs to (its first id when the vendor links them)."""
        return self._chain_of.get(cl_order_id)

    def reports(self, cl_order_id: str) -> list[ExecutionReport]:
        """Every report of the chain of ``cl_order_id``, in arrival order."""
        key = self._chain_of.get(cl_order_id)
        return list(self._chains[key].reports) if key is not None else []

    def states(self, cl_order_id: str) -> list[OrderState]:
        return [r.state for r in self.reports(cl_order_id)]

    def fills(self, cl_order_id: str) -> list[ExecutionReport]:
        return [r for r in self.reports(cl_order_id) if r.kind is ReportKind.FILL]

    @property
    def fill_ids(self) -> frozenset[str]:
        return frozenset(self._fill_ids)

    def net_fills(self, account_id: str) -> dict[str, tuple[int, Decimal]]:
        """Per symbol, what the fills seen on ``account_id`` added to its position (bought
        minus sold), with the last fill's price."""
        net: dict[str, tuple[int, Decimal]] = {}
        for report in self._fill_ids.values():
            fill = report.fill
            if fill is None or fill.account_id != account_id:
                continue
            qty, _ = net.get(fill.symbol, (0, fill.price))
            signed = fill.qty if fill.side is Side.BUY else -fill.qty
            net[fill.symbol] = (qty + signed, fill.price)
        return net
