"""Requests the user asks for: symbol resolution, market data, orders, information.

Each builder returns the frame to write and, for a request someone waits on, its
:class:`~ec_cqg.client.core.calls.Call`, whose result is what the answers mean
(:mod:`.information` holds the messages and their interpreters). Only :meth:`order`
builds an order request, when the user asks: nothing here re-sends one by itself.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from ec_core.errors import ConnectionLostError
from ec_core.model import Account, ExecutionReport, Instrument, OrderRequest, ReportKind

import ec_cqg.client.core.information as info
from ec_cqg.client.core.calls import Call
from ec_cqg.client.core.state import ProtocolState
from ec_cqg.client.core.tradebook import Chain
from ec_cqg.protocol.codec import encode_client
from ec_cqg.protocol.correlation import Answer
from ec_cqg.protocol.mapping.requests import OrderTarget, build_order_request
from ec_cqg.protocol.pb import ClientMsg, order_2

__all__ = ["RequestBuilders"]


class RequestBuilders(ProtocolState):
    """Frames of the requests a user makes, and what their answers mean."""

    def resolve(self, symbol: str, *, deadline_ns: int) -> tuple[Call[Instrument], bytes]:
        def interpret(answers: list[Answer]) -> Instrument:
            return self.contracts.remember(symbol, info.resolution_of(symbol, answers))[0]

        msg = info.resolution_message(next(self._ids), symbol)
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def subscribe_market(
        self, contract_id: int, level: int, *, deadline_ns: int
    ) -> tuple[Call[None], bytes]:
        msg = info.market_data_message(contract_id, level, next(self._ids))
        return self.calls.start(
            msg,
            lambda answers: info.subscription_status_of(contract_id, answers),
            deadline_ns=deadline_ns,
        )

    # -- orders ------------------------------------------------------------------------

    def next_cl_order_id(self) -> str:
        return f"{self._cl_prefix}{next(self._cl_ids)}"

    def order(
        self, request: OrderRequest, target: OrderTarget, *, now_ns: int, deadline_ns: int
    ) -> tuple[int, bytes]:
        """The frame of one order request (with its request id), tracked for its answer.
        The shell calls :meth:`TradeBook.unsent` if it cannot write it."""
        request_id = next(self._ids)
        pb = build_order_request(
            request, request_id=request_id, target=target, now_ns=now_ns, base_time=self.base_time
        )
        msg = ClientMsg(order_requests=[pb])
        self.correlator.track(msg, deadline_ns=deadline_ns)
        self.book.sent(request_id, request)
        return request_id, encode_client(msg)

    # -- information ---------------------------------------------------------------------

    def accounts(self, *, deadline_ns: int) -> tuple[Call[list[Account]], bytes]:
        msg = info.accounts_message(next(self._ids))
        return self.calls.start(msg, info.accounts_of, deadline_ns=deadline_ns)

    def order_status(
        self, chain: Chain, account_id: str, *, deadline_ns: int
    ) -> tuple[Call[ExecutionReport | None], bytes]:
        """The server's word on ``chain``; our last report if it has none."""

        def interpret(answers: list[Answer]) -> ExecutionReport | None:
            status = info.order_status_of(answers)
            if status is None:
                return chain.last and msgspec.structs.replace(chain.last, kind=ReportKind.STATUS)
            last = self.contracts.mapper.reports(status)[-1]
            if chain.first_cl:
                last = msgspec.structs.replace(last, chain_id=chain.first_cl)
            return msgspec.structs.replace(last, kind=ReportKind.STATUS, fill=None)

        msg = info.order_status_message(next(self._ids), chain.chain_order_id, int(account_id))
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def historical_orders(
        self, account_id: str, start: datetime, end: datetime, *, deadline_ns: int
    ) -> tuple[Call[list[order_2.OrderStatus]], bytes]:
        base = self.base_time
        if base is None:
            raise ConnectionLostError("not logged on")
        msg = info.historical_orders_message(next(self._ids), base, int(account_id), start, end)
        return self.calls.start(msg, info.historical_statuses_of, deadline_ns=deadline_ns)

    def contract_metadata(self, contract_id: int, *, deadline_ns: int) -> tuple[Call[None], bytes]:
        """Learn a contract by id (an order placed elsewhere) into the directory."""

        def interpret(answers: list[Answer]) -> None:
            self.contracts.book.add_metadata(info.metadata_of(contract_id, answers))

        return self.calls.start(
            info.contract_metadata_message(next(self._ids), contract_id),
            interpret,
            deadline_ns=deadline_ns,
        )

    def status_report(self, status: order_2.OrderStatus) -> ExecutionReport:
        """The current report of a status outside the trade book (historical orders)."""
        last = self.contracts.mapper.reports(status)[-1]
        return msgspec.structs.replace(last, kind=ReportKind.STATUS, fill=None)

    def known_good_thru(self, day: date) -> int:
        if self.base_time is None:
            raise ConnectionLostError("not logged on")
        return self.base_time.from_date(day)
