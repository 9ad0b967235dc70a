"""The Sans-I/O CQG server: frames in, frames out, engine calls in between.

:class:`CqgServerCore` is the server: attached to a :class:`~ec_mock.vendor.MockVenue` as
a link, it turns engine events into ``ServerMsg`` frames for every session that
subscribed, keeps order chains and sessions, and applies a fault plan to what it sends.
:class:`ConnectionCore` is one client connection: :meth:`~ConnectionCore.receive` takes
one binary WebSocket message (one ``ClientMsg``) and :meth:`~ConnectionCore.data_to_send`
returns the frames ready to go. Nothing here touches a socket or reads a clock of its own
(the venue's clock gives every time), so tests drive it directly; :mod:`.shell` is the
thin websockets layer around it, like websockets' own protocol/IO split.

A malformed frame never raises: it is counted (:attr:`ConnectionCore.malformed`) and
answered with a ``user_messages`` warning; the connection stays open.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, final

from ec_core.errors import ProtocolError
from ec_core.model import (
    AccountReport,
    ExecutionReport,
    MarketEvent,
    NewOrder,
    OrderState,
    Position,
    PositionReport,
    ReportKind,
    Trade,
    TradeEvent,
)
from google.protobuf.unknown_fields import UnknownFieldSet

from ec_cqg.protocol.codec import decode_client, encode_server
from ec_cqg.protocol.pb import (
    PROTOCOL_VERSION_MAJOR,
    PROTOCOL_VERSION_MINOR,
    ClientMsg,
    ServerMsg,
    market_data_2,
    order_2,
    shared_1,
    trade_routing_2,
    user_session_2,
    webapi_2,
)
from ec_cqg.protocol.prices import decimal_to_cqg, qty_to_cqg
from ec_cqg.protocol.timestamps import ns_to_timestamp
from ec_cqg.server.accounts import AccountDirectory
from ec_cqg.server.codes import REQUEST_REJECT
from ec_cqg.server.config import ServerConfig
from ec_cqg.server.contracts import contract_metadata
from ec_cqg.server.faults import FaultLine
from ec_cqg.server.history import HistoryDesk
from ec_cqg.server.market import MarketSubscription, effective_level
from ec_cqg.server.orders import OrderChains, StatusPlan, exec_instruction_codes, render_status
from ec_cqg.server.requests import Action, RequestContext, RequestRefused, translate
from ec_cqg.server.sessioninfo import (
    DEFAULT_AHEAD_NS,
    DEFAULT_BACK_NS,
    order_entitlements,
    session_information,
)
from ec_cqg.server.sessions import Session, SessionTable, TradeSub, base_time_at
from ec_cqg.server.unsupported import unknown_requests

if TYPE_CHECKING:
    from ec_mock.faults import FaultPlan
    from ec_mock.vendor.venue import MockVenue

__all__ = ["ConnectionCore", "CqgServerCore", "Credentials"]

Credentials = Callable[[str, str], bool]
"""``accepts(user, password)``: e.g. :meth:`ec_mock.dialects.ServeOptions.accepts`."""

_LR = user_session_2.LogonResult
_LO = user_session_2.LoggedOff
_RR = user_session_2.RestoreOrJoinSessionResult
_UM = user_session_2.UserMessage
_IR = webapi_2.InformationReport
_TSS = trade_routing_2.TradeSubscriptionStatus
_SCOPE = trade_routing_2.TradeSubscription
_MDS = market_data_2.MarketDataSubscriptionStatus
_OS = shared_1.OrderStatus
_TS = shared_1.TransactionStatus
_GF = order_2.GoFlatStatus
_SOURCE = "ec-mock CQG server"
_NS_PER_DAY = 86_400_000_000_000
_SUPPORTED_SCOPES = frozenset(
    {
        _SCOPE.SUBSCRIPTION_SCOPE_ORDERS,
        _SCOPE.SUBSCRIPTION_SCOPE_POSITIONS,
        _SCOPE.SUBSCRIPTION_SCOPE_COLLATERAL,
        _SCOPE.SUBSCRIPTION_SCOPE_ACCOUNT_SUMMARY,
    }
)
# AccountSummaryStatus fields the mock can fill (field numbers, as requested_fields uses)
_SUMMARY_FIELDS = frozenset({6, 8, 9, 15, 16, 17, 18, 29})
_HOUSE = "HOUSE"


def _day_start(ns: int) -> int:
    return ns - ns % _NS_PER_DAY


@final
class CqgServerCore:
    """The server's state and the venue link (see the module docstring)."""

    def __init__(
        self,
        venue: MockVenue,
        accepts: Credentials,
        *,
        config: ServerConfig | None = None,
        faults: FaultPlan | None = None,
        fault_seed: int | None = None,
    ) -> None:
        self.venue = venue
        self.config = config or ServerConfig()
        self._accepts = accepts
        self.accounts = AccountDirectory(self.config)
        self.chains = OrderChains(self.accounts.id_of)
        self.sessions = SessionTable(self.config.kept_sessions)
        self.history = HistoryDesk(venue, self.config)
        self.connections: list[ConnectionCore] = []
        self.line: FaultLine | None = FaultLine(faults, seed=fault_seed) if faults else None
        self.restarts = 0
        self.disconnects = 0
        self._restart_pending: bool | None = None
        self._awaiting: dict[tuple[str, str], tuple[ConnectionCore, int]] = {}
        self._ids = itertools.count(1)
        self._previous_faults: Any = None
        self._closed = False
        if self.line is not None and self.line.plan.reject_next:
            self._previous_faults = venue.exchange.faults
            venue.exchange.faults = self.line.injector
        venue.attach(self)

    # -- lifecycle ---------------------------------------------------------------------

    def connect(self) -> ConnectionCore:
        """A new client connection."""
        connection = ConnectionCore(self)
        self.connections.append(connection)
        return connection

    def close(self) -> None:
        """Detach from the venue; every connection is told to close."""
        if self._closed:
            return
        self._closed = True
        self.venue.detach(self)
        if self.line is not None and self.venue.exchange.faults is self.line.injector:
            self.venue.exchange.faults = self._previous_faults
        for connection in list(self.connections):
            connection.close_requested = True
            connection.wake()

    def release_stalled(self) -> int:
        """Deliver acknowledgements a ``stall_acks`` plan holds "until released"."""
        if self.line is None:
            return 0
        return self.line.release_stalled(self.now())

    def now(self) -> int:
        return self.venue.clock.now_ns()

    def visible_accounts(self) -> tuple[str, ...]:
        """Venue accounts a logon may trade: all but the market simulator's house account."""
        names = [a for a in self.venue.exchange.account_ids() if a != _HOUSE]
        self.accounts.sync(names)
        return tuple(names)

    def accepts(self, user: str, password: str) -> bool:
        return self._accepts(user, password)

    def next_id(self) -> int:
        return next(self._ids)

    # -- sending -----------------------------------------------------------------------

    def send(self, connection: ConnectionCore, msg: ServerMsg, event: object = None) -> None:
        """Encode and send ``msg`` to ``connection``, through the fault plan if any."""
        frame = encode_server(msg)
        line = self.line
        if line is None:
            connection.deliver(frame)
            return
        now = self.now()
        line.put(event if event is not None else line.own_event(), connection.deliver, frame, now)
        line.take_due(now)
        injector = line.injector
        if injector.should_disconnect(now):
            self.disconnects += 1
            connection.drop()
        directive = injector.restart_due(now)
        if directive is not None:
            self._restart_pending = directive.keep_state

    # -- venue link --------------------------------------------------------------------

    def on_time(self, now_ns: int) -> None:
        if self._restart_pending is not None:
            keep_state, self._restart_pending = self._restart_pending, None
            self.restarts += 1
            self.venue.restart(keep_state=keep_state)
        if self.line is not None:
            self.line.take_due(now_ns)
        for connection in list(self.connections):
            connection.tick(now_ns)

    def on_restart(self, *, kept_state: bool) -> None:
        """The exchange was replaced: every line drops; without state, sessions end too."""
        for connection in list(self.connections):
            connection.drop()
        if not kept_state:
            self.sessions.clear()
            self.chains.forget_all()

    def on_trade_event(self, event: TradeEvent) -> None:
        if isinstance(event, ExecutionReport):
            self._on_report(event)
        elif isinstance(event, PositionReport):
            self._on_position(event)
        elif isinstance(event, AccountReport):
            self._on_account(event)

    def on_market_event(self, event: MarketEvent) -> None:
        exchange = self.venue.exchange
        book = None
        for session in self.sessions.live():
            contract_id = session.contracts.get_id(event.symbol)
            sub = session.market.get(contract_id) if contract_id is not None else None
            connection = session.connection
            if sub is None or connection is None:
                continue
            data: market_data_2.RealTimeMarketData | None
            if isinstance(event, Trade):
                data = sub.on_trade(event, session.base)
            else:
                if book is None and sub.level >= 4:
                    book = _book(exchange, event.symbol, self.config.dom_depth)
                data = sub.on_quote(event, book if sub.level >= 4 else None, session.base)
            if data is not None:
                msg = ServerMsg()
                msg.real_time_market_data.append(data)
                self.send(connection, msg, event)

    def _on_report(self, report: ExecutionReport) -> None:
        key = (report.account_id, report.cl_order_id)
        waiting = self._awaiting.pop(key, None)
        plan = self.chains.plan_report(report)
        if plan is None:
            if waiting is not None:
                connection, request_id = waiting
                connection.reject_request(
                    request_id, f"{report.reject_code}: {report.reject_text}", event=report
                )
            return
        self.publish(plan, event=report)

    def publish(self, plan: StatusPlan, *, event: object = None) -> None:
        """Send an order status to every session subscribed to the order's account."""
        account = plan.report.account_id
        for session in self.sessions.live():
            ids = session.order_subs(account, _SCOPE.SUBSCRIPTION_SCOPE_ORDERS)
            connection = session.connection
            if not ids or connection is None:
                continue
            msg = ServerMsg()
            msg.order_statuses.append(connection.render(plan, ids))
            self.send(connection, msg, event)

    def _on_position(self, event: PositionReport) -> None:
        account = event.position.account_id
        for session in self.sessions.live():
            ids = session.order_subs(account, _SCOPE.SUBSCRIPTION_SCOPE_POSITIONS)
            connection = session.connection
            if ids and connection is not None:
                msg = ServerMsg()
                msg.position_statuses.append(connection.position_status(event.position, ids))
                self.send(connection, msg, event)

    def _on_account(self, event: AccountReport) -> None:
        account = event.account.account_id
        for session in self.sessions.live():
            connection = session.connection
            if connection is None:
                continue
            msg = connection.account_statuses(account, None, is_snapshot=False)
            if msg is not None:
                self.send(connection, msg, event)


