"""CQG ``OrderRequest`` → core order requests, checked before anything reaches the engine.

What the server cannot even read (an unknown account or contract, a missing side, a code
outside the protocol, two actions in one request, an action the mock does not support)
raises :class:`RequestRefused`; the server answers it with ``OrderRequestReject``, the
protocol's way to refuse a request that no order status can describe. Everything else goes
to the engine, which rejects bad orders itself (``REJECTED`` statuses with the engine's
code). Deprecated fields that older clients still send are read: ``uint32_qty``,
``when_utc_time`` (any time field or none is accepted), ``is_manual``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ec_core.model import (
    CancelAll,
    CancelOrder,
    Duration,
    ExecInstruction,
    ExecutionReport,
    GoFlat,
    Instrument,
    LiquidateAll,
    ModifyOrder,
    NewOrder,
    OrderRequest,
    OrderType,
    Side,
)

from ec_cqg.protocol.mapping.codes import EXEC_INSTRUCTION_FROM_CQG, MTL_INSTRUCTION
from ec_cqg.protocol.pb import order_2
from ec_cqg.protocol.prices import qty_from_cqg
from ec_cqg.protocol.timestamps import BaseTime
from ec_cqg.server.codes import REQUEST_REJECT
from ec_cqg.server.contracts import price_scale_of
from ec_cqg.server.orders import OrderChain, OrderChains

__all__ = [
    "MAX_QTY",
    "MAX_TIME_OFFSET_MS",
    "Action",
    "RequestContext",
    "RequestRefused",
    "translate",
]

_O = order_2.Order
_SIDES: dict[int, Side] = {_O.SIDE_BUY: Side.BUY, _O.SIDE_SELL: Side.SELL}
_TYPES: dict[int, OrderType] = {
    _O.ORDER_TYPE_MKT: OrderType.MKT,
    _O.ORDER_TYPE_LMT: OrderType.LMT,
    _O.ORDER_TYPE_STP: OrderType.STP,
    _O.ORDER_TYPE_STL: OrderType.STL,
}
_DURATIONS: dict[int, Duration] = {
    _O.DURATION_DAY: Duration.DAY,
    _O.DURATION_GTC: Duration.GTC,
    _O.DURATION_GTD: Duration.GTD,
    _O.DURATION_FAK: Duration.IOC,
    _O.DURATION_FOK: Duration.FOK,
}
_ACTIONS = (
    "new_order",
    "modify_order",
    "cancel_order",
    "activate_order",
    "suspend_order",
    "cancel_all_orders",
    "liquidate_all",
    "go_flat",
)
_MAX_CL_BYTES = 64
# the edge's ranges: anything outside is refused before a chain is opened or the engine is
# asked, so no value can raise further in (rendering a status, date arithmetic)
MAX_QTY = 1_000_000_000
#: a time or date offset (ms from base_time) a request may carry: within a century
MAX_TIME_OFFSET_MS = 100 * 366 * 86_400_000


class RequestRefused(Exception):
    """The request cannot be carried out at all; becomes ``OrderRequestReject``."""

    def __init__(self, text: str, *, code: int = REQUEST_REJECT) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True)
class Action:
    """What to do for one ``OrderRequest``: engine requests, in order, and how to report it.

    ``kind`` is the action field name. ``chain``/``pending`` are set for new, modify and
    cancel: the chain the request is about and the state it enters (IN_TRANSIT…) before
    the engine answers. ``accounts`` lists the venue accounts of a go-flat.
    """

    kind: str
    requests: tuple[OrderRequest, ...]
    chain: OrderChain | None = None
    last: ExecutionReport | None = None
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What translation needs from the session and the server."""

    base: BaseTime
    user: str
    accounts: tuple[str, ...]  # venue accounts this session may trade
    account_name: Callable[[int], str | None]
    symbol_of: Callable[[int], str | None]
    instrument: Callable[[str], Instrument | None]
    chains: OrderChains
    order_known: Callable[[str, str], bool]  # (venue account, cl id) already used?
    open_orders: Callable[[str], list[ExecutionReport]]


def translate(request: order_2.OrderRequest, ctx: RequestContext) -> Action:
    """The engine requests for ``request``; raises :class:`RequestRefused`."""
    present = [name for name in _ACTIONS if request.HasField(name)]  # type: ignore[arg-type]
    if not present:
        raise RequestRefused("order request carries no action")
    if len(present) > 1:
        raise RequestRefused(f"order request carries {len(present)} actions: {', '.join(present)}")
    kind = present[0]
    if kind == "new_order":
        return _new(request, ctx)
    if kind == "modify_order":
        return _modify(request.modify_order, ctx)
    if kind == "cancel_order":
        return _cancel(request.cancel_order, ctx)
    if kind == "cancel_all_orders":
        return _cancel_all(request.cancel_all_orders, ctx)
    if kind == "liquidate_all":
        return _liquidate(request.liquidate_all, ctx)
    if kind == "go_flat":
        return _go_flat(request.go_flat, ctx)
    raise RequestRefused(f"{kind} is not supported by the ec-mock CQG server")


