"""A price under an instrument's lowest price is denied before it is sent.

Review leftover: an E-mini (EP) bid at 0.00 went to the venue and came back rejected
PRICE_BELOW_MINIMUM; core instruments carried no lowest price. Crude oil (CLE) has none
(it traded below zero in April 2020): its negative prices still go out. Through the
front door (``ec_core.connect("mock")``), the order path ``ec run`` uses.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from ec_core.errors import OrderDeniedError

import ec_core
from ec_core import ModifyOrder, NewOrder, OrderType, Side


@pytest.fixture(autouse=True)
def _no_settings_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EC_SETTINGS", raising=False)


def new(
    account: str,
    symbol: str,
    order_type: OrderType,
    *,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
) -> NewOrder:
    return NewOrder(
        account_id=account, symbol=symbol, side=Side.BUY, qty=1, order_type=order_type,
        limit_price=limit_price, stop_price=stop_price,
    )  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("order_type", "field", "prices"),
    [
        (OrderType.LMT, "limit_price", {"limit_price": Decimal("0.00")}),
        (OrderType.LMT, "limit_price", {"limit_price": Decimal("-4500.00")}),
        (OrderType.STP, "stop_price", {"stop_price": Decimal("0")}),
        (
            OrderType.STL,
            "stop_price",
            {"limit_price": Decimal("4500.00"), "stop_price": Decimal("-0.25")},
        ),
    ],
)
async def test_a_price_under_the_lowest_is_denied_naming_field_and_rule(
    order_type: OrderType, field: str, prices: dict[str, Decimal | None]
) -> None:
    async with ec_core.connect("mock") as trader:
        with pytest.raises(OrderDeniedError) as caught:
            await trader.execute(new(trader.account_id, "EP", order_type, **prices))
        assert caught.value.codes == ("PRICE_BELOW_MINIMUM",)
        [violation] = caught.value.violations
        assert violation.field == field
        assert "lowest price of EP (0.25)" in violation.rule
        assert "if EP trades lower, lower its min_price" in violation.rule  # what to do
        assert violation.limit == Decimal("0.25")
        assert trader.orders() == []  # nothing sent, nothing tracked


@pytest.mark.anyio
async def test_the_lowest_price_itself_and_crude_below_zero_are_sent() -> None:
    async with ec_core.connect("mock") as trader:
        at_floor = await trader.execute(
            new(trader.account_id, "EP", OrderType.LMT, limit_price=Decimal("0.25"))
        )
        negative = await trader.execute(
            new(trader.account_id, "CLE", OrderType.LMT, limit_price=Decimal("-5.00"))
        )
        assert at_floor is not None
        assert negative is not None
        assert len(trader.orders()) == 2


@pytest.mark.anyio
async def test_a_modify_under_the_lowest_is_denied_and_not_sent() -> None:
    async with ec_core.connect("mock") as trader:
        working = await trader.execute(
            new(trader.account_id, "EP", OrderType.LMT, limit_price=Decimal("1000.00"))
        )
        assert working is not None
        modify = ModifyOrder(
            account_id=trader.account_id, symbol="EP", orig_cl_order_id=working.cl_order_id,
            limit_price=Decimal("0"),
        )  # fmt: skip
        with pytest.raises(OrderDeniedError) as caught:
            await trader.execute(modify)
        assert caught.value.codes == ("PRICE_BELOW_MINIMUM",)
        assert caught.value.violations[0].field == "limit_price"
        [order] = trader.orders()
        assert order.limit_price == Decimal("1000.00")
