"""Default implementations of the firstresult hooks. All ``trylast``: any plugin wins over them."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from ec_core.plugins.markers import hookimpl
from ec_core.plugins.session_state import open_with_listener
from ec_core.session import StateListener
from ec_core.vendor import MarketDataFeed, OrderGateway, Session, TradeMonitor, VendorFactory


@hookimpl(trylast=True)
def ec_open_session(
    vendor: str,
    settings: Mapping[str, Any],
    factory: VendorFactory | None,
    on_state: StateListener,
) -> AbstractAsyncContextManager[Session] | None:
    return None if factory is None else open_with_listener(factory, settings, on_state)


@hookimpl(trylast=True)
def ec_order_gateway(session: Session) -> OrderGateway:
    return session.orders


@hookimpl(trylast=True)
def ec_market_data(session: Session) -> MarketDataFeed:
    return session.market_data


@hookimpl(trylast=True)
def ec_trade_monitor(session: Session) -> TradeMonitor:
    return session.trades
