"""Which pending requests an outgoing ``ClientMsg`` opens, and how their keys are read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from google.protobuf.message import Message

from ec_cqg.protocol.correlation_events import PendingRequest, _State
from ec_cqg.protocol.correlation_table import RequestKind
from ec_cqg.protocol.pb import ClientMsg, historical_2


def _int(item: Message, field: str) -> int:
    value: int = getattr(item, field)
    return value


def _ping_key(ping_or_pong: Message) -> str:
    token: str = getattr(ping_or_pong, "token")  # noqa: B009
    when: int = getattr(ping_or_pong, "ping_utc_time")  # noqa: B009
    return f"{token}|{when}"


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
                s = state(RequestKind.TIME_BAR, bars.request_id, bars, request_id=bars.request_id)
                s.subscribe = bars.request_type == _BAR_SUBSCRIBE
                yield s
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


_BAR_SUBSCRIBE: Final = historical_2.TimeBarRequest.REQUEST_TYPE_SUBSCRIBE

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
