"""Observer hooks on the per-order path: resolved once, not through pluggy per event.

The tracker tells the host of every order change; with nothing registered that must
cost a lookup, not a pluggy call. What the host resolved is dropped whenever a plugin
is registered or unregistered, through the host or through pluggy's own manager.
"""

from __future__ import annotations

from decimal import Decimal

import pluggy
import pytest
from ec_core.model import Fill, Order, OrderState, OrderType, Side
from ec_core.plugins import PluginHost, hookimpl

ORDER = Order(
    chain_id="c1",
    cl_order_id="c1",
    account_id="A",
    symbol="X",
    side=Side.BUY,
    order_type=OrderType.LMT,
    qty=1,
    state=OrderState.WORKING,
    limit_price=Decimal(1),
)
FILL = Fill(
    fill_id="f1", account_id="A", symbol="X", side=Side.BUY, qty=1, price=Decimal(1), ts_ns=0
)


class Watcher:
    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.fills: list[Fill] = []

    @hookimpl
    def ec_on_order(self, order: Order, previous: Order | None) -> None:
        self.orders.append(order)

    @hookimpl
    def ec_on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)


@pytest.fixture
def host() -> PluginHost:
    return PluginHost.load(entry_points_enabled=False)


def test_order_notices_do_not_ask_pluggy_per_event(
    host: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    original = pluggy.HookCaller.get_hookimpls

    def counting(self: pluggy.HookCaller) -> list[pluggy.HookImpl]:
        asked.append(self.name)
        return original(self)

    monkeypatch.setattr(pluggy.HookCaller, "get_hookimpls", counting)
    for _ in range(100):
        host.notify_order(ORDER, None)
        host.notify_fill(FILL)
    assert asked.count("ec_on_order") <= 1
    assert asked.count("ec_on_fill") <= 1


def test_a_plugin_registered_after_notices_hears_the_next_ones(host: PluginHost) -> None:
    host.notify_order(ORDER, None)  # resolved with no observer
    watcher = Watcher()
    host.register(watcher, name="watcher")
    host.notify_order(ORDER, None)
    host.notify_fill(FILL)
    assert watcher.orders == [ORDER]
    assert watcher.fills == [FILL]
    host.unregister("watcher")
    host.notify_order(ORDER, None)
    assert watcher.orders == [ORDER]


def test_registering_through_pluggys_manager_is_seen_too(host: PluginHost) -> None:
    host.notify_order(ORDER, None)
    watcher = Watcher()
    host.pluggy_manager.register(watcher, name="direct")
    host.notify_order(ORDER, None)
    assert watcher.orders == [ORDER]
    assert host.has_observers("ec_on_order")
    host.pluggy_manager.unregister(watcher)
    host.notify_order(ORDER, None)
    assert watcher.orders == [ORDER]
    assert not host.has_observers("ec_on_order")


def test_a_plugin_blocked_through_pluggy_hears_no_more_notices(host: PluginHost) -> None:
    """The per-order notices' observers are resolved on each change, whichever way it
    is made: blocking a plugin name unregisters it, and its notices stop."""
    watcher = Watcher()
    host.register(watcher, name="watcher")
    host.notify_fill(FILL)
    host.pluggy_manager.set_blocked("watcher")
    host.notify_fill(FILL)
    host.notify_order(ORDER, None)
    assert watcher.fills == [FILL]
    assert watcher.orders == []
