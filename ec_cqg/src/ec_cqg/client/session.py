"""The CQG session: logon, the line's lifecycle, reconnect, and the core vendor contract.

One :class:`CqgSession` is one logged-on user. Inside it:

* a :class:`~ec_cqg.client.transport.Connection` per line (one reader, one writer);
* the protocol layer's :class:`~ec_cqg.protocol.correlation.Correlator`, which matches
  every server item to the request it answers or streams it (unsolicited and unknown
  items become counted dead letters; a malformed frame is counted and dropped);
* a supervisor task that reconnects with exponential backoff and jitter, restores the
  session with its token when the server allows it (else logs on afresh and re-resolves
  every symbol: contract ids live for one logon), replays market-data subscriptions and
  the trade subscription, and diffs the trade snapshot against what it knew: subscribers
  get ``SessionEvent(GAP)``, the reports that changed, ``SnapshotComplete``,
  ``SessionEvent(RECONNECTED)`` and ``SessionEvent(RECONCILED)``. New orders are held
  while that runs. Requests pending when the line drops fail with
  :class:`~ec_core.errors.ConnectionLostError`; nothing waits forever.

The session never re-sends an order by itself, so a drop cannot duplicate one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, suppress
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Final, final

import anyio
import msgspec
from anyio.abc import TaskStatus
from ec_core.errors import (
    AuthError,
    ConnectionLostError,
    EcError,
    OrderDeniedError,
    PriceError,
    ProtocolError,
    RequestTimeoutError,
    SessionError,
    Violation,
)
from ec_core.model import (
    Account,
    AccountReport,
    CancelOrder,
    ExecutionReport,
    Instrument,
    MarketEvent,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderState,
    OrderType,
    Position,
    PositionReport,
    ReportKind,
    SessionEvent,
    SessionEventKind,
    SessionState,
    Side,
    SnapshotComplete,
    TradeEvent,
)
from ec_core.session import SessionLifecycle
from google.protobuf.message import Message

from ec_cqg.client.backoff import Backoff
from ec_cqg.client.channels import EventChannel
from ec_cqg.client.config import CqgSettings
from ec_cqg.client.features import CqgMarketDataFeed, CqgOrderGateway, CqgTradeMonitor
from ec_cqg.client.marketdata import ContractQuotes
from ec_cqg.client.recorder import WireRecorder
from ec_cqg.client.throttle import Throttle
from ec_cqg.client.transport import Connection, open_connection
from ec_cqg.protocol.codec import decode_server_fields, encode_client, is_market_data_only
from ec_cqg.protocol.correlation import (
    Answer,
    Correlator,
    DeadLetter,
    ItemKind,
    RequestKind,
    Update,
)
from ec_cqg.protocol.mapping.reports import (
    ContractBook,
    ContractRef,
    ReportMapper,
    accounts_from_report,
    instrument_from_metadata,
    unseen_fill,
)
from ec_cqg.protocol.mapping.requests import OrderTarget, build_order_request
from ec_cqg.protocol.mapping.session import (
    check_logon_result,
    check_restore_result,
    logoff_message,
    logon_message,
    ping_message,
    pong_message,
    restore_message,
)
from ec_cqg.protocol.pb import (
    ClientMsg,
    market_data_2,
    metadata_2,
    order_2,
    trade_routing_2,
    user_session_2,
    webapi_2,
)
from ec_cqg.protocol.prices import double_to_decimal, qty_from_cqg
from ec_cqg.protocol.timestamps import BaseTime

__all__ = [
    "CqgMarketDataFeed",
    "CqgOrderGateway",
    "CqgSession",
    "CqgTradeMonitor",
    "SymbolNotFoundError",
]

log = logging.getLogger("ec_cqg.client")

_NS: Final = 1_000_000_000
_TS = trade_routing_2.TradeSubscription
_SCOPES: Final = (_TS.SUBSCRIPTION_SCOPE_ORDERS, _TS.SUBSCRIPTION_SCOPE_POSITIONS)
_MD = market_data_2.MarketDataSubscription
_FAILURE: Final = 100
_CODE: Final = "CQG_SESSION"
_RTMD: Final = ItemKind.REAL_TIME_MARKET_DATA


@final
class SymbolNotFoundError(SessionError, LookupError):
    """The server could not resolve a symbol; ``code`` is its status code."""

    def __init__(self, symbol: str, *, code: int, text: str = "") -> None:
        detail = f": {text}" if text else ""
        super().__init__(f"symbol {symbol!r} not resolved (status {code}){detail}")
        self.symbol = symbol
        self.code = code


class _Call:
    __slots__ = ("answers", "done", "error")

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.done = anyio.Event()
        self.error: BaseException | None = None


class _Chain:
    """What we know of one order chain (CQG ``chain_order_id``)."""

    __slots__ = ("account_id", "chain_order_id", "first_cl", "last", "order_id")

    def __init__(self, chain_order_id: str) -> None:
        self.chain_order_id = chain_order_id
        self.order_id = ""
        self.account_id = 0
        self.first_cl = ""
        self.last: ExecutionReport | None = None


class _MarketSub:
    __slots__ = ("channels", "contract_id", "level", "quotes", "symbol")

    def __init__(self, symbol: str, contract_id: int, quotes: ContractQuotes, level: int) -> None:
        self.symbol = symbol
        self.contract_id = contract_id
        self.quotes = quotes
        self.level = level
        self.channels: list[EventChannel[MarketEvent]] = []


def _unwrap(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first non-cancellation error of a (nested) exception group."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _unwrap(exc)
        if not isinstance(exc, anyio.get_cancelled_exc_class()):
            return exc
    return group


def _utc_ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1000


@final
class CqgSession:
    """A logged-on CQG WebAPI session; the core :class:`~ec_core.vendor.Session`."""

    def __init__(
        self,
        settings: CqgSettings,
        *,
        vendor: str = "cqg",
        on_state: Callable[[SessionState, SessionState], None] | None = None,
    ) -> None:
        self.settings = settings
        self._vendor = vendor
        self.clock = settings.clock
        self.lifecycle = SessionLifecycle(listener=on_state)
        self.correlator = Correlator()
        self.throttle = (
            Throttle(self.clock) if settings.throttle else None
        )  # the clock is the session's; sleeps are real
        seed_rng = random.Random(settings.backoff_seed)
        self.backoff = Backoff(
            initial=settings.backoff_initial,
            maximum=max(settings.backoff_max, settings.backoff_initial),
            rng=seed_rng,
        )
        self.counters: Counter[str] = Counter()
        self.base_time: BaseTime | None = None
        self.session_token = ""
        self.reconnects = 0
        self._conn: Connection | None = None
        self._calls: dict[tuple[RequestKind, int | str], _Call] = {}
        self._ids = itertools.count(1)
        self._cl_ids = itertools.count(1)
        self._cl_prefix = f"ec{self.clock.now_ns() // 1_000_000 % 10**10:010d}-"
        self._contracts = ContractBook()
        self._mapper = ReportMapper(self._contracts)
        self._instruments: dict[str, tuple[Instrument, ContractRef]] = {}
        self._symbol_of: dict[int, str] = {}
        self._chains: dict[str, _Chain] = {}
        self._chain_of_cl: dict[str, _Chain] = {}
        self._sent_new: set[str] = set()
        self._order_requests: dict[int, OrderRequest] = {}
        self._fills: set[str] = set()
        self._positions: dict[tuple[int, int], dict[int, tuple[int, Decimal]]] = {}
        self._position_reports: dict[tuple[str, str], Position] = {}
        self._trade_channels: dict[str, list[EventChannel[TradeEvent]]] = {}
        self._market: dict[int, _MarketSub] = {}
        self._market_by_symbol: dict[str, _MarketSub] = {}
        self._trade_sub_id = 0
        self._snapshot_scopes: set[int] = set()
        # snapshot items collected until the completion of ``_snapshot_id`` (after a drop,
        # from the moment the line is lost: a restored session may replay its snapshot
        # before the subscription is renewed)
        self._snapshot: list[tuple[str, Message]] | None = None
        self._snapshot_id: int | None = None
        self._first_snapshot = True
        self._ready = anyio.Event()
        self._closing = False
        self._frames_total = 0  # frames of earlier lines (stats)
        self._market_events = 0
        self._recorder: WireRecorder | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._md_batch: list[bytes] = []  # market-data frames gathered, not decoded yet
        # order statuses waiting for the metadata of a contract never seen in this logon
        self._unresolved: dict[int, list[tuple[order_2.OrderStatus, bool, bool]]] = {}
        self._waiting_chains: dict[str, int] = {}
        self._stack: AsyncExitStack | None = None
        self._orders = CqgOrderGateway(self)
        self._market_feed = CqgMarketDataFeed(self)
        self._trades = CqgTradeMonitor(self)

    def __repr__(self) -> str:
        return f"CqgSession(url={self.settings.url!r}, state={self.state.value})"

    # -- Session protocol ------------------------------------------------------

    @property
    def vendor(self) -> str:
        return self._vendor

    @property
    def state(self) -> SessionState:
        return self.lifecycle.state

    @property
    def orders(self) -> CqgOrderGateway:
        return self._orders

    @property
    def market_data(self) -> CqgMarketDataFeed:
        return self._market_feed

    @property
    def trades(self) -> CqgTradeMonitor:
        return self._trades

    async def accounts(self) -> Sequence[Account]:
        """Every account of the logon (information request). Cancel-safe."""
        request = webapi_2.InformationRequest(id=next(self._ids))
        request.accounts_request.SetInParent()
        answers = await self._request(ClientMsg(information_requests=[request]))
        accounts: list[Account] = []
        for answer in answers:
            report = answer.item
            assert isinstance(report, webapi_2.InformationReport)
            self._check_info(report, "accounts")
            if report.HasField("accounts_report"):
                accounts.extend(accounts_from_report(report.accounts_report))
        return accounts

    async def resolve(self, symbol: str) -> Instrument:
        """The instrument of ``symbol`` (cached until the next fresh logon). Cancel-safe."""
        cached = self._instruments.get(symbol)
        if cached is not None:
            return cached[0]
        metadata = await self._resolve_metadata(symbol)
        return self._remember(symbol, metadata)[0]

    # -- extras ------------------------------------------------------------------

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        return self.correlator.dead_letters

    def stats(self) -> dict[str, int]:
        """Counters: frames, malformed frames, dead letters, pings answered, throttle waits."""
        out = dict(self.counters)
        conn = self._conn
        out["frames_in"] = self._frames_total + (conn.frames_in if conn is not None else 0)
        out["market_events"] = self._market_events
        for key, value in self.correlator.counts.items():
            out[f"dead_letters_{key}"] = value
        if self.throttle is not None:
            out["throttle_waits"] = self.throttle.waits
        out["reconnects"] = self.reconnects
        return out

    async def wait_ready(self, limit_s: float | None = None) -> None:
        """Wait until logged on with the trade snapshot applied (after a reconnect too)."""
        with anyio.fail_after(limit_s):
            while True:
                if self.state is SessionState.CLOSED:
                    raise ConnectionLostError("session closed")
                if self._ready.is_set() and self.state is SessionState.LOGGED_ON:
                    return
                ready = self._ready
                async with anyio.create_task_group() as tg:

                    async def closed(scope: anyio.CancelScope = tg.cancel_scope) -> None:
                        await self.lifecycle.wait_for(SessionState.CLOSED)
                        scope.cancel()

                    tg.start_soon(closed)
                    await ready.wait()
                    tg.cancel_scope.cancel()

    def flush_recording(self) -> None:
        """Push the wire recording's buffered frames to the file (to read it while live)."""
        if self._recorder is not None:
            self._recorder.flush()

    async def drop_line(self, reason: str = "dropped by test") -> None:
        """Close the current line as if the network failed (for fault drills)."""
        conn = self._conn
        if conn is not None:
            await conn.close(reason)

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> CqgSession:
        self.lifecycle.advance(SessionState.CONNECTING)
        stack = AsyncExitStack()
        try:
            if self.settings.record_path is not None:
                self._recorder = WireRecorder(self.settings.record_path, self.clock)
                stack.callback(self._recorder.close)
            tg = await stack.enter_async_context(anyio.create_task_group())
            self._tg = tg
            stack.push_async_callback(self._shutdown, tg)
            await tg.start(self._supervise)
        except BaseException as exc:
            self._closing = True
            try:
                await stack.aclose()
            except BaseExceptionGroup as group:
                raise _unwrap(group) from exc
            finally:
                self._close_channels()
                if self.state is not SessionState.CLOSED:
                    self.lifecycle.advance(SessionState.CLOSED)
            if isinstance(exc, BaseExceptionGroup):
                raise _unwrap(exc) from None
            raise
        self._stack = stack
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        stack, self._stack = self._stack, None
        try:
            if stack is not None:
                try:
                    await stack.aclose()
                except BaseExceptionGroup as group:
                    inner = _unwrap(group)
                    if not isinstance(inner, EcError):
                        raise inner from None
        finally:
            self._close_channels()
            if self.state is not SessionState.CLOSED:
                self.lifecycle.advance(SessionState.CLOSED)

    async def _shutdown(self, tg: anyio.abc.TaskGroup) -> None:
        self._closing = True
        if self.state not in (SessionState.CLOSED, SessionState.CLOSING):
            self.lifecycle.advance(SessionState.CLOSING)
        conn = self._conn
        if conn is not None and not conn.closed:
            with anyio.move_on_after(2.0, shield=True):
                with suppress(EcError):
                    await self._request(logoff_message("ec session closed"), limit_s=2.0)
            await conn.close("logged off")
        tg.cancel_scope.cancel()
        if self._recorder is not None:
            self._recorder.flush()

    def _close_channels(self) -> None:
        for channels in self._trade_channels.values():
            for channel in channels:
                channel.close()
        for sub in self._market.values():
            for md_channel in sub.channels:
                md_channel.close()

    # -- supervisor --------------------------------------------------------------

    async def _supervise(
        self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        first = True
        attempts = 0
        while True:
            logged_on = False
            try:
                conn = await open_connection(
                    self.settings.url,
                    allow_insecure=self.settings.allow_insecure,
                    ssl=self.settings.ssl,
                    open_timeout_s=self.settings.logon_timeout,
                    queue_size=self.settings.outbound_queue,
                    recorder=self._recorder,
                )
                try:
                    logged_on = await self._serve(conn, first, task_status)
                except BaseExceptionGroup as group:
                    raise _unwrap(group) from None
            except AuthError:
                if first:
                    raise
                log.error("cqg: logon refused while reconnecting; giving up")
                self._give_up()
                return
            except (ConnectionLostError, ProtocolError, RequestTimeoutError) as exc:
                if first:
                    raise
                log.warning("cqg: reconnect attempt failed: %s", exc)
            finally:
                if self._conn is not None:
                    self._frames_total += self._conn.frames_in
                self._conn = None
                self._fail_pending("connection lost")
            if first and not logged_on:
                raise ConnectionLostError("connection closed during logon")
            if logged_on:
                first = False
                attempts = 0
            if self._closing:
                return
            self._line_lost()
            if not self.settings.reconnect:
                self._give_up()
                return
            limit = self.settings.max_reconnect_attempts
            if limit is not None and attempts >= limit:
                log.error("cqg: %d reconnect attempts failed; giving up", attempts)
                self._give_up()
                return
            attempts += 1
            await anyio.sleep(self.backoff.next_delay())

    def _give_up(self) -> None:
        self._closing = True
        if self.state is not SessionState.CLOSED:
            self.lifecycle.advance(SessionState.CLOSED)
        self._ready.set()
        self._close_channels()

    def _line_lost(self) -> None:
        if self.state is SessionState.LOGGED_ON:
            self.lifecycle.advance(SessionState.RECONNECTING)
            self._publish_all(
                SessionEvent(
                    kind=SessionEventKind.DISCONNECTED,
                    detail="connection lost",
                    ts_ns=self.clock.now_ns(),
                )
            )
        self._ready = anyio.Event()
        if self._snapshot is None:
            self._snapshot = []
        self._snapshot_id = None

    async def _serve(self, conn: Connection, first: bool, task_status: TaskStatus[None]) -> bool:
        """Log on over ``conn``, restore state, pump frames until the line drops.

        Returns whether the logon and the resubscriptions completed.
        """
        logged_on = False
        self._conn = conn
        async with anyio.create_task_group() as tg:

            async def line() -> None:
                await conn.run(self._on_frame)
                self._flush_market_data()  # what arrived before the line dropped
                self._fail_pending(conn.close_reason or "connection lost")
                tg.cancel_scope.cancel()

            tg.start_soon(line)
            restored = await self._logon(first)
            tg.start_soon(self._heartbeat, conn)
            if not first:
                self.reconnects += 1
                self.backoff.reset()
                self.lifecycle.advance(SessionState.LOGGED_ON)
            await self._after_logon(first=first, restored=restored)
            if first:
                self.lifecycle.advance(SessionState.LOGGED_ON)
                task_status.started()
            logged_on = True
            await conn.wait_closed()
        return logged_on

    async def _logon(self, first: bool) -> bool:
        """Restore with the session token after a drop if we have one, else log on."""
        settings = self.settings
        if not first and self.session_token:
            msg = restore_message(
                session_token=self.session_token, client_app_id=settings.client_app_id
            )
            try:
                answers = await self._request(msg, limit_s=settings.logon_timeout, control=True)
                result = answers[-1].item
                assert isinstance(result, user_session_2.RestoreOrJoinSessionResult)
                self.base_time = check_restore_result(result)
                self._mapper.base_time = self.base_time
                self.counters["restores"] += 1
                return True
            except AuthError as exc:
                log.info("cqg: session restore refused (%s); logging on afresh", exc)
                self.session_token = ""
        msg = logon_message(
            user_name=settings.user,
            password=settings.password.reveal(),
            client_app_id=settings.client_app_id,
            client_version=settings.client_version,
        )
        answers = await self._request(msg, limit_s=settings.logon_timeout, control=True)
        logon = answers[-1].item
        assert isinstance(logon, user_session_2.LogonResult)
        self.base_time = check_logon_result(logon)
        self._mapper.base_time = self.base_time
        self.session_token = logon.session_token
        return False

    async def _after_logon(self, *, first: bool, restored: bool) -> None:
        if not restored:
            # Contract ids are valid for one logon: resolve every known symbol again.
            for stale in list(self._unresolved):
                self._drop_unresolved(stale, "fresh logon")
            self._contracts.clear()
            self._symbol_of.clear()
            old = dict(self._instruments)
            self._instruments.clear()
            for symbol in old:
                metadata = await self._resolve_metadata(symbol)
                self._remember(symbol, metadata)
        await self._resubscribe_market_data()
        await self._subscribe_trades(first=first)

    # -- heartbeat ---------------------------------------------------------------

    async def _heartbeat(self, conn: Connection) -> None:
        interval = self.settings.heartbeat_interval
        timeout = self.settings.heartbeat_timeout
        tokens = itertools.count(1)
        # Traffic is seen by the frame count, not a timestamp per frame (the hot path):
        # the line is dead when the count has not moved for ``timeout``.
        seen_frames = conn.frames_in
        last_rx = anyio.current_time()
        while not conn.closed:
            await anyio.sleep(interval)
            if conn.frames_in != seen_frames:
                seen_frames = conn.frames_in
                last_rx = anyio.current_time()
            for pending in self.correlator.expire(self.clock.now_ns()):
                self.counters["expired_requests"] += 1
                if pending.kind is RequestKind.ORDER and pending.request_id is not None:
                    self._order_requests.pop(pending.request_id, None)
            if anyio.current_time() - last_rx > timeout:
                self.counters["heartbeat_timeouts"] += 1
                log.warning("cqg: no traffic for %.1fs; dropping the line", timeout)
                await conn.close("heartbeat timeout")
                return
            base = self.base_time
            if base is None:
                continue
            msg = ping_message(
                ping_utc_time=base.to_offset_ms(self.clock.now_ns()), token=f"hb{next(tokens)}"
            )
            self.correlator.track(msg, deadline_ns=self.clock.now_ns() + int(timeout * _NS))
            conn.send_nowait(encode_client(msg))
            self.counters["pings_sent"] += 1

    # -- requests ------------------------------------------------------------------

    async def _write(
        self,
        msg: ClientMsg,
        *,
        control: bool = False,
        orders: int = 0,
        accounts: tuple[int, ...] = (),
    ) -> None:
        conn = self._conn
        if conn is None or conn.closed:
            raise ConnectionLostError("not connected")
        frame = encode_client(msg)
        if self.throttle is not None:
            if control:
                self.throttle.take()
            else:
                await self.throttle.acquire(orders=orders, accounts=accounts)
        await conn.send(frame)

    async def _request(
        self, msg: ClientMsg, *, limit_s: float | None = None, control: bool = False
    ) -> list[Answer]:
        """Send ``msg`` (one request) and wait for its final answer.

        Raises :class:`RequestTimeoutError` after ``timeout`` and
        :class:`ConnectionLostError` when the line drops first. Cancel-safe: a cancelled
        call stops waiting and a late answer becomes a dead letter.
        """
        timeout = self.settings.request_timeout if limit_s is None else limit_s
        if self._conn is None or self._conn.closed:
            raise ConnectionLostError("not connected")
        deadline = self.clock.now_ns() + int(timeout * _NS)
        pendings = self.correlator.track(msg, deadline_ns=deadline)
        calls = []
        for pending in pendings:
            call = _Call()
            self._calls[(pending.kind, pending.key)] = call
            calls.append((pending, call))
        try:
            await self._write(msg, control=control)
            answers: list[Answer] = []
            with anyio.fail_after(timeout):
                for _, call in calls:
                    await call.done.wait()
                    if call.error is not None:
                        raise call.error
                    answers.extend(call.answers)
            return answers
        except TimeoutError:
            raise RequestTimeoutError(timeout=timeout) from None
        finally:
            for pending, call in calls:
                if not call.done.is_set():
                    self.correlator.cancel(pending.kind, pending.key)
                self._calls.pop((pending.kind, pending.key), None)

    def _fail_pending(self, reason: str) -> None:
        for pending in self.correlator.fail_all():
            call = self._calls.pop((pending.kind, pending.key), None)
            if call is not None:
                call.error = ConnectionLostError(f"{pending.kind} request failed: {reason}")
                call.done.set()
        self._order_requests.clear()

    def _check_info(self, report: webapi_2.InformationReport, what: str) -> None:
        if report.status_code >= _FAILURE:
            raise ProtocolError(
                f"{what} request failed with status {report.status_code}: {report.text_message}"
            )

    # -- frames in ---------------------------------------------------------------

    def _on_frame(self, data: bytes) -> None:
        """Take one frame. Never raises: a bad frame is counted and dropped.

        Market-data-only frames are gathered and decoded together once the reader has
        drained what arrived (a ``call_soon`` after the last one): one parse, one route
        and one delivery per burst instead of per frame. Any other frame first flushes
        what was gathered, so the order of everything stays the order on the wire.
        """
        if is_market_data_only(data):
            batch = self._md_batch
            batch.append(data)
            if len(batch) == 1:
                asyncio.get_running_loop().call_soon(self._flush_market_data)
            return
        if self._md_batch:
            self._flush_market_data()
        self._on_frame_now(data)

    def _flush_market_data(self) -> None:
        batch, self._md_batch = self._md_batch, []
        if not batch:
            return
        try:
            msg, fields = decode_server_fields(b"".join(batch) if len(batch) > 1 else batch[0])
            plain = self.correlator.plain_updates(msg, fields)
        except ProtocolError:
            plain = None
        if plain is None or plain[0] is not _RTMD:  # a bad frame among them: one by one
            for data in batch:
                self._on_frame_now(data)
            return
        try:
            self._on_market_data_items(plain[1], self.clock.now_ns())
        except Exception:  # a bug in a handler must not kill the line (or the loop)
            self.counters["handler_errors"] += 1
            log.exception("cqg: market data handler failed")

    def _on_frame_now(self, data: bytes) -> None:
        """Decode and route one frame."""
        try:
            msg, fields = decode_server_fields(data)
        except ProtocolError as exc:
            self.counters["malformed_frames"] += 1
            log.warning("cqg: dropped a malformed frame: %s", exc)
            return
        now = self.clock.now_ns()
        try:
            plain = self.correlator.plain_updates(msg, fields)
            if plain is not None and plain[0] is _RTMD:  # the hot path: market data only
                self._on_market_data_items(plain[1], now)
                return
            events = self.correlator.feed(msg, now_ns=now, fields=fields)
        except Exception:  # a bug in routing must not kill the line
            self.counters["routing_errors"] += 1
            log.exception("cqg: could not route a frame")
            return
        for event in events:
            try:
                if type(event) is Update and event.kind is _RTMD:
                    self._on_market_data(event.item, now)
                else:
                    self._on_event(event)
            except (ProtocolError, PriceError, ValueError) as exc:
                self.counters["bad_items"] += 1
                log.warning("cqg: dropped an item: %s", exc)
            except Exception:
                self.counters["handler_errors"] += 1
                log.exception("cqg: handler failed")

    def _on_event(self, event: Answer | Update | DeadLetter) -> None:
        if isinstance(event, DeadLetter):
            self.counters["dead_letters"] += 1
            log.debug("cqg: dead letter (%s): %s", event.reason, event.detail)
            return
        if isinstance(event, Answer):
            self._on_answer(event)
            return
        kind, item = event.kind, event.item
        if kind is ItemKind.PING:
            self._answer_ping(item)
        elif kind is ItemKind.REAL_TIME_MARKET_DATA:
            self._on_market_data(item, self.clock.now_ns())
        elif kind is ItemKind.ORDER_STATUS or kind is ItemKind.POSITION_STATUS:
            if self._snapshot is not None and getattr(item, "is_snapshot", False):
                self._snapshot.append((kind.value, item))
            elif kind is ItemKind.ORDER_STATUS:
                self._on_order_status(item, live=True)
            else:
                self._on_position_status(item)
        elif kind is ItemKind.TRADE_SNAPSHOT_COMPLETION:
            self._on_snapshot_completion(item)
        elif kind is ItemKind.LOGGED_OFF:
            self.counters["logged_off"] += 1
            log.warning("cqg: logged off by the server: %s", getattr(item, "text_message", ""))
        elif kind is ItemKind.USER_MESSAGE:
            self.counters["user_messages"] += 1
            log.info("cqg: user message: %s", getattr(item, "subject", ""))
        else:
            self.counters[f"unhandled_{kind.value}"] += 1

    def _on_answer(self, answer: Answer) -> None:
        pending = answer.request
        call = self._calls.get((pending.kind, pending.key))
        if call is not None:
            call.answers.append(answer)
            if answer.final:
                call.done.set()
            return
        if answer.kind is ItemKind.ORDER_REQUEST_REJECT and pending.request_id is not None:
            self._on_order_reject(pending.request_id, answer.item)
        elif answer.kind is ItemKind.ORDER_REQUEST_ACK and pending.request_id is not None:
            self._on_bulk_ack(pending.request_id)
        if answer.final and pending.request_id is not None:
            self._order_requests.pop(pending.request_id, None)

    def _answer_ping(self, ping: Message) -> None:
        assert isinstance(ping, user_session_2.Ping)
        base = self.base_time
        now = base.to_offset_ms(self.clock.now_ns()) if base is not None else 0
        conn = self._conn
        frame = encode_client(pong_message(ping, pong_utc_time=now))
        if conn is not None and conn.send_nowait(frame):
            self.counters["pongs_sent"] += 1
            if self.throttle is not None:
                self.throttle.take()

    # -- symbols -----------------------------------------------------------------

    async def _resolve_metadata(self, symbol: str) -> metadata_2.ContractMetadata:
        request = webapi_2.InformationRequest(id=next(self._ids))
        request.symbol_resolution_request.symbol = symbol
        answers = await self._request(ClientMsg(information_requests=[request]))
        for answer in answers:
            report = answer.item
            assert isinstance(report, webapi_2.InformationReport)
            if report.status_code >= _FAILURE:
                raise SymbolNotFoundError(symbol, code=report.status_code, text=report.text_message)
            if report.HasField("symbol_resolution_report"):
                return report.symbol_resolution_report.contract_metadata
        raise SymbolNotFoundError(symbol, code=0, text="empty symbol resolution report")

    def _remember(
        self, symbol: str, metadata: metadata_2.ContractMetadata
    ) -> tuple[Instrument, ContractRef]:
        instrument = instrument_from_metadata(metadata, symbol=symbol)
        ref = self._contracts.add_metadata(metadata, symbol=symbol)
        self._instruments[symbol] = (instrument, ref)
        self._symbol_of[ref.contract_id] = symbol
        return instrument, ref

    async def _contract(self, symbol: str) -> ContractRef:
        cached = self._instruments.get(symbol)
        if cached is None:
            await self.resolve(symbol)
            cached = self._instruments[symbol]
        return cached[1]

    # -- market data ---------------------------------------------------------------

    async def _md_subscribe(self, contract_id: int, level: int) -> None:
        request = market_data_2.MarketDataSubscription(
            contract_id=contract_id, level=level, request_id=next(self._ids)
        )
        answers = await self._request(ClientMsg(market_data_subscriptions=[request]))
        status = answers[-1].item
        assert isinstance(status, market_data_2.MarketDataSubscriptionStatus)
        if status.status_code >= _FAILURE:
            raise ProtocolError(
                f"market data subscription of contract {contract_id} refused"
                f" (status {status.status_code})"
            )

    async def _resubscribe_market_data(self) -> None:
        subs = list(self._market_by_symbol.values())
        self._market.clear()
        for sub in subs:
            ref = self._instruments[sub.symbol][1]
            sub.contract_id = ref.contract_id
            sub.quotes.prices = ref.prices
            self._market[ref.contract_id] = sub
            await self._md_subscribe(ref.contract_id, sub.level)

    def _on_market_data_items(self, items: Sequence[Message], now_ns: int) -> None:
        """A burst of market data: each subscriber gets its events in one delivery."""
        base = self.base_time
        market = self._market
        out: dict[int, list[MarketEvent]] = {}
        count = 0
        for item in items:
            contract_id: int = item.contract_id  # type: ignore[attr-defined]
            sub = market.get(contract_id)
            if sub is None or base is None:
                self.counters["market_data_unsubscribed"] += 1
                continue
            try:
                events = sub.quotes.apply(item, base, now_ns)  # type: ignore[arg-type]
            except (ProtocolError, PriceError, ValueError) as exc:
                self.counters["bad_items"] += 1
                log.warning("cqg: dropped an item: %s", exc)
                continue
            count += len(events)
            gathered = out.get(contract_id)
            if gathered is None:
                out[contract_id] = events
            else:
                gathered += events
        self._market_events += count
        for contract_id, events in out.items():
            for channel in market[contract_id].channels:
                channel.push_many(events)

    def _on_market_data(self, item: Message, now_ns: int) -> None:
        assert isinstance(item, market_data_2.RealTimeMarketData)
        sub = self._market.get(item.contract_id)
        base = self.base_time
        if sub is None or base is None:
            self.counters["market_data_unsubscribed"] += 1
            return
        events = sub.quotes.apply(item, base, now_ns)
        self._market_events += len(events)
        for channel in sub.channels:
            channel.push_many(events)

    # -- trade subscription and reconciliation ------------------------------------

    async def _subscribe_trades(self, *, first: bool) -> None:
        previous = self._trade_sub_id
        self._trade_sub_id = next(self._ids)
        sub = trade_routing_2.TradeSubscription(
            id=self._trade_sub_id, subscribe=True, subscription_scopes=list(_SCOPES)
        )
        if self.settings.accounts:
            sub.publication_type = _TS.PUBLICATION_TYPE_ACCOUNTS
            sub.account_ids.extend(int(a) for a in self.settings.accounts)
        msg = ClientMsg(trade_subscriptions=[sub])
        if previous and not first:
            msg.trade_subscriptions.add(id=previous, subscribe=False)
        if self._snapshot is None:
            self._snapshot = []
        self._snapshot_id = self._trade_sub_id
        self._snapshot_scopes = set(_SCOPES)
        self._first_snapshot = first
        answers = await self._request(msg)
        for answer in answers:
            if answer.kind is ItemKind.TRADE_SUBSCRIPTION_STATUS:
                code = getattr(answer.item, "status_code", 0)
                if code >= _FAILURE:
                    raise ProtocolError(f"trade subscription refused (status {code})")
        if self._snapshot is not None:  # completions arrived inside the answers' frames
            self._apply_snapshot()

    def _on_snapshot_completion(self, item: Message) -> None:
        assert isinstance(item, trade_routing_2.TradeSnapshotCompletion)
        if item.subscription_id != self._snapshot_id or self._snapshot is None:
            return
        self._snapshot_scopes.difference_update(item.subscription_scopes)
        if not self._snapshot_scopes:
            self._apply_snapshot()

    def _apply_snapshot(self) -> None:
        """Diff the snapshot against what we knew; publish GAP … RECONCILED after a drop."""
        items, self._snapshot = self._snapshot or [], None
        self._snapshot_id = None
        first = self._first_snapshot
        now = self.clock.now_ns()
        if not first:
            self._publish_all(SessionEvent(kind=SessionEventKind.GAP, ts_ns=now))
        changed = 0
        seen_chains: set[str] = set()
        for kind, item in items:
            try:
                if kind == ItemKind.ORDER_STATUS.value:
                    assert isinstance(item, order_2.OrderStatus)
                    seen_chains.add(item.chain_order_id)
                    changed += self._on_order_status(item, live=False, publish=not first)
                else:
                    self._on_position_status(item, publish=not first)
            except (ProtocolError, PriceError, ValueError) as exc:
                self.counters["bad_items"] += 1
                log.warning("cqg: dropped a snapshot item: %s", exc)
        if not first:
            missing = [
                c
                for chain_id, c in self._chains.items()
                if chain_id not in seen_chains and c.last is not None and not c.last.state.is_final
            ]
            for chain in missing:  # open here, unknown at the venue: let the core resolve it
                assert chain.last is not None
                self._publish(
                    msgspec.structs.replace(
                        chain.last, kind=ReportKind.STATUS, state=OrderState.UNKNOWN, ts_ns=now
                    )
                )
            for account_id in list(self._trade_channels):
                self._publish(SnapshotComplete(account_id=account_id, ts_ns=now))
            self._publish_all(SessionEvent(kind=SessionEventKind.RECONNECTED, ts_ns=now))
            self._publish_all(
                SessionEvent(
                    kind=SessionEventKind.RECONCILED,
                    detail=f"orders changed: {changed}; missing at venue: {len(missing)}",
                    ts_ns=now,
                )
            )
            self.counters["reconciled_changes"] += changed
        self._ready.set()

    def _on_order_status(self, status: Message, *, live: bool, publish: bool = True) -> int:
        assert isinstance(status, order_2.OrderStatus)
        contract_id = self._contract_to_learn(status)
        if contract_id is not None:
            self._defer(status, contract_id, live, publish)
            return 0
        chain = self._chains.get(status.chain_order_id)
        known = chain.last if chain is not None else None
        if chain is None:
            chain = self._chains[status.chain_order_id] = _Chain(status.chain_order_id)
        if not chain.first_cl:
            chain.first_cl = self._first_sent_cl(status)
        reports = self._mapper.reports(status, chain_id=chain.first_cl)
        chain.order_id = status.order_id
        chain.account_id = status.account_id
        chain_of_cl = self._chain_of_cl
        for report in reports:
            if report.cl_order_id:
                chain_of_cl[report.cl_order_id] = chain
            if report.orig_cl_order_id:
                chain_of_cl[report.orig_cl_order_id] = chain
        current = reports[-1]
        chain.last = current
        if live:
            for report in reports:
                if report.fill is not None:
                    self._fills.add(report.fill.fill_id)
                self._publish(report)
            return len(reports)
        # snapshot: only what changed since we last knew
        if (
            known is not None
            and known.state is current.state
            and known.filled_qty == current.filled_qty
            and known.venue_order_id == current.venue_order_id
            and known.cl_order_id == current.cl_order_id
        ):
            return 0
        if publish:
            reported = 0
            for report in reports:
                if report.fill is not None and report.fill.fill_id not in self._fills:
                    self._fills.add(report.fill.fill_id)
                    reported += report.fill.qty
                    self._publish(report)
            unseen = unseen_fill(known, current, reported)
            fill = unseen.fill if unseen is not None else None
            if unseen is not None and fill is not None and fill.fill_id not in self._fills:
                self._fills.add(fill.fill_id)
                self.counters["fills_from_snapshot"] += 1
                self._publish(unseen)
            self._publish(msgspec.structs.replace(current, kind=ReportKind.STATUS, fill=None))
        else:
            for report in reports:
                if report.fill is not None:
                    self._fills.add(report.fill.fill_id)
        return 1

    def _first_sent_cl(self, status: order_2.OrderStatus) -> str:
        """The chain's first client order id, if it is one of our new orders (else "")."""
        sent = self._sent_new
        for trans in status.transaction_statuses[:]:
            if trans.cl_order_id in sent:
                return trans.cl_order_id
            if trans.orig_cl_order_id in sent:
                return trans.orig_cl_order_id
        if status.HasField("order") and status.order.cl_order_id in sent:
            return status.order.cl_order_id
        return ""

    def _on_position_status(self, item: Message, *, publish: bool = True) -> None:
        assert isinstance(item, trade_routing_2.PositionStatus)
        if item.HasField("contract_metadata"):
            self._contracts.add_metadata(item.contract_metadata)
        ref = self._contracts.get(item.contract_id)
        symbol = self._symbol_of.get(item.contract_id) or (ref.symbol if ref else "")
        if not symbol:
            self.counters["positions_unknown_contract"] += 1
            return
        key = (item.account_id, item.contract_id)
        rows = self._positions.setdefault(key, {}) if not item.is_snapshot else {}
        for row in item.open_positions:
            qty = qty_from_cqg(row.qty if row.HasField("qty") else None, row.uint32_qty)
            if qty == 0:
                rows.pop(row.id, None)
            else:
                rows[row.id] = (-qty if row.is_short else qty, double_to_decimal(row.price_correct))
        self._positions[key] = rows
        net = sum(q for q, _ in rows.values())
        gross = sum(abs(q) for q, _ in rows.values())
        avg = (
            sum((abs(q) * p for q, p in rows.values()), Decimal(0)) / gross if gross else Decimal(0)
        )
        position = Position(account_id=str(item.account_id), symbol=symbol, qty=net, avg_price=avg)
        self._position_reports[(position.account_id, symbol)] = position
        if publish:
            self._publish(PositionReport(position=position, ts_ns=self.clock.now_ns()))

    def _publish(self, event: TradeEvent) -> None:
        if isinstance(event, ExecutionReport):
            account = event.account_id
        elif isinstance(event, PositionReport):
            account = event.position.account_id
        elif isinstance(event, SnapshotComplete):
            account = event.account_id
        elif isinstance(event, AccountReport):
            account = event.account.account_id
        else:
            self._publish_all(event)
            return
        for channel in self._trade_channels.get(account, ()):
            channel.push(event)

    def _publish_all(self, event: TradeEvent) -> None:
        for channels in self._trade_channels.values():
            for channel in channels:
                channel.push(event)

    def _on_order_reject(self, request_id: int, item: Message) -> None:
        assert isinstance(item, order_2.OrderRequestReject)
        request = self._order_requests.pop(request_id, None)
        self.counters["order_request_rejects"] += 1
        if request is None:
            return
        self._publish(
            self._synthetic_report(
                request,
                kind=ReportKind.REJECTED,
                reject_code=str(item.reject_code),
                reject_text=item.text_message or item.details.text,
            )
        )

    def _on_bulk_ack(self, request_id: int) -> None:
        request = self._order_requests.get(request_id)
        if request is not None:
            self._publish(self._synthetic_report(request, kind=ReportKind.ACCEPTED))

    def _synthetic_report(
        self,
        request: OrderRequest,
        *,
        kind: ReportKind,
        reject_code: str = "",
        reject_text: str = "",
    ) -> ExecutionReport:
        """A report for an answer that carries no order status (request reject, bulk ack)."""
        chain = None
        if isinstance(request, ModifyOrder | CancelOrder):
            chain = self._chain_of_cl.get(request.orig_cl_order_id)
        base = chain.last if chain is not None else None
        if base is not None:
            return msgspec.structs.replace(
                base,
                kind=kind,
                request_type=request.request_type,
                cl_order_id=request.cl_order_id,
                orig_cl_order_id=getattr(request, "orig_cl_order_id", ""),
                reject_code=reject_code,
                reject_text=reject_text,
                fill=None,
                ts_ns=self.clock.now_ns(),
            )
        if isinstance(request, NewOrder):
            side, order_type, qty = request.side, request.order_type, request.qty
            state = OrderState.REJECTED if kind is ReportKind.REJECTED else OrderState.WORKING
        else:
            side, order_type, qty = Side.BUY, OrderType.MKT, 0
            state = OrderState.UNKNOWN if kind is ReportKind.REJECTED else OrderState.WORKING
        return ExecutionReport(
            kind=kind,
            account_id=request.account_id,
            symbol=getattr(request, "symbol", None) or "",
            cl_order_id=request.cl_order_id,
            orig_cl_order_id=getattr(request, "orig_cl_order_id", ""),
            state=state,
            side=side,
            order_type=order_type,
            qty=qty,
            request_type=request.request_type,
            reject_code=reject_code,
            reject_text=reject_text,
            ts_ns=self.clock.now_ns(),
        )

    # -- orders ------------------------------------------------------------------

    def next_cl_order_id(self) -> str:
        return f"{self._cl_prefix}{next(self._cl_ids)}"

    async def _hold_until_ready(self) -> None:
        if self._ready.is_set() and self.state is SessionState.LOGGED_ON:
            return
        if self.state in (SessionState.CLOSING, SessionState.CLOSED):
            raise ConnectionLostError(f"cqg session is {self.state.value}")
        try:
            await self.wait_ready(self.settings.hold_timeout)
        except TimeoutError:
            raise ConnectionLostError(
                f"not reconnected within {self.settings.hold_timeout}s; request not sent"
            ) from None

    async def _target(self, request: OrderRequest) -> OrderTarget:
        problems: list[Violation] = []
        try:
            account = int(request.account_id)
        except ValueError:
            raise OrderDeniedError(
                [
                    Violation(
                        code=_CODE,
                        field="account_id",
                        rule="must be a CQG numeric account id",
                        value=request.account_id,
                    )
                ]
            ) from None
        symbol = getattr(request, "symbol", None)
        ref = await self._contract(symbol) if symbol else None
        order_id = ""
        if isinstance(request, ModifyOrder | CancelOrder):
            chain = self._chain_of_cl.get(request.orig_cl_order_id)
            if chain is None:
                problems.append(
                    Violation(
                        code=_CODE,
                        field="orig_cl_order_id",
                        rule="no such order in this session",
                        value=request.orig_cl_order_id,
                    )
                )
            else:
                order_id = chain.order_id
        if problems:
            raise OrderDeniedError(problems)
        return OrderTarget(
            account_id=account,
            contract_id=None if ref is None else ref.contract_id,
            prices=None if ref is None else ref.prices,
            order_id=order_id,
        )

    async def send_order(self, request: OrderRequest) -> OrderRequest:
        """Put one order request on the wire; return it with its ``cl_order_id``."""
        await self._hold_until_ready()
        if not request.cl_order_id:
            request = msgspec.structs.replace(request, cl_order_id=self.next_cl_order_id())
        target = await self._target(request)
        request_id = next(self._ids)
        pb = build_order_request(
            request,
            request_id=request_id,
            target=target,
            now_ns=self.clock.now_ns(),
            base_time=self.base_time,
        )
        msg = ClientMsg(order_requests=[pb])
        self.correlator.track(
            msg, deadline_ns=self.clock.now_ns() + int(self.settings.request_timeout * _NS)
        )
        self._order_requests[request_id] = request
        if isinstance(request, NewOrder):
            self._sent_new.add(request.cl_order_id)
        try:
            await self._write(msg, orders=1, accounts=(target.account_id,))
        except BaseException:
            self._order_requests.pop(request_id, None)
            raise
        self.counters["orders_sent"] += 1
        return request

    async def order_status(self, account_id: str, cl_order_id: str) -> ExecutionReport | None:
        await self._hold_until_ready()
        chain = self._chain_of_cl.get(cl_order_id)
        if chain is None:
            return None
        request = webapi_2.InformationRequest(id=next(self._ids))
        request.order_status_request.chain_order_id = chain.chain_order_id
        request.order_status_request.account_id = int(account_id)
        answers = await self._request(ClientMsg(information_requests=[request]))
        for answer in answers:
            report = answer.item
            assert isinstance(report, webapi_2.InformationReport)
            if report.status_code >= _FAILURE:
                return chain.last and msgspec.structs.replace(chain.last, kind=ReportKind.STATUS)
            if report.HasField("order_status_report") and report.order_status_report.HasField(
                "order_status"
            ):
                reports = self._mapper.reports(report.order_status_report.order_status)
                last = reports[-1]
                if chain.first_cl:
                    last = msgspec.structs.replace(last, chain_id=chain.first_cl)
                return msgspec.structs.replace(last, kind=ReportKind.STATUS, fill=None)
        return chain.last and msgspec.structs.replace(chain.last, kind=ReportKind.STATUS)

    def open_orders(self, account_id: str) -> list[ExecutionReport]:
        return [
            msgspec.structs.replace(c.last, kind=ReportKind.STATUS, fill=None)
            for c in self._chains.values()
            if c.last is not None and c.last.account_id == account_id and not c.last.state.is_final
        ]

    async def historical_orders(
        self, account_id: str, start: datetime, end: datetime
    ) -> list[ExecutionReport]:
        base = self.base_time
        if base is None:
            raise ConnectionLostError("not logged on")
        request = webapi_2.InformationRequest(id=next(self._ids))
        hist = request.historical_orders_request
        hist.from_date = base.to_offset_ms(_utc_ns(start))
        hist.to_date = base.to_offset_ms(_utc_ns(end))
        hist.account_ids.append(int(account_id))
        answers = await self._request(ClientMsg(information_requests=[request]))
        out: list[ExecutionReport] = []
        for answer in answers:
            report = answer.item
            assert isinstance(report, webapi_2.InformationReport)
            self._check_info(report, "historical orders")
            if not report.HasField("historical_orders_report"):
                continue
            for status in report.historical_orders_report.order_statuses:
                contract_id = status.order.contract_id
                if status.HasField("order") and self._contracts.get(contract_id) is None:
                    self._contracts.add_metadata(await self._contract_metadata(contract_id))
                reports = self._mapper.reports(status)
                out.append(msgspec.structs.replace(reports[-1], kind=ReportKind.STATUS, fill=None))
        return out

    async def _contract_metadata(self, contract_id: int) -> metadata_2.ContractMetadata:
        """Metadata of a contract we never resolved (an order placed elsewhere)."""
        request = webapi_2.InformationRequest(id=next(self._ids))
        request.contract_metadata_request.contract_id = contract_id
        answers = await self._request(ClientMsg(information_requests=[request]))
        for answer in answers:
            report = answer.item
            assert isinstance(report, webapi_2.InformationReport)
            self._check_info(report, "contract metadata")
            if report.HasField("contract_metadata_report"):
                return report.contract_metadata_report.contract_metadata
        raise ProtocolError(f"no metadata for contract {contract_id} in the answer")

    # -- statuses of contracts not resolved yet -------------------------------------

    def _contract_to_learn(self, status: order_2.OrderStatus) -> int | None:
        """The contract this status must wait for, if any: one whose metadata we never
        got (no symbol resolution, and the status that announced it was lost), or the
        one an earlier status of the same chain is already waiting for (order kept)."""
        waiting = self._waiting_chains.get(status.chain_order_id)
        if waiting is not None:
            return waiting
        if not status.HasField("order"):
            return None
        contract_id = status.order.contract_id
        if self._contracts.get(contract_id) is not None:
            return None
        if any(m.contract_id == contract_id for m in status.contract_metadata):
            return None
        return contract_id

    def _defer(
        self, status: order_2.OrderStatus, contract_id: int, live: bool, publish: bool
    ) -> None:
        """Hold ``status`` until its contract is resolved by id, then deliver it."""
        self._waiting_chains[status.chain_order_id] = contract_id
        waiting = self._unresolved.get(contract_id)
        if waiting is not None:
            waiting.append((status, live, publish))
            return
        self._unresolved[contract_id] = [(status, live, publish)]
        self.counters["contracts_learned_by_id"] += 1
        if self._tg is None:  # not running: nothing can resolve it
            self._drop_unresolved(contract_id, "session not running")
            return
        self._tg.start_soon(self._learn_and_deliver, contract_id)

    async def _learn_and_deliver(self, contract_id: int) -> None:
        try:
            metadata = await self._contract_metadata(contract_id)
        except EcError as exc:  # line lost, refused: the next snapshot settles the orders
            self._drop_unresolved(contract_id, str(exc))
            return
        self._contracts.add_metadata(metadata)
        held = self._unresolved.pop(contract_id, [])
        for status, _live, _publish in held:
            self._waiting_chains.pop(status.chain_order_id, None)
        for status, live, publish in held:
            try:
                self._on_order_status(status, live=live, publish=publish)
            except (ProtocolError, PriceError, ValueError) as exc:
                self.counters["bad_items"] += 1
                log.warning("cqg: dropped an order status: %s", exc)

    def _drop_unresolved(self, contract_id: int, reason: str) -> None:
        held = self._unresolved.pop(contract_id, [])
        for status, _live, _publish in held:
            self._waiting_chains.pop(status.chain_order_id, None)
        self.counters["statuses_dropped_unresolved"] += len(held)
        log.warning(
            "cqg: %d order statuses of contract %d dropped (%s)", len(held), contract_id, reason
        )

    def positions_of(self, account_id: str) -> list[Position]:
        return [p for (a, _), p in self._position_reports.items() if a == account_id]

    def known_good_thru(self, day: date) -> int:
        if self.base_time is None:
            raise ConnectionLostError("not logged on")
        return self.base_time.from_date(day)

    # -- subscriptions (used by the feed and the monitor) -------------------------

    async def add_market_channel(
        self, instrument: Instrument, channel: EventChannel[MarketEvent], *, depth: bool
    ) -> None:
        symbol = instrument.symbol
        ref = await self._contract(symbol)
        sub = self._market_by_symbol.get(symbol)
        level = _MD.LEVEL_TRADES_BBA_DOM if depth else _MD.LEVEL_TRADES_BBA_VOLUMES
        if sub is None or level > sub.level:
            if sub is None:
                sub = _MarketSub(symbol, ref.contract_id, ContractQuotes(symbol, ref.prices), level)
            sub.level = level
            sub.channels.append(channel)
            self._market_by_symbol[symbol] = sub
            self._market[ref.contract_id] = sub
            try:
                await self._md_subscribe(ref.contract_id, level)
            except BaseException:
                sub.channels.remove(channel)
                if not sub.channels:
                    self._market_by_symbol.pop(symbol, None)
                    self._market.pop(ref.contract_id, None)
                raise
        else:
            sub.channels.append(channel)
            # a late subscriber gets the current best bid/ask at once
            snapshot = sub.quotes.apply(
                market_data_2.RealTimeMarketData(contract_id=ref.contract_id),
                self.base_time or BaseTime("1970-01-01T00:00:00"),
                self.clock.now_ns(),
            )
            del snapshot

    async def remove_market_channel(
        self, instrument: Instrument, channel: EventChannel[MarketEvent]
    ) -> None:
        sub = self._market_by_symbol.get(instrument.symbol)
        if sub is None or channel not in sub.channels:
            return
        sub.channels.remove(channel)
        if sub.channels:
            return
        self._market_by_symbol.pop(instrument.symbol, None)
        self._market.pop(sub.contract_id, None)
        if self.state is SessionState.LOGGED_ON:
            with anyio.move_on_after(self.settings.request_timeout, shield=True):
                try:
                    await self._md_subscribe(sub.contract_id, _MD.LEVEL_NONE)
                except EcError as exc:
                    log.info("cqg: unsubscribe of %s failed: %s", instrument.symbol, exc)

    def add_trade_channel(self, account_id: str, channel: EventChannel[TradeEvent]) -> None:
        now = self.clock.now_ns()
        for report in self.open_orders(account_id):
            channel.push(report)
        for position in self.positions_of(account_id):
            channel.push(PositionReport(position=position, ts_ns=now))
        channel.push(AccountReport(account=Account(account_id=account_id), ts_ns=now))
        channel.push(SnapshotComplete(account_id=account_id, ts_ns=now))
        self._trade_channels.setdefault(account_id, []).append(channel)

    def remove_trade_channel(self, account_id: str, channel: EventChannel[TradeEvent]) -> None:
        channels = self._trade_channels.get(account_id, [])
        if channel in channels:
            channels.remove(channel)
        if not channels:
            self._trade_channels.pop(account_id, None)
