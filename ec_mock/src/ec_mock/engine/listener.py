"""What the exchange delivers events to, and what it asks about order-level faults."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ec_core.model import Quote, RequestType, Trade, TradeEvent

__all__ = ["Listener", "OrderFaults"]


@runtime_checkable
class Listener(Protocol):
    """Receives every event of the exchange, for all accounts and instruments.

    Called synchronously after the request that caused the events has been fully
    processed (never from inside the matching loop), in the order the events
    happened. A listener may call :meth:`Exchange.submit` from a callback: the new
    request is processed at once and its events are delivered after the ones
    already queued.

    A listener that ignores quotes and prints says ``hears_market_events = False``
    (a class attribute): the exchange then never calls its ``on_market_event`` (one call
    per event saved; the replay venue does this).
    """

    @property
    def hears_market_events(self) -> bool:
        """Whether the exchange calls :meth:`on_market_event` (read when the listener is
        added or removed, not per event)."""
        ...

    def on_trade_event(self, event: TradeEvent) -> None: ...

    def on_market_event(self, event: Quote | Trade) -> None: ...


@runtime_checkable
class OrderFaults(Protocol):
    """Order-level fault source the exchange consults (see :mod:`ec_mock.faults`)."""

    def order_reject(self, request_type: RequestType, ts_ns: int) -> str | None:
        """A reject code if this request must be refused by the fault plan, else ``None``."""
        ...
