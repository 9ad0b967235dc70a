"""Client-side throttle: stay under CQG's message limits so a busy strategy is slowed,
not disconnected (going over 1000 messages in 10 s makes the server close the line).

Token buckets on an injectable :class:`~ec_core.clock.Clock`. :meth:`Throttle.delay_ns`
and :meth:`Throttle.take` are pure bookkeeping (tested with a ``ManualClock``);
:meth:`Throttle.acquire` waits the computed delay and then takes the tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Final, final

import anyio
from ec_core.clock import Clock

__all__ = ["DEFAULT_LIMITS", "Limit", "Throttle", "TokenBucket"]

_NS: Final = 1_000_000_000


@final
class Limit:
    """``count`` events per ``period_s`` seconds."""

    __slots__ = ("count", "period_s")

    def __init__(self, count: int, period_s: float) -> None:
        if count < 1 or period_s <= 0:
            raise ValueError(f"a limit needs count >= 1 and period > 0, got {count}/{period_s}s")
        self.count = count
        self.period_s = period_s

    def __repr__(self) -> str:
        return f"Limit({self.count}, {self.period_s})"


#: The protocol's stated defaults (FLOWS.md §1), with a safety margin of 10 %.
DEFAULT_LIMITS: Final = {
    "messages": Limit(900, 10.0),
    "orders": Limit(270, 10.0),
    "account_orders": Limit(9, 1.0),
}


@final
class TokenBucket:
    """``capacity`` tokens refilled evenly over ``period`` (a burst of ``capacity`` is allowed)."""

    __slots__ = ("_clock", "_level", "_stamp", "capacity", "refill_ns")

    def __init__(self, limit: Limit, clock: Clock) -> None:
        self.capacity = limit.count
        self.refill_ns = int(limit.period_s * _NS) // limit.count  # ns per token
        self._clock = clock
        self._level = float(limit.count)
        self._stamp = clock.now_ns()

    def _refill(self) -> None:
        now = self._clock.now_ns()
        if now > self._stamp:
            self._level = min(self.capacity, self._level + (now - self._stamp) / self.refill_ns)
            self._stamp = now

    def delay_ns(self, tokens: int = 1) -> int:
        """How long until ``tokens`` are available (0: now)."""
        self._refill()
        missing = tokens - self._level
        return 0 if missing <= 0 else int(missing * self.refill_ns) + 1

    def take(self, tokens: int = 1) -> None:
        """Take ``tokens`` (the level may go negative: the debt delays later callers)."""
        self._refill()
        self._level -= tokens

    @property
    def level(self) -> float:
        self._refill()
        return self._level


@final
class Throttle:
    """Buckets for all messages, order requests per session, and order requests per account."""

    def __init__(
        self,
        clock: Clock,
        *,
        messages: Limit = DEFAULT_LIMITS["messages"],
        orders: Limit = DEFAULT_LIMITS["orders"],
        account_orders: Limit = DEFAULT_LIMITS["account_orders"],
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._clock = clock
        self._messages = TokenBucket(messages, clock)
        self._orders = TokenBucket(orders, clock)
        self._account_limit = account_orders
        self._accounts: dict[int | str, TokenBucket] = {}
        self._sleep = sleep
        self.waits = 0  # how many times a sender was slowed down
        self.waited_ns = 0

    def _buckets(self, accounts: Iterable[int | str]) -> list[TokenBucket]:
        buckets = [self._orders]
        for account in accounts:
            bucket = self._accounts.get(account)
            if bucket is None:
                bucket = self._accounts[account] = TokenBucket(self._account_limit, self._clock)
            buckets.append(bucket)
        return buckets

    def delay_ns(self, *, orders: int = 0, accounts: Iterable[int | str] = ()) -> int:
        """Wait needed before one message carrying ``orders`` order requests may go."""
        delay = self._messages.delay_ns(1)
        if orders:
            for bucket in self._buckets(accounts):
                delay = max(delay, bucket.delay_ns(orders if bucket is self._orders else 1))
        return delay

    def take(self, *, orders: int = 0, accounts: Iterable[int | str] = ()) -> None:
        self._messages.take(1)
        if orders:
            for bucket in self._buckets(accounts):
                bucket.take(orders if bucket is self._orders else 1)

    async def acquire(self, *, orders: int = 0, accounts: tuple[int | str, ...] = ()) -> None:
        """Wait until the message may go, then count it. Cancel-safe (nothing taken on cancel)."""
        while True:
            delay = self.delay_ns(orders=orders, accounts=accounts)
            if delay <= 0:
                break
            self.waits += 1
            self.waited_ns += delay
            await self._sleep(delay / _NS)
        self.take(orders=orders, accounts=accounts)
