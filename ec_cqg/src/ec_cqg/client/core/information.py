"""Information requests (accounts, symbols, contract metadata, order status, historical
orders) and market-data subscriptions: the client messages and what their answers mean.

Pure functions: a builder returns the ``ClientMsg``; an interpreter turns the answers
into a value or raises the typed error a caller catches. Historical market data (time
bars, time and sales) belongs beside this module, in its own one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ec_core.calendar import datetime_ns
from ec_core.errors import ProtocolError, SymbolNotFoundError
from ec_core.model import Account

from ec_cqg.protocol.correlation import Answer
from ec_cqg.protocol.mapping.reports import accounts_from_report
from ec_cqg.protocol.pb import ClientMsg, market_data_2, metadata_2, order_2, webapi_2
from ec_cqg.protocol.timestamps import BaseTime

__all__ = [
    "FAILURE",
    "SymbolNotFoundError",
    "accounts_message",
    "accounts_of",
    "check_info",
    "contract_metadata_message",
    "historical_orders_message",
    "historical_statuses_of",
    "market_data_message",
    "metadata_of",
    "order_status_message",
    "order_status_of",
    "resolution_message",
    "resolution_of",
    "subscription_status_of",
]

FAILURE: Final = 100  # status codes from here on are failures


def _information(request_id: int) -> tuple[ClientMsg, webapi_2.InformationRequest]:
    msg = ClientMsg()
    return msg, msg.information_requests.add(id=request_id)


def accounts_message(request_id: int) -> ClientMsg:
    msg, request = _information(request_id)
    request.accounts_request.SetInParent()
    return msg


def resolution_message(request_id: int, symbol: str) -> ClientMsg:
    msg, request = _information(request_id)
    request.symbol_resolution_request.symbol = symbol
    return msg


def contract_metadata_message(request_id: int, contract_id: int) -> ClientMsg:
    msg, request = _information(request_id)
    request.contract_metadata_request.contract_id = contract_id
    return msg


def order_status_message(request_id: int, chain_order_id: str, account_id: int) -> ClientMsg:
    msg, request = _information(request_id)
    request.order_status_request.chain_order_id = chain_order_id
    request.order_status_request.account_id = account_id
    return msg


def historical_orders_message(
    request_id: int, base: BaseTime, account_id: int, start: datetime, end: datetime
) -> ClientMsg:
    """Orders between ``start`` and ``end`` (naive means UTC)."""
    msg, request = _information(request_id)
    hist = request.historical_orders_request
    hist.from_date = base.to_offset_ms(datetime_ns(start, naive_as_utc=True))
    hist.to_date = base.to_offset_ms(datetime_ns(end, naive_as_utc=True))
    hist.account_ids.append(account_id)
    return msg


def market_data_message(contract_id: int, level: int, request_id: int) -> ClientMsg:
    request = market_data_2.MarketDataSubscription(
        contract_id=contract_id, level=level, request_id=request_id
    )
    return ClientMsg(market_data_subscriptions=[request])


def check_info(report: webapi_2.InformationReport, what: str) -> None:
    if report.status_code >= FAILURE:
        raise ProtocolError(
            f"{what} request failed with status {report.status_code}: {report.text_message}"
        )


def _reports(answers: list[Answer]) -> list[webapi_2.InformationReport]:
    out = []
    for answer in answers:
        report = answer.item
        assert isinstance(report, webapi_2.InformationReport)
        out.append(report)
    return out


def accounts_of(answers: list[Answer]) -> list[Account]:
    accounts: list[Account] = []
    for report in _reports(answers):
        check_info(report, "accounts")
        if report.HasField("accounts_report"):
            accounts.extend(accounts_from_report(report.accounts_report))
    return accounts


def resolution_of(symbol: str, answers: list[Answer]) -> metadata_2.ContractMetadata:
    for report in _reports(answers):
        if report.status_code >= FAILURE:
            raise SymbolNotFoundError(symbol, code=report.status_code, text=report.text_message)
        if report.HasField("symbol_resolution_report"):
            return report.symbol_resolution_report.contract_metadata
    raise SymbolNotFoundError(symbol, code=0, text="empty symbol resolution report")


def metadata_of(contract_id: int, answers: list[Answer]) -> metadata_2.ContractMetadata:
    for report in _reports(answers):
        check_info(report, "contract metadata")
        if report.HasField("contract_metadata_report"):
            return report.contract_metadata_report.contract_metadata
    raise ProtocolError(f"no metadata for contract {contract_id} in the answer")


def order_status_of(answers: list[Answer]) -> order_2.OrderStatus | None:
    """The order status answered, or None when the server has none (failure status)."""
    for report in _reports(answers):
        if report.status_code >= FAILURE:
            return None
        if report.HasField("order_status_report") and report.order_status_report.HasField(
            "order_status"
        ):
            return report.order_status_report.order_status
    return None


def historical_statuses_of(answers: list[Answer]) -> list[order_2.OrderStatus]:
    out: list[order_2.OrderStatus] = []
    for report in _reports(answers):
        check_info(report, "historical orders")
        if report.HasField("historical_orders_report"):
            out.extend(report.historical_orders_report.order_statuses)
    return out


def subscription_status_of(contract_id: int, answers: list[Answer]) -> None:
    status = answers[-1].item
    assert isinstance(status, market_data_2.MarketDataSubscriptionStatus)
    if status.status_code >= FAILURE:
        raise ProtocolError(
            f"market data subscription of contract {contract_id} refused"
            f" (status {status.status_code})"
        )
