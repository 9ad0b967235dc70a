"""Every domain struct round-trips through msgspec JSON and msgpack, tagged unions included."""

from __future__ import annotations

import inspect
from datetime import date, time
from decimal import Decimal
from typing import Any

import ec_core.model
import msgspec
import pytest
from ec_core.calendar import Holiday, SessionHours, TradingCalendar
from ec_core.errors import Violation
from ec_core.model import (
    Account,
    AccountReport,
    Bar,
    BookDepth,
    BookLevel,
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    Fill,
    GoFlat,
    Instrument,
    LiquidateAll,
    MarginCall,
    MarketEvent,
    ModifyOrder,
    NewOrder,
    Order,
    OrderRequest,
    OrderState,
    OrderType,
    Position,
    PositionReport,
    Quote,
    ReportKind,
    RequestType,
    SessionEvent,
    SessionEventKind,
    Side,
    SmpInstruction,
    SnapshotComplete,
    Trade,
    TradeEvent,
    TradingHours,
)
from ec_core.plugins import PluginRecord, PluginStatus
from ec_core.vendor import Capability, VendorInfo
from hypothesis import given
from hypothesis import strategies as st

FILL = Fill(
    fill_id="f1",
    account_id="A1",
    symbol="ZNZ5",
    side=Side.SELL,
    qty=3,
    price=Decimal("112.015625"),
    ts_ns=1_700_000_000_000_000_001,
    cl_order_id="c2",
    chain_id="c1",
    venue_order_id="v9",
    commission=Decimal("2.10"),
    is_aggressor=False,
)
POSITION = Position(
    account_id="A1", symbol="ZNZ5", qty=-3, avg_price=Decimal("112.5"), realized_pnl=Decimal("-7")
)
ACCOUNT = Account(
    account_id="A1",
    name="demo",
    currency="EUR",
    balance=Decimal("100000.25"),
    buying_power=Decimal("5e4"),
)
NEW = NewOrder(
    account_id="A1",
    symbol="CLZ5",
    side=Side.BUY,
    qty=2,
    order_type=OrderType.STL,
    limit_price=Decimal("71.25"),
    stop_price=Decimal("71.20"),
    duration=Duration.GTD,
    good_thru_date=date(2026, 12, 18),
    exec_instructions=frozenset({ExecInstruction.AON, ExecInstruction.POST_ONLY}),
    cl_order_id="c1",
    is_manual=True,
    display_qty=1,
    min_qty=1,
    smp_id="DESK1",
    smp_instruction=SmpInstruction.CANCEL_AGGRESSING,
)
REQUESTS: list[OrderRequest] = [
    NEW,
    ModifyOrder(
        account_id="A1",
        symbol="CLZ5",
        orig_cl_order_id="c1",
        cl_order_id="c2",
        qty=3,
        limit_price=Decimal("71.30"),
        stop_price=Decimal("71.10"),
        duration=Duration.GTC,
        good_thru_date=date(2027, 1, 4),
    ),
    CancelOrder(account_id="A1", symbol="CLZ5", orig_cl_order_id="c2", cl_order_id="c3"),
    CancelAll(account_id="A1", symbol="CLZ5", cl_order_id="c4"),
    LiquidateAll(account_id="A1", symbol="CLZ5", cl_order_id="c5"),
    LiquidateAll(account_id="A1", symbol=None),
    GoFlat(account_id="A1", cl_order_id="c6"),
]
TRADE_EVENTS: list[TradeEvent] = [
    ExecutionReport(
        kind=ReportKind.FILL,
        account_id="A1",
        symbol="ZNZ5",
        cl_order_id="c2",
        state=OrderState.PARTIALLY_FILLED,
        side=Side.SELL,
        order_type=OrderType.LMT,
        qty=5,
        filled_qty=3,
        avg_fill_price=Decimal("112.015625"),
        limit_price=Decimal("112"),
        stop_price=Decimal("111"),
        duration=Duration.GTD,
        good_thru_date=date(2026, 12, 1),
        orig_cl_order_id="c1",
        chain_id="c1",
        venue_order_id="v9",
        fill=FILL,
        request_type=RequestType.MODIFY,
        reject_code="R7",
        reject_text="modify refused",
        ts_ns=5,
    ),
    PositionReport(position=POSITION, ts_ns=6),
    AccountReport(account=ACCOUNT, ts_ns=7),
    SnapshotComplete(account_id="A1", ts_ns=8),
    MarginCall(
        account_id="A1",
        currency="EUR",
        equity=Decimal("11000.50"),
        maintenance_margin=Decimal(11360),
        initial_margin=Decimal(12500),
        call_amount=Decimal("1499.50"),
        trade_date=date(2024, 1, 10),
        liquidating=True,
        ts_ns=9,
    ),
    SessionEvent(kind=SessionEventKind.GAP, detail="seq 41 -> 44", ts_ns=9),
]
MARKET_EVENTS: list[MarketEvent] = [
    Quote(symbol="ESZ5", ts_ns=1, bid=24000, bid_size=7, ask=24001, ask_size=2),
    Quote(symbol="ESZ5", ts_ns=1, bid=None, ask=24001, ask_size=2),
    Trade(symbol="ESZ5", ts_ns=2, price=-3, size=1, aggressor=Side.BUY),
]
OTHERS: list[msgspec.Struct] = [
    BookDepth(
        symbol="ESZ5",
        ts_ns=3,
        bids=(BookLevel(price=24000, size=7), BookLevel(price=23998, size=1)),
        asks=(BookLevel(price=24001, size=2),),
    ),
    BookLevel(price=-2, size=3),
    FILL,
    POSITION,
    ACCOUNT,
    Order(
        chain_id="c1",
        cl_order_id="c2",
        account_id="A1",
        symbol="CLZ5",
        side=Side.BUY,
        order_type=OrderType.STL,
        qty=4,
        state=OrderState.UNKNOWN,
        filled_qty=1,
        avg_fill_price=Decimal("70.01"),
        limit_price=Decimal("71.05"),
        stop_price=Decimal("71"),
        duration=Duration.IOC,
        good_thru_date=date(2026, 1, 2),
        exec_instructions=frozenset({ExecInstruction.ICEBERG}),
        venue_order_id="v1",
        reject_code="R1",
        reject_text="no",
        updated_ns=11,
    ),
    Instrument(
        symbol="ZNZ5",
        tick_size=Decimal(1) / Decimal(64),
        multiplier=Decimal(1000),
        currency="JPY",
        vendor_id="12345",
        description="10-Year T-Note",
        max_order_qty=50,
        min_price=Decimal(1) / Decimal(64),
        trading_hours=TradingHours(
            timezone="America/New_York", open=time(18), close=time(17), weekdays=(0, 1, 2, 3, 4, 6)
        ),
        calendar=TradingCalendar(
            timezone="America/New_York",
            sessions=(SessionHours(open=time(18), close=time(17), name="globex"),),
            holidays=(Holiday(day=date(2025, 12, 25), name="Christmas"),),
        ),
    ),
    TradingHours(timezone="Europe/Berlin", open=time(8), close=time(22), weekdays=(0, 2)),
    Bar(
        symbol="ESZ5",
        timeframe="1m",
        start_ns=0,
        end_ns=60,
        open=1,
        high=3,
        low=-1,
        close=2,
        volume=10,
        count=4,
    ),
    Violation(code="MAX_QTY", field="qty", rule="<= 10", value=11, limit=10),
    VendorInfo(
        name="mock",
        version="1.0",
        distribution="ec-mock",
        capabilities=frozenset({Capability.ORDERS, Capability.RECONNECT}),
        description="simulator",
        paper=True,
        default_account="MOCK-1",
    ),
    PluginRecord(
        name="x",
        distribution="ec-x",
        version="2",
        status=PluginStatus.FAILED,
        hooks=("ec_on_fill",),
        error="boom",
        builtin=True,
        warnings=("ec_on_fil is named like a hook",),
        parent="y",
    ),
]
EXAMPLES: list[Any] = [*REQUESTS, *TRADE_EVENTS, *MARKET_EVENTS, *OTHERS]
CODECS = [
    pytest.param(msgspec.json.encode, msgspec.json.decode, id="json"),
    pytest.param(msgspec.msgpack.encode, msgspec.msgpack.decode, id="msgpack"),
]


