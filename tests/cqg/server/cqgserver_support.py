"""Helpers for the CQG-dialect server tests: a venue, a server core and a Sans-I/O client."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ec_core.clock import ManualClock
from ec_core.model import NewOrder, OrderType, Side
from ec_cqg.protocol.codec import decode_server, encode_client
from ec_cqg.protocol.pb import (
    ClientMsg,
    ServerMsg,
    order_2,
    user_session_2,
)
from ec_cqg.protocol.prices import decimal_to_cqg
from ec_cqg.protocol.timestamps import ns_to_timestamp
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.core import ConnectionCore, CqgServerCore
from ec_mock.faults import FaultPlan
from ec_mock.vendor import MockVenue
from ec_mock.vendor.venue import SIM_START_NS

USER = "alice"
PASSWORD = "s3cret-pw"
ACCOUNT = "TEST-1"


def accepts(user: str, password: str) -> bool:
    return user == USER and password == PASSWORD


def limit_order(
    cl: str, side: Side, qty: int, price: Decimal | str, *, account: str = ACCOUNT
) -> NewOrder:
    """A DAY limit order of EP to submit to the venue's engine directly (the book's
    other side, or a change of the book a test watches the server report)."""
    return NewOrder(
        account_id=account,
        symbol="EP",
        side=side,
        qty=qty,
        order_type=OrderType.LMT,
        limit_price=Decimal(price),
        cl_order_id=cl,
    )


def make_venue(*, market: bool = True, seed: int = 3) -> MockVenue:
    venue = MockVenue.create(
        seed=seed, clock=ManualClock(SIM_START_NS), accounts=[ACCOUNT], market=market
    )
    if market:
        venue.step(20)  # let the simulator build a book and print trades
    return venue


def make_server(
    venue: MockVenue, *, faults: FaultPlan | None = None, config: ServerConfig | None = None
) -> CqgServerCore:
    return CqgServerCore(venue, accepts, config=config, faults=faults, fault_seed=1)


class Client:
    """Drives one :class:`ConnectionCore` with ``ClientMsg`` objects; collects ``ServerMsg``."""

    def __init__(self, server: CqgServerCore, *, address: str = "") -> None:
        self.server = server
        self.connection: ConnectionCore = server.connect(address=address)
        self.received: list[ServerMsg] = []
        self.base_time = ""
        self.token = ""
        self.request_ids = iter(range(1, 1_000_000))

    def send(self, msg: ClientMsg) -> list[ServerMsg]:
        self.connection.receive(encode_client(msg))
        return self.collect()

    def collect(self) -> list[ServerMsg]:
        frames = [decode_server(f, strict=True) for f in self.connection.data_to_send()]
        self.received.extend(frames)
        return frames

    def logon(self, user: str = USER, password: str = PASSWORD, **fields: Any) -> ServerMsg:
        msg = ClientMsg()
        logon = msg.logon
        logon.user_name = user
        logon.password = password
        logon.client_app_id = "WebApiTest"
        logon.client_version = "python-client-test-2-230"
        logon.protocol_version_major = 2
        logon.protocol_version_minor = 230
        logon.session_settings.append(user_session_2.Logon.SESSION_SETTING_ALLOW_SESSION_RESTORE)
        for name, value in fields.items():
            setattr(logon, name, value)
        (answer,) = self.send(msg)
        result = answer.logon_result
        self.base_time = result.base_time
        self.token = result.session_token
        return answer

    def resolve(self, symbol: str, request_id: int = 1) -> ServerMsg:
        msg = ClientMsg()
        msg.information_requests.add(id=request_id).symbol_resolution_request.symbol = symbol
        (answer,) = self.send(msg)
        return answer

    def contract_id(self, symbol: str) -> int:
        answer = self.resolve(symbol, request_id=next(self.request_ids) + 500)
        return answer.information_reports[0].symbol_resolution_report.contract_metadata.contract_id

    def account_id(self) -> int:
        msg = ClientMsg()
        msg.information_requests.add(id=900).accounts_request.SetInParent()
        (answer,) = self.send(msg)
        report = answer.information_reports[0].accounts_report
        return report.brokerages[0].sales_series[0].accounts[0].account_id

    def subscribe_trades(self, sub_id: int = 2, scopes: Iterable[int] = (1,)) -> list[ServerMsg]:
        msg = ClientMsg()
        sub = msg.trade_subscriptions.add(id=sub_id, subscribe=True)
        sub.subscription_scopes.extend(scopes)
        return self.send(msg)

    def new_order(
        self,
        *,
        account_id: int,
        contract_id: int,
        cl_order_id: str,
        side: int = order_2.Order.SIDE_BUY,
        order_type: int = order_2.Order.ORDER_TYPE_MKT,
        qty: int = 1,
        duration: int = order_2.Order.DURATION_DAY,
        limit: int | None = None,
        stop: int | None = None,
        request_id: int | None = None,
    ) -> list[ServerMsg]:
        msg = ClientMsg()
        request = msg.order_requests.add(request_id=request_id or next(self.request_ids))
        order = request.new_order.order
        order.account_id = account_id
        order.contract_id = contract_id
        order.cl_order_id = cl_order_id
        order.order_type = order_type
        order.duration = duration
        order.side = side
        decimal_to_cqg(Decimal(qty), order.qty)
        if limit is not None:
            order.scaled_limit_price = limit
        if stop is not None:
            order.scaled_stop_price = stop
        ns_to_timestamp(self.server.now(), order.when_utc_timestamp)
        return self.send(msg)


def statuses(messages: Iterable[ServerMsg]) -> list[order_2.OrderStatus]:
    return [s for m in messages for s in m.order_statuses]


def codes(messages: Iterable[ServerMsg]) -> list[tuple[int, list[int]]]:
    """(order status, [transaction statuses]) of every order status received."""
    return [(s.status, [t.status for t in s.transaction_statuses]) for s in statuses(messages)]
