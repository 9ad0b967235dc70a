"""Information requests: accounts, symbol resolution, contract metadata, historical orders."""

from __future__ import annotations

from decimal import Decimal

from cqgserver_support import ACCOUNT, Client, codes, make_server, make_venue
from ec_cqg.protocol.pb import ClientMsg, metadata_2
from ec_cqg.protocol.prices import PriceScale
from ec_cqg.protocol.timestamps import BaseTime


def _client() -> Client:
    client = Client(make_server(make_venue()))
    client.logon()
    return client


def test_accounts_report_lists_the_venue_accounts_without_the_house() -> None:
    client = _client()
    msg = ClientMsg()
    msg.information_requests.add(id=7).accounts_request.SetInParent()
    (answer,) = client.send(msg)
    report = answer.information_reports[0]
    assert (report.id, report.status_code) == (7, 0)
    assert report.IsInitialized()
    accounts = [
        a for b in report.accounts_report.brokerages for s in b.sales_series for a in s.accounts
    ]
    assert [a.brokerage_account_number for a in accounts] == [ACCOUNT]
    assert accounts[0].account_id == 1001


def test_symbol_resolution_fills_every_required_metadata_field() -> None:
    client = _client()
    report = client.resolve("EP", request_id=3).information_reports[0]
    assert (report.id, report.status_code) == (3, 0)
    meta = report.symbol_resolution_report.contract_metadata
    assert meta.IsInitialized()
    required = [f.name for f in metadata_2.ContractMetadata.DESCRIPTOR.fields if f.is_required]
    assert all(meta.HasField(name) for name in required)  # type: ignore[arg-type]
    assert meta.contract_symbol == "EP"
    assert (meta.correct_price_scale, meta.tick_size, meta.tick_value) == (0.01, 0.25, 12.5)
    assert meta.display_price_scale == 2
    assert meta.title
    assert meta.description
    assert meta.currency == "USD"
    scale = PriceScale.from_metadata(meta)
    assert scale.ticks_to_scaled(1) == 25


def test_fractional_tick_contract_gets_an_exact_scale() -> None:
    meta = (
        _client().resolve("TYA").information_reports[0].symbol_resolution_report.contract_metadata
    )
    scale = PriceScale.from_metadata(meta)
    assert scale.scale == Decimal("0.000001")
    assert scale.ticks_to_price(7041) == Decimal("110.015625")


def test_contract_ids_are_per_session_and_stable_within_one() -> None:
    client = _client()
    first = client.contract_id("CLE")
    second = client.contract_id("GCE")
    assert first != second
    assert client.contract_id("CLE") == first


def test_unknown_symbol_is_not_found_with_the_listed_ones() -> None:
    report = _client().resolve("ZUC").information_reports[0]
    assert report.status_code == 104
    assert "ZUC" in report.text_message
    assert "EP" in report.text_message


def test_contract_metadata_by_id() -> None:
    client = _client()
    contract_id = client.contract_id("ENQ")
    msg = ClientMsg()
    msg.information_requests.add(id=11).contract_metadata_request.contract_id = contract_id
    msg.information_requests.add(id=12).contract_metadata_request.contract_id = 999
    found, missing = client.send(msg)
    meta = found.information_reports[0].contract_metadata_report.contract_metadata
    assert meta.contract_symbol == "ENQ"
    assert meta.contract_id == contract_id
    assert missing.information_reports[0].status_code == 104


def test_historical_orders_between_dates() -> None:
    client = _client()
    account_id = client.account_id()
    contract_id = client.contract_id("EP")
    client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="h1")
    base = BaseTime(client.base_time)
    msg = ClientMsg()
    request = msg.information_requests.add(id=21).historical_orders_request
    request.from_date = base.to_offset_ms(client.server.now()) - 86_400_000
    request.account_ids.append(account_id)
    (answer,) = client.send(msg)
    report = answer.information_reports[0]
    assert report.status_code == 0
    (status,) = report.historical_orders_report.order_statuses
    assert status.order.cl_order_id == "h1"
    assert status.status == 8
    assert status.IsInitialized()
    too_old = ClientMsg()
    too_old.information_requests.add(id=22).historical_orders_request.from_date = (
        request.from_date - 40 * 86_400_000
    )
    (refused,) = client.send(too_old)
    assert refused.information_reports[0].status_code == 102


def test_order_status_request_by_chain_order_id() -> None:
    client = _client()
    account_id = client.account_id()
    contract_id = client.contract_id("EP")
    client.subscribe_trades()
    placed = client.new_order(account_id=account_id, contract_id=contract_id, cl_order_id="q1")
    assert codes(placed)[-1][0] == 8
    chain = placed[0].order_statuses[0].chain_order_id
    msg = ClientMsg()
    query = msg.information_requests.add(id=31).order_status_request
    query.chain_order_id = chain
    query.account_id = account_id
    (answer,) = client.send(msg)
    status = answer.information_reports[0].order_status_report.order_status
    assert status.chain_order_id == chain
    assert status.status == 8


def test_unsupported_information_request_fails_politely() -> None:
    msg = ClientMsg()
    msg.information_requests.add(id=41)
    (answer,) = _client().send(msg)
    assert answer.information_reports[0].status_code == 101
