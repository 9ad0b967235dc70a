"""The CQG session: the I/O shell around the Sans-I/O :class:`CqgClientProtocol`.

One :class:`CqgSession` is one logged-on user. The protocol core
(:mod:`ec_cqg.client.core`) holds every piece of protocol state — order chains, fills,
positions, snapshot diffs, subscriptions, the contract directory, the session token —
and is fed frames and the time. This shell only moves bytes and time:

* a :class:`~ec_cqg.client.transport.Connection` per line (websockets' Sans-I/O protocol on
  an asyncio transport);
* a supervisor task that reconnects with exponential backoff and jitter, restores the
  session with its token when the server allows it (else logs on afresh and re-resolves
  every symbol: contract ids live for one logon), replays market-data subscriptions and
  renews the trade subscription, whose snapshot the core diffs against what it knew:
  subscribers get ``SessionEvent(GAP)``, the reports that changed, ``SnapshotComplete``,
  ``SessionEvent(RECONNECTED)`` and ``SessionEvent(RECONCILED)``. New orders are held
  while that runs. Requests pending when the line drops fail with
  :class:`~ec_core.errors.ConnectionLostError`; nothing waits forever;
* a heartbeat timer (pings, the dead-line check, request deadlines) and the throttle.

The session never re-sends an order by itself, so a drop cannot duplicate one.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, suppress
from datetime import date
from functools import partial
from typing import Final, final

import anyio
from anyio.abc import TaskStatus
from ec_core.errors import (
    AuthError,
    ConnectionLostError,
    EcError,
    ProtocolError,
    RequestTimeoutError,
)
from ec_core.model import (
    Account,
    Instrument,
    SessionState,
)
from ec_core.session import SessionLifecycle

from ec_cqg.client.backoff import Backoff
from ec_cqg.client.config import CqgSettings
from ec_cqg.client.core.information import SymbolNotFoundError
from ec_cqg.client.core.protocol import CqgClientProtocol
from ec_cqg.client.driver import CoreDriver
from ec_cqg.client.features import CqgMarketDataFeed, CqgOrderGateway, CqgTradeMonitor
from ec_cqg.client.history import CqgHistoryFeed
from ec_cqg.client.recorder import WireRecorder
from ec_cqg.client.throttle import Throttle
from ec_cqg.client.transport import Connection, open_connection
from ec_cqg.protocol.correlation import Correlator, DeadLetter
from ec_cqg.protocol.prices import PriceScale
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


def _unwrap(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first non-cancellation error of a (nested) exception group."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _unwrap(exc)
        if not isinstance(exc, anyio.get_cancelled_exc_class()):
            return exc
    return group


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
        self.core = CqgClientProtocol(
            cl_prefix=f"ec{self.clock.now_ns() // 1_000_000 % 10**10:010d}-",
            request_timeout_s=settings.request_timeout,
            accounts=settings.accounts,
            negative_prices=settings.negative_prices,
        )
        # the throttle reads the session's clock; its sleeps are real
        self.throttle = Throttle(self.clock) if settings.throttle else None
        self.backoff = Backoff(
            initial=settings.backoff_initial,
            maximum=max(settings.backoff_max, settings.backoff_initial),
            rng=random.Random(settings.backoff_seed),
        )
        self.reconnects = 0
        self.driver = CoreDriver(
            self.core,
            self.clock,
            throttle=self.throttle,
            request_timeout_s=settings.request_timeout,
            on_ready=self._core_ready,
        )
        self._ready = anyio.Event()
        self._closing = False
        self._recorder: WireRecorder | None = None
        self._stack: AsyncExitStack | None = None
        self._orders = CqgOrderGateway(self)
        self._market_feed = CqgMarketDataFeed(self)
        self._trades = CqgTradeMonitor(self)
        self._history = CqgHistoryFeed(self)

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
    def history(self) -> CqgHistoryFeed:
        """Time bars and time and sales (:class:`~ec_core.history.SupportsHistory`)."""
        return self._history

    @property
    def trades(self) -> CqgTradeMonitor:
        return self._trades

    async def accounts(self) -> Sequence[Account]:
        """Every account of the logon (information request). Cancel-safe."""
        return await self.driver.ask(self.core.accounts)

    async def resolve(self, symbol: str) -> Instrument:
        """The instrument of ``symbol`` (cached until the next fresh logon). Cancel-safe."""
        cached = self.core.contracts.resolved(symbol)
        if cached is not None:
            return cached[0]
        return await self.driver.ask(partial(self.core.resolve, symbol))

    def price_scale(self, symbol: str) -> PriceScale:
        """The price scale of a resolved symbol (KeyError if it is not resolved)."""
        return self.core.contracts.ref(symbol).prices

    # -- extras ------------------------------------------------------------------

    @property
    def correlator(self) -> Correlator:
        return self.core.correlator

    @property
    def session_token(self) -> str:
        return self.core.session_token

    @property
    def base_time(self) -> BaseTime | None:
        return self.core.base_time

    def venue_time_ns(self) -> int | None:
        """The server's time now (:class:`~ec_core.vendor.SupportsVenueTime`): the
        ``server_time`` of the last logon, moved on by this session's clock."""
        return self.core.venue_time_ns(self.clock.now_ns())

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        return self.core.correlator.dead_letters

    def stats(self) -> dict[str, int]:
        """Counters: frames, malformed frames, dead letters, pings answered, throttle waits."""
        out = self.core.stats()
        out["frames_in"] = self.driver.frames_in
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
        conn = self.driver.conn
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
        conn = self.driver.conn
        if conn is not None and not conn.closed:
            with anyio.move_on_after(2.0, shield=True):
                with suppress(EcError):
                    await self.driver.ask(
                        partial(self.core.logoff, "ec session closed"), limit_s=2.0
                    )
            await conn.close("logged off")
        tg.cancel_scope.cancel()
        if self._recorder is not None:
            self._recorder.flush()

    def _close_channels(self) -> None:
        self.core.book.hub.close()
        self.core.market.subscribers.close()

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
                self.driver.detach("connection lost")
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

    def _core_ready(self) -> None:
        if not self._ready.is_set() and self.state is SessionState.LOGGED_ON:
            self._ready.set()

    def _line_lost(self) -> None:
        was_logged_on = self.state is SessionState.LOGGED_ON
        if was_logged_on:
            self.lifecycle.advance(SessionState.RECONNECTING)
        self.core.line_lost(self.clock.now_ns(), was_logged_on=was_logged_on)
        self._ready = anyio.Event()

    async def _serve(self, conn: Connection, first: bool, task_status: TaskStatus[None]) -> bool:
        """Log on over ``conn``, restore state, pump frames until the line drops.

        Returns whether the logon and the resubscriptions completed.
        """
        logged_on = False
        driver = self.driver
        driver.attach(conn)
        async with anyio.create_task_group() as tg:

            async def line() -> None:
                await conn.run(driver.on_frame)
                driver.flush_market_data()  # what arrived before the line dropped
                driver.fail_pending(conn.close_reason or "connection lost")
                tg.cancel_scope.cancel()

            tg.start_soon(line)
            restored = await self._logon(first)
            settings = self.settings
            tg.start_soon(
                partial(
                    driver.heartbeat,
                    conn,
                    interval_s=settings.heartbeat_interval,
                    timeout_s=settings.heartbeat_timeout,
                )
            )
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
        settings, core, ask = self.settings, self.core, self.driver.ask
        limit = settings.logon_timeout
        if not first and core.session_token:
            restore = partial(core.restore, client_app_id=settings.client_app_id)
            try:
                return await ask(restore, limit_s=limit, control=True)
            except AuthError as exc:
                log.info("cqg: session restore refused (%s); logging on afresh", exc)
        logon = partial(
            core.logon,
            user_name=settings.user,
            password=settings.password.reveal(),
            client_app_id=settings.client_app_id,
            client_version=settings.client_version,
        )
        return await ask(logon, limit_s=limit, control=True)

    async def _after_logon(self, *, first: bool, restored: bool) -> None:
        core = self.core
        if not restored:  # contract ids are valid for one logon: resolve every symbol again
            for symbol in core.forget_logon():
                await self.driver.ask(partial(core.resolve, symbol))
        for contract_id, level in core.market.rebind(core.contracts.ref):
            await self.driver.ask(partial(core.subscribe_market, contract_id, level))
        await self.driver.ask(partial(core.subscribe_trades, first=first))
        if core.ready:
            self._ready.set()

    # -- orders ------------------------------------------------------------------

    def next_cl_order_id(self) -> str:
        return self.core.next_cl_order_id()

    async def hold_until_ready(self) -> None:
        """Wait while (re)connecting, up to ``hold_timeout``; ConnectionLostError after."""
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

    def known_good_thru(self, day: date) -> int:
        return self.core.known_good_thru(day)
