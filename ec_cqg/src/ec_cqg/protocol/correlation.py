"""Which server message answers which client request: a declared table and a Sans-I/O router.

CQG envelopes are mostly ``repeated`` fields, so one ``ServerMsg`` can answer several
requests and carry unsolicited traffic at the same time. :class:`Correlator` splits each
decoded ``ServerMsg`` into items (one per element of each populated field), and for each
item decides, following :data:`CORRELATION_TABLE` and :data:`ITEM_ROUTING`:

* :class:`Answer` — it answers a pending request (``final`` once the request is done);
* :class:`Update` — a stream item for the caller (order statuses, market data, positions,
  pings, user messages, status changes of live subscriptions);
* :class:`DeadLetter` — it cannot be classified: an answer nobody waits for, a late answer
  to a request that was already answered or expired, a field outside our ``.proto`` subset.
  Dead letters are counted by reason and the last ones kept in a bounded deque.

Racing answers: the first item that completes a request wins; later ones for the same
request are not answers (an ``OrderRequestReject`` after a status that already rejected,
or the reverse). Order statuses always stream as well, since the trade monitor needs them
whoever placed the order. Items are processed in :data:`FEED_ORDER`, which puts snapshot
completions last, as the protocol asks ("first process every status in the same
ServerMsg"). Nothing here reads a clock: deadlines are absolute ns given by the caller,
and :meth:`Correlator.expire` returns the requests whose deadline has passed.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeAlias, final

import msgspec
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from ec_cqg.protocol.pb import ClientMsg, ServerMsg, shared_1
from ec_cqg.protocol.redact import safe_repr

__all__ = [
    "CORRELATION_TABLE",
    "FEED_ORDER",
    "ITEM_ROUTING",
    "Answer",
    "AnswerRule",
    "Correlator",
    "DeadLetter",
    "DeadReason",
    "DuplicateRequestError",
    "Event",
    "ItemKind",
    "KeyKind",
    "PendingRequest",
    "RequestKind",
    "RequestRule",
    "Routing",
    "Update",
]


class RequestKind(StrEnum):
    """Client requests that expect an answer (``ClientMsg`` field in the table)."""

    LOGON = "logon"
    RESTORE = "restore_or_join_session"
    LOGOFF = "logoff"
    PING = "ping"
    INFORMATION = "information_requests"
    MARKET_DATA = "market_data_subscriptions"
    TRADE_SUBSCRIPTION = "trade_subscriptions"
    ORDER = "order_requests"  # new / modify / cancel / suspend / activate
    ORDER_BULK = "order_requests:bulk"  # cancel_all_orders / liquidate_all / go_flat
    TIME_BAR = "time_bar_requests"
    TIME_AND_SALES = "time_and_sales_requests"


class ItemKind(StrEnum):
    """One per ``ServerMsg`` field of our subset; the value is the field name."""

    LOGON_RESULT = "logon_result"
    RESTORE_RESULT = "restore_or_join_session_result"
    LOGGED_OFF = "logged_off"
    PING = "ping"
    PONG = "pong"
    USER_MESSAGE = "user_messages"
    CONCURRENT_CONNECTION_JOIN = "concurrent_connection_join_results"
    INFORMATION_REPORT = "information_reports"
    MARKET_DATA_STATUS = "market_data_subscription_statuses"
    REAL_TIME_MARKET_DATA = "real_time_market_data"
    TRADE_SUBSCRIPTION_STATUS = "trade_subscription_statuses"
    ORDER_REQUEST_REJECT = "order_request_rejects"
    ORDER_STATUS = "order_statuses"
    ORDER_REQUEST_ACK = "order_request_acks"
    GO_FLAT_STATUS = "go_flat_statuses"
    POSITION_STATUS = "position_statuses"
    COLLATERAL_STATUS = "collateral_statuses"
    ACCOUNT_SUMMARY_STATUS = "account_summary_statuses"
    TRADE_SNAPSHOT_COMPLETION = "trade_snapshot_completions"
    TIME_BAR_REPORT = "time_bar_reports"
    TIME_AND_SALES_REPORT = "time_and_sales_reports"


class Routing(StrEnum):
    """What happens to an item of a kind."""

    ANSWER_ONLY = "answer_only"  # matched to a request, else a dead letter
    ANSWER_OR_STREAM = "answer_or_stream"  # matched to a request, else an update
    ALWAYS_STREAM = "always_stream"  # always an update, and an answer too if one waits


class KeyKind(StrEnum):
    """How an answer finds its request."""

    NONE = "none"  # only one such request can be in flight
    PING_TOKEN = "token+ping_utc_time"
    ID = "id"  # InformationReport.id == InformationRequest.id; TradeSubscriptionStatus.id
    CONTRACT_ID = "contract_id"
    REQUEST_ID = "request_id"
    SUBSCRIPTION_ID = "subscription_id"
    CL_ORDER_ID = "transaction_statuses[].cl_order_id"


class AnswerRule(msgspec.Struct, frozen=True, kw_only=True):
    item: ItemKind
    key: KeyKind
    final_when: str  # when this item completes the request (documentation and tests)


class RequestRule(msgspec.Struct, frozen=True, kw_only=True):
    client_field: str
    answers: tuple[AnswerRule, ...]


_I = ItemKind
_K = KeyKind


def _rule(item: ItemKind, key: KeyKind, final_when: str) -> AnswerRule:
    return AnswerRule(item=item, key=key, final_when=final_when)


#: The declared request → answers table (FLOWS.md §5).
CORRELATION_TABLE: Final[Mapping[RequestKind, RequestRule]] = MappingProxyType(
    {
        RequestKind.LOGON: RequestRule(
            client_field="logon", answers=(_rule(_I.LOGON_RESULT, _K.NONE, "always"),)
        ),
        RequestKind.RESTORE: RequestRule(
            client_field="restore_or_join_session",
            answers=(_rule(_I.RESTORE_RESULT, _K.NONE, "always"),),
        ),
        RequestKind.LOGOFF: RequestRule(
            client_field="logoff", answers=(_rule(_I.LOGGED_OFF, _K.NONE, "always"),)
        ),
        RequestKind.PING: RequestRule(
            client_field="ping", answers=(_rule(_I.PONG, _K.PING_TOKEN, "always"),)
        ),
        RequestKind.INFORMATION: RequestRule(
            client_field="information_requests",
            answers=(
                _rule(
                    _I.INFORMATION_REPORT,
                    _K.ID,
                    "is_report_complete (default true) or status_code >= 100",
                ),
            ),
        ),
        RequestKind.MARKET_DATA: RequestRule(
            client_field="market_data_subscriptions",
            answers=(_rule(_I.MARKET_DATA_STATUS, _K.CONTRACT_ID, "always"),),
        ),
        RequestKind.TRADE_SUBSCRIPTION: RequestRule(
            client_field="trade_subscriptions",
            answers=(
                _rule(
                    _I.TRADE_SUBSCRIPTION_STATUS,
                    _K.ID,
                    "status_code >= 100, or unsubscribe, or every scope already complete",
                ),
                _rule(
                    _I.TRADE_SNAPSHOT_COMPLETION,
                    _K.SUBSCRIPTION_ID,
                    "every requested scope is complete",
                ),
            ),
        ),
        RequestKind.ORDER: RequestRule(
            client_field="order_requests",
            answers=(
                _rule(_I.ORDER_REQUEST_REJECT, _K.REQUEST_ID, "always"),
                _rule(
                    _I.ORDER_STATUS,
                    _K.CL_ORDER_ID,
                    "a transaction with our cl_order_id that is not in flight"
                    " (IN_TRANSIT, IN_CANCEL, IN_MODIFY are progress)",
                ),
            ),
        ),
        RequestKind.ORDER_BULK: RequestRule(
            client_field="order_requests",
            answers=(
                _rule(_I.ORDER_REQUEST_REJECT, _K.REQUEST_ID, "always"),
                _rule(_I.ORDER_REQUEST_ACK, _K.REQUEST_ID, "cancel_all / liquidate_all"),
                _rule(_I.GO_FLAT_STATUS, _K.REQUEST_ID, "go_flat: every account reported"),
            ),
        ),
        RequestKind.TIME_BAR: RequestRule(
            client_field="time_bar_requests",
            answers=(
                _rule(
                    _I.TIME_BAR_REPORT,
                    _K.REQUEST_ID,
                    "is_report_complete (default true) or status_code >= 100;"
                    " a subscription's later updates stream",
                ),
            ),
        ),
        RequestKind.TIME_AND_SALES: RequestRule(
            client_field="time_and_sales_requests",
            answers=(
                _rule(
                    _I.TIME_AND_SALES_REPORT,
                    _K.REQUEST_ID,
                    "is_report_complete (default true) or result_code >= 100",
                ),
            ),
        ),
    }
)

#: How each item kind is routed (see :class:`Routing`).
ITEM_ROUTING: Final[Mapping[ItemKind, Routing]] = MappingProxyType(
    {
        _I.LOGON_RESULT: Routing.ANSWER_ONLY,
        _I.RESTORE_RESULT: Routing.ANSWER_ONLY,
        _I.LOGGED_OFF: Routing.ANSWER_OR_STREAM,  # the server may log us off unprompted
        _I.PING: Routing.ALWAYS_STREAM,  # the server's ping: answer with a pong at once
        _I.PONG: Routing.ANSWER_ONLY,
        _I.USER_MESSAGE: Routing.ALWAYS_STREAM,
        _I.CONCURRENT_CONNECTION_JOIN: Routing.ALWAYS_STREAM,
        _I.INFORMATION_REPORT: Routing.ANSWER_OR_STREAM,  # stream only for live subscriptions
        _I.MARKET_DATA_STATUS: Routing.ANSWER_OR_STREAM,
        _I.REAL_TIME_MARKET_DATA: Routing.ALWAYS_STREAM,
        _I.TRADE_SUBSCRIPTION_STATUS: Routing.ANSWER_OR_STREAM,
        _I.ORDER_REQUEST_REJECT: Routing.ANSWER_ONLY,
        _I.ORDER_STATUS: Routing.ALWAYS_STREAM,
        _I.ORDER_REQUEST_ACK: Routing.ANSWER_ONLY,
        _I.GO_FLAT_STATUS: Routing.ANSWER_OR_STREAM,
        _I.POSITION_STATUS: Routing.ALWAYS_STREAM,
        _I.COLLATERAL_STATUS: Routing.ALWAYS_STREAM,
        _I.ACCOUNT_SUMMARY_STATUS: Routing.ALWAYS_STREAM,
        _I.TRADE_SNAPSHOT_COMPLETION: Routing.ALWAYS_STREAM,
        _I.TIME_BAR_REPORT: Routing.ANSWER_OR_STREAM,  # bar updates after the history
        _I.TIME_AND_SALES_REPORT: Routing.ANSWER_ONLY,
    }
)

#: Processing order of the fields of one ``ServerMsg``.
FEED_ORDER: Final[tuple[ItemKind, ...]] = (
    _I.LOGON_RESULT,
    _I.RESTORE_RESULT,
    _I.PING,
    _I.PONG,
    _I.USER_MESSAGE,
    _I.CONCURRENT_CONNECTION_JOIN,
    _I.INFORMATION_REPORT,
    _I.MARKET_DATA_STATUS,
    _I.REAL_TIME_MARKET_DATA,
    _I.TRADE_SUBSCRIPTION_STATUS,
    _I.ORDER_REQUEST_REJECT,
    _I.ORDER_STATUS,
    _I.ORDER_REQUEST_ACK,
    _I.GO_FLAT_STATUS,
    _I.POSITION_STATUS,
    _I.COLLATERAL_STATUS,
    _I.ACCOUNT_SUMMARY_STATUS,
    _I.TRADE_SNAPSHOT_COMPLETION,
    _I.TIME_BAR_REPORT,
    _I.TIME_AND_SALES_REPORT,
    _I.LOGGED_OFF,  # last: the server closes the connection after it
)

_IN_FLIGHT: Final = frozenset(
    {
        shared_1.TransactionStatus.IN_TRANSIT,
        shared_1.TransactionStatus.IN_CANCEL,
        shared_1.TransactionStatus.IN_MODIFY,
    }
)
_FAILURE: Final = 100  # CQG status/result codes >= 100 are failures
_INFO_DROPPED: Final = 2


class DeadReason(StrEnum):
    UNMATCHED = "unmatched"  # an answer-only item no request waits for
    LATE = "late"  # the request was already answered, expired or failed
    UNKNOWN_FIELD = "unknown_field"  # a ServerMsg field outside our .proto subset


class PendingRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One request waiting for its answer. ``key`` is unique per ``kind``."""

    kind: RequestKind
    key: int | str
    deadline_ns: int
    request: Message | None = None  # the client sub-message, for the caller's bookkeeping
    request_id: int | None = None
    cl_order_id: str = ""

    def __repr__(self) -> str:  # a logon's password never shows (see protocol.redact)
        return (
            f"PendingRequest(kind={self.kind!r}, key={self.key!r}, deadline_ns="
            f"{self.deadline_ns}, request={safe_repr(self.request)}, request_id="
            f"{self.request_id!r}, cl_order_id={self.cl_order_id!r})"
        )


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    request: PendingRequest
    kind: ItemKind
    item: Message
    final: bool

    def __repr__(self) -> str:
        return (
            f"Answer(request={self.request!r}, kind={self.kind!r}, item={safe_repr(self.item)},"
            f" final={self.final})"
        )