Book = tuple[list[tuple[int, int]], list[tuple[int, int]]]


def _book(exchange: Any, symbol: str, depth: int) -> Book:
    view = exchange.book(symbol, depth)
    return ([(lv.price, lv.qty) for lv in view.bids], [(lv.price, lv.qty) for lv in view.asks])


@final
class ConnectionCore:
    """One client connection (see the module docstring)."""

    def __init__(self, server: CqgServerCore) -> None:
        self.server = server
        self.session: Session | None = None
        self.malformed = 0  # frames that could not be read
        self.refused = 0  # order requests answered with OrderRequestReject
        self.pongs = 0
        self.pings_sent = 0
        self.close_requested = False  # send what is queued, then close
        self.drop_requested = False  # drop the line now (a fault)
        self.closed = False
        self.on_output: Callable[[], None] | None = None
        self._out: list[bytes] = []
        self._next_ping_ns: int | None = None
        self._ping_tokens = itertools.count(1)

    # -- I/O side --------------------------------------------------------------------

    def data_to_send(self) -> list[bytes]:
        """Frames ready to go, oldest first (the list is handed over)."""
        out, self._out = self._out, []
        return out

    def deliver(self, frame: bytes) -> None:
        if self.closed:
            return
        self._out.append(frame)
        self.wake()

    def wake(self) -> None:
        if self.on_output is not None:
            self.on_output()

    def drop(self) -> None:
        """The line drops (fault plan, exchange restart): the shell aborts the transport."""
        self.drop_requested = True
        self.connection_lost()
        self.wake()

    def connection_lost(self) -> None:
        """The transport is gone: detach the session (it stays restorable) and stop."""
        if self.closed:
            return
        self.closed = True
        self._out.clear()
        session = self.session
        if session is not None and session.connection is self:
            session.connection = None
        if self in self.server.connections:
            self.server.connections.remove(self)

    def receive_text(self, text: str) -> None:
        """A text frame: CQG speaks binary protobuf only."""
        self._malformed(f"text frame of {len(text)} characters (CQG frames are binary)")

    def receive(self, data: bytes) -> None:
        """One binary WebSocket message (one ``ClientMsg``)."""
        if self.closed:
            return
        try:
            msg = decode_client(data, max_bytes=self.server.config.max_frame_bytes)
        except ProtocolError as exc:
            self._malformed(str(exc))
            return
        try:
            self._dispatch(msg)
        except ProtocolError as exc:  # a value we cannot represent back (defensive)
            self._malformed(str(exc))

    def tick(self, now_ns: int) -> None:
        """Time passed: send a protocol ping when one is due."""
        interval = self.server.config.ping_interval_ns
        session = self.session
        if session is None or not interval or self.closed:
            return
        if self._next_ping_ns is None:
            self._next_ping_ns = now_ns + interval
            return
        if now_ns >= self._next_ping_ns:
            self._next_ping_ns = now_ns + interval
            msg = ServerMsg()
            msg.ping.token = f"srv-{next(self._ping_tokens)}"
            msg.ping.ping_utc_time = session.base.to_offset_ms(now_ns)
            self.pings_sent += 1
            self._send(msg)

    # -- helpers ---------------------------------------------------------------------

    def _send(self, msg: ServerMsg, event: object = None) -> None:
        self.server.send(self, msg, event)

    def _user_message(self, kind: int, subject: str, text: str) -> None:
        msg = ServerMsg()
        msg.user_messages.add(message_type=kind, source=_SOURCE, subject=subject, text=text)
        self._send(msg)

    def _malformed(self, detail: str) -> None:
        self.malformed += 1
        self._user_message(_UM.MESSAGE_TYPE_WARNING, "malformed message ignored", detail)

    def _now(self) -> int:
        return self.server.now()

    # -- dispatch ----------------------------------------------------------------------

    def _dispatch(self, msg: ClientMsg) -> None:
        if msg.HasField("ping"):
            self._pong(msg.ping)
        if msg.HasField("pong"):
            self.pongs += 1
        session = self.session
        if session is None:
            if msg.HasField("logon"):
                self._logon(msg.logon)
            elif msg.HasField("restore_or_join_session"):
                self._restore(msg.restore_or_join_session)
            elif not msg.HasField("ping") and not msg.HasField("pong"):
                self._unserved(msg, logged_on=False)
                self._user_message(
                    _UM.MESSAGE_TYPE_CRITICAL_ERROR,
                    "logon required",
                    "the first message must be logon or restore_or_join_session",
                )
                self.close_requested = True
                self.wake()
            return
        if msg.HasField("logon"):
            self._send_logon_result(_LR.RESULT_CODE_FAILURE, "already logged on", session=None)
        if msg.HasField("restore_or_join_session"):
            self._send_restore_result(_RR.RESULT_CODE_INVALID_PARAMS, "already logged on")
        for request in msg.information_requests:
            self._information(session, request)
        for sub in msg.trade_subscriptions:
            self._trade_subscription(session, sub)
        for md in msg.market_data_subscriptions:
            self._market_subscription(session, md)
        for order_request in msg.order_requests:
            self._order_request(session, order_request)
        history = self.server.history
        for bars in msg.time_bar_requests:
            for answer in history.time_bars(session, bars, now_ns=self._now()):
                self._send(answer)
        for tas in msg.time_and_sales_requests:
            for answer in history.time_and_sales(session, tas, now_ns=self._now()):
                self._send(answer)
        self._unserved(msg, logged_on=True)
        if msg.HasField("logoff"):
            self._logoff(session)

    def _unserved(self, msg: ClientMsg, *, logged_on: bool) -> None:
        """Answer every request outside our subset (``unsupported.ANSWERS``): never silence."""
        now = self._now()
        session = self.session
        base = session.base if session is not None else base_time_at(now)
        for number, row, answer in unknown_requests(
            msg, now_ns=now, base=base, logged_on=logged_on
        ):
            if answer:
                self.refused += 1
                self._send(ServerMsg.FromString(answer))
            elif logged_on:
                self.refused += 1
                name = f" ({row.name})" if row is not None else ""
                self._user_message(
                    _UM.MESSAGE_TYPE_WARNING,
                    "request not supported",
                    f"ClientMsg field {number}{name} is not supported by the ec-mock CQG server",
                )

    # -- session ---------------------------------------------------------------------

    def _pong(self, ping: user_session_2.Ping) -> None:
        msg = ServerMsg()
        if ping.HasField("token"):
            msg.pong.token = ping.token
        msg.pong.ping_utc_time = ping.ping_utc_time
        session = self.session
        now = self._now()
        msg.pong.pong_utc_time = session.base.to_offset_ms(now) if session else 0
        self._send(msg)

    def _send_logon_result(self, code: int, text: str, *, session: Session | None) -> None:
        now = self._now()
        base = session.base if session is not None else base_time_at(now)
        msg = ServerMsg()
        result = msg.logon_result
        result.result_code = code
        result.base_time = base.text
        result.protocol_version_major = PROTOCOL_VERSION_MAJOR
        result.protocol_version_minor = PROTOCOL_VERSION_MINOR
        result.server_time = base.to_offset_ms(now)
        if text:
            result.text_message = text
        if session is not None:
            result.session_token = session.token
            result.user_id = 1
            result.inactivity_timeout = self.server.config.inactivity_timeout_min
        self._send(msg)

    def _refuse_logon(self, code: int, text: str) -> None:
        self._send_logon_result(code, text, session=None)
        self.close_requested = True
        self.wake()

    def _logon(self, logon: user_session_2.Logon) -> None:
        if logon.HasField("protocol_version_major") and (
            logon.protocol_version_major != PROTOCOL_VERSION_MAJOR
        ):
            minor = logon.protocol_version_minor
            self._refuse_logon(
                _LR.RESULT_CODE_FAILURE,
                f"protocol version {logon.protocol_version_major}.{minor} is not supported;"
                f" this server speaks {PROTOCOL_VERSION_MAJOR}.{PROTOCOL_VERSION_MINOR}",
            )
            return
        if not logon.user_name:
            self._refuse_logon(
                _LR.RESULT_CODE_FAILURE, "user_name and password are required (no access tokens)"
            )
            return
        server = self.server
        if not server.accepts(logon.user_name, logon.password):
            self._refuse_logon(_LR.RESULT_CODE_FAILURE, "invalid user name or password")
            return
        others = [s for s in server.sessions.of_user(logon.user_name) if s.connection]
        if others and logon.HasField("drop_concurrent_session"):
            if not logon.drop_concurrent_session:
                self._refuse_logon(
                    _LR.RESULT_CODE_CONCURRENT_SESSION,
                    f"user {logon.user_name!r} already has a session on another connection",
                )
                return
            for other in others:
                if other.connection is not None:
                    other.connection.logged_off(_LO.LOGOFF_REASON_FORCED, "concurrent logon")
        settings = set(logon.session_settings)
        session = server.sessions.open(
            user=logon.user_name,
            accounts=server.visible_accounts(),
            base=base_time_at(self._now()),
            allow_restore=bool(settings & {1, 2}),
        )
        session.connection = self
        self.session = session
        self._send_logon_result(_LR.RESULT_CODE_SUCCESS, "", session=session)

    def logged_off(self, reason: int, text: str = "") -> None:
        """Tell the client it is logged off, then close.

        Only a forced, redirected or reassigned logoff carries a text: CQG clients read a text on
        ``LoggedOff`` as the reason of an abnormal logoff, so a logoff by request has none.
        """
        msg = ServerMsg()
        msg.logged_off.logoff_reason = reason
        if text:
            msg.logged_off.text_message = text
        self._send(msg)
        session = self.session
        if session is not None and session.connection is self:
            session.connection = None
        self.session = None
        self.close_requested = True
        self.wake()

    def _logoff(self, session: Session) -> None:
        self.server.sessions.close(session)
        self.logged_off(user_session_2.LoggedOff.LOGOFF_REASON_BY_REQUEST)

    def _send_restore_result(self, code: int, text: str) -> None:
        now = self._now()
        session = self.session
        base = session.base if session is not None else base_time_at(now)
        msg = ServerMsg()
        result = msg.restore_or_join_session_result
        result.result_code = code
        result.base_time = base.text
        result.server_time = base.to_offset_ms(now)
        if text:
            result.text_message = text
        if code == _RR.RESULT_CODE_SUCCESS:
            result.inactivity_timeout = self.server.config.inactivity_timeout_min
        self._send(msg)

    def _restore(self, restore: user_session_2.RestoreOrJoinSession) -> None:
        session = self.server.sessions.get(restore.session_token)
        if session is None:
            self._send_restore_result(_RR.RESULT_CODE_UNKNOWN_SESSION, "unknown session token")
            self.close_requested = True
            self.wake()
            return
        if not session.allow_restore:
            self._send_restore_result(
                _RR.RESULT_CODE_ACCESS_DENIED, "the logon did not allow session restore"
            )
            self.close_requested = True
            self.wake()
            return
        old = session.connection
        if old is not None and old is not self:
            old.logged_off(user_session_2.LoggedOff.LOGOFF_REASON_REASSIGNED, "session restored")
        session.base = base_time_at(self._now())
        session.connection = self
        self.session = session
        self._send_restore_result(_RR.RESULT_CODE_SUCCESS, "")
        for sub in list(session.trade_subs.values()):
            self._trade_snapshot(session, sub, skip_orders=False)
        for market in list(session.market.values()):
            self._market_snapshot(session, market)

    # -- information requests --------------------------------------------------------

    def _report(self, request_id: int, code: int, text: str = "") -> tuple[ServerMsg, Any]:
        msg = ServerMsg()
        report = msg.information_reports.add(id=request_id, status_code=code)
        if text:
            report.text_message = text
        return msg, report

    def _information(self, session: Session, request: webapi_2.InformationRequest) -> None:
        server = self.server
        now = self._now()
        ok = _IR.STATUS_CODE_SUBSCRIBED if request.subscribe else _IR.STATUS_CODE_SUCCESS
        if request.HasField("accounts_request"):
            msg, report = self._report(request.id, ok)
            report.accounts_report.CopyFrom(
                server.accounts.report(session.accounts, base=session.base, today_ns=now)
            )
        elif request.HasField("symbol_resolution_request"):
            symbol = request.symbol_resolution_request.symbol
            instrument = server.venue.exchange.instrument(symbol)
            if instrument is None:
                listed = ", ".join(sorted(i.symbol for i in server.venue.exchange.instruments()))
                msg, _ = self._report(
                    request.id,
                    _IR.STATUS_CODE_NOT_FOUND,
                    f"symbol {symbol!r} not found (listed: {listed})",
                )
            else:
                msg, report = self._report(request.id, ok)
                contract_id = session.contracts.id_of(symbol)
                session.contracts.announce(contract_id)
                report.symbol_resolution_report.contract_metadata.CopyFrom(
                    self._metadata(session, contract_id)
                )
        elif request.HasField("contract_metadata_request"):
            contract_id = request.contract_metadata_request.contract_id
            if session.contracts.symbol_of(contract_id) is None:
                msg, _ = self._report(
                    request.id, _IR.STATUS_CODE_NOT_FOUND, f"unknown contract_id {contract_id}"
                )
            else:
                msg, report = self._report(request.id, _IR.STATUS_CODE_SUCCESS)
                report.contract_metadata_report.contract_metadata.CopyFrom(
                    self._metadata(session, contract_id)
                )
        elif request.HasField("historical_orders_request"):
            msg = self._historical_orders(session, request.id, request.historical_orders_request)
        elif request.HasField("order_status_request"):
            msg = self._order_status(session, request.id, request.order_status_request)
        elif request.HasField("session_information_request"):
            msg = self._session_information(session, request)
        elif request.HasField("order_entitlement_request"):
            msg = self._order_entitlement(session, request)
        else:
            unknown = UnknownFieldSet(request)
            numbers = ", ".join(str(unknown[i].field_number) for i in range(len(unknown)))
            msg, _ = self._report(
                request.id,
                _IR.STATUS_CODE_FAILURE,
                "information request not supported by the ec-mock CQG server"
                + (f" (InformationRequest field {numbers})" if numbers else ""),
            )
        self._send(msg)

    def _session_information(
        self, session: Session, request: webapi_2.InformationRequest
    ) -> ServerMsg:
        asked = request.session_information_request
        symbol = session.contracts.symbol_of(asked.session_info_id)  # the contract's id
        instrument = None if symbol is None else self.server.venue.exchange.instrument(symbol)
        if instrument is None:
            msg, _ = self._report(
                request.id,
                _IR.STATUS_CODE_NOT_FOUND,
                f"unknown session_info_id {asked.session_info_id}: resolve the symbol first",
            )
            return msg
        now = self._now()
        base = session.base
        start = base.to_ns(asked.from_utc_time) if asked.HasField("from_utc_time") else None
        end = base.to_ns(asked.to_utc_time) if asked.HasField("to_utc_time") else None
        start = now - DEFAULT_BACK_NS if start is None else start
        end = start + DEFAULT_BACK_NS + DEFAULT_AHEAD_NS if end is None else end
        if end <= start:
            msg, _ = self._report(
                request.id, _IR.STATUS_CODE_INVALID_PARAMS, "to_utc_time is not after from_utc_time"
            )
            return msg
        msg, report = self._report(request.id, _IR.STATUS_CODE_SUCCESS)
        report.session_information_report.CopyFrom(
            session_information(
                instrument.trading_calendar,
                asked.session_info_id,
                base=base,
                start_ns=start,
                end_ns=end,
            )
        )
        return msg

    def _order_entitlement(
        self, session: Session, request: webapi_2.InformationRequest
    ) -> ServerMsg:
        asked = request.order_entitlement_request
        account = self.server.accounts.name_of(asked.account_id)
        if session.contracts.symbol_of(asked.contract_id) is None:
            text = f"unknown contract_id {asked.contract_id}: resolve the symbol first"
        elif account is None or account not in session.accounts:
            text = f"account_id {asked.account_id} is not an account of this logon"
        else:
            msg, report = self._report(request.id, _IR.STATUS_CODE_SUCCESS)
            report.order_entitlement_report.CopyFrom(order_entitlements())
            return msg
        msg, _ = self._report(request.id, _IR.STATUS_CODE_NOT_FOUND, text)
        return msg

    def _metadata(self, session: Session, contract_id: int) -> Any:
        symbol = session.contracts.symbol_of(contract_id)
        assert symbol is not None
        instrument = self.server.venue.exchange.instrument(symbol)
        assert instrument is not None
        return contract_metadata(
            instrument, contract_id, session_info_id=contract_id, base=session.base
        )

    def _historical_orders(
        self, session: Session, request_id: int, request: trade_routing_2.HistoricalOrdersRequest
    ) -> ServerMsg:
        base = session.base
        now = self._now()
        start = _day_start(base.to_ns(request.from_date))
        end = (
            _day_start(base.to_ns(request.to_date)) + _NS_PER_DAY - 1
            if request.HasField("to_date")
            else now
        )
        limit_days = self.server.config.history_days
        if start < _day_start(now) - limit_days * _NS_PER_DAY or end < start:
            msg, _ = self._report(
                request_id,
                _IR.STATUS_CODE_INVALID_PARAMS,
                f"from_date must be within {limit_days} days back and not after to_date",
            )
            return msg
        accounts = self._accounts_of(session, request.account_ids)
        if accounts is None:
            msg, _ = self._report(request_id, _IR.STATUS_CODE_INVALID_PARAMS, "unknown account_id")
            return msg
        msg, report = self._report(request_id, _IR.STATUS_CODE_SUCCESS)
        history = report.historical_orders_report
        history.SetInParent()
        exchange = self.server.venue.exchange
        for account in accounts:
            for order in exchange.historical_orders(account, start, end):
                history.order_statuses.append(
                    self.render(self.server.chains.plan_snapshot(order), None)
                )
        return msg

    def _order_status(
        self, session: Session, request_id: int, request: order_2.OrderStatusRequest
    ) -> ServerMsg:
        chain = self.server.chains.by_chain_order_id(request.chain_order_id)
        if chain is None or chain.venue_account not in session.accounts or chain.last is None:
            msg, _ = self._report(
                request_id,
                _IR.STATUS_CODE_NOT_FOUND,
                f"unknown chain_order_id {request.chain_order_id!r}",
            )
            return msg
        current = self.server.venue.exchange.order_status(
            chain.venue_account, chain.last.cl_order_id
        )
        msg, report = self._report(request_id, _IR.STATUS_CODE_SUCCESS)
        plan = self.server.chains.plan_snapshot(current or chain.last)
        report.order_status_report.order_status.CopyFrom(self.render(plan, None))
        return msg

    def _accounts_of(self, session: Session, ids: Iterable[int]) -> tuple[str, ...] | None:
        ids = list(ids)
        if not ids:
            return session.accounts
        names = [self.server.accounts.name_of(i) for i in ids]
        if any(n is None or n not in session.accounts for n in names):
            return None
        return tuple(n for n in names if n is not None)

    # -- rendering used by the server ------------------------------------------------

    def render(self, plan: StatusPlan, subscription_ids: list[int] | None) -> order_2.OrderStatus:
        """``plan`` as this session sees it; first mention of a contract carries its metadata."""
        session = self.session
        assert session is not None
        instrument = self.server.venue.exchange.instrument(plan.report.symbol)
        assert instrument is not None
        contract_id = session.contracts.id_of(instrument.symbol)
        status = render_status(
            plan,
            instrument=instrument,
            contract_id=contract_id,
            base=session.base,
            subscription_ids=subscription_ids,
            is_snapshot=not plan.transactions,
        )
        if session.contracts.announce(contract_id):
            status.contract_metadata.append(self._metadata(session, contract_id))
        return status

    def position_status(
        self, position: Position, ids: list[int], *, is_snapshot: bool = False
    ) -> trade_routing_2.PositionStatus:
        session = self.session
        assert session is not None
        server = self.server
        contract_id = session.contracts.id_of(position.symbol)
        status = trade_routing_2.PositionStatus(
            account_id=server.accounts.id_of(position.account_id),
            contract_id=contract_id,
            is_short_open_position=position.qty < 0,
        )
        status.subscription_ids.extend(ids)
        if is_snapshot:
            status.is_snapshot = True
        now = self._now()
        day = session.base.to_offset_ms(_day_start(now))
        row = status.open_positions.add(
            id=1,
            price_correct=float(position.avg_price),
            trade_date=day,
            statement_date=day,
            is_aggregated=True,
            is_short=position.qty < 0,
        )
        ns_to_timestamp(now, row.trade_utc_timestamp)
        qty_to_cqg(abs(position.qty), row.qty)  # 0: the position was closed
        status.purchase_and_sales_groups.add(
            id=1, realized_profit_loss=float(position.realized_pnl)
        )
        if session.contracts.announce(contract_id):
            status.contract_metadata.CopyFrom(self._metadata(session, contract_id))
        return status

    def account_statuses(
        self, account: str, only: TradeSub | None, *, is_snapshot: bool
    ) -> ServerMsg | None:
        """Collateral and account-summary statuses of ``account`` for the subscriptions
        covering it (just ``only`` for a snapshot); ``None`` when nobody subscribed."""
        session = self.session
        if session is None:
            return None
        subs = [only] if only is not None else list(session.trade_subs.values())
        collateral = [
            s.id
            for s in subs
            if _SCOPE.SUBSCRIPTION_SCOPE_COLLATERAL in s.scopes and account in s.accounts
        ]
        summary = [
            s
            for s in subs
            if _SCOPE.SUBSCRIPTION_SCOPE_ACCOUNT_SUMMARY in s.scopes and account in s.accounts
        ]
        if not collateral and not summary:
            return None
        exchange = self.server.venue.exchange
        state = exchange.account(account)
        ote = exchange.unrealized_pnl(account)
        margin = max(state.balance + ote - state.buying_power, Decimal(0))
        account_id = self.server.accounts.id_of(account)
        msg = ServerMsg()
        if collateral:
            status = msg.collateral_statuses.add(
                account_id=account_id,
                currency=state.currency,
                total_margin=float(margin),
                purchasing_power=float(state.buying_power),
                ote=float(ote),
                mvo=0.0,
            )
            status.subscription_ids.extend(collateral)
            if is_snapshot:
                status.is_snapshot = True
            ns_to_timestamp(self._now(), status.status_utc_timestamp)
        values = {
            6: float(margin),
            8: float(state.buying_power),
            9: float(ote),
            15: float(state.balance),
            16: float(ote),
            17: float(ote),
            18: float(state.balance),
            29: len(exchange.open_orders(account)),
        }
        by_fields: dict[frozenset[int], list[int]] = {}
        for sub in summary:
            by_fields.setdefault(sub.summary_fields, []).append(sub.id)
        for wanted, ids in by_fields.items():
            summary_status = msg.account_summary_statuses.add(
                account_id=account_id, currency=state.currency
            )
            summary_status.subscription_ids.extend(ids)
            if is_snapshot:
                summary_status.is_snapshot = True
            descriptor = summary_status.DESCRIPTOR
            for number in sorted(wanted or _SUMMARY_FIELDS):
                if number in values:
                    name = descriptor.fields_by_number[number].name
                    setattr(summary_status, name, values[number])
        return msg

    # -- trade subscriptions ---------------------------------------------------------

    def _trade_status(self, sub_id: int, code: int, text: str = "") -> None:
        msg = ServerMsg()
        status = msg.trade_subscription_statuses.add(id=sub_id, status_code=code)
        if text:
            status.details.text = text
        self._send(msg)

    def _trade_subscription(
        self, session: Session, request: trade_routing_2.TradeSubscription
    ) -> None:
        if not request.subscribe:
            session.trade_subs.pop(request.id, None)
            self._trade_status(request.id, _TSS.STATUS_CODE_SUCCESS)
            return
        scopes = frozenset(request.subscription_scopes)
        unsupported = scopes - _SUPPORTED_SCOPES
        if not scopes or unsupported:
            self._trade_status(
                request.id,
                _TSS.STATUS_CODE_FAILURE,
                f"unsupported subscription scopes {sorted(unsupported)}" if scopes else "no scope",
            )
            return
        accounts = self._accounts_of(session, request.account_ids)
        if accounts is None:
            self._trade_status(
                request.id,
                _TSS.STATUS_CODE_INVALID_PUBLICATION_ID,
                f"unknown account_ids {list(request.account_ids)}",
            )
            return
        fields = frozenset(request.account_summary_parameters.requested_fields)
        sub = TradeSub(
            id=request.id, scopes=scopes, accounts=frozenset(accounts), summary_fields=fields
        )
        session.trade_subs[sub.id] = sub
        self._trade_status(sub.id, _TSS.STATUS_CODE_SUCCESS)
        self._trade_snapshot(session, sub, skip_orders=request.skip_orders_snapshot)

    def _trade_snapshot(self, session: Session, sub: TradeSub, *, skip_orders: bool) -> None:
        server = self.server
        exchange = server.venue.exchange
        now = self._now()
        msg = ServerMsg()
        for account in sorted(sub.accounts):
            if _SCOPE.SUBSCRIPTION_SCOPE_ORDERS in sub.scopes and not skip_orders:
                for report in exchange.historical_orders(account, _day_start(now), now):
                    plan = server.chains.plan_snapshot(report)
                    msg.order_statuses.append(self.render(plan, [sub.id]))
            if _SCOPE.SUBSCRIPTION_SCOPE_POSITIONS in sub.scopes:
                for position in exchange.positions(account):
                    if position.qty:
                        msg.position_statuses.append(
                            self.position_status(position, [sub.id], is_snapshot=True)
                        )
            balances = self.account_statuses(account, sub, is_snapshot=True)
            if balances is not None:
                msg.MergeFrom(balances)
        msg.trade_snapshot_completions.add(
            subscription_id=sub.id, subscription_scopes=sorted(sub.scopes)
        )
        self._send(msg)

    # -- market data -----------------------------------------------------------------

    def _md_status(
        self, request: market_data_2.MarketDataSubscription, code: int, level: int, text: str = ""
    ) -> None:
        msg = ServerMsg()
        status = msg.market_data_subscription_statuses.add(
            contract_id=request.contract_id, status_code=code, level=level
        )
        if request.HasField("request_id"):
            status.request_id = request.request_id
        if text:
            status.details.text = text
        self._send(msg)

    def _market_subscription(
        self, session: Session, request: market_data_2.MarketDataSubscription
    ) -> None:
        symbol = session.contracts.symbol_of(request.contract_id)
        instrument = self.server.venue.exchange.instrument(symbol) if symbol else None
        if instrument is None:
            self._md_status(
                request,
                _MDS.STATUS_CODE_INVALID_PARAMS,
                0,
                f"contract_id {request.contract_id} was not resolved in this session",
            )
            return
        if request.level == 0:
            session.market.pop(request.contract_id, None)
            self._md_status(request, _MDS.STATUS_CODE_SUCCESS, 0)
            return
        level = effective_level(request.level)
        if level is None:
            self._md_status(
                request,
                _MDS.STATUS_CODE_NOT_SUPPORTED,
                0,
                f"level {request.level} is not supported (1, 2, 3, 4 and 7 are)",
            )
            return
        sub = MarketSubscription(
            contract_id=request.contract_id,
            instrument=instrument,
            level=level,
            request_id=request.request_id if request.HasField("request_id") else None,
        )
        session.market[sub.contract_id] = sub
        self._md_status(request, _MDS.STATUS_CODE_SUCCESS, level)
        self._market_snapshot(session, sub)

    def _market_snapshot(self, session: Session, sub: MarketSubscription) -> None:
        exchange = self.server.venue.exchange
        symbol = sub.instrument.symbol
        data = sub.snapshot(
            quote=exchange.best_quote(symbol),
            trade=exchange.last_trade(symbol),
            book=_book(exchange, symbol, self.server.config.dom_depth) if sub.level >= 4 else None,
            base=session.base,
            now_ns=self._now(),
        )
        msg = ServerMsg()
        msg.real_time_market_data.append(data)
        self._send(msg)

    # -- orders ----------------------------------------------------------------------

    def reject_request(
        self, request_id: int, text: str, *, code: int = REQUEST_REJECT, event: object = None
    ) -> None:
        """``OrderRequestReject``: the request cannot be reported through an order status."""
        self.refused += 1
        msg = ServerMsg()
        reject = msg.order_request_rejects.add(request_id=request_id, reject_code=code)
        reject.details.text = text
        reject.text_message = text
        self._send(msg, event)

    def _context(self, session: Session) -> RequestContext:
        server = self.server
        exchange = server.venue.exchange
        return RequestContext(
            base=session.base,
            user=session.user,
            accounts=session.accounts,
            account_name=server.accounts.name_of,
            symbol_of=session.contracts.symbol_of,
            instrument=exchange.instrument,
            chains=server.chains,
            order_known=lambda a, c: exchange.order_status(a, c) is not None,
            open_orders=exchange.open_orders,
            next_id=server.next_id,
        )

    def _order_request(self, session: Session, request: order_2.OrderRequest) -> None:
        try:
            action = translate(request, self._context(session))
        except RequestRefused as refused:
            self.reject_request(request.request_id, refused.text, code=refused.code)
            return
        server = self.server
        exchange = server.venue.exchange
        now = self._now()
        if action.kind == "new_order":
            self._new_order(session, action, request, now)
            return
        if action.kind in ("modify_order", "cancel_order"):
            chain, last = action.chain, action.last
            assert chain is not None
            if last is None:
                self.reject_request(
                    request.request_id, f"order {chain.order_id} is not acknowledged yet"
                )
                return
            core = action.requests[0]
            modify = action.kind == "modify_order"
            plan = server.chains.plan_pending(
                chain,
                last,
                status=_OS.IN_MODIFY if modify else _OS.IN_CANCEL,
                trans_status=_TS.IN_MODIFY if modify else _TS.IN_CANCEL,
                cl_order_id=core.cl_order_id,
                orig_cl_order_id=getattr(core, "orig_cl_order_id", ""),
                ts_ns=now,
            )
            server.publish(plan)
            server._awaiting[(core.account_id, core.cl_order_id)] = (self, request.request_id)
            exchange.submit(core)
            return
        msg = ServerMsg()
        ack = msg.order_request_acks.add(request_id=request.request_id)
        ns_to_timestamp(now, ack.when)
        self._send(msg)
        for core in action.requests:
            exchange.submit(core)
        if action.kind == "go_flat":
            self._go_flat_statuses(request.request_id, action)

    def _new_order(
        self, session: Session, action: Action, request: order_2.OrderRequest, now: int
    ) -> None:
        core = action.requests[0]
        assert isinstance(core, NewOrder)
        server = self.server
        chain = server.chains.open_chain(
            core.account_id,
            core.cl_order_id,
            symbol=core.symbol,
            user=session.user,
            ts_ns=now,
            exec_instructions=exec_instruction_codes(core.exec_instructions),
        )
        pending = ExecutionReport(
            kind=ReportKind.STATUS,
            account_id=core.account_id,
            symbol=core.symbol,
            cl_order_id=core.cl_order_id,
            state=OrderState.PENDING_NEW,
            side=core.side,
            order_type=core.order_type,
            qty=core.qty,
            limit_price=core.limit_price,
            stop_price=core.stop_price,
            duration=core.duration,
            good_thru_date=core.good_thru_date,
            chain_id=core.cl_order_id,
            ts_ns=now,
        )
        plan = server.chains.plan_pending(
            chain,
            pending,
            status=_OS.IN_TRANSIT,
            trans_status=_TS.IN_TRANSIT,
            cl_order_id=core.cl_order_id,
            ts_ns=now,
        )
        server.publish(plan)
        server.venue.exchange.submit(core)

    def _go_flat_statuses(self, request_id: int, action: Action) -> None:
        exchange = self.server.venue.exchange
        msg = ServerMsg()
        for account in action.accounts:
            orders = sum(max(r.qty - r.filled_qty, 0) for r in exchange.open_orders(account))
            positions = sum(abs(p.qty) for p in exchange.positions(account))
            status = msg.go_flat_statuses.add(
                request_id=request_id,
                account_id=self.server.accounts.id_of(account),
                status_code=_GF.STATUS_CODE_COMPLETED
                if orders == 0 and positions == 0
                else _GF.STATUS_CODE_FAILED,
            )
            decimal_to_cqg(orders, status.remaining_orders_qty)
            decimal_to_cqg(positions, status.remaining_positions_qty)
        self._send(msg)
