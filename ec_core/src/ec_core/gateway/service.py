"""The gateway: one consumer of the intents stream in front of the executors.

Each intent is executed at most once. Its id is the request's client order id;
the executor journals it with the order before the send (write-ahead), so after a
crash the tracker rebuilt from the journal knows it, and a redelivered intent is
answered from that order (``replayed``), never sent again. Every intent entry gets
exactly one answer: the answer and the entry's acknowledgement are written in one
Redis transaction, and a retry after a lost connection first asks whether the entry
is still pending. Entries left pending by a crashed gateway are reclaimed at start
(XAUTOCLAIM) before new ones are read.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any, final

import anyio
import anyio.abc
import redis.asyncio as aioredis
import redis.exceptions

from ec_core.data.feed import NOTED_EVENTS, DataFeed, FeedSet
from ec_core.errors import EcError, GatewayUnavailableError, SymbolNotFoundError
from ec_core.execution import Payload
from ec_core.gateway import answers
from ec_core.gateway.access import refusal
from ec_core.gateway.config import GatewayConfig
from ec_core.gateway.layout import GROUP, StreamLayout
from ec_core.gateway.outbox import Outbox
from ec_core.gateway.redis_io import autoclaim, ensure_group, read_group, unavailable
from ec_core.gateway.replies import Replies
from ec_core.gateway.symbols import SymbolQuota
from ec_core.gateway.tap import EventTap
from ec_core.gateway.wire import (
    FIELD,
    Answer,
    Heartbeat,
    Hello,
    IntentMsg,
    Lookup,
    MarketMsg,
    Message,
    Snapshot,
    Subscribe,
    TradeMsg,
    WireError,
    decode,
    encode,
    request_head,
)
from ec_core.gateway.workers import IntentWaits, Liveness
from ec_core.model import CancelOrder, ExecutionReport, Instrument, TradeEvent
from ec_core.plugins import PluginHost
from ec_core.strategy.rig import OrderPath
from ec_core.vendor import Session

__all__ = ["Gateway"]

log = logging.getLogger(__name__)

_BATCH = 256  # intents entries read at once


@final
class Gateway:
    """Serve ``paths`` (one order path per account) to the workers of ``config``."""

    def __init__(
        self,
        *,
        config: GatewayConfig,
        client: aioredis.Redis,
        host: PluginHost,
        session: Session,
        paths: Mapping[str, OrderPath],
        taps: Mapping[str, EventTap],
        instruments: dict[str, Instrument],
        consumer: str,
        feeds: FeedSet,
    ) -> None:
        self.config = config
        self.layout = StreamLayout(config.namespace)
        self.client = client
        self.host = host
        self.session = session
        self.paths = paths
        self.taps = taps
        self.instruments = instruments
        self.consumer = consumer
        # what the gateway streams, by symbol: the price band's and notional limit's
        # reference of every account's order path (its PriceSource, feeds.prices)
        self.feeds = feeds
        self.outbox = Outbox(client, config.url, limit=config.outbox_limit)
        self.counters: Counter[str] = Counter()
        self.replies = Replies(client, config.url, self.layout, self.outbox, self.counters)
        self.liveness = Liveness()  # listed workers' heartbeats and market gaps
        self.intent_waits = IntentWaits()  # from a worker's send to the gateway's start
        self._seq: dict[str, int] = {}  # stream -> last sequence number published
        self._owners: dict[str, str] = {}  # client order id -> worker
        self._running: dict[str, anyio.Lock] = {}  # intent id -> held while it executes
        self._subscribed: set[str] = set()
        self.symbol_quota = SymbolQuota(
            per_request=config.max_symbols_per_request, per_worker=config.max_symbols_per_worker
        )
        self._limiter = anyio.CapacityLimiter(config.max_in_flight)
        self._read_upto = time.monotonic()  # the intents stream is read up to here
        self._tg: anyio.abc.TaskGroup | None = None

    # -- running ---------------------------------------------------------------

    async def serve(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Publish, reclaim what a previous run left pending, then answer intents (until
        cancelled)."""
        with unavailable(self.config.url):
            await ensure_group(self.client, self.layout.intents, GROUP)
            for account in self.paths:
                await self._resume_numbering(self.layout.account(account))
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self.outbox.run)
            for account, tap in self.taps.items():
                tap.target = functools.partial(self.publish_event, account)
            if self.config.symbols:
                await self._subscribe(self.config.symbols)
            tg.start_soon(self._publish_status)
            if self.config.on_worker_lost == "cancel":
                tg.start_soon(self._watch_workers)
            with unavailable(self.config.url):
                reclaimed = await autoclaim(
                    self.client, self.layout.intents, GROUP, self.consumer, min_idle_ms=0
                )
            self.counters["reclaimed"] += len(reclaimed)
            for entry_id, data in reclaimed:
                await self._dispatch(entry_id, data)
            task_status.started()
            await self._read_intents()

    async def _read_intents(self) -> None:
        delay = 0.05
        while True:
            started = time.monotonic()  # what was on the stream by now is in a short read
            try:
                with unavailable(self.config.url):
                    entries = await read_group(
                        self.client,
                        self.layout.intents,
                        GROUP,
                        self.consumer,
                        count=_BATCH,
                        block_ms=1000,
                    )
            except GatewayUnavailableError as exc:
                self.counters["redis_errors"] += 1
                log.warning("reading intents paused: %s", exc)
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            except redis.exceptions.RedisError as exc:
                self.counters["redis_errors"] += 1
                log.error("reading intents refused: %s", exc)  # serve on, try again
                if "NOGROUP" in str(exc):  # Redis restarted without its data: the group again
                    with contextlib.suppress(GatewayUnavailableError, redis.exceptions.RedisError):
                        with unavailable(self.config.url):
                            await ensure_group(self.client, self.layout.intents, GROUP)
                        continue
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05
            for entry_id, data in entries:
                await self._dispatch(entry_id, data)
            if len(entries) < _BATCH:  # a full batch may have left older entries unread
                self._read_upto = started

    async def _dispatch(self, entry_id: str, data: bytes) -> None:
        try:
            message = decode(data)
        except WireError as exc:
            self.counters["malformed"] += 1
            log.error("intents entry %s refused: %s", entry_id, exc)
            head = request_head(data)
            if head is not None and head[1] in self.config.workers:
                kind, worker, request_id = head
                answer = answers.malformed(kind, request_id, exc)
                assert self._tg is not None
                self._tg.start_soon(self.replies.reply, worker, answer, entry_id)
            else:
                await self.replies.ack(entry_id)
            return
        assert self._tg is not None
        if isinstance(message, IntentMsg):
            self.counters["intents"] += 1
            if self._listed(message.worker):  # it lives, and is busy until answered
                self.liveness.begin(message.worker, time.monotonic())
            self._tg.start_soon(self._intent, entry_id, message)
        elif isinstance(message, Hello | Subscribe | Lookup):
            self._tg.start_soon(self._hello, entry_id, message)
        elif isinstance(message, Heartbeat):
            self._heartbeat(message)
            await self.replies.ack(entry_id)
        else:
            self.counters["malformed"] += 1
            log.error("intents entry %s: a %s does not belong there", entry_id, type(message))
            await self.replies.ack(entry_id)

    def _heartbeat(self, beat: Heartbeat) -> None:
        """A listed worker lives; an unlisted one is counted (logged the first time), never
        kept: names nobody listed cannot grow the gateway's maps."""
        worker = beat.worker
        if not self._listed(worker):
            self.counters["unlisted_heartbeats"] += 1
            if self.counters["unlisted_heartbeats"] == 1:
                log.warning(
                    "heartbeat of worker %r ignored: not listed under [gateway.workers] (more"
                    " are only counted: unlisted_heartbeats in the status hash)",
                    worker,
                )
            return
        self.liveness.beat(worker, beat.market_gaps, time.monotonic())

    def _listed(self, worker: str) -> bool:
        return refusal(self.config, worker, None, self.paths) is None

    # -- intents ---------------------------------------------------------------

    async def _intent(self, entry_id: str, intent: IntentMsg) -> None:
        intent_id = intent.intent_id
        lock = self._running.setdefault(intent_id, anyio.Lock())
        try:
            async with self._limiter, lock:  # a second delivery waits, then is replayed
                self.intent_waits.add(intent.sent_ns, time.time_ns())
                try:
                    answer = await self._answer(intent)
                except Exception as exc:  # whatever failed, the intent is answered
                    self._failed(f"intent {intent_id}", exc)
                    account = intent.request.account_id
                    path = self.paths.get(account)
                    known = None if path is None else path.tracker.order(intent_id)
                    answer = answers.failed(intent_id, exc, known)
                await self.replies.reply(intent.worker, answer, entry_id)
        finally:
            if self._listed(intent.worker):
                self.liveness.end(intent.worker, time.monotonic())
            if not lock.statistics().tasks_waiting and self._running.get(intent_id) is lock:
                del self._running[intent_id]

    async def _answer(self, intent: IntentMsg) -> Answer:
        request, worker, intent_id = intent.request, intent.worker, intent.intent_id
        account = request.account_id
        refused = refusal(self.config, worker, account, self.paths)
        if refused is not None:
            return answers.refused(intent_id, refused)
        path = self.paths[account]
        if not intent_id:
            return answers.denied(
                intent_id, "CL_ORDER_ID_REQUIRED", "cl_order_id", "an intent carries its id", ""
            )
        known = path.tracker.order(intent_id)
        if known is not None:  # sent before (a redelivery): never twice
            self.counters["replayed"] += 1
            return answers.replayed(intent_id, known)
        symbol = getattr(request, "symbol", None)
        if symbol:
            refused = self.symbol_quota.refusal(worker, (symbol,), field="symbol")
            if refused is not None:  # none resolved, nothing sent
                self.counters["refused"] += 1
                return answers.refused(intent_id, refused)
            try:
                await self._instrument(symbol)
            except SymbolNotFoundError as exc:
                return answers.denied(intent_id, "SYMBOL_NOT_FOUND", "symbol", str(exc), symbol)
            except EcError as exc:  # the venue could not tell (connection lost...): not sent
                return answers.from_error(intent_id, exc, None)
        self._owners[intent_id] = worker
        payload = Payload(request=request, request_id=intent.request_id)
        try:
            order = await path.executor.execute(payload)
        except EcError as exc:
            return answers.from_error(intent_id, exc, path.tracker.order(intent_id))
        return answers.from_result(intent_id, payload, order)

    # -- hello, snapshots and subscriptions ------------------------------------

    async def _hello(self, entry_id: str, message: Hello | Subscribe | Lookup) -> None:
        try:
            reply: Message = await self._hello_reply(message)
        except Exception as exc:  # whatever failed, the request is answered
            reply = answers.request_failed(message, exc)
            asked = reply.violations[0].value
            self._failed(f"{type(message).__name__.lower()} of {message.worker} ({asked})", exc)
        await self.replies.reply(message.worker, reply, entry_id)

    async def _hello_reply(self, message: Hello | Subscribe | Lookup) -> Answer | Snapshot:
        """The snapshot asked for, or the refusal (:mod:`~ec_core.gateway.access`)."""
        account = message.account_id if isinstance(message, Hello) else None
        refused = refusal(self.config, message.worker, account, self.paths)
        if refused is None and not isinstance(message, Hello):  # before any is resolved
            refused = self.symbol_quota.refusal(message.worker, message.symbols)
        if refused is not None:
            self.counters["refused"] += 1
            what = type(message).__name__.lower() + ("" if account is None else f" for {account}")
            log.warning("%s of worker %s refused: %s", what, message.worker, refused)
            return answers.refused(message.hello_id, refused)
        if isinstance(message, Lookup):
            return Snapshot(
                hello_id=message.hello_id,
                account_id="",
                instruments=tuple(await self._resolved(message.symbols)),
            )
        if isinstance(message, Subscribe):
            try:
                await self._subscribe(message.symbols)
            except SymbolNotFoundError as exc:  # the snapshot lacks it: the client says so
                log.warning("subscription of %s: %s", message.worker, exc)
        return self.snapshot(message.hello_id, account or "")

    def _failed(self, request: str, error: Exception) -> None:
        self.counters["request_failures"] += 1
        log.error("%s failed: %s: %s", request, type(error).__name__, error, exc_info=error)

    def snapshot(self, hello_id: str, account_id: str) -> Snapshot:
        """The account as the tracker knows it now, and where its stream goes on from."""
        path = self.paths.get(account_id)
        instruments = tuple(self.instruments[s] for s in sorted(self.instruments))
        if path is None:
            return Snapshot(hello_id=hello_id, account_id=account_id, instruments=instruments)
        stream = self.layout.account(account_id)
        tracker = path.tracker
        return Snapshot(
            hello_id=hello_id,
            account_id=account_id,
            orders=tuple(tracker.orders(account_id)),
            positions=tuple(tracker.positions(account_id)),
            # the priced symbols' (one booked in points is priced once it is resolved)
            realized_pnl=tracker.realized_pnl(account_id, priced_only=True),
            account_from=self.outbox.last_id.get(stream, "0-0"),
            account_seq=self._seq.get(stream, 0),
            instruments=instruments,
        )

    async def _instrument(self, symbol: str) -> Instrument:
        """Resolved once, then kept: the trackers' and snapshots' multipliers are there."""
        found = self.instruments.get(symbol)
        if found is None:
            found = self.instruments[symbol] = await self.session.resolve(symbol)
        return found

    async def _resolved(self, symbols: tuple[str, ...]) -> list[Instrument]:
        """The instruments of ``symbols`` the venue lists (a lookup's answer)."""
        found = []
        for symbol in dict.fromkeys(symbols):
            try:
                found.append(await self._instrument(symbol))
            except SymbolNotFoundError as exc:  # the answer lacks it: the worker says so
                log.warning("lookup: %s", exc)
        return found

    async def _subscribe(self, symbols: tuple[str, ...]) -> None:
        new = [s for s in dict.fromkeys(symbols) if s not in self._subscribed]
        if not new:
            return
        resolved = []
        for symbol in new:
            instrument = await self._instrument(symbol)
            resolved.append(instrument)
            if symbol not in self.feeds:
                self.feeds.add(DataFeed(instrument))
            with unavailable(self.config.url):
                await self._resume_numbering(self.layout.market(symbol))
        self._subscribed.update(new)
        assert self._tg is not None
        self._tg.start_soon(self._follow_market, resolved)

    async def _resume_numbering(self, stream: str) -> None:
        """Go on from the last sequence number the stream holds (a restarted gateway)."""
        last: Any = await self.client.xrevrange(stream, count=1)
        if last:
            entry_id, fields = last[0]
            try:
                message: Message | None = decode(fields.get(FIELD, b""))
            except WireError as exc:  # not ours: numbering starts over (readers resync)
                self.counters["malformed"] += 1
                log.error("last entry of %s: %s", stream, exc)
                message = None
            if isinstance(message, TradeMsg | MarketMsg):
                self._seq[stream] = message.seq
            self.outbox.last_id[stream] = (
                entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            )

    # -- publishing ------------------------------------------------------------

    def seq(self, stream: str) -> int:
        """The last sequence number published (or queued) on ``stream``."""
        return self._seq.get(stream, 0)

    def _next(self, stream: str) -> int:
        seq = self._seq[stream] = self._seq.get(stream, 0) + 1
        return seq

    def publish_event(self, account_id: str, event: TradeEvent) -> None:
        """A trade event the account's executor took: to the account's stream, and an
        order's report to the replies of the worker it belongs to."""
        stream = self.layout.account(account_id)
        data = encode(TradeMsg(seq=self._next(stream), event=event))
        self.outbox.put_event(stream, data, maxlen=self.config.account_maxlen)
        if isinstance(event, ExecutionReport):
            owner = self.owner(event.chain_id or event.cl_order_id, event.orig_cl_order_id)
            if owner is not None:
                self.outbox.put_event(self.layout.replies(owner), data)

    def owner(self, *order_ids: str) -> str | None:
        """The worker an order belongs to: the one that sent it, else the one its id names
        (``worker.token.n``, as the client makes them)."""
        for order_id in order_ids:
            if not order_id:
                continue
            owner = self._owners.get(order_id)
            if owner is None:
                prefix = order_id.partition(".")[0]
                owner = prefix if prefix in self.config.workers else None
            if owner is not None:
                return owner
        return None

    async def _follow_market(self, instruments: list[Instrument]) -> None:
        """Publish until cancelled; a feed that fails ends only itself (logged, counted):
        the next subscription of its symbols starts it again."""
        maxlen = self.config.market_maxlen
        layout = self.layout
        note = self.feeds.on_event
        try:
            async with self.host.market_data(self.session).stream(instruments) as events:
                async for event in events:
                    if isinstance(event, NOTED_EVENTS):
                        note(event)  # before a worker can see it
                    stream = layout.market(event.symbol)
                    data = encode(MarketMsg(seq=self._next(stream), event=event))
                    self.outbox.put_market(stream, data, maxlen=maxlen)
        except EcError as exc:
            self.counters["market_failures"] += 1
            symbols = [i.symbol for i in instruments]
            log.error("market data of %s stopped: %s", ", ".join(symbols), exc)
            for symbol in symbols:  # a frozen price is no band reference: deny until it flows
                self.feeds.mark_stale(symbol, str(exc))
            self._subscribed.difference_update(symbols)

    def status(self) -> dict[str, int | float]:
        """The fields of the status hash (``{ns}:status``), as of now."""
        return {
            **self.counters,
            "published": self.outbox.written,
            "queued": len(self.outbox),
            "dropped": sum(self.outbox.dropped.values()),
            **{f"dropped:{s}": n for s, n in self.outbox.dropped.items()},
            **self.liveness.status(),
            **self.intent_waits.status(),
        }

    async def _publish_status(self) -> None:
        while True:
            status: dict[Any, Any] = self.status()
            try:
                with unavailable(self.config.url):
                    await self.client.hset(self.layout.status, mapping=status)
            except GatewayUnavailableError:
                pass
            except redis.exceptions.RedisError as exc:  # e.g. the key holds something else
                log.error("status not published: %s", exc)
            await anyio.sleep(1.0)

    # -- workers that went silent ----------------------------------------------

    async def _watch_workers(self) -> None:
        timeout = self.config.heartbeat_timeout
        while True:
            await anyio.sleep(min(1.0, timeout / 4))
            # judged by what was read: a stalled gateway has the beats still to read
            for worker in self.liveness.newly_silent(self._read_upto, timeout):
                self.counters["workers_lost"] += 1
                log.warning(
                    "worker %s silent for over %s s: its orders are cancelled", worker, timeout
                )
                await self._cancel_orders_of(worker)

    async def _cancel_orders_of(self, worker: str) -> None:
        """``on_worker_lost = "cancel"``: the silent worker's working orders are cancelled."""
        for account, path in self.paths.items():
            for order in path.tracker.open_orders(account):
                if self.owner(order.chain_id, order.cl_order_id) != worker:
                    continue
                request = CancelOrder(
                    account_id=account, symbol=order.symbol, orig_cl_order_id=order.cl_order_id
                )
                self.counters["cancelled_for_lost_worker"] += 1
                try:
                    await path.executor.execute(Payload(request=request))
                except EcError as exc:
                    log.warning("cancel of %s (worker %s lost): %s", order.chain_id, worker, exc)
