"""Core order requests → CQG ``order_2.OrderRequest``.

The session resolves what the core does not know (the CQG numeric account id, the
contract id and its :class:`~ec_cqg.protocol.prices.PriceScale`, the server ``order_id``
of the chain) and passes it in; these functions only translate. Anything that cannot be
expressed on the wire raises :class:`~ec_core.errors.OrderDeniedError` with every
:class:`~ec_core.errors.Violation` at once, before a byte is sent.

Times: ``when_utc_timestamp`` is always set (absolute UTC). ``legacy=True`` also fills
the deprecated twins some older servers still read (``when_utc_time`` as a base-time
offset, ``uint32_qty``, ``is_manual``); it needs the session's :class:`BaseTime`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypedDict

import msgspec
from ec_core.errors import OrderDeniedError, PriceError, Violation
from ec_core.model import (
    CancelAll,
    CancelOrder,
    GoFlat,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
)

from ec_cqg.protocol.mapping.codes import (
    DURATION_TO_CQG,
    ORDER_TYPE_TO_CQG,
    SIDE_TO_CQG,
    exec_instruction_codes,
)
from ec_cqg.protocol.pb import order_2
from ec_cqg.protocol.prices import PriceScale, qty_to_cqg
from ec_cqg.protocol.timestamps import BaseTime, ns_to_timestamp

__all__ = [
    "MAX_CL_ORDER_ID_BYTES",
    "OrderTarget",
    "build_order_request",
    "cancel_all_request",
    "cancel_order_request",
    "go_flat_request",
    "liquidate_all_request",
    "modify_order_request",
    "new_order_request",
]

#: CQG limit on ``cl_order_id`` (UTF-8 bytes).
MAX_CL_ORDER_ID_BYTES = 64
_UINT32_MAX = 2**32 - 1
_CODE = "CQG_REQUEST"


class OrderTarget(msgspec.Struct, frozen=True, kw_only=True):
    """What the session resolved for one request: CQG ids and the contract's price scale."""

    account_id: int  # CQG sint32 account id
    contract_id: int | None = None  # None: account-wide (cancel all, liquidate all, go flat)
    prices: PriceScale | None = None  # needed when the request carries a price
    order_id: str = ""  # latest server order_id of the chain (modify, cancel)


def _violation(field: str, rule: str, value: object = None, limit: object = None) -> Violation:
    return Violation(code=_CODE, field=field, rule=rule, value=value, limit=limit)


def _check_cl_order_id(value: str, field: str, problems: list[Violation]) -> None:
    size = len(value.encode("utf-8"))
    if not 0 < size <= MAX_CL_ORDER_ID_BYTES:
        problems.append(
            _violation(field, "must be 1..64 UTF-8 bytes", value=value, limit=MAX_CL_ORDER_ID_BYTES)
        )


def _check_qty(qty: int, problems: list[Violation]) -> None:
    if not 0 < qty <= _UINT32_MAX:
        problems.append(_violation("qty", "must be a positive whole number", value=qty))


def _scaled(
    price: Decimal, field: str, target: OrderTarget, problems: list[Violation]
) -> int | None:
    if target.prices is None:
        problems.append(_violation(field, "needs the contract's price scale", value=price))
        return None
    try:
        target.prices.price_to_ticks(price)  # on the tick grid …
        return target.prices.to_scaled(price)  # … and expressible on the wire
    except PriceError as exc:
        problems.append(_violation(field, str(exc), value=price, limit=target.prices.tick_size))
        return None


def _prices_for(
    order_type: OrderType | None,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    target: OrderTarget,
    problems: list[Violation],
) -> tuple[int | None, int | None]:
    if order_type is not None:
        if order_type.needs_limit_price and limit_price is None:
            problems.append(_violation("limit_price", f"required for {order_type}"))
        if not order_type.needs_limit_price and limit_price is not None:
            problems.append(_violation("limit_price", f"not allowed for {order_type}", limit_price))
        if order_type.needs_stop_price and stop_price is None:
            problems.append(_violation("stop_price", f"required for {order_type}"))
        if not order_type.needs_stop_price and stop_price is not None:
            problems.append(_violation("stop_price", f"not allowed for {order_type}", stop_price))
    limit = None if limit_price is None else _scaled(limit_price, "limit_price", target, problems)
    stop = None if stop_price is None else _scaled(stop_price, "stop_price", target, problems)
    return limit, stop


