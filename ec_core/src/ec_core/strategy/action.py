"""``ActionNode``: one step of an action tree — when to fire, what to send, where to go next.

Payloads in a node are *templates*: each time the node fires, every entry is
turned into a fresh :class:`~ec_core.execution.Payload` with a fresh
``cl_order_id`` and ``request_id``. An entry may be a ``Payload``, a bare order
request, or a callable ``ctx -> Payload | OrderRequest`` evaluated at fire time
(so prices can follow the market). A ``orig_cl_order_id`` written in a template
that names another template's ``cl_order_id`` is rewritten to the live id of
that order, so the seed's fixed-id style keeps working; :func:`modify_of` and
:func:`cancel_of` refer to a node's orders by node name instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias, final

from msgspec.structs import replace

from ec_core.execution.payload import Payload
from ec_core.model import CancelOrder, ModifyOrder, OrderRequest
from ec_core.strategy.errors import StrategyError

if TYPE_CHECKING:
    from ec_core.strategy.context import StrategyContext

__all__ = [
    "ActionNode",
    "AdvanceOn",
    "Condition",
    "PayloadTemplate",
    "Transition",
    "always",
    "cancel_of",
    "modify_of",
    "never",
]

Condition: TypeAlias = "Callable[[StrategyContext], bool]"
PayloadTemplate: TypeAlias = (
    "Payload | OrderRequest | Callable[[StrategyContext], Payload | OrderRequest]"
)
Transition: TypeAlias = "tuple[Condition, ActionNode | str]"


class AdvanceOn(StrEnum):
    """When a fired node is *through*, so the tree may evaluate its branches (or be done).

    The tree's default is ``ACKNOWLEDGED``; a node's own ``advance_on`` overrides it.
    """

    SENT = "SENT"  # as soon as its payloads are handed to the executor
    ACKNOWLEDGED = "ACKNOWLEDGED"  # when the executor has returned for every payload
    FILLED = "FILLED"  # acknowledged, and every new order it placed is completely filled


def always(ctx: StrategyContext) -> bool:
    """A condition that always holds: the node fires as soon as it becomes active."""
    return True


def never(ctx: StrategyContext) -> bool:
    return False


@final
class ActionNode:
    """A node: ``trigger_cond(ctx)`` says when its payloads are sent; ``transitions``
    map a branch name to ``(condition, child)`` where the child is a node or its name.

    A node without transitions is an end node: once it has fired (and its payloads
    are through, see :class:`~ec_core.strategy.tree.AdvanceOn`) the tree is done.

    ``standby=True`` lets a child fire while its parent is the active node, before
    its branch is taken: a take-profit and a stop-loss resting together after an
    entry. When one branch is taken, the working orders of its siblings are cancelled.

    ``advance_on`` (default ``None``: the tree's, ``ACKNOWLEDGED`` unless the tree says
    otherwise) says when this node is through; ``AdvanceOn.FILLED`` keeps an entry's
    take-profit branches shut until the entry has filled.
    """

    __slots__ = ("advance_on", "name", "payloads", "standby", "transitions", "trigger_cond")

    def __init__(
        self,
        name: str,
        payloads: Sequence[PayloadTemplate] = (),
        trigger_cond: Condition = always,
        transitions: Mapping[str, Transition] | None = None,
        *,
        standby: bool = False,
        advance_on: AdvanceOn | None = None,
    ) -> None:
        if not name:
            raise ValueError("an action node needs a name")
        if advance_on is not None and not isinstance(advance_on, AdvanceOn):
            raise ValueError(
                f"node {name!r}: advance_on must be an AdvanceOn (SENT, ACKNOWLEDGED,"
                f" FILLED) or None, got {advance_on!r}"
            )
        self.advance_on = advance_on
        self.name = name
        self.payloads: tuple[PayloadTemplate, ...] = tuple(payloads)
        self.trigger_cond = trigger_cond
        self.transitions: dict[str, Transition] = dict(transitions or {})
        self.standby = standby

    @property
    def is_end(self) -> bool:
        return not self.transitions

    def __repr__(self) -> str:
        branches = list(self.transitions)
        return f"ActionNode({self.name!r}, payloads={len(self.payloads)}, branches={branches})"


def _node_order(ctx: StrategyContext, node: str) -> tuple[str, str, str]:
    """``(account_id, symbol, live cl_order_id)`` of the last order placed by ``node``."""
    signal = ctx.signal
    if signal is None:
        raise StrategyError(f"no signal in context: cannot refer to the orders of node {node!r}")
    ref = signal.tree.last_order_of(node)
    if ref is None:
        raise StrategyError(f"node {node!r} has placed no order to refer to")
    return ref


def modify_of(
    node: str,
    *,
    qty: int | None = None,
    limit_price: Decimal | Callable[[StrategyContext], Decimal] | None = None,
    stop_price: Decimal | Callable[[StrategyContext], Decimal] | None = None,
) -> Callable[[StrategyContext], OrderRequest]:
    """A template that modifies the last order placed by ``node`` (prices may be callables)."""

    def build(ctx: StrategyContext) -> OrderRequest:
        account_id, symbol, cl_order_id = _node_order(ctx, node)
        return ModifyOrder(
            account_id=account_id,
            symbol=symbol,
            orig_cl_order_id=cl_order_id,
            qty=qty,
            limit_price=limit_price(ctx) if callable(limit_price) else limit_price,
            stop_price=stop_price(ctx) if callable(stop_price) else stop_price,
        )

    build.__qualname__ = f"modify_of({node!r})"
    return build


def cancel_of(node: str) -> Callable[[StrategyContext], OrderRequest]:
    """A template that cancels the last order placed by ``node``."""

    def build(ctx: StrategyContext) -> OrderRequest:
        account_id, symbol, cl_order_id = _node_order(ctx, node)
        return CancelOrder(account_id=account_id, symbol=symbol, orig_cl_order_id=cl_order_id)

    build.__qualname__ = f"cancel_of({node!r})"
    return build


def instantiate(
    template: PayloadTemplate,
    ctx: StrategyContext,
    *,
    cl_order_id: str,
    request_id: int,
    aliases: Mapping[str, str],
) -> tuple[Payload, str]:
    """A fresh payload from ``template``; also returns the template's own cl_order_id."""
    made: Any = template(ctx) if callable(template) else template
    if isinstance(made, Payload):
        base = made
        request: OrderRequest = made.request
    else:
        base = None
        request = made
    template_id = request.cl_order_id
    orig = getattr(request, "orig_cl_order_id", None)
    if orig is not None and orig in aliases:
        request = replace(request, cl_order_id=cl_order_id, orig_cl_order_id=aliases[orig])
    else:
        request = replace(request, cl_order_id=cl_order_id)
    if base is None:
        return Payload(request=request, request_id=request_id), template_id
    return (
        Payload(
            request=request,
            request_id=request_id,
            start_time=base.start_time,
            end_time=base.end_time,
            checks=base.checks,
        ),
        template_id,
    )
