"""Information requests: accounts, symbols, contract metadata, order history, sessions.

:class:`InformationDesk` answers one ``InformationRequest`` with one ``ServerMsg`` holding
its ``InformationReport``; a request of a kind the desk does not know is answered with
``STATUS_CODE_FAILURE`` naming it, never left unanswered. Each kind is one method named
in :data:`InformationDesk.HANDLERS` (the request's field name → method), so a new kind is
one entry and one method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, final

from google.protobuf.unknown_fields import UnknownFieldSet

from ec_cqg.protocol.pb import ServerMsg, order_2, trade_routing_2, webapi_2
from ec_cqg.server.accounts import AccountDirectory
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.orders import OrderChains
from ec_cqg.server.render import NS_PER_DAY, Renderer, day_start
from ec_cqg.server.requests import MAX_TIME_OFFSET_MS
from ec_cqg.server.sessioninfo import (
    DEFAULT_AHEAD_NS,
    DEFAULT_BACK_NS,
    MAX_SESSION_SPAN_NS,
    order_entitlements,
    session_information,
)
from ec_cqg.server.sessions import Session

if TYPE_CHECKING:
    from ec_mock.vendor.venue import MockVenue

__all__ = ["InformationDesk", "information_report"]

_IR = webapi_2.InformationReport
_Handler = Callable[[Session, webapi_2.InformationRequest, int], ServerMsg]
# the InformationRequest fields the desk answers (the protobuf stubs type HasField by name)
_Kind = Literal[
    "accounts_request",
    "symbol_resolution_request",
    "contract_metadata_request",
    "historical_orders_request",
    "order_status_request",
    "session_information_request",
    "order_entitlement_request",
]


def information_report(request_id: int, code: int, text: str = "") -> tuple[ServerMsg, Any]:
    """A ``ServerMsg`` holding one ``InformationReport`` (returned too, to fill in)."""
    msg = ServerMsg()
    report = msg.information_reports.add(id=request_id, status_code=code)
    if text:
        report.text_message = text
    return msg, report


@final
class InformationDesk:
    """Answers information requests from the engine's state (see the module docstring)."""

    HANDLERS: ClassVar[dict[_Kind, str]] = {
        "accounts_request": "_accounts",
        "symbol_resolution_request": "_symbol_resolution",
        "contract_metadata_request": "_contract_metadata",
        "historical_orders_request": "_historical_orders",
        "order_status_request": "_order_status",
        "session_information_request": "_session_information",
        "order_entitlement_request": "_order_entitlement",
    }

    def __init__(
        self,
        venue: MockVenue,
        accounts: AccountDirectory,
        chains: OrderChains,
        renderer: Renderer,
        config: ServerConfig,
    ) -> None:
        self._venue = venue
        self._directory = accounts
        self._chains = chains
        self._render = renderer
        self._config = config

    def answer(
        self, session: Session, request: webapi_2.InformationRequest, *, now_ns: int
    ) -> ServerMsg:
        for field, method in self.HANDLERS.items():
            if request.HasField(field):
                handler: _Handler = getattr(self, method)
                return handler(session, request, now_ns)
        unknown = UnknownFieldSet(request)
        numbers = ", ".join(str(unknown[i].field_number) for i in range(len(unknown)))
        msg, _ = information_report(
            request.id,
            _IR.STATUS_CODE_FAILURE,
            "information request not supported by the ec-mock CQG server"
            + (f" (InformationRequest field {numbers})" if numbers else ""),
        )
        return msg

    @staticmethod
    def _ok(request: webapi_2.InformationRequest) -> int:
        return _IR.STATUS_CODE_SUBSCRIBED if request.subscribe else _IR.STATUS_CODE_SUCCESS

    def _accounts(
        self, session: Session, request: webapi_2.InformationRequest, now_ns: int
    ) -> ServerMsg:
        msg, report = information_report(request.id, self._ok(request))
        report.accounts_report.CopyFrom(
            self._directory.report(session.accounts, base=session.base, today_ns=now_ns)
        )
        return msg

    def _symbol_resolution(
        self, session: Session, request: webapi_2.InformationRequest, now_ns: int
    ) -> ServerMsg:
        symbol = request.symbol_resolution_request.symbol
        exchange = self._venue.exchange
        if exchange.instrument(symbol) is None:
            listed = ", ".join(sorted(i.symbol for i in exchange.instruments()))
            msg, _ = information_report(
                request.id,
                _IR.STATUS_CODE_NOT_FOUND,
                f"symbol {symbol!r} not found (listed: {listed})",
            )
            return msg
        msg, report = information_report(request.id, self._ok(request))
        contract_id = session.contracts.id_of(symbol)
        session.contracts.announce(contract_id)
        report.symbol_resolution_report.contract_metadata.CopyFrom(
            self._render.metadata(session, contract_id)
        )
        return msg

    def _contract_metadata(
        self, session: Session, request: webapi_2.InformationRequest, now_ns: int
    ) -> ServerMsg:
        contract_id = request.contract_metadata_request.contract_id
        if session.contracts.symbol_of(contract_id) is None:
            msg, _ = information_report(
                request.id, _IR.STATUS_CODE_NOT_FOUND, f"unknown contract_id {contract_id}"
            )
            return msg
        msg, report = information_report(request.id, _IR.STATUS_CODE_SUCCESS)
        report.contract_metadata_report.contract_metadata.CopyFrom(
            self._render.metadata(session, contract_id)
        )
        return msg

    def _historical_orders(
        self, session: Session, request: webapi_2.InformationRequest, now_ns: int
    ) -> ServerMsg:
        history_request: trade_routing_2.HistoricalOrdersRequest = request.historical_orders_request
        base = session.base
        start = day_start(base.to_ns(history_request.from_date))
        end = (
            day_start(base.to_ns(history_request.to_date)) + NS_PER_DAY - 1
            if history_request.HasField("to_date")
            else now_ns
        )
        limit_days = self._config.history_days
        if start < day_start(now_ns) - limit_days * NS_PER_DAY or end < start:
            msg, _ = information_report(
                request.id,
                _IR.STATUS_CODE_INVALID_PARAMS,
                f"from_date must be within {limit_days} days back and not after to_date",
            )
            return msg
        accounts = self._directory.names_within(session.accounts, history_request.account_ids)
        if accounts is None:
            msg, _ = information_report(
                request.id, _IR.STATUS_CODE_INVALID_PARAMS, "unknown account_id"
            )
            return msg
        msg, report = information_report(request.id, _IR.STATUS_CODE_SUCCESS)
        history = report.historical_orders_report
        history.SetInParent()
        exchange = self._venue.exchange
        for account in accounts:
            for order in exchange.historical_orders(account, start, end):
                history.order_statuses.append(
                    self._render.order_status(session, self._chains.plan_snapshot(order), None)
                )
        return msg

    def _order_status(
        self, session: Session, request: webapi_2.InformationRequest, now_ns: int
    ) -> ServerMsg:
        status_request: order_2.OrderStatusRequest = request.order_status_request
        chain = self._chains.by_chain_order_id(status_request.chain_order_id)
        if chain is None or chain.venue_account not in session.accounts or chain.last is None:
            msg, _ = information_report(
                request.id,
                _IR.STATUS_CODE_NOT_FOUND,
                f"unknown chain_order_id {status_request.chain_order_id!r}",
            )
            return msg
        current = self._venue.exchange.order_status(chain.venue_account, chain.last.cl_order_id)
        msg, report = information_report(request.id, _IR.STATUS_CODE_SUCCESS)
        plan = self._chains.plan_snapshot(current or chain.last)
        report.order_status_report.order_status.CopyFrom(
            self._render.order_status(session, plan, None)
        )
        return msg

    def _session_information(
        self, session: Session, request: webapi_2.InformationRequest, now_ns: int
    ) -> ServerMsg:
        asked = request.session_information_request
        symbol = session.contracts.symbol_of(asked.session_info_id)  # the contract's id
        instrument = None if symbol is None else self._venue.exchange.instrument(symbol)
        if instrument is None:
            msg, _ = information_report(
                request.id,
                _IR.STATUS_CODE_NOT_FOUND,
                f"unknown session_info_id {asked.session_info_id}: resolve the symbol first",
            )
            return msg
        base = session.base
        for name in ("from_utc_time", "to_utc_time"):
            value = getattr(asked, name)
            if asked.HasField(name) and abs(value) > MAX_TIME_OFFSET_MS:
                msg, _ = information_report(
                    request.id,
                    _IR.STATUS_CODE_INVALID_PARAMS,
                    f"{name} {value} is out of range (within 100 years of base_time)",
                )
                return msg
        start = base.to_ns(asked.from_utc_time) if asked.HasField("from_utc_time") else None
        end = base.to_ns(asked.to_utc_time) if asked.HasField("to_utc_time") else None
        start = now_ns - DEFAULT_BACK_NS if start is None else start
        end = start + DEFAULT_BACK_NS + DEFAULT_AHEAD_NS if end is None else end
        if end <= start:
            msg, _ = information_report(
                request.id, _IR.STATUS_CODE_INVALID_PARAMS, "to_utc_time is not after from_utc_time"
            )
            return msg
        if end - start > MAX_SESSION_SPAN_NS:  # the work grows with the days: bound it
            msg, _ = information_report(
                request.id,
                _IR.STATUS_CODE_INVALID_PARAMS,
                "from_utc_time to to_utc_time spans more than 366 days: ask a year at a time",
            )
            return msg
        msg, report = information_report(request.id, _IR.STATUS_CODE_SUCCESS)
        report.session_information_report.CopyFrom(
            session_information(
                instrument.trading_calendar,
                asked.session_info_id,
                base=base,
                start_ns=start,
                end_ns=end,
            )
        )
        return msg

    def _order_entitlement(
        self, session: Session, request: webapi_2.InformationRequest, now_ns: int
    ) -> ServerMsg:
        asked = request.order_entitlement_request
        account = self._directory.name_of(asked.account_id)
        if session.contracts.symbol_of(asked.contract_id) is None:
            text = f"unknown contract_id {asked.contract_id}: resolve the symbol first"
        elif account is None or account not in session.accounts:
            text = f"account_id {asked.account_id} is not an account of this logon"
        else:
            msg, report = information_report(request.id, _IR.STATUS_CODE_SUCCESS)
            report.order_entitlement_report.CopyFrom(order_entitlements())
            return msg
        msg, _ = information_report(request.id, _IR.STATUS_CODE_NOT_FOUND, text)
        return msg