def model_structs() -> set[type]:
    return {
        obj
        for name in ec_core.model.__all__
        if inspect.isclass(obj := getattr(ec_core.model, name)) and issubclass(obj, msgspec.Struct)
    }


def test_every_model_struct_has_an_example_with_non_default_values() -> None:
    """A default value would round-trip even if its field were lost on the way."""
    assert model_structs() <= {type(x) for x in EXAMPLES}
    full: dict[type, Any] = {}
    for example in EXAMPLES:
        full.setdefault(type(example), example)  # the first example of each type is the full one
    for example in full.values():
        for field in msgspec.structs.fields(example):
            if field.default is not msgspec.NODEFAULT:
                assert getattr(example, field.name) != field.default, (type(example), field.name)


@pytest.mark.parametrize(("encode", "decode"), CODECS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda x: type(x).__name__)
def test_struct_round_trips(encode: Any, decode: Any, example: Any) -> None:
    back = decode(encode(example), type=type(example))
    assert back == example
    assert type(back) is type(example)


@pytest.mark.parametrize(("encode", "decode"), CODECS)
@pytest.mark.parametrize(
    ("union", "members"),
    [
        pytest.param(OrderRequest, REQUESTS, id="OrderRequest"),
        pytest.param(TradeEvent, TRADE_EVENTS, id="TradeEvent"),
        pytest.param(MarketEvent, MARKET_EVENTS, id="MarketEvent"),
    ],
)
def test_tagged_union_decodes_each_member_to_its_own_type(
    encode: Any, decode: Any, union: Any, members: list[Any]
) -> None:
    back = decode(encode(members), type=list[union])
    assert back == members
    assert [type(x) for x in back] == [type(x) for x in members]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: r.request_type.value)