def _stamp(
    msg: order_2.Order | order_2.ModifyOrder | order_2.CancelOrder,
    *,
    now_ns: int,
    legacy: bool,
    base_time: BaseTime | None,
    problems: list[Violation],
) -> None:
    ns_to_timestamp(now_ns, msg.when_utc_timestamp)
    if legacy:
        if base_time is None:
            problems.append(_violation("when_utc_time", "legacy fields need the base time"))
        else:
            msg.when_utc_time = base_time.to_offset_ms(now_ns)


def new_order_request(
    req: NewOrder,
    *,
    request_id: int,
    target: OrderTarget,
    now_ns: int,
    base_time: BaseTime | None = None,
    legacy: bool = False,
) -> order_2.OrderRequest:
    """``OrderRequest{new_order{order{…}}}`` for a core :class:`NewOrder`."""
    problems: list[Violation] = []
    _check_cl_order_id(req.cl_order_id, "cl_order_id", problems)
    _check_qty(req.qty, problems)
    if target.contract_id is None:
        problems.append(_violation("contract_id", "a new order needs a resolved contract"))
    limit, stop = _prices_for(req.order_type, req.limit_price, req.stop_price, target, problems)
    out = order_2.OrderRequest(request_id=request_id, is_automated=not req.is_manual)
    order = out.new_order.order
    order.account_id = target.account_id
    order.contract_id = target.contract_id or 0
    order.cl_order_id = req.cl_order_id
    order.order_type = ORDER_TYPE_TO_CQG[req.order_type]
    order.duration = DURATION_TO_CQG[req.duration]
    order.side = SIDE_TO_CQG[req.side]
    display = req.display_qty
    order.exec_instructions.extend(
        exec_instruction_codes(req.order_type, req.exec_instructions, iceberg=display is not None)
    )
    if _check_range(req.qty):
        qty_to_cqg(req.qty, order.qty)
    if display is not None:
        if _check_range(display):
            qty_to_cqg(display, order.visible_qty)
        else:
            problems.append(_violation("display_qty", "must be a positive whole number", display))
    _no_field(req, problems)
    if limit is not None:
        order.scaled_limit_price = limit
    if stop is not None:
        order.scaled_stop_price = stop
    _good_thru(req.duration == "GTD", req.good_thru_date, order, base_time, problems)
    _stamp(order, now_ns=now_ns, legacy=legacy, base_time=base_time, problems=problems)
    if legacy and _check_range(req.qty):
        order.uint32_qty = req.qty
        order.is_manual = req.is_manual
    if problems:
        raise OrderDeniedError(problems)
    return out


def _no_field(req: NewOrder, problems: list[Violation]) -> None:
    """Order qualifiers CQG WebAPI 2.230 has no field for: never sent without them."""
    if req.min_qty is not None:
        problems.append(_violation("min_qty", "CQG has no minimum-quantity field", req.min_qty))
    if req.smp_id is not None or req.smp_instruction is not None:
        problems.append(_violation("smp_id", "CQG has no self-match prevention field", req.smp_id))


def _check_range(qty: int) -> bool:
    return 0 < qty <= _UINT32_MAX


def _good_thru(
    is_gtd: bool,
    good_thru_date: date | None,
    msg: order_2.Order | order_2.ModifyOrder,
    base_time: BaseTime | None,
    problems: list[Violation],
) -> None:
    if good_thru_date is None:
        if is_gtd:
            problems.append(_violation("good_thru_date", "required for GTD"))
        return
    if base_time is None:
        problems.append(_violation("good_thru_date", "needs the session base time"))
        return
    msg.good_thru_date = base_time.from_date(good_thru_date)


def _address_chain(
    msg: order_2.ModifyOrder | order_2.CancelOrder,
    req: ModifyOrder | CancelOrder,
    target: OrderTarget,
    verb: str,
    problems: list[Violation],
) -> None:
    """Name the order being changed: modify and cancel address a chain the same way."""
    _check_cl_order_id(req.cl_order_id, "cl_order_id", problems)
    _check_cl_order_id(req.orig_cl_order_id, "orig_cl_order_id", problems)
    if not target.order_id:
        problems.append(_violation("order_id", f"{verb} needs the chain's latest order_id"))
    msg.order_id = target.order_id
    msg.account_id = target.account_id
    msg.orig_cl_order_id = req.orig_cl_order_id
    msg.cl_order_id = req.cl_order_id


