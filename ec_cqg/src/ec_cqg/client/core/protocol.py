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

The core is split along its concerns:

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

import itertools
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final, final

import msgspec
from ec_core.errors import (
    AuthError,
    ConnectionLostError,
    PriceError,
    ProtocolError,
    RequestTimeoutError,
)
from ec_core.model import (
    Account,
    ExecutionReport,
    Instrument,
    OrderRequest,
    ReportKind,
    SessionEvent,
    SessionEventKind,
)
from google.protobuf.message import Message

import ec_cqg.client.core.information as info
from ec_cqg.client.core.bars import LiveBars
from ec_cqg.client.core.calls import Call, CallTable
from ec_cqg.client.core.contracts import ContractDirectory
from ec_cqg.client.core.market import MarketSubscriptions
from ec_cqg.client.core.reconcile import SnapshotCollector
from ec_cqg.client.core.tradebook import Chain, TradeBook
from ec_cqg.protocol.codec import decode_server_fields, encode_client
from ec_cqg.protocol.correlation import Answer, Correlator, DeadLetter, ItemKind, Update
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
from ec_cqg.protocol.pb import ClientMsg, historical_2, order_2, trade_routing_2, user_session_2
from ec_cqg.protocol.timestamps import BaseTime

__all__ = ["CqgClientProtocol"]

log = logging.getLogger("ec_cqg.client")

_NS: Final = 1_000_000_000
_TS = trade_routing_2.TradeSubscription
TRADE_SCOPES: Final = (_TS.SUBSCRIPTION_SCOPE_ORDERS, _TS.SUBSCRIPTION_SCOPE_POSITIONS)
_RTMD: Final = ItemKind.REAL_TIME_MARKET_DATA


