"""The CQG client's protocol core, Sans-I/O: frames and the time in; frames to send and
core events out. No clock, no tasks, no sockets.

Like the server's ``ConnectionCore`` and websockets' ``Protocol``: the session shell
(:mod:`ec_cqg.client.session`) owns the line, the supervisor, the heartbeat timer and the
throttle; it feeds every server frame to :meth:`CqgClientProtocol.receive` with the
time, writes what :meth:`CqgClientProtocol.data_to_send` returns (pongs, requests the
core makes itself), and wakes the coroutines waiting for the calls listed by
:meth:`CqgClientProtocol.calls_done`. Builders of client messages (logon, symbol
resolution, subscriptions, orders, pings) return the frame to write and, for a request
someone waits on, its :class:`~ec_cqg.client.core.calls.Call`.

This module is the I/O boundary and the routing of what comes in. The protocol is built
from parts, one job each:

* :mod:`.state` — the fields one session keeps across lines and logons;
* :mod:`.status_intake` — order statuses into the book, once their contract is known;
* :mod:`.logon` — logon, restore, logoff, the trade subscription and pings;
* :mod:`.requests` — symbol resolution, market data, orders, information requests.

and it uses the concerns split beside it:

* :mod:`.contracts` — the contract directory of the logon, statuses held for contracts
  not known yet;
* :mod:`.tradebook` — order chains, fills, positions and trade subscribers;
* :mod:`.reconcile` — trade snapshot collection and its diff after a reconnect;
* :mod:`.market` — market-data subscriptions and the ingest fan-out;
* :mod:`.information` — information requests and what their answers mean (historical
  market data goes beside it, :mod:`.bars` the updates of time bar subscriptions).

It never sends an order request by itself: only :meth:`CqgClientProtocol.order` builds
one, when the user asks, so no drop, duplicate or replay of server frames can make it
send an order twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final, final

from ec_core.errors import (
    ConnectionLostError,
    PriceError,
    ProtocolError,
    RequestTimeoutError,
)
from ec_core.model import SessionEvent, SessionEventKind
from google.protobuf.message import Message

from ec_cqg.client.core.calls import Call
from ec_cqg.client.core.logon import LogonSequence
from ec_cqg.client.core.requests import RequestBuilders
from ec_cqg.client.core.state import NS
from ec_cqg.protocol.codec import decode_server_fields, encode_client
from ec_cqg.protocol.correlation import Answer, DeadLetter, ItemKind, Update
from ec_cqg.protocol.mapping.session import pong_message
from ec_cqg.protocol.pb import historical_2, order_2, trade_routing_2, user_session_2

__all__ = ["CqgClientProtocol"]

log = logging.getLogger("ec_cqg.client")

_RTMD: Final = ItemKind.REAL_TIME_MARKET_DATA


@final
class CqgClientProtocol(LogonSequence, RequestBuilders):
    """The protocol core of one CQG session (it outlives lines and logons): the I/O
    boundary and the routing here, the requests and the state in its bases."""

    # -- the I/O boundary ------------------------------------------------------------

    def data_to_send(self) -> list[bytes]:
        """Frames the core made by itself (pongs, metadata requests), oldest first."""
        out = self._outbox
        if out:
            self._outbox = []
        return out

    def calls_done(self) -> list[Call[Any]]:
        """Calls completed or failed since the last look."""
        return self.calls.done()

    def receive(self, data: bytes, now_ns: int) -> None:
        """Decode and route one server frame. Never raises: a bad frame is counted."""
        try:
            msg, fields = decode_server_fields(data)
        except ProtocolError as exc:
            self.counters["malformed_frames"] += 1
            log.warning("cqg: dropped a malformed frame: %s", exc)
            return
        self._now_ns = now_ns
        try:
            plain = self.correlator.plain_updates(msg, fields)
            if plain is not None and plain[0] is _RTMD:  # the hot path: market data only
                self.market.apply_items(plain[1], self.base_time, now_ns)
                return
            events = self.correlator.feed(msg, now_ns=now_ns, fields=fields)
        except Exception:  # a bug in routing must not kill the line
            self.counters["routing_errors"] += 1
            log.exception("cqg: could not route a frame")
            return
        for event in events:
            try:
                self._on_event(event, now_ns)
            except (ProtocolError, PriceError, ValueError) as exc:
                self.counters["bad_items"] += 1
                log.warning("cqg: dropped an item: %s", exc)
            except Exception:
                self.counters["handler_errors"] += 1
                log.exception("cqg: handler failed")

    def receive_market_data(self, frames: Sequence[bytes], now_ns: int) -> bool:
        """Market-data-only frames gathered by the shell: one parse and one delivery per
        burst; a bad frame among them sends them through :meth:`receive` one by one.

        True when the burst held market data only: then it made no frame to send and
        finished no call, and the shell need not look."""
        try:
            msg, fields = decode_server_fields(b"".join(frames) if len(frames) > 1 else frames[0])
            plain = self.correlator.plain_updates(msg, fields)
        except ProtocolError:
            plain = None
        if plain is None or plain[0] is not _RTMD:
            for data in frames:
                self.receive(data, now_ns)
            return False
        try:
            self.market.apply_items(plain[1], self.base_time, now_ns)
        except Exception:  # a bug in a handler must not kill the line
            self.counters["handler_errors"] += 1
            log.exception("cqg: market data handler failed")
        return True

    def fail_pending(self, reason: str) -> None:
        """The line dropped: every request in flight fails; no answer can come."""
        for pending in self.correlator.fail_all():
            self.calls.fail(
                pending, ConnectionLostError(f"{pending.kind} request failed: {reason}")
            )
        self.book.forget_requests()
        self.bars.line_lost(reason)

    def line_lost(self, now_ns: int, *, was_logged_on: bool) -> None:
        """Between lines: not ready; collect the next snapshot; tell subscribers."""
        if was_logged_on:
            self.book.publish_all(
                SessionEvent(
                    kind=SessionEventKind.DISCONNECTED, detail="connection lost", ts_ns=now_ns
                )
            )
        self.ready = False
        self.snapshot.line_lost()

    def expire(self, now_ns: int) -> None:
        """Fail the requests whose deadline has passed (the shell's timer calls this)."""
        for pending in self.correlator.expire(now_ns):
            self.counters["expired_requests"] += 1
            if pending.request_id is not None:
                self.book.unsent(pending.request_id)
            timeout = (pending.deadline_ns - now_ns) / NS + self._request_timeout_s
            self.calls.fail(pending, RequestTimeoutError(timeout=round(timeout, 3)))

    def cancel(self, call: Call[Any]) -> None:
        """Stop waiting for ``call``: a late answer becomes a dead letter."""
        self.calls.cancel(call)

    def stats(self) -> dict[str, int]:
        out = dict(self.counters)
        out["market_events"] = self.market.events
        for key, value in self.correlator.counts.items():
            out[f"dead_letters_{key}"] = value
        return out

    # -- routing ---------------------------------------------------------------------

    def _on_event(self, event: Answer | Update | DeadLetter, now_ns: int) -> None:
        if isinstance(event, DeadLetter):
            self.counters["dead_letters"] += 1
            log.debug("cqg: dead letter (%s): %s", event.reason, event.detail)
            return
        if isinstance(event, Answer):
            self._on_answer(event, now_ns)
            return
        kind, item = event.kind, event.item
        if kind is ItemKind.ORDER_STATUS:
            assert isinstance(item, order_2.OrderStatus)
            if not (item.is_snapshot and self.snapshot.collect(item)):
                self._order_status(item, True, True)
        elif kind is ItemKind.POSITION_STATUS:
            assert isinstance(item, trade_routing_2.PositionStatus)
            if not (item.is_snapshot and self.snapshot.collect(item)):
                self.book.on_position_status(item, now_ns)
        elif kind is ItemKind.REAL_TIME_MARKET_DATA:
            self.market.apply_items((item,), self.base_time, now_ns)
        elif kind is ItemKind.TIME_BAR_REPORT:
            assert isinstance(item, historical_2.TimeBarReport)
            self.bars.on_report(item)
        elif kind is ItemKind.PING:
            self._answer_ping(item, now_ns)
        elif kind is ItemKind.TRADE_SNAPSHOT_COMPLETION:
            assert isinstance(item, trade_routing_2.TradeSnapshotCompletion)
            if self.snapshot.on_completion(item):
                self._apply_snapshot(now_ns)
        elif kind is ItemKind.LOGGED_OFF:
            self.counters["logged_off"] += 1
            log.warning("cqg: logged off by the server: %s", getattr(item, "text_message", ""))
        elif kind is ItemKind.USER_MESSAGE:
            self.counters["user_messages"] += 1
            log.info("cqg: user message: %s", getattr(item, "subject", ""))
        else:
            self.counters[f"unhandled_{kind.value}"] += 1

    def _on_answer(self, answer: Answer, now_ns: int) -> None:
        if self.calls.on_answer(answer):
            return
        pending = answer.request
        request_id = pending.request_id
        if request_id is None:
            return
        if answer.kind is ItemKind.ORDER_REQUEST_REJECT:
            assert isinstance(answer.item, order_2.OrderRequestReject)
            self.book.on_reject(request_id, answer.item, now_ns)
        elif answer.kind is ItemKind.ORDER_REQUEST_ACK:
            self.book.on_bulk_ack(request_id, now_ns)
        if answer.final:
            self.book.unsent(request_id)

    def _answer_ping(self, ping: Message, now_ns: int) -> None:
        assert isinstance(ping, user_session_2.Ping)
        base = self.base_time
        now = base.to_offset_ms(now_ns) if base is not None else 0
        if base is not None:
            self._server_time(base, ping.ping_utc_time, now_ns)
        self._outbox.append(encode_client(pong_message(ping, pong_utc_time=now)))
        self.counters["pongs_sent"] += 1