def _account(account_id: int, ctx: RequestContext) -> str:
    name = ctx.account_name(account_id)
    if name is None or name not in ctx.accounts:
        raise RequestRefused(f"unknown or unauthorized account_id {account_id}")
    return name


def _instrument(contract_id: int, ctx: RequestContext) -> Instrument:
    symbol = ctx.symbol_of(contract_id)
    instrument = ctx.instrument(symbol) if symbol is not None else None
    if instrument is None:
        raise RequestRefused(f"contract_id {contract_id} was not resolved in this session")
    return instrument


def _qty(msg: order_2.Order | order_2.ModifyOrder, *, required: bool) -> int | None:
    has_new, has_old = msg.HasField("qty"), msg.HasField("uint32_qty")
    if not (has_new or has_old):
        if required:
            raise RequestRefused("order has no qty (nor the deprecated uint32_qty)")
        return None
    try:
        qty = qty_from_cqg(msg.qty if has_new else None, msg.uint32_qty if has_old else None)
    except ValueError as exc:
        raise RequestRefused(f"qty: {exc}") from None
    if abs(qty) > MAX_QTY:
        raise RequestRefused(f"qty {qty} is out of range (at most {MAX_QTY} contracts)")
    return qty


def _good_thru(msg: order_2.Order | order_2.ModifyOrder, ctx: RequestContext) -> date | None:
    if not msg.HasField("good_thru_date"):
        return None
    offset = msg.good_thru_date
    if abs(offset) > MAX_TIME_OFFSET_MS:
        raise RequestRefused(
            f"good_thru_date {offset} is out of range (within 100 years of base_time)"
        )
    return ctx.base.to_date(offset)


def _price(instrument: Instrument, msg: object, name: str) -> Decimal | None:
    if not getattr(msg, "HasField")(name):  # noqa: B009
        return None
    scaled: int = getattr(msg, name)
    return price_scale_of(instrument).to_price(scaled)


def _cl_id(value: str, field: str) -> str:
    if not value or len(value.encode("utf-8")) > _MAX_CL_BYTES:
        raise RequestRefused(f"{field} must be 1..{_MAX_CL_BYTES} UTF-8 bytes, got {value!r}")
    if not value.isprintable():  # a NUL or a line break went into every log line naming it
        raise RequestRefused(f"{field} must be printable text, got {value!r}")
    return value


def _duration(code: int) -> Duration:
    duration = _DURATIONS.get(code)
    if duration is None:
        raise RequestRefused(f"duration {code} is not supported by the ec-mock CQG server")
    return duration


def _new(request: order_2.OrderRequest, ctx: RequestContext) -> Action:
    new = request.new_order
    order = new.order
    if new.suspend:
        raise RequestRefused("suspended (parked) orders are not supported")
    account = _account(order.account_id, ctx)
    instrument = _instrument(order.contract_id, ctx)
    cl = _cl_id(order.cl_order_id, "cl_order_id")
    if not order.HasField("side"):
        raise RequestRefused("order has no side")
    side = _SIDES.get(order.side)
    if side is None:
        raise RequestRefused(f"side {order.side} is not a CQG side (1 buy, 2 sell)")
    order_type = _TYPES.get(order.order_type)
    if order_type is None:
        raise RequestRefused(f"order_type {order.order_type} is not supported")
    duration = _duration(order.duration)
    instructions: set[ExecInstruction] = set()
    for code in order.exec_instructions:
        if code == MTL_INSTRUCTION:  # market-to-limit: an instruction of a market order
            if order_type is not OrderType.MKT:
                raise RequestRefused("exec instruction MTL (10) needs order_type MKT (1)")
            order_type = OrderType.MTL
            continue
        instruction = EXEC_INSTRUCTION_FROM_CQG.get(code)
        if instruction is None:
            raise RequestRefused(f"exec instruction {code} is not supported")
        instructions.add(instruction)
    qty = _qty(order, required=True)
    assert qty is not None
    display = _visible_qty(order, ExecInstruction.ICEBERG in instructions)
    if ctx.order_known(account, cl) or ctx.chains.has_chain(account, cl):
        raise RequestRefused(f"cl_order_id {cl!r} was already used by account {order.account_id}")
    good_thru = _good_thru(order, ctx)
    is_manual = order.is_manual if order.HasField("is_manual") else False
    if request.HasField("is_automated"):
        is_manual = not request.is_automated
    core = NewOrder(
        account_id=account,
        symbol=instrument.symbol,
        side=side,
        qty=qty,
        order_type=order_type,
        limit_price=_price(instrument, order, "scaled_limit_price"),
        stop_price=_price(instrument, order, "scaled_stop_price"),
        duration=duration,
        good_thru_date=good_thru,
        exec_instructions=frozenset(instructions),
        cl_order_id=cl,
        is_manual=is_manual,
        display_qty=display,
    )
    return Action(kind="new_order", requests=(core,))


