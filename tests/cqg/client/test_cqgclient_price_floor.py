"""The lowest price through the CQG adapter, over real loopback WebSockets.

CQG's contract metadata carries no lowest price. An E-mini bid at 0.00 went out and came
back rejected PRICE_BELOW_MINIMUM by the venue; now the adapter takes one tick as a
futures outright's lowest price and the front door denies the order, nothing sent. A
product that trades below zero (crude oil) is named in ``negative_prices``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cqgclient_real import ACCOUNT, PASSWORD, USER, served
from ec_core.errors import OrderDeniedError
from ec_core.settings import Settings
from ec_cqg.client.core.contracts import ContractDirectory
from ec_cqg.protocol.pb import metadata_2

import ec_core
from ec_core import NewOrder, OrderType, Side

pytestmark = pytest.mark.anyio

LIMITS = f"""version = 1
[defaults]
max_order_qty = 5
[instruments.EP]
[instruments.CLE]
[accounts."{ACCOUNT}"]
"""


def front_door(url: str, tmp_path: Path, **cqg: Any) -> Settings:
    limits = tmp_path / "limits.toml"
    limits.write_text(LIMITS, encoding="utf-8")
    table = {"url": url, "user": USER, "password_env": "EC_TEST_CQG_PW", "allow_insecure": True}
    return Settings(
        vendor="cqg", account_id=ACCOUNT, limits_file=str(limits), vendors={"cqg": {**table, **cqg}}
    )


def buy(symbol: str, price: str, order_type: OrderType = OrderType.LMT) -> NewOrder:
    stop = order_type is OrderType.STP
    return NewOrder(
        account_id=ACCOUNT, symbol=symbol, side=Side.BUY, qty=1, order_type=order_type,
        limit_price=None if stop else Decimal(price), stop_price=Decimal(price) if stop else None,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EC_SETTINGS", raising=False)
    monkeypatch.setenv("EC_TEST_CQG_PW", PASSWORD)


@pytest.mark.parametrize(
    ("price", "order_type", "field"),
    [("0.00", OrderType.LMT, "limit_price"), ("-1.00", OrderType.STP, "stop_price")],
)
async def test_a_zero_or_negative_e_mini_price_is_denied_and_nothing_reaches_the_server(
    tmp_path: Path, price: str, order_type: OrderType, field: str
) -> None:
    async with (
        served(market=False) as server,
        ec_core.connect(front_door(server.url, tmp_path)) as trader,
    ):
        with pytest.raises(OrderDeniedError) as caught:
            await trader.execute(buy("EP", price, order_type))
        assert caught.value.codes == ("PRICE_BELOW_MINIMUM",)
        [violation] = caught.value.violations
        assert violation.field == field
        assert violation.limit == Decimal("0.25")
        assert "lowest price of EP (0.25)" in violation.rule
        assert server.venue.exchange.historical_orders("E2E-1", 0, 2**62) == []


async def test_crude_below_zero_needs_negative_prices_and_then_goes_out(tmp_path: Path) -> None:
    async with served(market=False) as server:
        async with ec_core.connect(front_door(server.url, tmp_path)) as trader:
            with pytest.raises(OrderDeniedError) as caught:
                await trader.execute(buy("CLE", "-5.00"))
            assert caught.value.codes == ("PRICE_BELOW_MINIMUM",)
            # the denial says how to allow the product's negative prices
            assert "[vendors.cqg] negative_prices" in str(caught.value)
        async with ec_core.connect(
            front_door(server.url, tmp_path, negative_prices=["CLE"])
        ) as trader:
            order = await trader.execute(buy("CLE", "-5.00"))
            assert order is not None
            assert order.limit_price == Decimal("-5.00")


def crude(contract_symbol: str) -> metadata_2.ContractMetadata:
    """A dated crude-oil outright as CQG describes it: its product is its group."""
    return metadata_2.ContractMetadata(
        contract_id=2, contract_symbol=contract_symbol, correct_price_scale=0.01,
        tick_size=0.01, tick_value=10.0,
        cfi_code="FCAXSX", instrument_group_name="F.US.CLE", short_instrument_group_name="CLE",
    )  # fmt: skip


@pytest.mark.parametrize("listed", ["CLE", "F.US.CLE", "CLEZ26", "F.US.CLEZ26"])
def test_negative_prices_names_a_product_so_its_dated_contracts_have_no_lowest_price(
    listed: str,
) -> None:
    # docs/cqg/client.md: negative_prices lists products ("CLE"); a dated contract of one,
    # asked as CLEZ26 (CQG names it F.US.CLEZ26), was matched by its symbol only: denied
    directory = ContractDirectory(negative_prices=[listed])
    instrument, _ = directory.remember("CLEZ26", crude("F.US.CLEZ26"))
    assert instrument.min_price is None


@pytest.mark.parametrize("listed", [(), ("CL",), ("F.US.CL",), ("EP",), ("CLEZ2",)])
def test_an_outright_whose_product_is_not_listed_keeps_one_tick_as_its_lowest_price(
    listed: tuple[str, ...],
) -> None:
    # the start of a product's name is not the product: no prefix matching
    directory = ContractDirectory(negative_prices=listed)
    instrument, _ = directory.remember("CLEZ26", crude("F.US.CLEZ26"))
    assert instrument.min_price == Decimal("0.01")


def calendar_spread(cfi_code: str) -> metadata_2.ContractMetadata:
    """A crude-oil calendar spread (CQG's symbol: S, the legs one month apart)."""
    return metadata_2.ContractMetadata(
        contract_id=3, contract_symbol="F.US.CLES1Z26", correct_price_scale=0.01,
        tick_size=0.01, tick_value=10.0,
        cfi_code=cfi_code, instrument_group_name="F.US.CLE", short_instrument_group_name="CLE",
    )  # fmt: skip


@pytest.mark.parametrize("cfi_code", ["FMCXSX", "FMIXSX", "FMXXXX", "KFXXXX"])
def test_a_spread_has_no_lowest_price_without_being_listed(cfi_code: str) -> None:
    # a calendar spread's price is near minus far: below zero whenever the far month is
    # dearer, routinely. Its CFI code starts F (a future) but M says multi-leg: it took
    # the outright's one-tick floor, and every negative-price spread order was denied
    instrument, _ = ContractDirectory().remember("CLES1Z26", calendar_spread(cfi_code))
    assert instrument.min_price is None


def with_strategy_definition(
    metadata: metadata_2.ContractMetadata,
) -> metadata_2.ContractMetadata:
    """The same contract as CQG describes a strategy: ContractMetadata.strategy_definition set."""
    metadata.strategy_definition.SetInParent()
    return metadata


@pytest.mark.parametrize("cfi_code", ["FCAXSX", "FFICSX", "FXXXXX"])
def test_a_contract_with_a_strategy_definition_has_no_lowest_price_whatever_its_cfi_code(
    cfi_code: str,
) -> None:
    # CQG marks a spread or strategy by its metadata's strategy_definition; its CFI code is
    # the exchange's and need not start FM. An F… code took the outright's one-tick floor
    # and every zero or negative spread price was denied
    spread = with_strategy_definition(calendar_spread(cfi_code))
    instrument, _ = ContractDirectory().remember("CLES1Z26", spread)
    assert instrument.min_price is None


def test_a_future_without_a_strategy_definition_or_an_fm_code_keeps_its_lowest_price() -> None:
    outright = calendar_spread("FCAXSX")
    assert not outright.HasField("strategy_definition")
    instrument, _ = ContractDirectory().remember("CLEZ26", outright)
    assert instrument.min_price == Decimal("0.01")


def test_a_strategy_definition_survives_the_wire() -> None:
    # an empty StrategyDefinition is still present on the wire (field 30, zero length)
    wire = with_strategy_definition(calendar_spread("FCAXSX")).SerializePartialToString()
    assert b"\xf2\x01\x00" in wire  # tag 30, length-delimited, zero bytes long
    received = metadata_2.ContractMetadata()
    received.MergeFromString(wire)
    assert received.HasField("strategy_definition")
