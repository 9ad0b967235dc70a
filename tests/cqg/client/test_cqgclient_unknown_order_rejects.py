"""A refused request that names no order the client knows (a bulk request, or a modify or
cancel of a chain the client no longer has): its report invents no side, type or
quantity (issue 14 §1: the venue cannot know them, :func:`ec_core.reports.unknown_order`).

The client denies a modify or cancel of an order it never had before sending, so this
drives the Sans-I/O trade book directly with the server's ``OrderRequestReject``.
"""

from __future__ import annotations

from collections import Counter

import pytest
from ec_core.model import (
    CancelAll,
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    OrderRequest,
    ReportKind,
    TradeEvent,
)
from ec_cqg.client.core.contracts import ContractDirectory
from ec_cqg.client.core.tradebook import TradeBook
from ec_cqg.protocol.pb import order_2

ACCOUNT = "101"


class Sink(list[TradeEvent]):
    def push(self, item: TradeEvent, /) -> None:
        self.append(item)

    def push_many(self, batch: object, /) -> None:
        self.extend(batch)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "request_",
    [
        CancelOrder(account_id=ACCOUNT, symbol="EP", orig_cl_order_id="gone", cl_order_id="c1"),
        ModifyOrder(
            account_id=ACCOUNT, symbol="EP", orig_cl_order_id="gone", cl_order_id="m1", qty=2
        ),
        CancelAll(account_id=ACCOUNT, symbol="EP", cl_order_id="a1"),
    ],
    ids=["cancel", "modify", "cancel-all"],
)
def test_a_reject_of_a_request_on_no_known_order_invents_no_order_fields(
    request_: OrderRequest,
) -> None:
    book = TradeBook(ContractDirectory(), Counter())
    sink = Sink()
    book.hub.subscribe(ACCOUNT, sink, 1)
    book.sent(7, request_)
    book.on_reject(7, order_2.OrderRequestReject(reject_code=4, text_message="no order"), 2)
    reject = sink[-1]
    assert isinstance(reject, ExecutionReport)
    assert reject.kind is ReportKind.REJECTED
    assert (reject.cl_order_id, reject.reject_code) == (request_.cl_order_id, "4")
    assert (reject.side, reject.order_type, reject.qty) == (None, None, 0), reject
