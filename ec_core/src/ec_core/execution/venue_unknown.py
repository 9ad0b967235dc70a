"""Follow-up of orders the venue itself reports UNKNOWN while the session is up.

A venue report can leave an order's fate unknown (a status code the adapter cannot
map is reported ``UNKNOWN``). Without a follow-up it would stay UNKNOWN until the next
reconnect's resync. :class:`UnknownFollowUp` queues each such order as its report comes
in and asks the venue about it with the same per-order status query the resync runs
(``Reconciler.query``): one query in flight per order (a query the resync already has
out for it is waited for and its answer taken); an order still UNKNOWN after an
attempt is tried again after a backoff that doubles (measured on the executor's clock);
after ``max_attempts`` it is given up, logged and counted (``unresolved``), left to the
next resync or to ``Executor.reconcile``. A query the venue does not answer (a timeout, a
session error other than a lost connection) counts as an attempt: it never ends the
stream's consumer.

Two things run the queries that are due: the stream's consumer after each event
(:meth:`UnknownFollowUp.due` is O(1): the earliest next attempt is the top of a heap), and
:meth:`UnknownFollowUp.run_timer`, a task beside the consumer that sleeps on the
executor's clock until the earliest next attempt (woken early when an order is queued),
so a retry is asked on a quiet stream too (a night session, an idle account). A query
cut off by its stream's end (the timer is cancelled with it) leaves its order queued.

Only a consumed trade stream runs the queries. :meth:`UnknownFollowUp.settled` with a
query due and no stream consumed (none yet, or the last one ended while it waited)
raises :class:`NoTradeStreamError` naming the orders and what to do: nothing else would
ever ask, and a wait forever is a hang.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import final

import anyio

from ec_core.clock import Clock
from ec_core.errors import ConnectionLostError, EcError, OrderUnknownError, SessionError
from ec_core.execution.admission import Sleep
from ec_core.execution.reconcile import Reconciler
from ec_core.model import OrderState
from ec_core.tracking import OrderTracker

__all__ = ["NoTradeStreamError", "UnknownFollowUp"]

log = logging.getLogger("ec_core.execution.executor")

_SECOND_NS = 1_000_000_000
# The timer's shortest sleep: on a clock that does not move with the sleep (a test's
# manual clock) a retry a nanosecond away must not spin the loop; retries are seconds apart.
_MIN_SLEEP_S = 0.01


class NoTradeStreamError(EcError):
    """A wait for status queries that only a consumed trade stream runs, with none consumed.

    ``pending``: the chain ids waiting for a query."""

    def __init__(self, pending: tuple[str, ...]) -> None:
        self.pending = pending
        super().__init__(
            f"{len(pending)} order(s) the venue reported UNKNOWN wait for a status query"
            f" ({', '.join(pending)}) and no trade stream is consumed, so nothing will ask:"
            " consume the account's trade stream (async with executor.consume(stream);"
            " connect() and ec run do), or ask the venue now with executor.resolve_unknown()"
        )


@final
class UnknownFollowUp:
    """Chains the venue reported UNKNOWN, each with its attempts and its next try.

    ``backoff_s``: the wait after the first failed attempt (doubled after each);
    ``max_attempts``: status queries per order before it is given up.
    """

    def __init__(
        self,
        *,
        tracker: OrderTracker,
        clock: Clock,
        reconciler: Reconciler,
        backoff_s: float = 1.0,
        max_attempts: int = 5,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        self._tracker = tracker
        self._clock = clock
        self._reconciler = reconciler
        self._backoff_ns = int(backoff_s * _SECOND_NS)
        self._max_attempts = max_attempts
        self._attempts: dict[str, int] = {}  # chain id -> attempts made, while queued
        # (time of the next attempt, chain id): one entry per queued chain, earliest on top
        self._next: list[tuple[int, str]] = []
        self._in_flight: set[str] = set()
        self._quiet: anyio.Event | None = None  # made by a waiter of ``settled``
        self._wakes: set[anyio.CancelScope] = set()  # timers asleep, woken by a new entry
        self._streams = 0  # trade streams consumed now (counted by each holder): they ask
        self.queries = 0  # status queries asked by the follow-up (not those it joined)
        self.resolved = 0  # orders it took out of UNKNOWN
        self.unresolved = 0  # orders given up after max_attempts

    @property
    def pending(self) -> tuple[str, ...]:
        """Chain ids waiting for a (next) status query."""
        return tuple(self._attempts)

    def note(self, chain_id: str) -> None:
        """The venue reported ``chain_id`` UNKNOWN: ask about it at the next turn.

        Already queued or in flight: nothing more (one query per order at a time)."""
        if chain_id in self._attempts or chain_id in self._in_flight:
            return
        self._queue(chain_id, 0, self._clock.now_ns())

    def _queue(self, chain_id: str, attempts: int, at_ns: int) -> None:
        self._attempts[chain_id] = attempts
        heapq.heappush(self._next, (at_ns, chain_id))
        for wake in self._wakes:  # a timer asleep until a later time: it looks again
            wake.cancel()

    def due(self) -> bool:
        """A query is due now (O(1): the stream's consumer asks after every event)."""
        queued = self._next
        return bool(queued) and queued[0][0] <= self._clock.now_ns()

    async def run_due(self) -> None:
        """Ask the venue about each queued order whose time has come."""
        now = self._clock.now_ns()
        queued = self._next
        while queued and queued[0][0] <= now:
            # popped before the query awaits: another consumer (or the timer) skips it
            _, chain_id = heapq.heappop(queued)
            await self._attempt(chain_id, self._attempts.pop(chain_id))
        if not self._in_flight and not self.due():  # another's query may still be out
            self._wake_waiters()

    @contextmanager
    def consumed(self) -> Iterator[None]:
        """A trade stream is consumed within: its consumer (and timer) run the queries.
        When the last one ends, a waiter of :meth:`settled` is told nothing will ask."""
        self._streams += 1
        try:
            yield
        finally:
            self._streams -= 1
            if not self._streams:
                self._wake_waiters()

    def _wake_waiters(self) -> None:
        quiet = self._quiet
        if quiet is not None:
            self._quiet = None
            quiet.set()

    async def run_timer(self, sleep: Sleep) -> None:
        """Run the queries as they fall due, however quiet the stream: sleep (``sleep``,
        on the executor's clock) until the earliest next attempt, or until an order is
        queued. Runs until cancelled (the stream's consumer ends)."""
        while True:
            with anyio.CancelScope() as wake:
                self._wakes.add(wake)
                try:
                    if not self._next:
                        await anyio.sleep_forever()
                    wait_ns = self._next[0][0] - self._clock.now_ns()
                    if wait_ns > 0:
                        await sleep(max(wait_ns / _SECOND_NS, _MIN_SLEEP_S))
                finally:
                    self._wakes.discard(wake)
            if self.due():
                await self.run_due()

    async def settled(self) -> None:
        """Wait until no query is due or in flight (retries not yet due may remain):
        every order the venue reported UNKNOWN has been asked about (by the stream's
        consumer or its timer). Raises :class:`NoTradeStreamError` when a query is due
        and no trade stream is consumed to ask it."""
        while self._in_flight or self.due():
            if not self._in_flight and not self._streams:
                due = self._clock.now_ns()
                raise NoTradeStreamError(tuple(c for at, c in sorted(self._next) if at <= due))
            quiet = self._quiet
            if quiet is None:
                quiet = self._quiet = anyio.Event()
            await quiet.wait()

    async def _attempt(self, chain_id: str, attempts: int) -> None:
        order = self._tracker.order(chain_id)
        if order is None or order.state is not OrderState.UNKNOWN:
            return  # settled meanwhile (a later report, a resync)
        self._in_flight.add(chain_id)
        attempts += 1
        if not self._reconciler.asking(chain_id):  # else it takes that query's answer
            self.queries += 1
        try:
            await self._reconciler.query(order)
        except ConnectionLostError as exc:  # the reconnect's resync asks about it
            log.warning("status query of UNKNOWN order %s interrupted: %s", chain_id, exc)
            return
        except (SessionError, OrderUnknownError) as exc:  # no answer: one attempt, retried
            log.warning("status query of UNKNOWN order %s failed: %s", chain_id, exc)
        except anyio.get_cancelled_exc_class():  # its stream ended (the timer with it):
            self._queue(chain_id, attempts - 1, self._clock.now_ns())  # the next one asks
            raise
        finally:
            self._in_flight.discard(chain_id)
        order = self._tracker.order(chain_id)
        if order is None or order.state is not OrderState.UNKNOWN:
            self.resolved += 1
            log.info("order %s reported UNKNOWN by the venue: reconciled, now %s", chain_id,
                     order.state.value if order is not None else "gone")  # fmt: skip
            return
        if attempts >= self._max_attempts:
            self.unresolved += 1
            log.error(
                "order %s reported UNKNOWN by the venue is still UNKNOWN after %d status"
                " queries: given up until the next reconnect or Executor.reconcile;"
                " check it with the venue",
                chain_id,
                attempts,
            )
            return
        wait_ns = self._backoff_ns << (attempts - 1)
        self._queue(chain_id, attempts, self._clock.now_ns() + wait_ns)
