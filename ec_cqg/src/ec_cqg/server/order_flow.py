"""One ``OrderRequest`` from the wire to the engine.

:func:`take_order_request` translates the request (:mod:`.requests`), then: a new order
opens a chain and is published ``IN_TRANSIT`` before the engine sees it; a modify or
cancel is published ``IN_MODIFY``/``IN_CANCEL`` and remembered so an engine refusal can be
answered with ``OrderRequestReject``; cancel-all, liquidate-all and go-flat are
acknowledged, then submitted (go-flat also reports what remains). A request that cannot
be read is refused on the spot and never reaches the engine.
"""

from __future__ import annotations

from ec_core.model import ExecutionReport, NewOrder, OrderState, ReportKind

from ec_cqg.protocol.mapping.codes import exec_instruction_codes
from ec_cqg.protocol.pb import ServerMsg, order_2, shared_1
from ec_cqg.protocol.prices import decimal_to_cqg
from ec_cqg.protocol.timestamps import ns_to_timestamp
from ec_cqg.server.requests import Action, RequestContext, RequestRefused, translate
from ec_cqg.server.sessions import Line, Session
from ec_cqg.server.state import ServerState

__all__ = ["take_order_request"]

_OS = shared_1.OrderStatus
_TS = shared_1.TransactionStatus
_GF = order_2.GoFlatStatus


def _context(server: ServerState, session: Session) -> RequestContext:
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
    )


def take_order_request(
    server: ServerState, line: Line, session: Session, request: order_2.OrderRequest
) -> None:
    """Check ``request``, tell the subscribers, hand it to the engine (see the module)."""
    try:
        action = translate(request, _context(server, session))
    except RequestRefused as refused:
        line.reject_request(request.request_id, refused.text, code=refused.code)
        return
    exchange = server.venue.exchange
    now = server.now()
    if action.kind == "new_order":
        _new_order(server, session, action, now)
        return
    if action.kind in ("modify_order", "cancel_order"):
        chain, last = action.chain, action.last
        assert chain is not None
        if last is None:
            line.reject_request(
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
        server.awaiting[(core.account_id, core.cl_order_id)] = (line, request.request_id)
        exchange.submit(core)
        return
    msg = ServerMsg()
    ack = msg.order_request_acks.add(request_id=request.request_id)
    ns_to_timestamp(now, ack.when)
    server.send(line, msg)
    for core in action.requests:
        exchange.submit(core)
    if action.kind == "go_flat":
        server.send(line, _go_flat_statuses(server, request.request_id, action))


def _new_order(server: ServerState, session: Session, action: Action, now: int) -> None:
    core = action.requests[0]
    assert isinstance(core, NewOrder)
    chain = server.chains.open_chain(
        core.account_id,
        core.cl_order_id,
        symbol=core.symbol,
        user=session.user,
        ts_ns=now,
        exec_instructions=tuple(
            exec_instruction_codes(
                core.order_type, core.exec_instructions, iceberg=core.display_qty is not None
            )
        ),
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


def _go_flat_statuses(server: ServerState, request_id: int, action: Action) -> ServerMsg:
    exchange = server.venue.exchange
    msg = ServerMsg()
    for account in action.accounts:
        orders = sum(max(r.qty - r.filled_qty, 0) for r in exchange.open_orders(account))
        positions = sum(abs(p.qty) for p in exchange.positions(account))
        status = msg.go_flat_statuses.add(
            request_id=request_id,
            account_id=server.accounts.id_of(account),
            status_code=_GF.STATUS_CODE_COMPLETED
            if orders == 0 and positions == 0
            else _GF.STATUS_CODE_FAILED,
        )
        decimal_to_cqg(orders, status.remaining_orders_qty)
        decimal_to_cqg(positions, status.remaining_positions_qty)
    return msg