class Update(msgspec.Struct, frozen=True, kw_only=True):
    kind: ItemKind
    item: Message

    def __repr__(self) -> str:
        return f"Update(kind={self.kind!r}, item={safe_repr(self.item)})"


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    reason: DeadReason
    kind: ItemKind | None
    item: Message | None
    detail: str
    at_ns: int = 0

    def __repr__(self) -> str:
        return (
            f"DeadLetter(reason={self.reason!r}, kind={self.kind!r}, item="
            f"{safe_repr(self.item)}, detail={self.detail!r}, at_ns={self.at_ns})"
        )


Event: TypeAlias = Answer | Update | DeadLetter


class DuplicateRequestError(ValueError):
    """A request with the same kind and key is already pending."""

    def __init__(self, kind: RequestKind, key: int | str) -> None:
        super().__init__(f"a {kind} request with key {key!r} is already pending")
        self.kind = kind
        self.key = key


class _State:
    """Mutable progress of one pending request."""

    __slots__ = ("accounts", "pending", "scopes", "subscribe")

    def __init__(self, pending: PendingRequest) -> None:
        self.pending = pending
        self.scopes: set[int] = set()  # trade subscription: scopes not yet complete
        self.accounts: set[int] = set()  # go flat: accounts not yet reported
        self.subscribe = False


