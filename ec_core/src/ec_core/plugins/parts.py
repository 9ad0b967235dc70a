"""A session's parts as the host hands them out, and the venue's queries in one place.

A vendor provides its parts as properties of the session (``session.orders``,
``session.market_data``, ``session.trades``): that is the vendor's side of the
contract, and what the conformance kit judges. Everyone else reaches them through the
host, ``host.parts(session)``, so every plugin's wrappers apply (paper trading, a drop
copy, throttling). Plugins wrap a part with a pluggy *wrapper* of its hook, which
composes with every other wrapper::

    @hookimpl(wrapper=True)
    def ec_order_gateway(session):
        gateway = yield                      # what the inner wrappers and the vendor give
        return DropCopy(gateway) if session.vendor == "cqg" else gateway

The queries a user asks of the venue, spread over the three parts and the session,
are gathered here too: :meth:`SessionParts.accounts`, :meth:`~SessionParts.resolve`,
:meth:`~SessionParts.positions`, :meth:`~SessionParts.open_orders`,
:meth:`~SessionParts.order_status` and :meth:`~SessionParts.historical_orders`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import final

from ec_core.model import Account, ExecutionReport, Instrument, Position
from ec_core.vendor import MarketDataFeed, OrderGateway, Session, TradeMonitor

__all__ = ["SessionParts"]


@final
class SessionParts:
    """One session's gateway, feed and monitor (wrapped by the host's plugins), and its
    queries. Built by :meth:`ec_core.plugins.PluginHost.parts`; every query is cancel-safe."""

    __slots__ = ("market_data", "orders", "session", "trades")

    def __init__(
        self,
        session: Session,
        *,
        orders: OrderGateway,
        market_data: MarketDataFeed,
        trades: TradeMonitor,
    ) -> None:
        self.session = session
        self.orders = orders
        self.market_data = market_data
        self.trades = trades

    async def accounts(self) -> Sequence[Account]:
        """Accounts this logon may trade."""
        return await self.session.accounts()

    async def resolve(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``; ``SymbolNotFoundError`` if the venue lists none."""
        return await self.session.resolve(symbol)

    async def positions(self, account_id: str) -> Sequence[Position]:
        """The account's positions, as the venue sees them."""
        return await self.trades.positions(account_id)

    async def open_orders(self, account_id: str) -> Sequence[ExecutionReport]:
        """Every order of the account that is not final, as the venue sees it."""
        return await self.orders.open_orders(account_id)

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        """The venue's current word on one order, ``None`` if unknown there."""
        return await self.orders.order_status(account_id, cl_order_id)

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> Sequence[ExecutionReport]:
        """Orders of the account active between ``start`` and ``end`` (UTC)."""
        return await self.orders.historical_orders(account_id, start, end)
