"""The declared correlation table: which ``ServerMsg`` item answers which ``ClientMsg`` request.

Data only (plus the per-field plan the router reads): the kinds of request and item, the
request → answers table, how each item kind is routed and the order in which the fields of
one envelope are processed. :mod:`ec_cqg.protocol.correlation` acts on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import msgspec
from google.protobuf.descriptor import FieldDescriptor

from ec_cqg.protocol.pb import ServerMsg, shared_1

__all__ = [
    "CORRELATION_TABLE",
    "FEED_ORDER",
    "ITEM_ROUTING",
    "AnswerRule",
    "ItemKind",
    "KeyKind",
    "RequestKind",
    "RequestRule",
    "Routing",
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
#: Time bar report codes that end a subscription's updates: DROPPED, DISCONNECTED.
_BAR_ENDED: Final = frozenset({2, 4})


_SINGLETON: Final[Mapping[ItemKind, RequestKind]] = MappingProxyType(
    {
        ItemKind.LOGON_RESULT: RequestKind.LOGON,
        ItemKind.RESTORE_RESULT: RequestKind.RESTORE,
        ItemKind.LOGGED_OFF: RequestKind.LOGOFF,
    }
)


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