@final
class Correlator:
    """Matches decoded ``ServerMsg`` items to pending requests; see the module docstring."""

    def __init__(self, *, dead_letter_capacity: int = 256, late_memory: int = 1024) -> None:
        self._pending: dict[tuple[RequestKind, int | str], _State] = {}
        self._by_cl_order_id: dict[str, _State] = {}
        self._finished: deque[tuple[RequestKind, int | str]] = deque(maxlen=late_memory)
        self._finished_set: set[tuple[RequestKind, int | str]] = set()
        self._info_subscriptions: set[int] = set()
        self._dead: deque[DeadLetter] = deque(maxlen=dead_letter_capacity)
        self._counts: Counter[str] = Counter()

    # registration ---------------------------------------------------------------------

    def track(self, msg: ClientMsg, *, deadline_ns: int) -> list[PendingRequest]:
        """Register every request of an outgoing envelope; all or none (on a duplicate)."""
        states = list(_requests_of(msg, deadline_ns))
        keys = [(s.pending.kind, s.pending.key) for s in states]
        for key in keys:
            if key in self._pending or keys.count(key) > 1:
                raise DuplicateRequestError(*key)
        for state in states:
            self._add(state)
            pending = state.pending
            if pending.kind is RequestKind.INFORMATION and not state.subscribe:
                info = pending.request
                if info is not None and info.HasField("subscribe"):  # explicit unsubscribe
                    self._info_subscriptions.discard(info.id)  # type: ignore[attr-defined]
        return [s.pending for s in states]

    def register(self, pending: PendingRequest) -> None:
        """Register one request built by hand (no scope or account expectations)."""
        key = (pending.kind, pending.key)
        if key in self._pending:
            raise DuplicateRequestError(*key)
        self._add(_State(pending))

    def cancel(self, kind: RequestKind, key: int | str) -> PendingRequest | None:
        """Stop waiting for a request; later answers to it are dead letters (late)."""
        state = self._pending.get((kind, key))
        if state is None:
            return None
        self._finish(state)
        return state.pending

    def _add(self, state: _State) -> None:
        pending = state.pending
        self._pending[(pending.kind, pending.key)] = state
        self._finished_set.discard((pending.kind, pending.key))
        if pending.kind is RequestKind.ORDER and pending.cl_order_id:
            self._by_cl_order_id[pending.cl_order_id] = state

    def _finish(self, state: _State) -> None:
        pending = state.pending
        key = (pending.kind, pending.key)
        self._pending.pop(key, None)
        if pending.cl_order_id:
            self._by_cl_order_id.pop(pending.cl_order_id, None)
        if len(self._finished) == self._finished.maxlen:
            self._finished_set.discard(self._finished[0])
        self._finished.append(key)
        self._finished_set.add(key)

    # time -----------------------------------------------------------------------------

    def expire(self, now_ns: int) -> list[PendingRequest]:
        """Remove and return the requests whose deadline is at or before ``now_ns``."""
        expired = [s for s in self._pending.values() if s.pending.deadline_ns <= now_ns]
        expired.sort(key=lambda s: s.pending.deadline_ns)
        for state in expired:
            self._finish(state)
        return [s.pending for s in expired]

    def fail_all(self) -> list[PendingRequest]:
        """Remove and return every pending request (the connection is gone)."""
        states = list(self._pending.values())
        for state in states:
            self._finish(state)
        self._info_subscriptions.clear()
        return [s.pending for s in states]

    def next_deadline(self) -> int | None:
        """The earliest deadline of the pending requests, to sleep until."""
        return min((s.pending.deadline_ns for s in self._pending.values()), default=None)

    # introspection --------------------------------------------------------------------

    @property
    def pending(self) -> tuple[PendingRequest, ...]:
        return tuple(s.pending for s in self._pending.values())

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        """The most recent dead letters, oldest first (bounded)."""
        return tuple(self._dead)

    @property
    def counts(self) -> Mapping[str, int]:
        """How many dead letters of each reason, and ``total``; never reset."""
        return MappingProxyType(dict(self._counts))

    # feeding --------------------------------------------------------------------------

    def feed(
        self,
        msg: ServerMsg,
        *,
        now_ns: int = 0,
        fields: Sequence[tuple[FieldDescriptor, Any]] | None = None,
    ) -> list[Event]:
        """Route every item of ``msg``; return the events in processing order.

        Only the populated fields are visited, in :data:`FEED_ORDER`: ``fields`` as
        ``codec.decode_server_fields`` returned them, else ``msg.ListFields()``. A frame
        of stream-only items (market data) goes straight to updates: no request
        matching, no dead-letter bookkeeping.
        """
        events: list[Event] = []
        if fields is None:
            fields = msg.ListFields()
        if len(fields) > 1:
            fields = sorted(fields, key=_rank)
        for field, value in fields:
            plan = _PLAN_BY_FIELD.get(field)
            if plan is None:  # a field of ServerMsg outside the table: a bug in ours
                continue
            kind, pure_stream, repeated = plan
            if pure_stream:
                if repeated:  # a slice is far cheaper than iterating a upb container
                    events.extend([Update(kind=kind, item=item) for item in value[:]])
                else:
                    events.append(Update(kind=kind, item=value))
            elif repeated:
                for item in value[:]:
                    self._route(kind, item, events, now_ns)
            else:
                self._route(kind, value, events, now_ns)
        unknown = UnknownFieldSet(msg)
        if not len(unknown):
            return events
        for index in range(len(unknown)):
            field_number = unknown[index].field_number
            self._dead_letter(
                events,
                DeadReason.UNKNOWN_FIELD,
                None,
                None,
                f"ServerMsg field {field_number} is not in our subset",
                now_ns,
            )
        return events

    def plain_updates(
        self, msg: ServerMsg, fields: Sequence[tuple[FieldDescriptor, Any]]
    ) -> tuple[ItemKind, Sequence[Message]] | None:
        """The kind and items of an envelope that holds one kind of plain update and
        nothing else (a market-data frame); ``None`` otherwise: call :meth:`feed`.

        Such items are never answers and never dead letters, so the caller can take
        them without building events: the hot path of market data. An envelope with
        fields outside our subset goes through :meth:`feed`, which counts them.
        """
        if len(fields) != 1:
            return None
        field, value = fields[0]
        plan = _PLAN_BY_FIELD.get(field)
        if plan is None or not plan[1] or len(UnknownFieldSet(msg)):
            return None
        return plan[0], value[:] if plan[2] else (value,)

    def _route(self, kind: ItemKind, item: Message, events: list[Event], now_ns: int) -> None:
        routing = ITEM_ROUTING[kind]
        if routing is Routing.ALWAYS_STREAM:
            events.append(Update(kind=kind, item=item))
        answers, late = self._match(kind, item)
        events.extend(answers)
        if answers or routing is Routing.ALWAYS_STREAM:
            return
        if routing is Routing.ANSWER_OR_STREAM and self._streams_unmatched(kind, item):
            events.append(Update(kind=kind, item=item))
            return
        reason = DeadReason.LATE if late else DeadReason.UNMATCHED
        self._dead_letter(events, reason, kind, item, f"{kind} answers no pending request", now_ns)

    def _streams_unmatched(self, kind: ItemKind, item: Message) -> bool:
        if kind is not ItemKind.INFORMATION_REPORT:
            return True
        report_id: int = getattr(item, "id")  # noqa: B009
        if report_id not in self._info_subscriptions:
            return False
        status: int = getattr(item, "status_code")  # noqa: B009
        if status == _INFO_DROPPED or status >= _FAILURE:
            self._info_subscriptions.discard(report_id)
        return True

    def _dead_letter(
        self,
        events: list[Event],
        reason: DeadReason,
        kind: ItemKind | None,
        item: Message | None,
        detail: str,
        now_ns: int,
    ) -> None:
        letter = DeadLetter(reason=reason, kind=kind, item=item, detail=detail, at_ns=now_ns)
        self._dead.append(letter)
        self._counts[reason.value] += 1
        self._counts["total"] += 1
        events.append(letter)

    # matching: returns (answers, late) ------------------------------------------------

    def _match(self, kind: ItemKind, item: Message) -> tuple[list[Answer], bool]:
        if kind in _SINGLETON:
            return self._complete(_SINGLETON[kind], 0, kind, item)
        if kind is ItemKind.PONG:
            return self._complete(RequestKind.PING, _ping_key(item), kind, item)
        if kind is ItemKind.INFORMATION_REPORT:
            return self._match_information(item)
        if kind is ItemKind.MARKET_DATA_STATUS:
            return self._complete(RequestKind.MARKET_DATA, _int(item, "contract_id"), kind, item)
        if kind is ItemKind.TRADE_SUBSCRIPTION_STATUS:
            return self._match_trade_status(item)
        if kind is ItemKind.TRADE_SNAPSHOT_COMPLETION:
            return self._match_snapshot_completion(item)
        if kind is ItemKind.ORDER_REQUEST_REJECT:
            request_id = _int(item, "request_id")
            answers, late = self._complete(RequestKind.ORDER, request_id, kind, item)
            if answers:
                return answers, late
            bulk, bulk_late = self._complete(RequestKind.ORDER_BULK, request_id, kind, item)
            return bulk, late or bulk_late
        if kind is ItemKind.ORDER_STATUS:
            return self._match_order_status(item), False
        if kind is ItemKind.ORDER_REQUEST_ACK:
            return self._match_ack(item)
        if kind is ItemKind.GO_FLAT_STATUS:
            return self._match_go_flat(item)
        if kind is ItemKind.TIME_BAR_REPORT:
            return self._match_history(RequestKind.TIME_BAR, "status_code", item)
        if kind is ItemKind.TIME_AND_SALES_REPORT:
            return self._match_history(RequestKind.TIME_AND_SALES, "result_code", item)
        return [], False

    def _match_history(
        self, request: RequestKind, code_field: str, item: Message
    ) -> tuple[list[Answer], bool]:
        """A history report: chunks share the request id until ``is_report_complete``."""
        request_id = _int(item, "request_id")
        complete: bool = getattr(item, "is_report_complete")  # noqa: B009
        final = complete or _int(item, code_field) >= _FAILURE
        kind = (
            ItemKind.TIME_BAR_REPORT
            if request is RequestKind.TIME_BAR
            else ItemKind.TIME_AND_SALES_REPORT
        )
        return self._complete(request, request_id, kind, item, final)

    def _complete(
        self,
        request: RequestKind,
        key: int | str,
        kind: ItemKind,
        item: Message,
        final: bool = True,
    ) -> tuple[list[Answer], bool]:
        state = self._pending.get((request, key))
        if state is None:
            return [], (request, key) in self._finished_set
        if final:
            self._finish(state)
        return [Answer(request=state.pending, kind=kind, item=item, final=final)], False

    def _match_information(self, item: Message) -> tuple[list[Answer], bool]:
        report_id = _int(item, "id")
        state = self._pending.get((RequestKind.INFORMATION, report_id))
        if state is None:
            return [], (RequestKind.INFORMATION, report_id) in self._finished_set
        status = _int(item, "status_code")
        complete: bool = getattr(item, "is_report_complete")  # noqa: B009
        final = complete or status >= _FAILURE
        if final and state.subscribe and status < _FAILURE and status != _INFO_DROPPED:
            self._info_subscriptions.add(report_id)
        return self._complete(
            RequestKind.INFORMATION, report_id, ItemKind.INFORMATION_REPORT, item, final
        )

    def _match_trade_status(self, item: Message) -> tuple[list[Answer], bool]:
        sub_id = _int(item, "id")
        state = self._pending.get((RequestKind.TRADE_SUBSCRIPTION, sub_id))
        if state is None:
            return [], (RequestKind.TRADE_SUBSCRIPTION, sub_id) in self._finished_set
        status = _int(item, "status_code")
        final = status >= _FAILURE or not state.subscribe or not state.scopes
        return self._complete(
            RequestKind.TRADE_SUBSCRIPTION, sub_id, ItemKind.TRADE_SUBSCRIPTION_STATUS, item, final
        )

    def _match_snapshot_completion(self, item: Message) -> tuple[list[Answer], bool]:
        sub_id = _int(item, "subscription_id")
        state = self._pending.get((RequestKind.TRADE_SUBSCRIPTION, sub_id))
        if state is None:
            return [], False  # completions always stream; never a dead letter
        scopes: list[int] = list(getattr(item, "subscription_scopes"))  # noqa: B009
        state.scopes.difference_update(scopes)
        return self._complete(
            RequestKind.TRADE_SUBSCRIPTION,
            sub_id,
            ItemKind.TRADE_SNAPSHOT_COMPLETION,
            item,
            not state.scopes,
        )

    def _match_order_status(self, item: Message) -> list[Answer]:
        per_request: dict[int | str, tuple[_State, bool]] = {}
        for trans in getattr(item, "transaction_statuses")[:]:  # noqa: B009 (a slice: cheap)
            state = self._by_cl_order_id.get(trans.cl_order_id)
            if state is None:
                continue
            final = trans.status not in _IN_FLIGHT
            _, seen_final = per_request.get(state.pending.key, (state, False))
            per_request[state.pending.key] = (state, seen_final or final)
        answers = []
        for state, final in per_request.values():
            if final:
                self._finish(state)
            answers.append(
                Answer(request=state.pending, kind=ItemKind.ORDER_STATUS, item=item, final=final)
            )
        return answers

    def _match_ack(self, item: Message) -> tuple[list[Answer], bool]:
        request_id = _int(item, "request_id")
        state = self._pending.get((RequestKind.ORDER_BULK, request_id))
        if state is None:
            return [], (RequestKind.ORDER_BULK, request_id) in self._finished_set
        final = not state.accounts  # go flat waits for its statuses
        return self._complete(
            RequestKind.ORDER_BULK, request_id, ItemKind.ORDER_REQUEST_ACK, item, final
        )

    def _match_go_flat(self, item: Message) -> tuple[list[Answer], bool]:
        request_id = _int(item, "request_id")
        state = self._pending.get((RequestKind.ORDER_BULK, request_id))
        if state is None:
            return [], (RequestKind.ORDER_BULK, request_id) in self._finished_set
        state.accounts.discard(_int(item, "account_id"))
        return self._complete(
            RequestKind.ORDER_BULK,
            request_id,
            ItemKind.GO_FLAT_STATUS,
            item,
            not state.accounts,
        )


