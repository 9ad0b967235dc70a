"""The done-when flow of issue 12 with a client written only from CQG's public protocol
(:mod:`cqgsample_client`: generated protobuf classes and a WebSocket, in the shape of
CQG's published samples), against a real ``ec mock serve --dialect cqg`` subprocess.

Only the constants below are what a sample asks its user to edit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import cqgsample_client as sample
import pytest
from mock_serve import serve_subprocess

# -- what a sample's user edits ------------------------------------------------------------
USER_NAME = "sample-user"
PASSWORD = "sample-password"
ACCOUNT = "SAMPLE-1"
SYMBOL = "EP"
# ------------------------------------------------------------------------------------------

START = "2024-01-10T15:00:00Z"  # a Wednesday morning in Chicago: CME trades
HISTORY = ("--start", START, "--history", "15m")
TEN_MINUTES_MS = 600_000
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """``ec mock serve --dialect cqg`` in a subprocess; its URL."""
    args = ("--user", USER_NAME, "--account", ACCOUNT, "--seed", "11", *HISTORY)
    with serve_subprocess("--dialect", "cqg", *args, password=PASSWORD, ready="history:") as (
        _lines,
        found,
    ):
        yield found


@pytest.fixture
def client(url: str) -> Iterator[sample.WebApiClient]:
    client = sample.WebApiClient()
    client.connect(url)
    yield client
    client.disconnect()


def test_logon_and_logoff(client: sample.WebApiClient) -> None:
    result = sample.logon(client, USER_NAME, PASSWORD)
    assert result.result_code == 0
    assert result.base_time
    logged_off = sample.logoff(client)
    assert logged_off.logoff_reason == sample.LOGOFF_BY_REQUEST
    assert not logged_off.HasField("text_message")  # a text would mean an abnormal logoff


def test_a_wrong_password_is_refused(client: sample.WebApiClient) -> None:
    result = sample.logon(client, USER_NAME, PASSWORD + "-wrong")
    assert result.result_code != 0
    assert result.text_message


def test_the_sample_flow(client: sample.WebApiClient) -> None:
    assert sample.logon(client, USER_NAME, PASSWORD).result_code == 0

    # accounts
    accounts = [
        account
        for brokerage in sample.request_accounts(client).brokerages
        for series in brokerage.sales_series
        for account in series.accounts
    ]
    (account,) = [a for a in accounts if ACCOUNT in (a.name, a.brokerage_account_number)]
    account_id = account.account_id

    # symbol resolution
    metadata = sample.resolve_symbol(client, SYMBOL)
    contract_id = metadata.contract_id
    assert metadata.title
    assert metadata.correct_price_scale > 0

    # trade subscription: the snapshot completes
    sample.subscribe_trades(client, subscription_id=1)

    # real-time market data: status, a snapshot, then updates
    status = sample.subscribe_market_data(client, contract_id, sample.LEVEL_TRADES_BBA_VOLUMES)
    assert status.status_code == 0

    def market_data(server_msg: object) -> list[object]:
        return [
            item
            for item in server_msg.real_time_market_data  # type: ignore[attr-defined]
            if item.contract_id == contract_id and len(item.quotes) > 0
        ]

    def updates(server_msg: object) -> list[object]:
        return [item for item in market_data(server_msg) if not item.is_snapshot]  # type: ignore[attr-defined]

    update = client.receive_until(updates)[0]
    assert update.quotes[0].scaled_price
    seen = [
        item
        for server_msg in client.received
        for item in server_msg.real_time_market_data
        if item.contract_id == contract_id
    ]
    assert seen[0].is_snapshot  # the snapshot comes first

    # a market order, filled
    sample.new_market_order(client, account_id, contract_id, cl_order_id="sample-1", qty=1)

    def filled(server_msg: object) -> object:
        for status in server_msg.order_statuses:  # type: ignore[attr-defined]
            if status.order.cl_order_id == "sample-1" and status.status == 8:  # FILLED
                return status
        return None

    order_status = client.receive_until(filled)
    assert sample.to_decimal(order_status.fill_qty) == 1

    # session information: this week's sessions of the contract (times from base_time)
    sessions = sample.request_session_information(
        client, metadata.session_info_id, -DAY_MS, 7 * DAY_MS
    )
    (schedule, *_) = sessions.session_segments[0].session_schedules
    assert schedule.session_days  # when each day of the week trades

    # time bars: minute bars of the last ten minutes (the served history)
    bars = [
        b
        for r in sample.request_time_bars(client, contract_id, sample.BAR_UNIT_MIN, -TEN_MINUTES_MS)
        for b in r.time_bars
    ]
    assert len(bars) >= 9
    assert all(b.scaled_low_price <= b.scaled_close_price <= b.scaled_high_price for b in bars)

    # time and sales: trades and best bid/ask of the last ten minutes
    quotes = [
        q
        for r in sample.request_time_and_sales(client, contract_id, 3, -TEN_MINUTES_MS)
        for q in r.quotes
    ]
    assert {q.type for q in quotes} >= {0, 1, 2}  # trade, best bid, best ask

    # entitlements: what this account may send for this contract
    entitlements = sample.request_order_entitlements(client, contract_id, account_id)
    kinds = {(e.order_type, e.duration) for e in entitlements.order_entitlements}
    assert (1, 1) in kinds  # a market order for the day

    logged_off = sample.logoff(client)
    assert logged_off.logoff_reason == sample.LOGOFF_BY_REQUEST


def test_the_sample_client_uses_the_protocol_only() -> None:
    """Generated protobuf classes and a WebSocket: nothing of ec's client or server."""
    source = Path(sample.__file__).read_text()
    imported = {
        node.module or ""
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    ours = {name for name in imported if name.startswith(("ec_", "ec."))}
    assert ours == {"ec_cqg._proto.WebAPI"}, ours
