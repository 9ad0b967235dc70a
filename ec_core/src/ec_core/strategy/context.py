"""What a strategy sees (``ctx``) and the one door its orders go out through.

The strategy layer does not import the executor or the tracker: it needs only
the small :class:`OrderRouter` protocol, which the real ``Executor`` plus
``OrderTracker`` satisfy through :class:`ExecutorRouter`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, final, runtime_checkable

from ec_core.data import DataFeed
from ec_core.execution.payload import Payload
from ec_core.model import Order, Position

if TYPE_CHECKING:
    from ec_core.strategy.signal import OpSignal

__all__ = [
    "ExecutorRouter",
    "MarketClock",
    "OrderRouter",
    "StrategyContext",
    "SupportsExecute",
    "SupportsOrderBook",
]


@runtime_checkable
class SupportsExecute(Protocol):
    async def execute(self, payload: Payload) -> Order | None:
        """Validate, send and await the answer; raise an ``OrderError`` on failure."""
        ...


@runtime_checkable
class SupportsOrderBook(Protocol):
    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[Order]:
        """Our orders that are not final."""
        ...

    def position(self, account_id: str, symbol: str) -> Position: ...


@runtime_checkable
class OrderRouter(SupportsExecute, SupportsOrderBook, Protocol):
    """The single execution entry point plus what we know about our orders."""


@final
class ExecutorRouter:
    """An :class:`OrderRouter` made of an executor and an order tracker."""

    __slots__ = ("execute", "executor", "tracker")

    def __init__(self, executor: SupportsExecute, tracker: SupportsOrderBook) -> None:
        self.executor = executor
        self.tracker = tracker
        # ``execute`` is the executor's own bound method: an order action awaits it with
        # no coroutine of ours around it (one coroutine and one await fewer per action)
        self.execute: Callable[[Payload], Coroutine[Any, Any, Order | None]] = executor.execute

    def open_orders(self, account_id: str | None = None, symbol: str | None = None) -> list[Order]:
        return self.tracker.open_orders(account_id, symbol)

    def position(self, account_id: str, symbol: str) -> Position:
        return self.tracker.position(account_id, symbol)

    def order(self, order_id: str) -> Order | None:
        """The order by chain or client id, final ones too (``AdvanceOn.FILLED`` asks)."""
        lookup = getattr(self.tracker, "order", None)
        return lookup(order_id) if lookup is not None else None


@final
class MarketClock:
    """Time of the last market event: a replay runs on the data's own clock."""

    __slots__ = ("ts",)

    def __init__(self, ts: int = 0) -> None:
        self.ts = ts

    def now_ns(self) -> int:
        return self.ts


class _Clock(Protocol):
    def now_ns(self) -> int: ...


@final
class StrategyContext:
    """``ctx`` in every condition and payload template.

    ``ctx.feeds['SYM']`` is the instrument's :class:`~ec_core.data.DataFeed`;
    ``ctx.signal`` is the signal being evaluated: set while a signal steps, ``None``
    inside :meth:`OpStrategy.generate`, in a strategy's finish hook and outside
    :meth:`StrategyEngine.ingest`. Within one ``ingest`` it is not reset between ticks:
    a listener of a :class:`~ec_core.data.TickBuffer` (a bar listener), run as the next
    tick arrives, may still see a signal stepped on an earlier tick of that call (of
    any symbol), so such a listener should not read it.
    """

    __slots__ = ("account_id", "clock", "feeds", "router", "signal")

    def __init__(
        self,
        *,
        feeds: Mapping[str, DataFeed],
        clock: _Clock,
        router: SupportsOrderBook | None = None,
        account_id: str = "",
    ) -> None:
        self.feeds = feeds
        self.clock = clock
        self.router = router
        self.account_id = account_id
        self.signal: OpSignal | None = None

    @property
    def now_ns(self) -> int:
        return self.clock.now_ns()

    def open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        """Working orders of the account (of one symbol if given)."""
        if self.router is None:
            return ()
        return self.router.open_orders(self.account_id or None, symbol)

    def position(self, symbol: str, account_id: str | None = None) -> Position:
        account = account_id or self.account_id
        if self.router is None:
            return Position(account_id=account, symbol=symbol)
        return self.router.position(account, symbol)
