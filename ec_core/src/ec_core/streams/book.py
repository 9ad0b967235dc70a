"""What a vendor last heard of its accounts: working orders, positions, the account.

A venue that *streams* events (the usual broker API, unlike an engine in process that
can be asked) leaves the vendor to remember them, because a ``TradeHub`` needs a
snapshot at once, synchronously, whenever someone subscribes or a channel overflows.
:class:`AccountBook` is that memory. Feed it every trade event in order
(``hub.publish(book.apply(event))``) and give it to the hub as its snapshot callback
(``TradeHub(book.snapshot)``).

What it keeps, following the rules of the conformance kit:

* a report of a live order replaces the one before (a ``MODIFIED`` report moves the order
  to its new client id); a report in a final state removes it;
* a ``REJECTED`` report changes nothing: a refused modify or cancel leaves the order in its
  state, and a refused new order never lived (even if it reused a live order's id);
* ``STATUS`` reports (the venue's own snapshot) are taken as any other report;
* the latest position per symbol and the latest account report, per account.
"""

from __future__ import annotations

from typing import final

import msgspec

from ec_core.model import (
    Account,
    AccountReport,
    ExecutionReport,
    Position,
    PositionReport,
    ReportKind,
    TradeEvent,
)

__all__ = ["AccountBook"]


@final
class AccountBook:
    """Working orders, positions and accounts as the venue last told them (module docstring)."""

    __slots__ = ("_accounts", "_orders", "_positions")

    def __init__(self) -> None:
        self._orders: dict[str, dict[str, ExecutionReport]] = {}  # account -> client id -> last
        self._positions: dict[str, dict[str, Position]] = {}  # account -> symbol -> position
        self._accounts: dict[str, Account] = {}

    def apply(self, event: TradeEvent) -> TradeEvent:
        """Remember what ``event`` changes; return it (to publish it next)."""
        if isinstance(event, ExecutionReport):
            self._apply_report(event)
        elif isinstance(event, PositionReport):
            position = event.position
            self._positions.setdefault(position.account_id, {})[position.symbol] = position
        elif isinstance(event, AccountReport):
            self._accounts[event.account.account_id] = event.account
        return event

    def _apply_report(self, report: ExecutionReport) -> None:
        orders = self._orders.setdefault(report.account_id, {})
        if report.kind is ReportKind.REJECTED:
            return  # a refused request: a live order is as it was; a refused new one never lived
        if report.orig_cl_order_id:
            orders.pop(report.orig_cl_order_id, None)
        if report.state.is_final:
            orders.pop(report.cl_order_id, None)
        else:
            orders[report.cl_order_id] = report

    def working(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        """The last report of a live order, by its current client id."""
        return self._orders.get(account_id, {}).get(cl_order_id)

    def open_orders(self, account_id: str) -> list[ExecutionReport]:
        """The account's live orders, oldest first, as ``STATUS`` reports."""
        orders = self._orders.get(account_id, {}).values()
        return [msgspec.structs.replace(r, kind=ReportKind.STATUS) for r in orders]

    def positions(self, account_id: str) -> list[Position]:
        return list(self._positions.get(account_id, {}).values())

    def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def snapshot(self, account_id: str, now_ns: int) -> list[TradeEvent]:
        """The hub's snapshot: live orders (``STATUS``), positions, then the account."""
        events: list[TradeEvent] = [
            msgspec.structs.replace(r, kind=ReportKind.STATUS, ts_ns=now_ns)
            for r in self._orders.get(account_id, {}).values()
        ]
        events.extend(PositionReport(position=p, ts_ns=now_ns) for p in self.positions(account_id))
        account = self._accounts.get(account_id)
        if account is not None:
            events.append(AccountReport(account=account, ts_ns=now_ns))
        return events
