"""One client connection of the Sans-I/O CQG server.

:meth:`ConnectionCore.receive` takes one binary WebSocket message (one ``ClientMsg``) and
:meth:`ConnectionCore.data_to_send` returns the frames ready to go. The connection owns
the logon handshake (logon, restore, logoff, ping/pong) and hands each request of a
logged-on session to the part of the server that answers it: information requests to
:class:`~ec_cqg.server.information.InformationDesk`, subscriptions to
:class:`~ec_cqg.server.subscriptions.SubscriptionDesk`, order requests to
:func:`~ec_cqg.server.order_flow.take_order_request`. It sees the server as a
:class:`~ec_cqg.server.state.ServerState`, so this module does not import :mod:`.core`.

A malformed frame never raises: it is counted (:attr:`ConnectionCore.malformed`) and
answered with a ``user_messages`` warning; the connection stays open.

Limits (``ServerConfig``): at most ``max_outbound_bytes`` wait for the client; one more
frame drops the line (counted ``outbound_overflow``; the session stays restorable, and a
restore re-sends every snapshot, so no order status is lost unseen), and
:attr:`ConnectionCore.backed_up` tells the shell to stop reading meanwhile. A connection
without a session after ``logon_timeout_ns`` is closed. After a refused logon or restore
nothing more is read: the connection only closes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import final

from ec_core.errors import ProtocolError

from ec_cqg.protocol.codec import decode_client
from ec_cqg.protocol.pb import (
    PROTOCOL_VERSION_MAJOR,
    PROTOCOL_VERSION_MINOR,
    ClientMsg,
    ServerMsg,
    historical_2,
    user_session_2,
    webapi_2,
)
from ec_cqg.server.codes import REQUEST_REJECT
from ec_cqg.server.order_flow import take_order_request
from ec_cqg.server.sessions import Session, base_time_at
from ec_cqg.server.state import ServerState
from ec_cqg.server.unsupported import unknown_requests

__all__ = ["ConnectionCore"]

_RATE_LIMITED = webapi_2.InformationReport.STATUS_CODE_REQUEST_RATE_LIMIT_VIOLATION
_BARS_LIMITED = historical_2.BAR_REPORT_STATUS_CODE_REQUEST_RATE_LIMIT_VIOLATION
_SALES_LIMITED = historical_2.TimeAndSalesReport.RESULT_CODE_REQUEST_RATE_LIMIT_VIOLATION
_BARS_DROP = historical_2.TimeBarRequest.REQUEST_TYPE_DROP
_SALES_DROP = historical_2.TimeAndSalesRequest.REQUEST_TYPE_DROP


def _rate_limited(kind: str, request_id: int, most: int) -> ServerMsg:
    """The answer to a costly request beyond the budget of its message: ask again."""
    text = (
        f"at most {most} session information, time bar and time and sales requests are"
        " answered per message: ask again in a later one"
    )
    msg = ServerMsg()
    if kind == "information":
        msg.information_reports.add(id=request_id, status_code=_RATE_LIMITED, text_message=text)
    elif kind == "bars":
        report = msg.time_bar_reports.add(request_id=request_id, status_code=_BARS_LIMITED)
        report.text_message = report.details.text = text
    else:
        sales = msg.time_and_sales_reports.add(request_id=request_id, result_code=_SALES_LIMITED)
        sales.text_message = sales.details.text = text
    return msg


_LR = user_session_2.LogonResult
_LO = user_session_2.LoggedOff
_RR = user_session_2.RestoreOrJoinSessionResult
_UM = user_session_2.UserMessage
_SOURCE = "ec-mock CQG server"


@final
class ConnectionCore:
    """One client connection (see the module docstring)."""

    def __init__(self, server: ServerState, *, address: str = "") -> None:
        self.server = server
        self.address = address
        self.opened_ns = server.now()
        self.session: Session | None = None
        self.frames_in = 0  # binary frames read
        self.malformed = 0  # frames that could not be read
        # requests turned away: order requests answered with OrderRequestReject, requests
        # outside our subset, costly requests beyond their message's budget
        self.refused = 0
        self._costly_left = 0  # costly requests the message being dispatched may still make
        self.pongs = 0
        self.pings_sent = 0
        self.close_requested = False  # send what is queued, then close
        self.drop_requested = False  # drop the line now (a fault)
        self.closed = False
        self.on_output: Callable[[], None] | None = None
        self._out: list[bytes] = []
        self._out_bytes = 0
        self._next_ping_ns: int | None = None
        self._ping_tokens = itertools.count(1)

    # -- I/O side --------------------------------------------------------------------

    def data_to_send(self) -> list[bytes]:
        """Frames ready to go, oldest first (the list is handed over)."""
        out, self._out = self._out, []
        self._out_bytes = 0
        return out

    @property
    def queued_bytes(self) -> int:
        """Encoded bytes waiting for :meth:`data_to_send`."""
        return self._out_bytes

    @property
    def backed_up(self) -> bool:
        """Half the outbound bound is waiting: the shell stops reading until it drains."""
        return self._out_bytes * 2 >= self.server.config.max_outbound_bytes

    def deliver(self, frame: bytes) -> None:
        if self.closed:
            return
        if self._out_bytes + len(frame) > self.server.config.max_outbound_bytes:
            self.server.counters["outbound_overflow"] += 1
            self.drop()  # the client is not reading; it restores and gets snapshots
            return
        self._out.append(frame)
        self._out_bytes += len(frame)
        self.wake()

    def wake(self) -> None:
        if self.on_output is not None:
            self.on_output()

    def request_close(self) -> None:
        """Send what is queued, then close."""
        self.close_requested = True
        self.wake()

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
        self._out_bytes = 0
        session = self.session
        if session is not None and session.connection is self:
            session.connection = None
            self.server.history.feeds.forget(session)
        if self in self.server.connections:
            self.server.connections.remove(self)

    def receive_text(self, text: str) -> None:
        """A text frame: CQG speaks binary protobuf only."""
        self._malformed(f"text frame of {len(text)} characters (CQG frames are binary)")

    def receive(self, data: bytes) -> None:
        """One binary WebSocket message (one ``ClientMsg``)."""
        if self.closed or self.close_requested:
            return  # closing (e.g. after a refused logon): nothing more is evaluated
        self.frames_in += 1
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
        """Time passed: close a connection past its logon deadline; ping when one is due."""
        if self.closed or self.close_requested:
            return
        config = self.server.config
        interval = config.ping_interval_ns
        session = self.session
        if session is None:
            if now_ns - self.opened_ns >= config.logon_timeout_ns:
                self.server.counters["logon_timeout"] += 1
                self._user_message(
                    _UM.MESSAGE_TYPE_CRITICAL_ERROR,
                    "logon timeout",
                    f"no logon within {config.logon_timeout_ns / 1e9:g} s",
                )
                self.request_close()
            return
        if not interval:
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

    def _within_budget(self, kind: str, request_id: int) -> bool:
        """One costly request of the message being dispatched: ``True`` while within the
        message's budget, else refused (counted) and answered to ask again."""
        self._costly_left -= 1
        if self._costly_left >= 0:
            return True
        self.refused += 1
        self._send(
            _rate_limited(kind, request_id, self.server.config.max_costly_requests_per_message)
        )
        return False

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
                self.request_close()
            return
        if msg.HasField("logon"):
            self._send_logon_result(_LR.RESULT_CODE_FAILURE, "already logged on", session=None)
        if msg.HasField("restore_or_join_session"):
            self._send_restore_result(_RR.RESULT_CODE_INVALID_PARAMS, "already logged on")
        server = self.server
        # each costly request holds the server's one thread: others wait, so a message
        # gets a budget of them (a drop of a subscription costs nothing)
        self._costly_left = server.config.max_costly_requests_per_message
        for request in msg.information_requests:
            if request.HasField("session_information_request") and not self._within_budget(
                "information", request.id
            ):
                continue
            self._send(server.information.answer(session, request, now_ns=self._now()))
        for sub in msg.trade_subscriptions:
            for answer in server.subscriptions.trade(session, sub, now_ns=self._now()):
                self._send(answer)
        for md in msg.market_data_subscriptions:
            for answer in server.subscriptions.market(session, md, now_ns=self._now()):
                self._send(answer)
        for order_request in msg.order_requests:
            take_order_request(server, self, session, order_request)
        history = server.history
        for bars in msg.time_bar_requests:
            if bars.request_type != _BARS_DROP and not self._within_budget("bars", bars.request_id):
                continue
            for answer in history.time_bars(session, bars, now_ns=self._now()):
                self._send(answer)
        for tas in msg.time_and_sales_requests:
            if tas.request_type != _SALES_DROP and not self._within_budget("sales", tas.request_id):
                continue
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
        limit = self.server.config.max_ping_token_bytes
        if len(ping.token.encode()) > limit:
            self._malformed(f"ping token over {limit} bytes (not echoed)")
            return
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
        self.server.counters["logon_refused"] += 1
        self._send_logon_result(code, text, session=None)
        self.request_close()

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
        user, now = logon.user_name, self._now()
        retry_at = server.throttle.retry_at(user, self.address, now)
        if retry_at is not None:
            server.counters["logon_throttled"] += 1
            self._refuse_logon(
                _LR.RESULT_CODE_FAILURE,
                f"too many failed logons: retry in {(retry_at - now) / 1e9:.1f} s",
            )
            return
        if not server.accepts(user, logon.password):
            server.throttle.failed(user, self.address, now)
            self._refuse_logon(_LR.RESULT_CODE_FAILURE, "invalid user name or password")
            return
        server.throttle.succeeded(user, self.address)
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
                server.sessions.close(other)  # its token no longer restores it
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
            self.server.history.feeds.forget(session)
        self.session = None
        self.request_close()

    def _logoff(self, session: Session) -> None:
        self.server.sessions.close(session)
        self.logged_off(_LO.LOGOFF_REASON_BY_REQUEST)

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
            self.server.counters["restore_refused"] += 1
            self._send_restore_result(_RR.RESULT_CODE_UNKNOWN_SESSION, "unknown session token")
            self.request_close()
            return
        if not session.allow_restore:
            self.server.counters["restore_refused"] += 1
            self._send_restore_result(
                _RR.RESULT_CODE_ACCESS_DENIED, "the logon did not allow session restore"
            )
            self.request_close()
            return
        old = session.connection
        if old is not None and old is not self:
            old.logged_off(_LO.LOGOFF_REASON_REASSIGNED, "session restored")
        session.base = base_time_at(self._now())
        session.connection = self
        self.session = session
        self._send_restore_result(_RR.RESULT_CODE_SUCCESS, "")
        for answer in self.server.subscriptions.resend_snapshots(session, now_ns=self._now()):
            self._send(answer)
