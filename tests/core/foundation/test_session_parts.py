"""One way to reach a session's parts: ``host.parts(session)``, every plugin's wrappers
applied (pluggy wrappers compose), and the venue's queries gathered in one place."""

from __future__ import annotations

from collections.abc import Generator
from decimal import Decimal

import pytest
from ec_core.model import Duration, NewOrder, OrderType, Side
from ec_core.plugins import PluginHost, hookimpl
from ec_core.plugins.parts import SessionParts
from ec_core.vendor import OrderGateway, Session


class Tagged:
    """A gateway wrapper that names itself and what it wraps."""

    def __init__(self, tag: str, inner: OrderGateway) -> None:
        self.tag = tag
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


class Wrapping:
    def __init__(self, tag: str, vendor: str | None = None) -> None:
        self.tag = tag
        self.vendor = vendor

    @hookimpl(wrapper=True)
    def ec_order_gateway(self, session: Session) -> Generator[None, OrderGateway, OrderGateway]:
        gateway = yield
        if self.vendor is not None and session.vendor != self.vendor:
            return gateway
        return Tagged(self.tag, gateway)  # type: ignore[return-value]


def tags(gateway: object) -> list[str]:
    found = []
    while isinstance(gateway, Tagged):
        found.append(gateway.tag)
        gateway = gateway.inner
    return found


@pytest.mark.anyio
async def test_wrappers_of_several_plugins_compose_and_a_scoped_one_skips_other_vendors() -> None:
    host = PluginHost.load(strict=True)
    host.register(Wrapping("drop-copy"), name="drop-copy")
    host.register(Wrapping("throttle"), name="throttle")
    host.register(Wrapping("cqg-only", vendor="cqg"), name="cqg-only")
    async with host.open_session("mock", {"account_id": "A1"}) as session:
        parts = host.parts(session)
        assert isinstance(parts, SessionParts)
        # both wrap (the later plugin outermost); the cqg-only wrapper leaves mock alone
        assert tags(parts.orders) == ["throttle", "drop-copy"]
        innermost = parts.orders
        while isinstance(innermost, Tagged):
            innermost = innermost.inner
        assert innermost is session.orders
        assert parts.trades is session.trades
        assert parts.market_data is session.market_data


@pytest.mark.anyio
async def test_the_venues_queries_are_gathered_on_the_parts() -> None:
    host = PluginHost.load(strict=True)
    async with host.open_session("mock", {"account_id": "A1"}) as session:
        parts = host.parts(session)
        assert [a.account_id for a in await parts.accounts()] == ["A1"]
        instrument = await parts.resolve("EP")
        assert instrument.symbol == "EP"
        await parts.orders.send(
            NewOrder(
                account_id="A1",
                symbol="EP",
                side=Side.BUY,
                qty=1,
                order_type=OrderType.LMT,
                limit_price=Decimal(1000),
                duration=Duration.DAY,
                cl_order_id="q1",
            )
        )
        assert [r.cl_order_id for r in await parts.open_orders("A1")] == ["q1"]
        status = await parts.order_status("A1", "q1")
        assert status is not None
        assert status.cl_order_id == "q1"
        assert list(await parts.positions("A1")) == list(await session.trades.positions("A1"))


def test_a_plain_part_hook_is_deprecated_and_named_on_the_plugin() -> None:
    class Replacing:
        @hookimpl
        def ec_trade_monitor(self, session: Session) -> None:
            return None

    host = PluginHost.load(strict=True)
    with pytest.warns(DeprecationWarning, match=r"'replacing': ec_trade_monitor is a plain"):
        host.register(Replacing(), name="replacing")
    (record,) = [r for r in host.records if r.name == "replacing"]
    assert any("wrapper=True" in w for w in record.warnings)
    host.register(Wrapping("fine"), name="fine")  # a wrapper: no warning (filterwarnings=error)
