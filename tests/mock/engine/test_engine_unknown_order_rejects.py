"""A modify or cancel naming an order the venue does not have: the reject invents nothing.

The venue cannot know the side, type or quantity of an order it never had; a report
that carries ``BUY``/``LMT``/``0`` there states what is not so (issue 14 §1: builders
leave them unset, ``None``/``None``/``0``, as :func:`ec_core.reports.unknown_order` does).
"""

from __future__ import annotations

import pytest
from ec_core.model import CancelOrder, ModifyOrder, OrderRequest, ReportKind, RequestType
from ec_core.reports import unknown_order
from ec_mock.engine import RejectCode
from engine_support import make_exchange


@pytest.mark.parametrize(
    "request_",
    [
        CancelOrder(account_id="A", symbol="ES", orig_cl_order_id="ghost", cl_order_id="c1"),
        ModifyOrder(account_id="A", symbol="ES", orig_cl_order_id="ghost", cl_order_id="m1", qty=2),
    ],
    ids=["cancel", "modify"],
)
def test_a_reject_of_an_unknown_order_leaves_side_type_and_qty_unset(
    request_: OrderRequest,
) -> None:
    ex, _, rec = make_exchange()
    ex.submit(request_)
    (reject,) = rec.rejects()
    assert reject.reject_code == RejectCode.UNKNOWN_ORDER
    assert (reject.side, reject.order_type, reject.qty) == (None, None, 0), reject
    assert reject.request_type is request_.request_type
    assert reject.kind is ReportKind.REJECTED
    # the same report core's builder makes from the request, but for the venue's text
    assert isinstance(request_, CancelOrder | ModifyOrder)
    built = unknown_order(request_, reject.reject_code, reject.reject_text, ts_ns=reject.ts_ns)
    assert reject == built
    assert reject.request_type in (RequestType.CANCEL, RequestType.MODIFY)