def test_order_request_tag_is_its_request_type(request_: OrderRequest) -> None:
    document = msgspec.json.decode(msgspec.json.encode(request_))
    assert document["request_type"] == request_.request_type.value


def test_decimals_are_encoded_as_strings_never_floats() -> None:
    document = msgspec.json.decode(msgspec.json.encode(NEW))
    assert document["limit_price"] == "71.25"
    assert msgspec.json.decode(b'{"x": 0.1}', type=dict[str, Decimal]) == {"x": Decimal("0.1")}


@pytest.mark.parametrize(("encode", "decode"), CODECS)
def test_a_fill_written_before_is_aggressor_reads_as_not_known(encode: Any, decode: Any) -> None:
    """Journals and logs from before the field decode; their fills do not say the side."""
    document = msgspec.to_builtins(FILL)
    del document["is_aggressor"]
    back = decode(encode(document), type=Fill)
    assert back.is_aggressor is None
    assert back == msgspec.structs.replace(FILL, is_aggressor=None)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda x: type(x).__name__)
def test_unknown_fields_are_refused_and_facts_are_immutable(example: Any) -> None:
    document = msgspec.to_builtins(example)
    document["surprise"] = 1
    with pytest.raises(msgspec.ValidationError, match="surprise"):
        msgspec.convert(document, type=type(example))
    first = msgspec.structs.fields(example)[0].name
    with pytest.raises(AttributeError):
        setattr(example, first, getattr(example, first))


def test_unknown_request_type_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="request_type"):
        msgspec.json.decode(b'{"request_type": "EXPLODE", "account_id": "A"}', type=OrderRequest)


decimals = st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9))


@given(
    side=st.sampled_from(Side),
    order_type=st.sampled_from(OrderType),
    duration=st.sampled_from(Duration),
    qty=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    limit=st.none() | decimals,
    stop=st.none() | decimals,
    instructions=st.frozensets(st.sampled_from(ExecInstruction)),
    text=st.text(),
)
def test_any_new_order_round_trips(
    side: Side,
    order_type: OrderType,
    duration: Duration,
    qty: int,
    limit: Decimal | None,
    stop: Decimal | None,
    instructions: frozenset[ExecInstruction],
    text: str,
) -> None:
    order = NewOrder(
        account_id=text,
        symbol=text[::-1],
        side=side,
        qty=qty,
        order_type=order_type,
        limit_price=limit,
        stop_price=stop,
        duration=duration,
        exec_instructions=instructions,
        cl_order_id=text,
    )
    for encode, decode in (
        (msgspec.json.encode, msgspec.json.decode),
        (msgspec.msgpack.encode, msgspec.msgpack.decode),
    ):
        back = decode(encode(order), type=OrderRequest)
        assert back == order
        assert back.limit_price is None or str(back.limit_price) == str(limit)


def test_every_order_request_shares_one_base_and_its_rules() -> None:
    import typing

    from ec_core.model.orders import OrderRequest, RequestBase

    kinds = typing.get_args(OrderRequest)
    assert len(kinds) == 6
    for kind in kinds:
        assert issubclass(kind, RequestBase), kind
        config = kind.__struct_config__
        assert config.frozen, kind
        assert config.forbid_unknown_fields, kind
        assert config.tag_field == "request_type", kind
        example = msgspec.json.decode(
            msgspec.json.encode({"request_type": config.tag, **_required(kind)}), type=OrderRequest
        )
        assert type(example) is kind
        assert example.request_type == config.tag


def _required(kind: type) -> dict[str, object]:
    values: dict[str, object] = {
        "account_id": "A",
        "symbol": "EP",
        "side": "BUY",
        "qty": 1,
        "order_type": "MKT",
        "orig_cl_order_id": "c1",
    }
    names = {f.name for f in msgspec.structs.fields(kind) if f.required}
    return {name: values[name] for name in names}