_SINGLETON: Final[Mapping[ItemKind, RequestKind]] = MappingProxyType(
    {
        ItemKind.LOGON_RESULT: RequestKind.LOGON,
        ItemKind.RESTORE_RESULT: RequestKind.RESTORE,
        ItemKind.LOGGED_OFF: RequestKind.LOGOFF,
    }
)


def _int(item: Message, field: str) -> int:
    value: int = getattr(item, field)
    return value


def _ping_key(ping_or_pong: Message) -> str:
    token: str = getattr(ping_or_pong, "token")  # noqa: B009
    when: int = getattr(ping_or_pong, "ping_utc_time")  # noqa: B009
    return f"{token}|{when}"


#: Stream-only kinds that may still answer a request (a snapshot completion, an order
#: status); every other ``ALWAYS_STREAM`` kind is a plain update with nothing to match.
_MATCHED_STREAMS: Final = frozenset({ItemKind.ORDER_STATUS, ItemKind.TRADE_SNAPSHOT_COMPLETION})

#: Per ``ServerMsg`` field name: its kind, routing and whether it is repeated.
_PLAN: Final[Mapping[str, tuple[ItemKind, Routing, bool]]] = MappingProxyType(
    {
        kind.value: (
            kind,
            ITEM_ROUTING[kind],
            ServerMsg.DESCRIPTOR.fields_by_name[kind.value].is_repeated,
        )
        for kind in FEED_ORDER
    }
)
#: Per ``ServerMsg`` field descriptor: its kind, whether it is a plain update (always
#: streamed, never an answer), and whether it is repeated. Plain dict: the hot path.
_PLAN_BY_FIELD: Final[dict[FieldDescriptor, tuple[ItemKind, bool, bool]]] = {
    ServerMsg.DESCRIPTOR.fields_by_name[name]: (
        kind,
        routing is Routing.ALWAYS_STREAM and kind not in _MATCHED_STREAMS,
        repeated,
    )
    for name, (kind, routing, repeated) in _PLAN.items()
}
_ORDER: Final[Mapping[str, int]] = MappingProxyType(
    {kind.value: rank for rank, kind in enumerate(FEED_ORDER)}
)


