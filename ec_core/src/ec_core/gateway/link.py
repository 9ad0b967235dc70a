"""A worker's link to the gateway: intents out, one answer each back, the account mirrored.

The link keeps a local :class:`~ec_core.tracking.OrderTracker` fed from the
gateway's snapshot and then the account's stream (numbered: a gap, or a gateway
that started over, is met with a fresh snapshot), so ``orders()``,
``positions()``, ``pnl()`` and ``wait_final()`` read as they do in process.
Every answer is matched to its intent by id; an answer for an intent nobody awaits
any more (it timed out here) is counted, not lost: the order is in the tracker.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, final

import anyio
import anyio.abc
import msgspec
import redis.asyncio as aioredis

from ec_core.clock import Clock
from ec_core.errors import (
    GatewayUnavailableError,
    OrderDeniedError,
    OrderNotSentError,
    OrderRejectedError,
    OrderUnknownError,
    ProtocolError,
    RequestTimeoutError,
    SymbolNotFoundError,
)
from ec_core.execution import Payload
from ec_core.execution.void import status_report
from ec_core.gateway.layout import StreamLayout
from ec_core.gateway.redis_io import Entry, read_streams, unavailable
from ec_core.gateway.wire import (
    FIELD,
    Answer,
    GatewayRefusedError,
    Heartbeat,
    Hello,
    IntentMsg,
    Lookup,
    MarketMsg,
    Message,
    Outcome,
    Snapshot,
    Subscribe,
    TradeMsg,
    WireError,
    decode,
    encode,
)
from ec_core.model import BookDepth, Instrument, MarketEvent, Order
from ec_core.tracking import OrderTracker, multipliers

__all__ = ["WorkerLink"]

log = logging.getLogger(__name__)

_TRIM_EVERY = 64  # replies read between two trims of the stream (a round trip each)


class _Waiter:
    __slots__ = ("done", "message")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.message: Message | None = None


@final
class WorkerLink:
    """One worker (``worker``) on one account, through the gateway of ``layout``."""

    def __init__(
        self,
        *,
        client: aioredis.Redis,
        url: str,
        layout: StreamLayout,
        worker: str,
        account_id: str,
        clock: Clock,
        answer_timeout: float = 30.0,
        follow_account: bool = True,
    ) -> None:
        if not worker or "." in worker or ":" in worker:
            raise ValueError(f"worker name {worker!r}: non-empty, without '.' or ':'")
        self.client = client
        self.url = url
        self.layout = layout
        self.worker = worker
        self.account_id = account_id
        self.clock = clock
        self.answer_timeout = answer_timeout
        # False: only this worker's orders' events (its replies) feed the tracker; the
        # account stream, which every worker would read each event of, is not followed.
        self.follow_account = follow_account
        self.instruments: dict[str, Instrument] = {}
        # P&L in money: each fill is booked with its instrument's multiplier. A symbol
        # not known here (another worker's first fill of it) is booked in points and the
        # tracker lists it as unpriced (pnl() refuses) until the gateway tells its
        # instrument: asked at once, in the background (price_unpriced).
        self.tracker = OrderTracker(
            clock=clock, multiplier=multipliers(self.instruments), on_unpriced=self._unpriced
        )
        self._to_price: set[str] = set()
        self._price_wanted = anyio.Event()
        self._asked = anyio.Event()  # set: every symbol booked in points was asked about
        self._asked.set()
        self.counters: Counter[str] = Counter()
        self.market_gaps = 0
        self._token = secrets.token_hex(3)
        self._next_id = 0
        self._waiters: dict[str, _Waiter] = {}  # intent or hello id -> its waiter
        self._replies_from = "0-0"
        self._untrimmed = 0  # replies read since the stream was last trimmed
        self._account_from: str | None = None  # None until the first snapshot
        # The replies stream may hold a previous run's order events, read before the
        # first snapshot (which has them): booked then, before the snapshot's instruments
        # came, they were unpriced. Events are applied from the first snapshot on.
        self._snapshotted = False
        self._account_seq = 0
        self._resync = anyio.Event()

    # -- intents ---------------------------------------------------------------

    def own_open_orders(self) -> list[Order]:
        """The account's working orders that this worker sent (the account may be shared)."""
        prefix = f"{self.worker}."
        return [
            o
            for o in self.tracker.open_orders(self.account_id)
            if o.chain_id.startswith(prefix) or o.cl_order_id.startswith(prefix)
        ]

    def new_id(self) -> str:
        """A client order id the gateway traces back to this worker: ``worker.token.n``."""
        self._next_id += 1
        return f"{self.worker}.{self._token}.{self._next_id}"

    async def execute(self, payload: Payload) -> Order | None:
        """Send the intent; return or raise what the gateway's executor did with it.

        Raises :class:`~ec_core.errors.GatewayUnavailableError` when Redis cannot take
        the intent (it may have: send the same request again, it is answered from the
        gateway's journal, never sent twice), and :class:`RequestTimeoutError` when no
        answer came within ``answer_timeout`` (the order's fate is unknown here).
        """
        request = payload.request
        if not request.cl_order_id:
            request = msgspec.structs.replace(request, cl_order_id=self.new_id())
            payload.request = request
        symbol = getattr(request, "symbol", None)
        if symbol and symbol not in self.instruments:
            # before any fill of it: P&L in money; a refused lookup is the intent's
            # refusal too (the gateway denies it the same way, its answer says why)
            with suppress(GatewayRefusedError):
                await self.lookup((symbol,))
        intent_id = request.cl_order_id
        intent = IntentMsg(
            worker=self.worker,
            request=request,
            request_id=payload.request_id,
            sent_ns=time.time_ns(),  # the wall's: the gateway counts the wait with it
        )
        answer = await self._ask(intent_id, intent, self.answer_timeout)
        if not isinstance(answer, Answer):
            raise ProtocolError(
                f"gateway answered intent {intent_id} with a {type(answer).__name__}"
            )
        return self._outcome(answer)

    def _outcome(self, answer: Answer) -> Order | None:
        order = answer.order
        if order is not None and self.tracker.order(order.chain_id) is None:
            self.tracker.apply(status_report(order, self.clock.now_ns()))
        outcome = answer.outcome
        if outcome is Outcome.ACCEPTED:
            return order
        if outcome is Outcome.DENIED:
            raise OrderDeniedError(answer.violations)
        if outcome is Outcome.REJECTED:
            raise OrderRejectedError(
                answer.text, code=answer.code or None, cl_order_id=answer.intent_id
            )
        if outcome is Outcome.UNKNOWN:
            raise OrderUnknownError(
                f"order {answer.intent_id}: fate unknown at the gateway"
                f" ({answer.text or 'no answer'}); it reconciles the order with the venue",
                cl_order_id=answer.intent_id,
            )
        raise OrderNotSentError(
            f"order {answer.intent_id} not sent: {answer.code}: {answer.text}; sending it again"
            " is safe",
            code=answer.code,
            cl_order_id=answer.intent_id,
        )

    async def _ask(self, key: str, message: Message, wait: float) -> Message:
        waiter = self._waiters[key] = _Waiter()
        try:
            with unavailable(self.url):
                await self.client.xadd(self.layout.intents, {FIELD: encode(message)})
            with anyio.move_on_after(wait):
                await waiter.done.wait()
            if waiter.message is None:
                if isinstance(message, IntentMsg):
                    raise RequestTimeoutError(cl_order_id=key, timeout=wait)
                raise GatewayUnavailableError(
                    f"no gateway answered within {wait}s on {self.layout.intents}: is"
                    f" `ec gateway` running with namespace {self.layout.namespace!r}?"
                )
            return waiter.message
        finally:
            del self._waiters[key]

    # -- snapshots -------------------------------------------------------------

    async def lookup(self, symbols: tuple[str, ...]) -> None:
        """Learn the instruments of ``symbols`` from the gateway (no market data). One it
        cannot resolve stays unknown here. Raises :class:`GatewayRefusedError` naming
        the rule when the gateway refuses the lookup (the symbol caps, the allow-list)."""
        hello_id = secrets.token_hex(6)
        message = Lookup(worker=self.worker, symbols=symbols, hello_id=hello_id)
        reply = await self._ask(hello_id, message, self.answer_timeout)
        if isinstance(reply, Answer) and reply.outcome is Outcome.DENIED:
            raise GatewayRefusedError(f"the lookup of {', '.join(symbols)}", reply.violations)
        self._apply_snapshot(_snapshot(reply, f"the lookup of {', '.join(symbols)}"))

    async def instrument(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``: known here, else asked of the gateway (kept).
        Raises :class:`~ec_core.errors.SymbolNotFoundError` when the gateway's venue lists
        none, :class:`GatewayRefusedError` when the gateway refuses to look it up."""
        if symbol not in self.instruments:
            await self.lookup((symbol,))
        found = self.instruments.get(symbol)
        if found is None:
            raise SymbolNotFoundError(symbol)
        return found

    def _unpriced(self, symbol: str) -> None:
        """The tracker booked a fill of ``symbol`` without its instrument: ask for it."""
        self._to_price.add(symbol)
        self._price_wanted.set()
        if self._asked.is_set():
            self._asked = anyio.Event()

    async def unpriced_asked(self) -> None:
        """Wait until every symbol the tracker booked in price points was asked of the
        gateway (:meth:`price_unpriced`): those it knows are priced then. Cancel-safe."""
        await self._asked.wait()

    async def price_unpriced(self) -> None:
        """Ask the gateway for the instruments of the symbols the tracker booked unpriced,
        until cancelled: the tracker prices their points as they arrive. Each symbol is
        asked once (a lookup that fails leaves it to the next snapshot: a reconnect)."""
        while True:
            await self._price_wanted.wait()
            self._price_wanted = anyio.Event()
            symbols = tuple(sorted(self._to_price))
            self._to_price.clear()
            self.counters["unpriced_lookups"] += 1
            try:
                await self.lookup(symbols)
            except (GatewayUnavailableError, GatewayRefusedError, ProtocolError) as exc:
                self.counters["lookup_failures"] += 1
                log.error(
                    "worker %s: the instruments of %s, booked in price points: %s",
                    self.worker,
                    ", ".join(symbols),
                    exc,
                )
            else:
                still = [s for s in symbols if s not in self.instruments]
                if still:
                    log.error(
                        "worker %s: the gateway does not know %s: its P&L stays in price"
                        " points and pnl() refuses",
                        self.worker,
                        ", ".join(still),
                    )
            if not self._to_price:
                self._asked.set()

    async def hello(self, wait: float = 10.0) -> Snapshot:
        """Ask for the account's snapshot and mirror it (start, or after a gap)."""
        hello_id = secrets.token_hex(6)
        message = Hello(worker=self.worker, account_id=self.account_id, hello_id=hello_id)
        reply = await self._ask(hello_id, message, wait)
        snapshot = _snapshot(reply, f"the hello of worker {self.worker} for {self.account_id}")
        self._apply_snapshot(snapshot)
        return snapshot

    def _apply_snapshot(self, snapshot: Snapshot) -> None:
        for instrument in snapshot.instruments:  # first: the orders' fills are booked in money
            self.instruments[instrument.symbol] = instrument
        now = self.clock.now_ns()
        tracker = self.tracker
        for order in snapshot.orders:
            tracker.apply(status_report(order, now))
        for position in snapshot.positions:
            tracker.adopt_position(position)
        if snapshot.account_id == self.account_id:
            self._account_from = snapshot.account_from
            self._account_seq = snapshot.account_seq

    async def subscribe(self, symbols: tuple[str, ...], wait: float = 10.0) -> None:
        hello_id = secrets.token_hex(6)
        message = Subscribe(worker=self.worker, symbols=symbols, hello_id=hello_id)
        reply = await self._ask(hello_id, message, wait)
        what = f"the subscription of worker {self.worker} to {', '.join(symbols)}"
        self._apply_snapshot(_snapshot(reply, what))
        missing = [s for s in symbols if s not in self.instruments]
        if missing:
            raise SymbolNotFoundError(missing[0])

    # -- reading ---------------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Read replies and the account stream until cancelled; Redis outages are waited out."""
        task_status.started()
        delay = 0.05
        while True:
            streams = {self.layout.replies(self.worker): self._replies_from}
            if self.follow_account and self._account_from is not None:
                streams[self.layout.account(self.account_id)] = self._account_from
            try:
                with unavailable(self.url):
                    batches = await read_streams(self.client, streams, count=500, block_ms=1000)
                    for name, entries in batches:
                        if name == self.layout.replies(self.worker):
                            await self._on_replies(entries)
                        else:
                            self._on_account(entries)
            except GatewayUnavailableError as exc:
                self.counters["redis_errors"] += 1
                log.warning("worker %s: %s; reconnecting", self.worker, exc)
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05

    async def _on_replies(self, entries: list[Entry]) -> None:
        for entry_id, data in entries:
            self._replies_from = entry_id
            message = self._decode(data)
            if isinstance(message, Answer | Snapshot):
                key = message.intent_id if isinstance(message, Answer) else message.hello_id
                self.counters["answers" if isinstance(message, Answer) else "snapshots"] += 1
                waiter = self._waiters.get(key)
                if waiter is None or waiter.message is not None:
                    self.counters["unawaited"] += 1  # timed out here, or from a previous run
                    continue
                waiter.message = message
                waiter.done.set()
                self._snapshotted |= isinstance(message, Snapshot)
            elif isinstance(message, TradeMsg) and self._snapshotted:
                self.tracker.apply(message.event)
        self._untrimmed += len(entries)
        if self._untrimmed >= _TRIM_EVERY:  # what was read is never needed again
            self._untrimmed = 0
            await self.client.xtrim(self.layout.replies(self.worker), minid=self._replies_from)

    def _on_account(self, entries: list[Entry]) -> None:
        for entry_id, data in entries:
            self._account_from = entry_id
            message = self._decode(data)
            if not isinstance(message, TradeMsg):
                continue
            if message.seq <= self._account_seq and message.seq != 1:
                continue  # published twice (a retried batch)
            if message.seq != self._account_seq + 1:
                self.counters["account_gaps"] += 1  # trimmed, dropped, or a new gateway
            self._account_seq = message.seq
            self.tracker.apply(message.event)

    def _decode(self, data: bytes) -> Message | None:
        try:
            return decode(data)
        except WireError as exc:
            self.counters["malformed"] += 1
            log.error("worker %s: %s", self.worker, exc)
            return None

    async def heartbeats(self, interval: float) -> None:
        """Tell the gateway this worker lives (and what market data it lost), until cancelled."""
        while True:
            message = Heartbeat(worker=self.worker, market_gaps=self.market_gaps)
            try:
                with unavailable(self.url):
                    await self.client.xadd(self.layout.intents, {FIELD: encode(message)})
            except GatewayUnavailableError:
                self.counters["redis_errors"] += 1
            await anyio.sleep(interval)

    # -- market data -----------------------------------------------------------

    @asynccontextmanager
    async def quotes(self, symbols: tuple[str, ...]) -> AsyncIterator[AsyncIterator[MarketEvent]]:
        """The last event of each symbol, then live ones; a gap (seq) jumps to the newest."""
        await self.subscribe(symbols)
        yield self._market(symbols)

    async def _market(self, symbols: tuple[str, ...]) -> AsyncIterator[MarketEvent]:
        layout = self.layout
        names = {layout.market(s): s for s in symbols}
        positions: dict[str, str] = {}
        seqs: dict[str, int] = {}
        for stream in names:  # the snapshot: the newest entry of each
            for event in await self._newest(stream, positions, seqs):
                yield event
        while True:
            try:
                with unavailable(self.url):
                    batches = await read_streams(self.client, positions, count=500, block_ms=1000)
            except GatewayUnavailableError:
                self.counters["redis_errors"] += 1
                await anyio.sleep(0.2)
                continue
            for stream, entries in batches:
                for entry_id, data in entries:
                    message = self._decode(data)
                    if not isinstance(message, MarketMsg) or isinstance(message.event, BookDepth):
                        continue
                    last = seqs.get(stream, 0)
                    if message.seq <= last and message.seq != 1:
                        positions[stream] = entry_id
                        continue
                    if last and message.seq != last + 1:
                        self.market_gaps += 1  # trimmed away: resync on the newest
                        for event in await self._newest(stream, positions, seqs):
                            yield event
                        break
                    positions[stream] = entry_id
                    seqs[stream] = message.seq
                    yield message.event

    async def _newest(
        self, stream: str, positions: dict[str, str], seqs: dict[str, int]
    ) -> list[MarketEvent]:
        with unavailable(self.url):
            newest: Any = await self.client.xrevrange(stream, count=1)
        if not newest:
            positions.setdefault(stream, "0-0")
            return []
        entry_id, fields = newest[0]
        positions[stream] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        message = self._decode(fields.get(FIELD, b""))
        if not isinstance(message, MarketMsg) or isinstance(message.event, BookDepth):
            return []
        seqs[stream] = message.seq
        return [message.event]


def _snapshot(reply: Message, request: str) -> Snapshot:
    """The snapshot a hello or subscription asked for; the gateway's refusal raised."""
    if isinstance(reply, Snapshot):
        return reply
    if isinstance(reply, Answer) and reply.outcome is Outcome.DENIED:
        raise GatewayRefusedError(request, reply.violations)
    raise ProtocolError(f"gateway answered {request} with a {type(reply).__name__}")


def worker_name() -> str:
    """A default worker name: ``EC_WORKER``, else ``host-pid``."""
    return os.environ.get("EC_WORKER") or f"{os.uname().nodename.split('.')[0]}-{os.getpid()}"
