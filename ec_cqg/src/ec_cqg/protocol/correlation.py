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
  Dead letters are counted by reason and the last ones kept in a bounded buffer (the bookkeeping is
  :mod:`ec_core.correlation`, shared by every vendor).

Racing answers: the first item that completes a request wins; later ones for the same
request are not answers (an ``OrderRequestReject`` after a status that already rejected,
or the reverse). Order statuses always stream as well, since the trade monitor needs them
whoever placed the order. Items are processed in :data:`FEED_ORDER`, which puts snapshot
completions last, as the protocol asks ("first process every status in the same
ServerMsg"). Nothing here reads a clock: deadlines are absolute ns given by the caller,
and :meth:`Correlator.expire` returns the requests whose deadline has passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, final

from ec_core.correlation import DeadLetterBox, PendingTable
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from ec_cqg.protocol.correlation_events import (
    Answer,
    DeadLetter,
    DeadReason,
    DuplicateRequestError,
    Event,
    PendingRequest,
    Update,
    _State,
)
from ec_cqg.protocol.correlation_requests import _int, _ping_key, _requests_of
from ec_cqg.protocol.correlation_table import (
    _BAR_ENDED,
    _FAILURE,
    _IN_FLIGHT,
    _INFO_DROPPED,
    _PLAN_BY_FIELD,
    _SINGLETON,
    CORRELATION_TABLE,
    FEED_ORDER,
    ITEM_ROUTING,
    AnswerRule,
    ItemKind,
    KeyKind,
    RequestKind,
    RequestRule,
    Routing,
    _rank,
)
from ec_cqg.protocol.pb import ClientMsg, ServerMsg

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


@final
class Correlator:
    """Matches decoded ``ServerMsg`` items to pending requests; see the module docstring."""

    def __init__(self, *, dead_letter_capacity: int = 256, late_memory: int = 1024) -> None:
        self._pending: PendingTable[tuple[RequestKind, int | str], _State] = PendingTable(
            late_memory=late_memory
        )
        self._by_cl_order_id: dict[str, _State] = {}
        self._info_subscriptions: set[int] = set()
        self._bar_subscriptions: set[int] = set()  # time bar request ids that stream updates
        self._dead: DeadLetterBox[DeadLetter] = DeadLetterBox(capacity=dead_letter_capacity)

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
        self._pending.add((pending.kind, pending.key), state, deadline_ns=pending.deadline_ns)
        if pending.kind is RequestKind.ORDER and pending.cl_order_id:
            self._by_cl_order_id[pending.cl_order_id] = state

    def _finish(self, state: _State) -> None:
        pending = state.pending
        self._pending.finish((pending.kind, pending.key))
        self._forget_cl_order_id(state)

    def _forget_cl_order_id(self, state: _State) -> None:
        if state.pending.cl_order_id:
            self._by_cl_order_id.pop(state.pending.cl_order_id, None)

    # time -----------------------------------------------------------------------------

    def expire(self, now_ns: int) -> list[PendingRequest]:
        """Remove and return the requests whose deadline is at or before ``now_ns``."""
        expired = self._pending.expire(now_ns)
        for state in expired:
            self._forget_cl_order_id(state)
        return [s.pending for s in expired]

    def fail_all(self) -> list[PendingRequest]:
        """Remove and return every pending request (the connection is gone)."""
        states = self._pending.finish_all()
        for state in states:
            self._forget_cl_order_id(state)
        self._info_subscriptions.clear()
        self._bar_subscriptions.clear()
        return [s.pending for s in states]

    def next_deadline(self) -> int | None:
        """The earliest deadline of the pending requests, to sleep until."""
        return self._pending.next_deadline()

    # introspection --------------------------------------------------------------------

    @property
    def pending(self) -> tuple[PendingRequest, ...]:
        return tuple(s.pending for s in self._pending.states())

    @property
    def dead_letters(self) -> tuple[DeadLetter, ...]:
        """The most recent dead letters, oldest first (bounded)."""
        return self._dead.letters

    @property
    def counts(self) -> Mapping[str, int]:
        """How many dead letters of each reason, and ``total``; never reset."""
        return self._dead.counts

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
        if kind is ItemKind.TIME_BAR_REPORT:
            request_id = _int(item, "request_id")
            if request_id not in self._bar_subscriptions:
                return False
            code = _int(item, "status_code")
            if code in _BAR_ENDED or code >= _FAILURE:
                self._bar_subscriptions.discard(request_id)
            return True
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
        self._dead.add(reason.value, letter)
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
        code = _int(item, code_field)
        final = complete or code >= _FAILURE
        if request is RequestKind.TIME_BAR and final:
            state = self._pending.get((request, request_id))
            if state is not None and state.subscribe and code < _FAILURE:
                self._bar_subscriptions.add(request_id)
            elif code in _BAR_ENDED:
                self._bar_subscriptions.discard(request_id)
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
            return [], self._pending.was_finished((request, key))
        if final:
            self._finish(state)
        return [Answer(request=state.pending, kind=kind, item=item, final=final)], False

    def _match_information(self, item: Message) -> tuple[list[Answer], bool]:
        report_id = _int(item, "id")
        state = self._pending.get((RequestKind.INFORMATION, report_id))
        if state is None:
            return [], self._pending.was_finished((RequestKind.INFORMATION, report_id))
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
            return [], self._pending.was_finished((RequestKind.TRADE_SUBSCRIPTION, sub_id))
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
            return [], self._pending.was_finished((RequestKind.ORDER_BULK, request_id))
        final = not state.accounts  # go flat waits for its statuses
        return self._complete(
            RequestKind.ORDER_BULK, request_id, ItemKind.ORDER_REQUEST_ACK, item, final
        )

    def _match_go_flat(self, item: Message) -> tuple[list[Answer], bool]:
        request_id = _int(item, "request_id")
        state = self._pending.get((RequestKind.ORDER_BULK, request_id))
        if state is None:
            return [], self._pending.was_finished((RequestKind.ORDER_BULK, request_id))
        state.accounts.discard(_int(item, "account_id"))
        return self._complete(
            RequestKind.ORDER_BULK,
            request_id,
            ItemKind.GO_FLAT_STATUS,
            item,
            not state.accounts,
        )
