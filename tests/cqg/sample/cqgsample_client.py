"""A small CQG WebAPI client in the shape of CQG's public Python samples, written from the
protocol alone: generated protobuf classes and a WebSocket, nothing of ec's client.

One blocking :class:`WebApiClient` sends a ``ClientMsg`` and receives ``ServerMsg``es; each
feature is a plain function over it (``logon``, ``resolve_symbol``, ``request_time_bars``
...), as the samples have one script per feature. What a user edits sits at the top of
the test that runs it: URL, user, password, account and symbol.

The server may interleave what it pushes (market data, order statuses, pings) with the
answer a function waits for: :meth:`WebApiClient.receive_until` answers pings and keeps
everything else it reads in :attr:`WebApiClient.received`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

from ec_cqg._proto.WebAPI import historical_2_pb2 as historical_2
from ec_cqg._proto.WebAPI import market_data_2_pb2 as market_data_2
from ec_cqg._proto.WebAPI import order_2_pb2 as order_2
from ec_cqg._proto.WebAPI import user_session_2_pb2 as user_session_2
from ec_cqg._proto.WebAPI import webapi_2_pb2 as webapi_2
from websockets.sync.client import ClientConnection, connect

__all__ = ["WebApiClient"]

PROTOCOL_VERSION_MAJOR = 2
PROTOCOL_VERSION_MINOR = 230
TIMEOUT_S = 20


class WebApiClient:
    """One WebSocket to a CQG WebAPI server; ``ClientMsg`` out, ``ServerMsg`` in."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._ws: ClientConnection | None = None
        self.received: list[Any] = []
        self._next_id = 100

    def connect(self, url: str) -> None:
        self._ws = self._stack.enter_context(connect(url, open_timeout=TIMEOUT_S, max_size=None))

    def disconnect(self) -> None:
        self._stack.close()
        self._ws = None

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def send_client_message(self, client_msg: Any) -> None:
        assert self._ws is not None, "connect first"
        self._ws.send(client_msg.SerializeToString())

    def receive_server_message(self) -> Any:
        assert self._ws is not None, "connect first"
        frame = self._ws.recv(timeout=TIMEOUT_S)
        assert isinstance(frame, bytes), "CQG frames are binary"
        server_msg = webapi_2.ServerMsg()
        server_msg.ParseFromString(frame)
        return server_msg

    def receive_until(self, found: Callable[[Any], Any]) -> Any:
        """Read until ``found(server_msg)`` is truthy and return it; pings get pongs."""
        while True:
            server_msg = self.receive_server_message()
            self.received.append(server_msg)
            if server_msg.HasField("ping"):
                pong = webapi_2.ClientMsg()
                pong.pong.token = server_msg.ping.token
                pong.pong.ping_utc_time = server_msg.ping.ping_utc_time
                pong.pong.pong_utc_time = server_msg.ping.ping_utc_time
                self.send_client_message(pong)
            result = found(server_msg)
            if result:
                return result


# -- session -----------------------------------------------------------------------------


def logon(client: WebApiClient, user_name: str, password: str) -> Any:
    """``logon`` → ``logon_result`` (result_code 0 is success)."""
    client_msg = webapi_2.ClientMsg()
    logon_msg = client_msg.logon
    logon_msg.user_name = user_name
    logon_msg.password = password
    logon_msg.client_app_id = "WebApiTest"
    logon_msg.client_version = "python-client-test-2-230"
    logon_msg.protocol_version_major = PROTOCOL_VERSION_MAJOR
    logon_msg.protocol_version_minor = PROTOCOL_VERSION_MINOR
    client.send_client_message(client_msg)
    return client.receive_until(lambda m: m.logon_result if m.HasField("logon_result") else None)


def logoff(client: WebApiClient) -> Any:
    """``logoff`` → ``logged_off``."""
    client_msg = webapi_2.ClientMsg()
    client_msg.logoff.SetInParent()
    client.send_client_message(client_msg)
    return client.receive_until(lambda m: m.logged_off if m.HasField("logged_off") else None)


# -- information -------------------------------------------------------------------------


def _information(client: WebApiClient, fill: Callable[[Any], None], report: str) -> Any:
    client_msg = webapi_2.ClientMsg()
    request = client_msg.information_requests.add()
    request.id = client.next_id()
    fill(request)
    client.send_client_message(client_msg)

    def answer(server_msg: Any) -> Any:
        for item in server_msg.information_reports:
            if item.id == request.id:
                return item
        return None

    information_report = client.receive_until(answer)
    assert information_report.status_code < 100, information_report
    return getattr(information_report, report)


def request_accounts(client: WebApiClient) -> Any:
    return _information(client, lambda r: r.accounts_request.SetInParent(), "accounts_report")


def resolve_symbol(client: WebApiClient, symbol: str) -> Any:
    def fill(request: Any) -> None:
        request.symbol_resolution_request.symbol = symbol

    return _information(client, fill, "symbol_resolution_report").contract_metadata


