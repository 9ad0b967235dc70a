"""Core requests → CQG OrderRequest, OrderStatus → ExecutionReports, session results → errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ec_core.errors import AuthError, OrderDeniedError, ProtocolError
from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderState,
    OrderType,
    ReportKind,
    RequestType,
    Side,
)
from ec_cqg.protocol import codec
from ec_cqg.protocol.mapping import codes
from ec_cqg.protocol.mapping.reports import (
    ContractBook,
    ContractRef,
    ReportMapper,
    accounts_from_report,
    instrument_from_metadata,
    unseen_fill,
)
from ec_cqg.protocol.mapping.requests import OrderTarget, build_order_request
from ec_cqg.protocol.mapping.session import (
    check_logon_result,
    check_restore_result,
    logon_message,
    pong_message,
)
from ec_cqg.protocol.pb import (
    ClientMsg,
    metadata_2,
    order_2,
    shared_1,
    trading_account_2,
    user_session_2,
)
from ec_cqg.protocol.prices import PriceScale
from ec_cqg.protocol.timestamps import BaseTime
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = 1_730_376_000_123_000_000  # 2024-10-31T12:00:00.123Z
BASE = BaseTime("2024-10-31T12:00:00")
PRICES = PriceScale(correct_price_scale=0.01, tick_size=0.25)
TARGET = OrderTarget(account_id=16883045, contract_id=1, prices=PRICES, order_id="o-7")
OS = shared_1.OrderStatus
TS = shared_1.TransactionStatus


def _new(**overrides: object) -> NewOrder:
    fields: dict[str, object] = {
        "account_id": "16883045",
        "symbol": "ES",
        "side": Side.BUY,
        "qty": 2,
        "order_type": OrderType.LMT,
        "limit_price": Decimal("4500.25"),
        "cl_order_id": "c1",
    }
    fields.update(overrides)
    return NewOrder(**fields)  # type: ignore[arg-type]


def test_new_limit_order() -> None:
    req = build_order_request(_new(), request_id=5, target=TARGET, now_ns=NOW)
    order = req.new_order.order
    assert req.request_id == 5
    assert req.is_automated is True
    assert (order.account_id, order.contract_id, order.cl_order_id) == (16883045, 1, "c1")
    assert order.side == order_2.Order.SIDE_BUY
    assert order.order_type == order_2.Order.ORDER_TYPE_LMT
    assert order.duration == order_2.Order.DURATION_DAY
    assert (order.qty.significand, order.qty.exponent) == (2, 0)
    assert order.scaled_limit_price == 450025
    assert not order.HasField("scaled_stop_price")
    assert (order.when_utc_timestamp.seconds, order.when_utc_timestamp.nanos) == (
        1730376000,
        123_000_000,
    )
    assert not order.HasField("when_utc_time")  # deprecated twin only in legacy mode
    assert codec.encode_client(ClientMsg(order_requests=[req]))  # every required field set


def test_new_order_legacy_fields_and_gtd() -> None:
    req = build_order_request(
        _new(
            order_type=OrderType.STL,
            stop_price=Decimal("4499.75"),
            duration=Duration.GTD,
            good_thru_date=date(2024, 11, 2),
            exec_instructions=frozenset({ExecInstruction.AON}),
            is_manual=True,
        ),
        request_id=6,
        target=TARGET,
        now_ns=NOW,
        base_time=BASE,
        legacy=True,
    )
    order = req.new_order.order
    assert order.when_utc_time == 123
    assert order.uint32_qty == 2
    assert order.is_manual is True
    assert req.is_automated is False
    assert order.scaled_stop_price == 449975
    assert order.duration == order_2.Order.DURATION_GTD
    assert BASE.to_date(order.good_thru_date) == date(2024, 11, 2)
    assert list(order.exec_instructions) == [order_2.Order.EXEC_INSTRUCTION_AON]


def test_new_order_denials_list_every_violation() -> None:
    bad = _new(
        qty=0,
        cl_order_id="x" * 65,
        limit_price=Decimal("4500.10"),
        stop_price=Decimal("4500"),
        duration=Duration.GTD,
    )
    with pytest.raises(OrderDeniedError) as info:
        build_order_request(bad, request_id=1, target=TARGET, now_ns=NOW)
    fields = sorted(v.field for v in info.value.violations)
    assert fields == ["cl_order_id", "good_thru_date", "limit_price", "qty", "stop_price"]
    assert all(v.code == "CQG_REQUEST" for v in info.value.violations)
    market_with_price = _new(order_type=OrderType.MKT)
    with pytest.raises(OrderDeniedError, match="not allowed for MKT"):
        build_order_request(market_with_price, request_id=1, target=TARGET, now_ns=NOW)


def test_modify_and_cancel() -> None:
    modify = ModifyOrder(
        account_id="1",
        symbol="ES",
        orig_cl_order_id="c1",
        cl_order_id="c2",
        qty=3,
        limit_price=Decimal("4501"),
    )
    req = build_order_request(modify, request_id=7, target=TARGET, now_ns=NOW)
    assert req.modify_order.order_id == "o-7"
    assert (req.modify_order.orig_cl_order_id, req.modify_order.cl_order_id) == ("c1", "c2")
    assert req.modify_order.qty.significand == 3
    assert req.modify_order.scaled_limit_price == 450100
    assert not req.modify_order.HasField("duration")
    cancel = CancelOrder(account_id="1", symbol="ES", orig_cl_order_id="c2", cl_order_id="c3")
    req = build_order_request(cancel, request_id=8, target=TARGET, now_ns=NOW)
    assert (req.cancel_order.order_id, req.cancel_order.cl_order_id) == ("o-7", "c3")
    assert req.cancel_order.account_id == 16883045
    no_order_id = OrderTarget(account_id=1)
    with pytest.raises(OrderDeniedError, match="order_id"):
        build_order_request(cancel, request_id=9, target=no_order_id, now_ns=NOW)


def test_account_wide_requests() -> None:
    account_only = OrderTarget(account_id=42)
    req = build_order_request(CancelAll(account_id="42"), request_id=1, target=TARGET, now_ns=NOW)
    (cancel_filter,) = req.cancel_all_orders.account_order_filters
    assert (cancel_filter.account_id, cancel_filter.contract_id) == (16883045, 1)
    req = build_order_request(
        LiquidateAll(account_id="42"), request_id=2, target=account_only, now_ns=NOW
    )
    (position_filter,) = req.liquidate_all.account_position_filters
    assert position_filter.account_id == 42
    assert not position_filter.HasField("contract_id")
    assert req.liquidate_all.when_utc_timestamp.seconds == NOW // 10**9
    req = build_order_request(
        GoFlat(account_id="42"), request_id=3, target=account_only, now_ns=NOW
    )
    assert list(req.go_flat.account_ids) == [42]
    assert codec.encode_client(ClientMsg(order_requests=[req]))


# reports -----------------------------------------------------------------------------


def _mapper() -> ReportMapper:
    book = ContractBook()
    book.add(ContractRef(contract_id=1, symbol="ES", prices=PRICES))
    return ReportMapper(book, base_time=BASE)


def _status(status: int, *, fill_qty: int = 0, with_order: bool = True) -> order_2.OrderStatus:
    out = order_2.OrderStatus(
        status=status,
        order_id="o-1",
        chain_order_id="chain-1",
        account_id=16883045,
        fill_cnt=1 if fill_qty else 0,
        scaled_avg_fill_price=450025 if fill_qty else 0,
        avg_fill_price_correct=4500.25 if fill_qty else 0.0,
    )
    out.status_utc_timestamp.seconds = 1_730_376_001
    if fill_qty:
        out.fill_qty.significand = fill_qty
    if with_order:
        order = out.order
        order.account_id, order.contract_id, order.cl_order_id = 16883045, 1, "c1"
        order.order_type = order_2.Order.ORDER_TYPE_LMT
        order.duration = order_2.Order.DURATION_DAY
        order.side = order_2.Order.SIDE_SELL
        order.qty.significand = 2
        order.scaled_limit_price = 450025
    return out


def _trans(
    status: order_2.OrderStatus, code: int, trans_id: int, **fields: object
) -> order_2.TransactionStatus:
    trans = status.transaction_statuses.add(status=code, trans_id=trans_id, cl_order_id="c1")
    trans.trans_utc_timestamp.seconds = 1_730_376_000 + trans_id
    for name, value in fields.items():
        setattr(trans, name, value)
    return trans


def test_place_then_fill_lifecycle() -> None:
    mapper = _mapper()
    working = _status(OS.WORKING)
    _trans(working, TS.IN_TRANSIT, 1)
    _trans(working, TS.ACK_PLACE, 2)
    reports = mapper.reports(working)
    assert [(r.kind, r.request_type) for r in reports] == [
        (ReportKind.STATUS, RequestType.NEW),
        (ReportKind.ACCEPTED, RequestType.NEW),
    ]
    accepted = reports[1]
    assert (accepted.state, accepted.side, accepted.order_type) == (
        OrderState.WORKING,
        Side.SELL,
        OrderType.LMT,
    )
    assert (accepted.account_id, accepted.symbol, accepted.qty) == ("16883045", "ES", 2)
    assert accepted.limit_price == Decimal("4500.25")
    assert accepted.venue_order_id == "o-1"
    assert accepted.ts_ns == (1_730_376_000 + 2) * 10**9

    partial = _status(OS.WORKING, fill_qty=1, with_order=False)  # order omitted: remembered
    trans = _trans(partial, TS.FILL, 3, scaled_fill_price=450025)
    trade = trans.trades.add(
        trade_id="t-1", contract_id=1, scaled_price=450025, side=2, price_correct=4500.25
    )
    trade.qty.significand = 1
    trade.trade_utc_timestamp.seconds = 1_730_376_003
    (fill_report,) = mapper.reports(partial)
    assert fill_report.kind is ReportKind.FILL
    assert fill_report.state is OrderState.PARTIALLY_FILLED
    assert (fill_report.filled_qty, fill_report.avg_fill_price) == (1, Decimal("4500.25"))
    assert fill_report.fill is not None
    assert (fill_report.fill.fill_id, fill_report.fill.qty) == ("t-1", 1)
    assert fill_report.fill.price == Decimal("4500.25")
    assert fill_report.fill.side is Side.SELL

    filled = _status(OS.FILLED, fill_qty=2, with_order=False)
    _trans(filled, TS.FILL, 4, scaled_fill_price=450050).fill_qty.significand = 1
    (last,) = mapper.reports(filled)
    assert last.state is OrderState.FILLED
    assert last.fill is not None
    assert (last.fill.fill_id, last.fill.price, last.fill.qty) == (
        "chain-1:4",
        Decimal("4500.50"),
        1,
    )


@pytest.mark.parametrize(
    ("on_trans", "on_trades", "expected"),
    [
        (None, [None], [None]),  # a venue that does not say
        (True, [None], [True]),  # the transaction's flag stands for its trades
        (False, [None, True], [False, True]),  # a trade's own flag wins
    ],
)
def test_a_fill_is_aggressor_or_passive_as_the_trade_or_transaction_says(
    on_trans: bool | None, on_trades: list[bool | None], expected: list[bool | None]
) -> None:
    status = _status(OS.WORKING, fill_qty=len(on_trades))
    trans = _trans(status, TS.FILL, 3, scaled_fill_price=450025)
    if on_trans is not None:
        trans.is_aggressive = on_trans
    for n, flag in enumerate(on_trades):
        trade = trans.trades.add(
            trade_id=f"t-{n}", contract_id=1, scaled_price=450025, side=2, price_correct=4500.25
        )
        trade.qty.significand = 1
        trade.trade_utc_timestamp.seconds = 1_730_376_003
        if flag is not None:
            trade.is_aggressive = flag
    reports = _mapper().reports(status)
    assert [r.fill.is_aggressor for r in reports if r.fill is not None] == expected


def test_a_fill_without_trades_takes_the_transactions_flag() -> None:
    status = _status(OS.WORKING, fill_qty=1)
    trans = _trans(status, TS.FILL, 3, scaled_fill_price=450025, is_aggressive=False)
    trans.fill_qty.significand = 1
    (report,) = _mapper().reports(status)
    assert report.fill is not None
    assert report.fill.is_aggressor is False


def test_rejects_carry_code_and_text() -> None:
    status = _status(OS.WORKING)
    _trans(status, TS.REJECT_CANCEL, 5, reject_code=17, text_message="too late")
    (report,) = _mapper().reports(status)
    assert (report.kind, report.request_type) == (ReportKind.REJECTED, RequestType.CANCEL)
    assert (report.reject_code, report.reject_text) == ("17", "too late")
    assert report.state is OrderState.WORKING  # a rejected cancel leaves the order working


def test_snapshot_without_transactions_is_one_status_report() -> None:
    (report,) = _mapper().reports(_status(OS.CANCELLED))
    assert (report.kind, report.state) == (ReportKind.STATUS, OrderState.CANCELLED)
    assert report.ts_ns == 1_730_376_001 * 10**9


def test_unknown_chain_and_unknown_contract_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError, match="no order"):
        _mapper().reports(_status(OS.WORKING, with_order=False))
    status = _status(OS.WORKING)
    status.order.contract_id = 99
    with pytest.raises(ProtocolError, match="99"):
        _mapper().reports(status)
    status.contract_metadata.add(
        contract_id=99, contract_symbol="NQ", correct_price_scale=0.25, tick_size=0.25
    )
    (report,) = _mapper().reports(status)
    assert report.symbol == "NQ"
    assert report.limit_price == Decimal("112506.25")


@pytest.mark.parametrize(("code", "state"), sorted(codes.ORDER_STATUS_TO_STATE.items()))
def test_every_order_status_code_maps(code: int, state: OrderState) -> None:
    assert codes.order_state_from_cqg(code) is state


def test_code_tables_are_total_and_reversible() -> None:
    assert set(codes.SIDE_TO_CQG) == set(Side)
    assert set(codes.ORDER_TYPE_TO_CQG) == set(OrderType)
    assert set(codes.DURATION_TO_CQG) == set(Duration)
    assert set(codes.EXEC_INSTRUCTION_TO_CQG) == set(ExecInstruction)
    for duration, code in codes.DURATION_TO_CQG.items():
        assert codes.duration_from_cqg(code) is duration
    assert set(codes.ORDER_STATUS_TO_STATE) == {v.number for v in OS.Status.DESCRIPTOR.values}
    assert set(codes.TRANSACTION_TO_REPORT) == {v.number for v in TS.Status.DESCRIPTOR.values}
    assert codes.order_state_from_cqg(3, filled_qty=1) is OrderState.PARTIALLY_FILLED
    assert codes.order_state_from_cqg(999) is OrderState.UNKNOWN
    with pytest.raises(ProtocolError, match="order_type code 5"):
        codes.order_type_from_cqg(order_2.Order.ORDER_TYPE_CROSS)


# session, accounts, instruments ---------------------------------------------------------


def _logon_result(code: int, **fields: object) -> user_session_2.LogonResult:
    result = user_session_2.LogonResult(
        result_code=code,
        base_time="2024-10-31T12:00:00",
        protocol_version_major=2,
        protocol_version_minor=230,
        server_time=5,
    )
    for name, value in fields.items():
        setattr(result, name, value)
    return result


def test_logon_message_and_results() -> None:
    msg = logon_message(user_name="u", password="p", client_app_id="ec", client_version="ec-0.1")
    assert (msg.logon.protocol_version_major, msg.logon.protocol_version_minor) == (2, 230)
    assert list(msg.logon.session_settings) == [1]
    assert check_logon_result(_logon_result(0)) == BASE
    with pytest.raises(AuthError) as info:
        check_logon_result(_logon_result(101, text_message="Invalid password"))
    assert info.value.code == 101
    assert "Invalid password" in str(info.value)
    with pytest.raises(AuthError, match="redirect to wss://other"):
        check_logon_result(_logon_result(106, redirect_url="wss://other"))
    with pytest.raises(ProtocolError, match="protocol 3"):
        check_logon_result(_logon_result(0, protocol_version_major=3))
    restore = user_session_2.RestoreOrJoinSessionResult(
        result_code=101, base_time="x", server_time=0
    )
    with pytest.raises(AuthError, match="unknown or expired session token"):
        check_restore_result(restore)


def test_pong_echoes_the_ping() -> None:
    pong = pong_message(user_session_2.Ping(token="t", ping_utc_time=-5), pong_utc_time=9)
    assert (pong.pong.token, pong.pong.ping_utc_time, pong.pong.pong_utc_time) == ("t", -5, 9)


def test_accounts_and_instrument() -> None:
    report = trading_account_2.AccountsReport()
    brokerage = report.brokerages.add(id=1, name="B")
    series = brokerage.sales_series.add(number="1", name="S")
    series.accounts.add(
        account_id=16883045, brokerage_account_number="X", name="Main", last_statement_date=0
    )
    (account,) = accounts_from_report(report)
    assert (account.account_id, account.name) == ("16883045", "Main")
    metadata = metadata_2.ContractMetadata(
        contract_id=1,
        contract_symbol="F.US.EP",
        correct_price_scale=0.01,
        tick_size=0.25,
        tick_value=12.5,
        currency="USD",
        title="E-mini S&P 500",
    )
    instrument = instrument_from_metadata(metadata, symbol="ES")
    assert (instrument.symbol, instrument.vendor_id) == ("ES", "1")
    assert (instrument.tick_size, instrument.multiplier) == (Decimal("0.25"), Decimal(50))
    assert instrument.tick_value == Decimal("12.5")
    assert instrument.description == "E-mini S&P 500"


def _filled(fills: list[tuple[int, int]], *, order_qty: int) -> ExecutionReport:
    """An order report after ``fills`` (qty, price in quarters) with its exact average."""
    qty = sum(q for q, _ in fills)
    total = sum((Decimal(q) * Decimal(p) / 4 for q, p in fills), Decimal(0))
    return ExecutionReport(
        kind=ReportKind.STATUS,
        account_id="1",
        symbol="EP",
        cl_order_id="c1",
        chain_id="c1",
        venue_order_id="v1",
        state=OrderState.FILLED if qty == order_qty else OrderState.PARTIALLY_FILLED,
        side=Side.BUY,
        order_type=OrderType.LMT,
        qty=order_qty,
        filled_qty=qty,
        avg_fill_price=total / qty if qty else None,
        ts_ns=7,
    )


FILLS = st.lists(st.tuples(st.integers(1, 5), st.integers(16_000, 16_010)), min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(fills=FILLS, data=st.data())
def test_unseen_fill_makes_up_exactly_the_contracts_and_the_money_missed(
    fills: list[tuple[int, int]], data: st.DataObject
) -> None:
    seen = data.draw(st.integers(0, len(fills) - 1))  # fills we had seen before the drop
    order_qty = sum(q for q, _ in fills)
    known = _filled(fills[:seen], order_qty=order_qty) if seen else None
    current = _filled(fills, order_qty=order_qty)
    report = unseen_fill(known, current, reported=0)
    assert report is not None
    assert report.kind is ReportKind.FILL
    assert report.fill is not None
    missed = fills[seen:]
    assert report.fill.qty == sum(q for q, _ in missed)
    money = sum((Decimal(q) * Decimal(p) / 4 for q, p in missed), Decimal(0))
    assert abs(report.fill.price * report.fill.qty - money) < Decimal("1e-18")
    assert report.fill.fill_id == f"v1:filled:{order_qty}"
    # nothing missing: nothing made up
    assert unseen_fill(current, current, reported=0) is None
    assert unseen_fill(known, current, reported=report.fill.qty) is None