def modify_order_request(
    req: ModifyOrder,
    *,
    request_id: int,
    target: OrderTarget,
    now_ns: int,
    base_time: BaseTime | None = None,
    legacy: bool = False,
) -> order_2.OrderRequest:
    """``OrderRequest{modify_order{…}}``; fields left ``None`` are not sent (kept)."""
    problems: list[Violation] = []
    out = order_2.OrderRequest(request_id=request_id)
    modify = out.modify_order
    _address_chain(modify, req, target, "modify", problems)
    if req.qty is not None:
        _check_qty(req.qty, problems)
        if _check_range(req.qty):
            qty_to_cqg(req.qty, modify.qty)
            if legacy:
                modify.uint32_qty = req.qty
    limit, stop = _prices_for(None, req.limit_price, req.stop_price, target, problems)
    if limit is not None:
        modify.scaled_limit_price = limit
    if stop is not None:
        modify.scaled_stop_price = stop
    if req.duration is not None:
        modify.duration = DURATION_TO_CQG[req.duration]
    _good_thru(req.duration == "GTD", req.good_thru_date, modify, base_time, problems)
    _stamp(modify, now_ns=now_ns, legacy=legacy, base_time=base_time, problems=problems)
    if problems:
        raise OrderDeniedError(problems)
    return out


def cancel_order_request(
    req: CancelOrder,
    *,
    request_id: int,
    target: OrderTarget,
    now_ns: int,
    base_time: BaseTime | None = None,
    legacy: bool = False,
) -> order_2.OrderRequest:
    """``OrderRequest{cancel_order{order_id, account_id, orig_cl_order_id, cl_order_id}}``."""
    problems: list[Violation] = []
    out = order_2.OrderRequest(request_id=request_id)
    cancel = out.cancel_order
    _address_chain(cancel, req, target, "cancel", problems)
    _stamp(cancel, now_ns=now_ns, legacy=legacy, base_time=base_time, problems=problems)
    if problems:
        raise OrderDeniedError(problems)
    return out


def cancel_all_request(
    req: CancelAll, *, request_id: int, target: OrderTarget, now_ns: int
) -> order_2.OrderRequest:
    """Cancel every working order of the account (of one contract if the target has one)."""
    out = order_2.OrderRequest(request_id=request_id)
    cancel_all = out.cancel_all_orders
    ns_to_timestamp(now_ns, cancel_all.when_utc_timestamp)
    if req.cl_order_id:
        problems: list[Violation] = []
        _check_cl_order_id(req.cl_order_id, "cl_order_id", problems)
        if problems:
            raise OrderDeniedError(problems)
        cancel_all.cl_order_id = req.cl_order_id
    account_filter = cancel_all.account_order_filters.add(account_id=target.account_id)
    if target.contract_id is not None:
        account_filter.contract_id = target.contract_id
    return out


def liquidate_all_request(
    req: LiquidateAll, *, request_id: int, target: OrderTarget, now_ns: int
) -> order_2.OrderRequest:
    """Liquidate the account's positions (of one contract if the target has one)."""
    del req  # everything it says is in the target; kept for a uniform signature
    out = order_2.OrderRequest(request_id=request_id)
    liquidate = out.liquidate_all
    ns_to_timestamp(now_ns, liquidate.when_utc_timestamp)
    position_filter = liquidate.account_position_filters.add(account_id=target.account_id)
    if target.contract_id is not None:
        position_filter.contract_id = target.contract_id
    return out


def go_flat_request(
    req: GoFlat, *, request_id: int, target: OrderTarget, now_ns: int
) -> order_2.OrderRequest:
    """Cancel everything and flatten every position of the account."""
    del req
    out = order_2.OrderRequest(request_id=request_id)
    ns_to_timestamp(now_ns, out.go_flat.when_utc_timestamp)
    out.go_flat.account_ids.append(target.account_id)
    return out


class _ChainArgs(TypedDict):
    """What new, modify and cancel take besides the request, passed on as one."""

    request_id: int
    target: OrderTarget
    now_ns: int
    base_time: BaseTime | None
    legacy: bool


def build_order_request(
    req: OrderRequest,
    *,
    request_id: int,
    target: OrderTarget,
    now_ns: int,
    base_time: BaseTime | None = None,
    legacy: bool = False,
) -> order_2.OrderRequest:
    """Dispatch on the core request type."""
    chain_args = _ChainArgs(
        request_id=request_id, target=target, now_ns=now_ns, base_time=base_time, legacy=legacy
    )
    if isinstance(req, NewOrder):
        return new_order_request(req, **chain_args)
    if isinstance(req, ModifyOrder):
        return modify_order_request(req, **chain_args)
    if isinstance(req, CancelOrder):
        return cancel_order_request(req, **chain_args)
    if isinstance(req, CancelAll):
        return cancel_all_request(req, request_id=request_id, target=target, now_ns=now_ns)
    if isinstance(req, LiquidateAll):
        return liquidate_all_request(req, request_id=request_id, target=target, now_ns=now_ns)
    return go_flat_request(req, request_id=request_id, target=target, now_ns=now_ns)