def request_session_information(
    client: WebApiClient, session_info_id: int, from_utc_time: int, to_utc_time: int
) -> Any:
    def fill(request: Any) -> None:
        session = request.session_information_request
        session.session_info_id = session_info_id
        session.from_utc_time = from_utc_time
        session.to_utc_time = to_utc_time

    return _information(client, fill, "session_information_report")


def request_order_entitlements(client: WebApiClient, contract_id: int, account_id: int) -> Any:
    def fill(request: Any) -> None:
        request.order_entitlement_request.contract_id = contract_id
        request.order_entitlement_request.account_id = account_id

    return _information(client, fill, "order_entitlement_report")


# -- subscriptions -----------------------------------------------------------------------


def subscribe_trades(client: WebApiClient, subscription_id: int) -> Any:
    """Orders, positions and collateral; returns the snapshot completion."""
    client_msg = webapi_2.ClientMsg()
    subscription = client_msg.trade_subscriptions.add()
    subscription.id = subscription_id
    subscription.subscribe = True
    subscription.subscription_scopes.extend([1, 2, 3])
    client.send_client_message(client_msg)

    def completion(server_msg: Any) -> Any:
        for item in server_msg.trade_snapshot_completions:
            if item.subscription_id == subscription_id:
                return item
        return None

    return client.receive_until(completion)


def subscribe_market_data(client: WebApiClient, contract_id: int, level: int) -> Any:
    client_msg = webapi_2.ClientMsg()
    subscription = client_msg.market_data_subscriptions.add()
    subscription.contract_id = contract_id
    subscription.request_id = client.next_id()
    subscription.level = level
    client.send_client_message(client_msg)

    def status(server_msg: Any) -> Any:
        for item in server_msg.market_data_subscription_statuses:
            if item.contract_id == contract_id:
                return item
        return None

    return client.receive_until(status)


# -- orders ------------------------------------------------------------------------------


def new_market_order(
    client: WebApiClient, account_id: int, contract_id: int, cl_order_id: str, qty: int
) -> None:
    client_msg = webapi_2.ClientMsg()
    order_request = client_msg.order_requests.add()
    order_request.request_id = client.next_id()
    order = order_request.new_order.order
    order.account_id = account_id
    order.when_utc_timestamp.GetCurrentTime()
    order.contract_id = contract_id
    order.cl_order_id = cl_order_id
    order.order_type = order_2.Order.ORDER_TYPE_MKT
    order.duration = order_2.Order.DURATION_DAY
    order.side = order_2.Order.SIDE_BUY
    order.qty.significand = qty
    order.qty.exponent = 0
    client.send_client_message(client_msg)


def to_decimal(value: Any) -> Decimal:
    """A ``cqg.Decimal`` as a Python Decimal."""
    return Decimal(value.significand).scaleb(value.exponent)


# -- history -----------------------------------------------------------------------------


def _history_reports(client: WebApiClient, field: str, request_id: int) -> list[Any]:
    """Every report of ``request_id`` up to the one with ``is_report_complete``."""
    reports: list[Any] = []

    def complete(server_msg: Any) -> bool:
        for item in getattr(server_msg, field):
            if item.request_id == request_id:
                reports.append(item)
                if item.is_report_complete:
                    return True
        return False

    client.receive_until(complete)
    return reports


def request_time_bars(
    client: WebApiClient, contract_id: int, bar_unit: int, from_utc_time: int
) -> list[Any]:
    client_msg = webapi_2.ClientMsg()
    request = client_msg.time_bar_requests.add()
    request.request_id = client.next_id()
    request.time_bar_parameters.contract_id = contract_id
    request.time_bar_parameters.bar_unit = bar_unit
    request.time_bar_parameters.from_utc_time = from_utc_time
    client.send_client_message(client_msg)
    return _history_reports(client, "time_bar_reports", request.request_id)


def request_time_and_sales(
    client: WebApiClient, contract_id: int, level: int, from_utc_time: int
) -> list[Any]:
    client_msg = webapi_2.ClientMsg()
    request = client_msg.time_and_sales_requests.add()
    request.request_id = client.next_id()
    request.time_and_sales_parameters.contract_id = contract_id
    request.time_and_sales_parameters.level = level
    request.time_and_sales_parameters.from_utc_time = from_utc_time
    client.send_client_message(client_msg)
    return _history_reports(client, "time_and_sales_reports", request.request_id)


BAR_UNIT_MIN = historical_2.BAR_UNIT_MIN
LEVEL_TRADES_BBA_VOLUMES = market_data_2.MarketDataSubscription.LEVEL_TRADES_BBA_VOLUMES
LOGOFF_BY_REQUEST = user_session_2.LoggedOff.LOGOFF_REASON_BY_REQUEST