def _rank(entry: tuple[FieldDescriptor, object]) -> int:
    return _ORDER.get(entry[0].name, len(_ORDER))


def _requests_of(msg: ClientMsg, deadline_ns: int) -> Iterator[_State]:
    def state(kind: RequestKind, key: int | str, request: Message, **extra: object) -> _State:
        pending = PendingRequest(
            kind=kind,
            key=key,
            deadline_ns=deadline_ns,
            request=request,
            request_id=extra.get("request_id"),  # type: ignore[arg-type]
            cl_order_id=str(extra.get("cl_order_id", "")),
        )
        return _State(pending)

    for field, value in msg.ListFields():  # only what is set: a ClientMsg has one or two
        name = field.name
        if name == "order_requests":
            for req in value[:]:
                which = _order_action(req)
                if which in ("cancel_all_orders", "liquidate_all"):
                    yield state(
                        RequestKind.ORDER_BULK, req.request_id, req, request_id=req.request_id
                    )
                elif which == "go_flat":
                    s = state(
                        RequestKind.ORDER_BULK, req.request_id, req, request_id=req.request_id
                    )
                    s.accounts = set(req.go_flat.account_ids)
                    yield s
                else:
                    yield state(
                        RequestKind.ORDER,
                        req.request_id,
                        req,
                        request_id=req.request_id,
                        cl_order_id=_action_cl_order_id(req, which),
                    )
        elif name == "logon":
            yield state(RequestKind.LOGON, 0, value)
        elif name == "restore_or_join_session":
            yield state(RequestKind.RESTORE, 0, value)
        elif name == "logoff":
            yield state(RequestKind.LOGOFF, 0, value)
        elif name == "ping":
            yield state(RequestKind.PING, _ping_key(value), value)
        elif name == "information_requests":
            for info in value[:]:
                s = state(RequestKind.INFORMATION, info.id, info)
                s.subscribe = info.subscribe
                yield s
        elif name == "market_data_subscriptions":
            for md in value[:]:
                yield state(RequestKind.MARKET_DATA, md.contract_id, md, request_id=md.request_id)
        elif name == "time_bar_requests":
            for bars in value[:]:
                yield state(RequestKind.TIME_BAR, bars.request_id, bars, request_id=bars.request_id)
        elif name == "time_and_sales_requests":
            for tas in value[:]:
                yield state(
                    RequestKind.TIME_AND_SALES, tas.request_id, tas, request_id=tas.request_id
                )
        elif name == "trade_subscriptions":
            for sub in value[:]:
                s = state(RequestKind.TRADE_SUBSCRIPTION, sub.id, sub)
                s.subscribe = sub.subscribe
                if sub.subscribe:
                    s.scopes = set(sub.subscription_scopes)
                yield s


#: ``OrderRequest`` actions are plain optional fields, not a oneof: the first set wins,
#: account-wide ones first.
_ACTIONS: Final = (
    "cancel_all_orders",
    "liquidate_all",
    "go_flat",
    "new_order",
    "modify_order",
    "cancel_order",
    "suspend_order",
    "activate_order",
)


def _order_action(req: Message) -> str | None:
    for name in _ACTIONS:
        if req.HasField(name):
            return name
    return None


def _action_cl_order_id(req: Message, action: str | None) -> str:
    if action is None or action in ("cancel_all_orders", "liquidate_all", "go_flat"):
        return ""
    body = getattr(req, action)
    if action == "new_order":
        value: str = body.order.cl_order_id
        return value
    cl: str = body.cl_order_id
    return cl