def _visible_qty(order: order_2.Order, iceberg: bool) -> int | None:
    """An iceberg's ``visible_qty`` (or its deprecated uint32 twin) as the core display
    quantity; the engine judges its range. Without ICEBERG it has no meaning: refused."""
    has_new, has_old = order.HasField("visible_qty"), order.HasField("uint32_visible_qty")
    if not (has_new or has_old):
        return None
    if not iceberg:
        raise RequestRefused("visible_qty is for ICEBERG (2) orders only")
    try:
        qty = qty_from_cqg(
            order.visible_qty if has_new else None,
            order.uint32_visible_qty if has_old else None,
        )
    except ValueError as exc:
        raise RequestRefused(f"visible_qty: {exc}") from None
    if abs(qty) > MAX_QTY:
        raise RequestRefused(f"visible_qty {qty} is out of range (at most {MAX_QTY} contracts)")
    return qty


def _chain(order_id: str, account_id: int, ctx: RequestContext) -> tuple[OrderChain, str]:
    account = _account(account_id, ctx)
    chain = ctx.chains.by_order_id(order_id)
    if chain is None or chain.venue_account != account:
        raise RequestRefused(f"unknown order_id {order_id!r} for account {account_id}")
    return chain, account


def _modify(msg: order_2.ModifyOrder, ctx: RequestContext) -> Action:
    chain, account = _chain(msg.order_id, msg.account_id, ctx)
    instrument = ctx.instrument(chain.symbol)
    assert instrument is not None
    good_thru = _good_thru(msg, ctx)
    core = ModifyOrder(
        account_id=account,
        symbol=chain.symbol,
        orig_cl_order_id=_cl_id(msg.orig_cl_order_id, "orig_cl_order_id"),
        cl_order_id=_cl_id(msg.cl_order_id, "cl_order_id"),
        qty=_qty(msg, required=False),
        limit_price=_price(instrument, msg, "scaled_limit_price"),
        stop_price=_price(instrument, msg, "scaled_stop_price"),
        duration=_duration(msg.duration) if msg.HasField("duration") else None,
        good_thru_date=good_thru,
    )
    return Action(kind="modify_order", requests=(core,), chain=chain, last=chain.last)


def _cancel(msg: order_2.CancelOrder, ctx: RequestContext) -> Action:
    chain, account = _chain(msg.order_id, msg.account_id, ctx)
    core = CancelOrder(
        account_id=account,
        symbol=chain.symbol,
        orig_cl_order_id=_cl_id(msg.orig_cl_order_id, "orig_cl_order_id"),
        cl_order_id=_cl_id(msg.cl_order_id, "cl_order_id"),
    )
    return Action(kind="cancel_order", requests=(core,), chain=chain, last=chain.last)


def _cancel_all(msg: order_2.CancelAllOrders, ctx: RequestContext) -> Action:
    if not msg.account_order_filters:
        raise RequestRefused("cancel_all_orders needs at least one account_order_filter")
    requests: list[OrderRequest] = []
    for flt in msg.account_order_filters:
        account = _account(flt.account_id, ctx)
        symbol = _instrument(flt.contract_id, ctx).symbol if flt.HasField("contract_id") else None
        if not flt.HasField("side"):
            requests.append(CancelAll(account_id=account, symbol=symbol))
            continue
        side = _SIDES.get(flt.side)
        if side is None:
            raise RequestRefused(f"side {flt.side} is not a CQG side (1 buy, 2 sell)")
        for report in ctx.open_orders(account):
            if report.side is side and (symbol is None or report.symbol == symbol):
                requests.append(
                    CancelOrder(
                        account_id=account,
                        symbol=report.symbol,
                        orig_cl_order_id=report.cl_order_id,
                    )  # no cl_order_id of ours: any we made up, a client could have taken
                )
    return Action(kind="cancel_all_orders", requests=tuple(requests))


def _liquidate(msg: order_2.LiquidateAll, ctx: RequestContext) -> Action:
    if not msg.account_position_filters:
        raise RequestRefused("liquidate_all needs at least one account_position_filter")
    requests: list[OrderRequest] = []
    for flt in msg.account_position_filters:
        account = _account(flt.account_id, ctx)
        symbol = _instrument(flt.contract_id, ctx).symbol if flt.HasField("contract_id") else None
        requests.append(
            LiquidateAll(account_id=account, symbol=symbol)  # the venue names its orders
        )
    return Action(kind="liquidate_all", requests=tuple(requests))


def _go_flat(msg: order_2.GoFlat, ctx: RequestContext) -> Action:
    accounts = tuple(_account(a, ctx) for a in msg.account_ids) if msg.account_ids else ctx.accounts
    requests = tuple(GoFlat(account_id=a) for a in accounts)  # the venue names its orders
    return Action(kind="go_flat", requests=requests, accounts=accounts)
