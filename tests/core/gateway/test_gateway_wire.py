"""The gateway's wire: core structs in a versioned MessagePack envelope, exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest
from ec_core.errors import Violation
from ec_core.gateway.layout import StreamLayout
from ec_core.gateway.wire import (
    WIRE_VERSION,
    Answer,
    Envelope,
    IntentMsg,
    MarketMsg,
    Outcome,
    Snapshot,
    TradeMsg,
    WireError,
    decode,
    encode,
)
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    Fill,
    ModifyOrder,
    NewOrder,
    Order,
    OrderState,
    OrderType,
    Position,
    Quote,
    ReportKind,
    Side,
    Trade,
)
from hypothesis import given
from hypothesis import strategies as st

prices = st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
)
ids = st.text(min_size=1, max_size=20)
qty = st.integers(min_value=-(2**63), max_value=2**63 - 1)

new_orders = st.builds(
    NewOrder,
    account_id=ids,
    symbol=ids,
    side=st.sampled_from(Side),
    qty=qty,
    order_type=st.sampled_from(OrderType),
    limit_price=st.none() | prices,
    stop_price=st.none() | prices,
    duration=st.sampled_from(Duration),
    good_thru_date=st.none() | st.dates(),
    exec_instructions=st.frozensets(st.sampled_from(ExecInstruction)),
    cl_order_id=ids,
    is_manual=st.booleans(),
)
modifies = st.builds(
    ModifyOrder,
    account_id=ids,
    symbol=ids,
    orig_cl_order_id=ids,
    cl_order_id=ids,
    qty=st.none() | qty,
    limit_price=st.none() | prices,
    duration=st.none() | st.sampled_from(Duration),
)
cancels = st.builds(CancelOrder, account_id=ids, symbol=ids, orig_cl_order_id=ids, cl_order_id=ids)
bulk = st.builds(CancelAll, account_id=ids, symbol=st.none() | ids, cl_order_id=ids)
orders = st.builds(
    Order,
    chain_id=ids,
    cl_order_id=ids,
    account_id=ids,
    symbol=ids,
    side=st.sampled_from(Side),
    order_type=st.sampled_from(OrderType),
    qty=qty,
    state=st.sampled_from(OrderState),
    filled_qty=qty,
    avg_fill_price=st.none() | prices,
    limit_price=st.none() | prices,
    good_thru_date=st.none() | st.dates(),
)
fills = st.builds(
    Fill,
    fill_id=ids,
    account_id=ids,
    symbol=ids,
    side=st.sampled_from(Side),
    qty=qty,
    price=prices,
    ts_ns=qty,
    commission=prices,
)
reports = st.builds(
    ExecutionReport,
    kind=st.sampled_from(ReportKind),
    account_id=ids,
    symbol=ids,
    cl_order_id=ids,
    state=st.sampled_from(OrderState),
    side=st.sampled_from(Side),
    order_type=st.sampled_from(OrderType),
    qty=qty,
    avg_fill_price=st.none() | prices,
    fill=st.none() | fills,
)
positions = st.builds(
    Position, account_id=ids, symbol=ids, qty=qty, avg_price=prices, realized_pnl=prices
)
quotes = st.builds(
    Quote, symbol=ids, ts_ns=qty, bid=st.none() | qty, ask=st.none() | qty, bid_size=qty
)
trades = st.builds(
    Trade, symbol=ids, ts_ns=qty, price=qty, size=qty, aggressor=st.none() | st.sampled_from(Side)
)
messages = st.one_of(
    st.builds(
        IntentMsg, worker=ids, request=new_orders | modifies | cancels | bulk, request_id=qty
    ),
    st.builds(
        Answer,
        intent_id=ids,
        outcome=st.sampled_from(Outcome),
        order=st.none() | orders,
        violations=st.lists(
            st.builds(Violation, code=ids, field=ids, rule=ids, value=st.none() | ids), max_size=3
        ).map(tuple),
    ),
    st.builds(TradeMsg, seq=st.integers(min_value=0, max_value=2**63 - 1), event=reports),
    st.builds(MarketMsg, seq=st.integers(min_value=0, max_value=2**63 - 1), event=quotes | trades),
    st.builds(
        Snapshot,
        hello_id=ids,
        account_id=ids,
        orders=st.lists(orders, max_size=3).map(tuple),
        positions=st.lists(positions, max_size=3).map(tuple),
        realized_pnl=prices,
    ),
)


@given(messages)
def test_every_message_round_trips_exactly(message: object) -> None:
    assert decode(encode(message)) == message  # type: ignore[arg-type]


@given(prices)
def test_a_decimal_keeps_its_exponent(price: Decimal) -> None:
    order = NewOrder(
        account_id="A",
        symbol="EP",
        side=Side.BUY,
        qty=1,
        order_type=OrderType.LMT,
        limit_price=price,
        good_thru_date=date(2026, 12, 7),
        cl_order_id="w.1",
    )
    back = decode(encode(IntentMsg(worker="w", request=order)))
    assert isinstance(back, IntentMsg)
    assert isinstance(back.request, NewOrder)
    assert str(back.request.limit_price) == str(price)  # 1.10 stays 1.10, not 1.1


def test_enums_come_back_as_enums() -> None:
    order = NewOrder(
        account_id="A",
        symbol="EP",
        side=Side.SELL,
        qty=1,
        order_type=OrderType.STP,
        exec_instructions=frozenset({ExecInstruction.AON}),
        cl_order_id="w.2",
    )
    back = decode(encode(IntentMsg(worker="w", request=order)))
    assert isinstance(back, IntentMsg)
    assert isinstance(back.request, NewOrder)
    assert back.request.side is Side.SELL
    assert back.request.order_type is OrderType.STP
    assert back.request.exec_instructions == frozenset({ExecInstruction.AON})


def test_another_version_is_named_not_guessed() -> None:
    body = IntentMsg(worker="w", request=CancelAll(account_id="A", cl_order_id="w.3"))
    data = msgspec.msgpack.encode(Envelope(v=WIRE_VERSION + 1, body=body))
    with pytest.raises(WireError, match=f"wire version {WIRE_VERSION + 1} is not {WIRE_VERSION}"):
        decode(data)


@pytest.mark.parametrize("data", [b"", b"\xc1", msgspec.msgpack.encode([1, {"kind": "nope"}])])
def test_a_malformed_entry_is_a_wire_error(data: bytes) -> None:
    with pytest.raises(WireError, match="malformed gateway message"):
        decode(data)


def test_stream_names_per_worker_account_and_symbol() -> None:
    layout = StreamLayout("desk")
    assert layout.intents == "desk:intents"
    assert layout.replies("w1") == "desk:replies:w1"
    assert layout.account("MOCK-1") == "desk:account:MOCK-1"
    assert layout.market("EP") == "desk:md:EP"
    with pytest.raises(ValueError, match="namespace"):
        StreamLayout("a b")