@final
class CqgClientProtocol:
    """Protocol state of one CQG session (it outlives lines and logons)."""

    def __init__(
        self, *, cl_prefix: str, request_timeout_s: float, accounts: Sequence[str] = ()
    ) -> None:
        self.counters: Counter[str] = Counter()
        self.correlator = Correlator()
        self.contracts = ContractDirectory()
        self.book = TradeBook(self.contracts, self.counters)
        self.market = MarketSubscriptions(self.counters)
        self.bars = LiveBars(self.counters)
        self.snapshot = SnapshotCollector(self.book, self.counters)
        self.base_time: BaseTime | None = None
        self.session_token = ""
        self.ready = False  # logged on with the trade snapshot applied
        self._request_timeout_s = request_timeout_s
        self._accounts = tuple(accounts)
        self._ids = itertools.count(1)
        self._cl_ids = itertools.count(1)
        self._cl_prefix = cl_prefix
        self._pings = itertools.count(1)
        self.calls = CallTable(self.correlator)
        self._outbox: list[bytes] = []
        self._trade_sub_id = 0
        self._now_ns = 0  # the time of the frame being processed

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
            timeout = (pending.deadline_ns - now_ns) / _NS + self._request_timeout_s
            self.calls.fail(pending, RequestTimeoutError(timeout=round(timeout, 3)))

    def next_request_id(self) -> int:
        """A fresh request id (shared by every request kind of this session)."""
        return next(self._ids)

    def cancel(self, call: Call[Any]) -> None:
        """Stop waiting for ``call``: a late answer becomes a dead letter."""
        self.calls.cancel(call)

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
        self._outbox.append(encode_client(pong_message(ping, pong_utc_time=now)))
        self.counters["pongs_sent"] += 1

    # -- order statuses and the contracts they need -----------------------------------

    def _order_status(self, status: order_2.OrderStatus, live: bool, publish: bool) -> int:
        contracts = self.contracts
        contract_id = contracts.contract_to_learn(status)
        if contract_id is None:
            return self.book.on_order_status(status, live=live, publish=publish)
        if contracts.hold(status, contract_id, live, publish):
            self._learn(contract_id)
        return 0

    def _learn(self, contract_id: int) -> None:
        """Ask for the metadata of a contract a status names; deliver what waits on it."""
        self.counters["contracts_learned_by_id"] += 1
        _call, frame = self.calls.start(
            info.contract_metadata_message(next(self._ids), contract_id),
            lambda answers: self._learned(contract_id, answers),
            deadline_ns=self._now_ns + int(self._request_timeout_s * _NS),
            on_error=lambda exc: self._drop_held(contract_id, str(exc)),
        )
        self._outbox.append(frame)

    def _learned(self, contract_id: int, answers: list[Answer]) -> None:
        self.contracts.book.add_metadata(info.metadata_of(contract_id, answers))
        for status, live, publish in self.contracts.release(contract_id):
            try:
                self._order_status(status, live, publish)
            except (ProtocolError, PriceError, ValueError) as exc:
                self.counters["bad_items"] += 1
                log.warning("cqg: dropped an order status: %s", exc)

    def _drop_held(self, contract_id: int, reason: str) -> None:
        """The contract cannot be learned (line lost, refused): the next snapshot settles
        the orders whose statuses waited for it."""
        held = self.contracts.release(contract_id)
        self.counters["statuses_dropped_unresolved"] += len(held)
        log.warning(
            "cqg: %d order statuses of contract %d dropped (%s)", len(held), contract_id, reason
        )

    def _apply_snapshot(self, now_ns: int) -> None:
        self.snapshot.apply(self._order_status, now_ns)
        self.ready = True

    # -- the logon sequence -----------------------------------------------------------

    def _set_base_time(self, base: BaseTime) -> None:
        self.base_time = base
        self.contracts.mapper.base_time = base

    def logon(
        self,
        *,
        user_name: str,
        password: str,
        client_app_id: str,
        client_version: str,
        deadline_ns: int,
    ) -> tuple[Call[bool], bytes]:
        """Log on afresh; the call's result is False (nothing restored)."""

        def interpret(answers: list[Answer]) -> bool:
            logon = answers[-1].item
            assert isinstance(logon, user_session_2.LogonResult)
            self._set_base_time(check_logon_result(logon))
            self.session_token = logon.session_token
            return False

        msg = logon_message(
            user_name=user_name,
            password=password,
            client_app_id=client_app_id,
            client_version=client_version,
        )
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def restore(self, *, client_app_id: str, deadline_ns: int) -> tuple[Call[bool], bytes]:
        """Restore the session with its token; refused (AuthError) forgets the token."""

        def interpret(answers: list[Answer]) -> bool:
            result = answers[-1].item
            assert isinstance(result, user_session_2.RestoreOrJoinSessionResult)
            try:
                base = check_restore_result(result)
            except AuthError:
                self.session_token = ""
                raise
            self._set_base_time(base)
            self.counters["restores"] += 1
            return True

        msg = restore_message(session_token=self.session_token, client_app_id=client_app_id)
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def logoff(self, text: str, *, deadline_ns: int) -> tuple[Call[None], bytes]:
        return self.calls.start(
            logoff_message(text), lambda _answers: None, deadline_ns=deadline_ns
        )

    def forget_logon(self) -> list[str]:
        """A fresh logon voids contract ids: the symbols to resolve again."""
        for contract_id in self.contracts.held_contracts():
            self._drop_held(contract_id, "fresh logon")
        return self.contracts.forget_logon()

    def resolve(self, symbol: str, *, deadline_ns: int) -> tuple[Call[Instrument], bytes]:
        def interpret(answers: list[Answer]) -> Instrument:
            return self.contracts.remember(symbol, info.resolution_of(symbol, answers))[0]

        msg = info.resolution_message(next(self._ids), symbol)
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def subscribe_market(
        self, contract_id: int, level: int, *, deadline_ns: int
    ) -> tuple[Call[None], bytes]:
        msg = info.market_data_message(contract_id, level, next(self._ids))
        return self.calls.start(
            msg,
            lambda answers: info.subscription_status_of(contract_id, answers),
            deadline_ns=deadline_ns,
        )

    def subscribe_trades(self, *, first: bool, deadline_ns: int) -> tuple[Call[None], bytes]:
        """Renew the trade subscription; its snapshot is diffed against the book."""
        previous = self._trade_sub_id
        self._trade_sub_id = sub_id = next(self._ids)
        sub = trade_routing_2.TradeSubscription(
            id=sub_id, subscribe=True, subscription_scopes=list(TRADE_SCOPES)
        )
        if self._accounts:
            sub.publication_type = _TS.PUBLICATION_TYPE_ACCOUNTS
            sub.account_ids.extend(int(a) for a in self._accounts)
        msg = ClientMsg(trade_subscriptions=[sub])
        if previous and not first:
            msg.trade_subscriptions.add(id=previous, subscribe=False)
        self.snapshot.expect(sub_id, TRADE_SCOPES, first=first)

        def interpret(answers: list[Answer]) -> None:
            for answer in answers:
                if answer.kind is ItemKind.TRADE_SUBSCRIPTION_STATUS:
                    code = getattr(answer.item, "status_code", 0)
                    if code >= info.FAILURE:
                        raise ProtocolError(f"trade subscription refused (status {code})")
            if self.snapshot.collecting:  # the completions came with the answers
                self._apply_snapshot(self._now_ns)

        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def ping(self, now_ns: int, *, deadline_ns: int) -> bytes | None:
        """A heartbeat ping (None before the first logon: no base time yet)."""
        base = self.base_time
        if base is None:
            return None
        msg = ping_message(ping_utc_time=base.to_offset_ms(now_ns), token=f"hb{next(self._pings)}")
        self.correlator.track(msg, deadline_ns=deadline_ns)
        self.counters["pings_sent"] += 1
        return encode_client(msg)

    # -- orders ------------------------------------------------------------------------

    def next_cl_order_id(self) -> str:
        return f"{self._cl_prefix}{next(self._cl_ids)}"

    def order(
        self, request: OrderRequest, target: OrderTarget, *, now_ns: int, deadline_ns: int
    ) -> tuple[int, bytes]:
        """The frame of one order request (with its request id), tracked for its answer.
        The shell calls :meth:`TradeBook.unsent` if it cannot write it."""
        request_id = next(self._ids)
        pb = build_order_request(
            request, request_id=request_id, target=target, now_ns=now_ns, base_time=self.base_time
        )
        msg = ClientMsg(order_requests=[pb])
        self.correlator.track(msg, deadline_ns=deadline_ns)
        self.book.sent(request_id, request)
        return request_id, encode_client(msg)

    # -- information ---------------------------------------------------------------------

    def accounts(self, *, deadline_ns: int) -> tuple[Call[list[Account]], bytes]:
        msg = info.accounts_message(next(self._ids))
        return self.calls.start(msg, info.accounts_of, deadline_ns=deadline_ns)

    def order_status(
        self, chain: Chain, account_id: str, *, deadline_ns: int
    ) -> tuple[Call[ExecutionReport | None], bytes]:
        """The server's word on ``chain``; our last report if it has none."""

        def interpret(answers: list[Answer]) -> ExecutionReport | None:
            status = info.order_status_of(answers)
            if status is None:
                return chain.last and msgspec.structs.replace(chain.last, kind=ReportKind.STATUS)
            last = self.contracts.mapper.reports(status)[-1]
            if chain.first_cl:
                last = msgspec.structs.replace(last, chain_id=chain.first_cl)
            return msgspec.structs.replace(last, kind=ReportKind.STATUS, fill=None)

        msg = info.order_status_message(next(self._ids), chain.chain_order_id, int(account_id))
        return self.calls.start(msg, interpret, deadline_ns=deadline_ns)

    def historical_orders(
        self, account_id: str, start: datetime, end: datetime, *, deadline_ns: int
    ) -> tuple[Call[list[order_2.OrderStatus]], bytes]:
        base = self.base_time
        if base is None:
            raise ConnectionLostError("not logged on")
        msg = info.historical_orders_message(next(self._ids), base, int(account_id), start, end)
        return self.calls.start(msg, info.historical_statuses_of, deadline_ns=deadline_ns)

    def contract_metadata(self, contract_id: int, *, deadline_ns: int) -> tuple[Call[None], bytes]:
        """Learn a contract by id (an order placed elsewhere) into the directory."""

        def interpret(answers: list[Answer]) -> None:
            self.contracts.book.add_metadata(info.metadata_of(contract_id, answers))

        return self.calls.start(
            info.contract_metadata_message(next(self._ids), contract_id),
            interpret,
            deadline_ns=deadline_ns,
        )

    def status_report(self, status: order_2.OrderStatus) -> ExecutionReport:
        """The current report of a status outside the trade book (historical orders)."""
        last = self.contracts.mapper.reports(status)[-1]
        return msgspec.structs.replace(last, kind=ReportKind.STATUS, fill=None)

    def known_good_thru(self, day: date) -> int:
        if self.base_time is None:
            raise ConnectionLostError("not logged on")
        return self.base_time.from_date(day)

    def stats(self) -> dict[str, int]:
        out = dict(self.counters)
        out["market_events"] = self.market.events
        for key, value in self.correlator.counts.items():
            out[f"dead_letters_{key}"] = value
        return out
