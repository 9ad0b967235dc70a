"""``ActionTree``: the finite-state machine that walks action nodes and drives orders.

It is Sans-I/O: :meth:`ActionTree.update` is synchronous and only *decides*;
what to send goes into an outbox of :class:`SendPayload` and
:class:`CancelWorking` commands that the engine executes (in its task group)
and whose outcomes it reports back with :meth:`ActionTree.on_result`. So the
per-tick cost is a few condition calls, and the machine is tested without I/O.

The active node goes through::

    WAITING --trigger--> FIRING --payloads sent/acknowledged/filled--> ARMED --branch--> child
                                                                         | (end node)
                                                                         +--> DONE

When a node is through is its ``advance_on`` (:class:`AdvanceOn`; the tree's
default, ``ACKNOWLEDGED``, unless the node says otherwise). Under ``FILLED`` the
tree stays FIRING after the acknowledgement until every new order of the node
has filled (the engine asks :meth:`ActionTree.check_fills` on each tick); one that
ends unfilled fails the tree, saying so.

Branches are tried in the order listed. When one is taken, the later ones are
asked too (a rare event, not a per-tick cost) and :attr:`ActionTree.branch_stats`
counts those that held: a branch that is never taken because an earlier, wider one
always wins is reported by the replay as unreachable.

Overtime pre-empts everything: every working order is cancelled, then the
overtime node becomes the active node. It comes when ``overtime_cond`` holds or,
with ``timeout_ns``, that long after the tree's first evaluation (its signal's first
active tick), whichever is first; the timeout costs one integer comparison per tick,
where a condition is a call. A failed payload (denied, rejected,
unknown) fails the tree, except a failed cancel, which is recorded and
tolerated (the order may have just filled). Every move is recorded in
:attr:`ActionTree.history` and logged with its time and reason.

The values the tree hands out (:class:`TreeState`, :class:`TransitionRecord`, the
commands) live in :mod:`ec_core.strategy.tree_types`, the bookkeeping of the orders it
placed in :mod:`ec_core.strategy.chains`; both are importable from here as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final, final

from ec_core.errors import EcError
from ec_core.model import CancelAll, CancelOrder, NewOrder, Order, OrderState
from ec_core.strategy.action import ActionNode, AdvanceOn, Condition, instantiate
from ec_core.strategy.chains import DEFAULT_IDS, Chain, OrderChains, chain_ids
from ec_core.strategy.tree_types import (
    BranchCount,
    CancelWorking,
    Command,
    SendPayload,
    TransitionRecord,
    TreeState,
)
from ec_core.strategy.validate import resolve_tree

if TYPE_CHECKING:
    from ec_core.strategy.context import StrategyContext

__all__ = [
    "ActionTree",
    "AdvanceOn",
    "BranchCount",
    "CancelWorking",
    "SendPayload",
    "TransitionRecord",
    "TreeState",
]

logger = logging.getLogger("ec_core.strategy")


# module constants: a global load is cheaper than an enum attribute on the per-tick path
_WAITING: Final = TreeState.WAITING
_FIRING: Final = TreeState.FIRING
_ARMED: Final = TreeState.ARMED
_DONE: Final = TreeState.DONE
_FAILED: Final = TreeState.FAILED
_CANCELLED: Final = TreeState.CANCELLED
_FINAL: Final = frozenset((_DONE, _FAILED, _CANCELLED))  # TreeState.is_final, no call
_NEVER: Final = 1 << 63  # later than any timestamp: no timeout (or it has fired)
_UNSTARTED: Final = -(1 << 63)  # a timeout whose clock starts on the next evaluation
# what most trees never add to: shared until the first name is added (a finished signal's
# tree stays in the engine's history, walked by every full collection of the GC)
_NONE: Final[frozenset[str]] = frozenset()


@final
class ActionTree:
    """The state machine of one signal. Build one per signal (nodes may be shared).

    ``nodes`` optionally lists every node so transitions can name children by
    string and unreachable nodes are caught. ``timeout_ns`` sends the tree to
    ``overtime_node`` that many nanoseconds after its first evaluation (with or
    instead of ``overtime_cond``). Invalid trees raise
    :class:`~ec_core.strategy.errors.InvalidTreeError` here, before trading.
    """

    __slots__ = (
        "_awaiting_fill",
        "_branches",
        "_edges",
        "_in_flight",
        "_new_cl_id",
        "_new_request_id",
        "_orders",
        "_outbox",
        "_overtime_at",
        "_standby_fired",
        "_standby_nodes",
        "_withdrawn",
        "active",
        "advance_on",
        "branch_stats",
        "error",
        "history",
        "in_overtime",
        "nodes",
        "on_final",
        "overtime_cond",
        "overtime_due",
        "overtime_node",
        "root",
        "state",
        "timeout_ns",
    )

    def __init__(
        self,
        root: ActionNode,
        overtime_cond: Condition | None = None,
        overtime_node: ActionNode | None = None,
        *,
        advance_on: AdvanceOn = AdvanceOn.ACKNOWLEDGED,
        nodes: Iterable[ActionNode] = (),
        timeout_ns: int | None = None,
    ) -> None:
        self.nodes, self._edges = resolve_tree(
            root,
            overtime_cond=overtime_cond,
            overtime_node=overtime_node,
            nodes=nodes,
            timeout_ns=timeout_ns,
        )
        self.root = root
        self.overtime_cond = overtime_cond
        # the overtime condition while it can still fire (``None`` once it has fired or the
        # tree is final): one test per tick
        self.overtime_due: Condition | None = overtime_cond
        self.timeout_ns = timeout_ns
        # when the timeout sends the tree to overtime: unknown until the first evaluation,
        # never without a timeout or once overtime has come (one comparison per tick)
        self._overtime_at = _NEVER if timeout_ns is None else _UNSTARTED
        self.overtime_node = overtime_node
        self.advance_on = advance_on
        self.active = root
        self.state = TreeState.WAITING
        self.in_overtime = False
        self.error: BaseException | None = None
        self.history: list[TransitionRecord] = []
        self._outbox: list[Command] | None = None  # a list only while commands wait
        self._in_flight: dict[str, int] = {}
        self._orders = OrderChains()
        self._standby_fired: frozenset[str] = _NONE
        self._awaiting_fill: dict[str, set[str]] = {}  # node -> orders it waits to see filled
        self._withdrawn: frozenset[str] = _NONE  # ids of orders the tree asked to cancel
        self.branch_stats: dict[tuple[str, str], BranchCount] = {}  # (node, branch) -> counts
        self._branches = self._edges[root.name]
        self._standby_nodes: tuple[ActionNode, ...] = ()
        # told the time when the tree reaches a final state (its signal finishes with it)
        self.on_final: Callable[[int], None] | None = None
        counter = DEFAULT_IDS
        self._new_cl_id: Callable[[], str] = counter.cl_order_id
        self._new_request_id: Callable[[], int] = counter.request_id

    def branches(self, name: str) -> tuple[tuple[str, Condition, ActionNode], ...]:
        """The resolved branches of node ``name``: ``(branch, condition, child)``."""
        return self._edges[name]

    def to_mermaid(self) -> str:
        from ec_core.strategy.render import to_mermaid

        return to_mermaid(self)

    def to_text(self) -> str:
        from ec_core.strategy.render import to_text

        return to_text(self)

    def bind_ids(self, cl_order_id: Callable[[], str], request_id: Callable[[], int]) -> None:
        """Use the engine's id sources so client ids are unique across signals."""
        self._new_cl_id = cl_order_id
        self._new_request_id = request_id

    # -- evaluation (per tick) -------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.state.is_final

    def update(self, ctx: StrategyContext, now_ns: int | None = None) -> bool:
        """Evaluate once; return True when commands are waiting in the outbox.

        WAITING: the active node's trigger may fire it. ARMED: the first branch whose
        condition holds is taken, else standby children may fire. FIRING under
        ``AdvanceOn.FILLED``: the orders waited on are checked. The overtime (its
        timeout or its condition) pre-empts all three until it has fired or the tree
        is final. ``now_ns`` (default: ``ctx.now_ns``) is the time the timeout is
        compared with: the engine passes the tick's.
        """
        if now_ns is None:
            now_ns = ctx.now_ns
        cond = self.overtime_due
        if now_ns >= self._overtime_at and self._timed_out(now_ns):
            self._enter_overtime(ctx, f"timeout_ns of {self.timeout_ns} ns passed")
        elif cond is not None and cond(ctx):
            self._enter_overtime(ctx, "overtime condition held")
        else:
            state = self.state
            if state is _WAITING:
                node = self.active
                trigger = node.trigger_cond  # a slot read and a call: node.trigger_cond(ctx)
                if trigger(ctx):  # is a method lookup CPython 3.11 cannot specialize
                    self._fire(node, ctx, reason="trigger")
            elif state is _ARMED:
                for branch, branch_cond, child in self._branches:
                    if branch_cond(ctx):
                        self._take(branch, child, ctx)
                        break
                else:
                    if self._standby_nodes:
                        self._evaluate_standby(ctx)
            elif state is _FIRING and self._awaiting_fill:  # under AdvanceOn.FILLED
                self.check_fills(ctx)
        if self._outbox:  # noqa: SIM103 - no bool() call on the per-tick path
            return True
        return False

    def _timed_out(self, now_ns: int) -> bool:
        """The timeout's moment has come; on the first evaluation its clock starts."""
        if self._overtime_at == _UNSTARTED:
            assert self.timeout_ns is not None
            self._overtime_at = now_ns + self.timeout_ns
        return now_ns >= self._overtime_at

    def _evaluate_standby(self, ctx: StrategyContext) -> None:
        """ARMED, no branch taken: standby children whose trigger holds fire (once each)."""
        for child in self._standby_nodes:
            if child.name not in self._standby_fired and child.trigger_cond(ctx):
                self._standby_fired |= {child.name}
                self._fire(child, ctx, reason="standby trigger")

    def take_commands(self) -> list[Command]:
        out, self._outbox = self._outbox, None
        return out if out is not None else []

    # -- moves -----------------------------------------------------------------------------

    def _record(self, ts: int, kind: str, source: str, target: str, reason: str) -> None:
        record = TransitionRecord(ts_ns=ts, kind=kind, source=source, target=target, reason=reason)
        self.history.append(record)
        if logger.isEnabledFor(logging.INFO):  # one call, not two, when INFO is off
            logger.info("tree %s: %s %s -> %s (%s)", self.root.name, kind, source, target, reason)

    def _finished(self, now_ns: int) -> None:
        """The tree reached a final state: overtime can no longer fire; tell the owner."""
        self.overtime_due = None
        self._overtime_at = _NEVER
        if self.on_final is not None:
            self.on_final(now_ns)

    def _fire(self, node: ActionNode, ctx: StrategyContext, *, reason: str) -> None:
        is_active = node is self.active
        sent = 0
        for template in node.payloads:
            payload, template_id = instantiate(
                template,
                ctx,
                cl_order_id=self._new_cl_id(),
                request_id=self._new_request_id(),
                aliases=self._orders.aliases,
            )
            self._orders.track(node.name, payload, template_id)
            self._queue(SendPayload(payload=payload, node=node.name))
            sent += 1
        now_ns = ctx.now_ns  # one reading for the move's records
        self._record(now_ns, "fire", node.name, node.name, f"{reason}; {sent} payload(s)")
        waits = sent and (node.advance_on or self.advance_on) is not AdvanceOn.SENT
        if waits:
            self._in_flight[node.name] = self._in_flight.get(node.name, 0) + sent
        if is_active:
            self.state = _FIRING
            if not waits:
                self._arm(now_ns)

    def _arm(self, now_ns: int) -> None:
        node = self.active
        branches = self._edges[node.name]  # resolved: empty for an end node (no transitions)
        if not branches:
            self.state = _DONE
            self._record(now_ns, "done", node.name, node.name, "end node through")
            self._finished(now_ns)
            return
        self.state = _ARMED
        self._branches = branches
        self._standby_nodes = tuple(child for _, _, child in branches if child.standby)

    def _take(self, branch: str, child: ActionNode, ctx: StrategyContext) -> None:
        parent = self.active
        self._count_branches(parent.name, branch, ctx)
        siblings = {c.name for _, _, c in self._branches if c is not child}
        self._cancel_chains(
            [ch for ch in self._orders.chains if ch.node in siblings], f"branch {branch} taken"
        )
        now_ns = ctx.now_ns
        self._record(now_ns, "branch", parent.name, child.name, f"branch {branch!r} condition held")
        self.active = child
        if child.name in self._standby_fired:
            if self._in_flight.get(child.name) or child.name in self._awaiting_fill:
                self.state = _FIRING
            else:
                self._arm(now_ns)
            return
        self.state = TreeState.WAITING
        if child.trigger_cond(ctx):
            self._fire(child, ctx, reason="trigger")

    def _count_branches(self, node: str, taken: str, ctx: StrategyContext) -> None:
        """Count ``taken`` and every later branch of ``node`` whose condition holds too."""
        stats = self.branch_stats
        later = False
        for name, cond, _ in self._branches:
            if later:
                try:
                    held = cond(ctx)
                except Exception:  # only asked for the statistics: never breaks the move
                    held = False
                if held:
                    count = stats.get((node, name)) or stats.setdefault((node, name), BranchCount())
                    count.shadowed += 1
                    count.shadowed_by = taken
            elif name == taken:
                later = True
                count = stats.get((node, name)) or stats.setdefault((node, name), BranchCount())
                count.taken += 1

    def _enter_overtime(self, ctx: StrategyContext, reason: str) -> None:
        node = self.overtime_node
        assert node is not None
        self.in_overtime = True
        self.overtime_due = None
        self._overtime_at = _NEVER
        self._cancel_chains(self._orders.chains, "overtime")
        self._record(ctx.now_ns, "overtime", self.active.name, node.name, reason)
        self.active = node
        self.state = TreeState.WAITING
        if node.trigger_cond(ctx):
            self._fire(node, ctx, reason="trigger")

    def cancel(self, now_ns: int, reason: str) -> None:
        """Stop here: cancel every working order of the tree (the signal was cancelled)."""
        if self.state.is_final and self.state is not TreeState.DONE:
            return
        self._cancel_chains(self._orders.chains, reason)
        if not self.state.is_final:
            self.state = TreeState.CANCELLED
            self._record(now_ns, "cancelled", self.active.name, self.active.name, reason)
            self._finished(now_ns)

    def fail(self, now_ns: int, error: BaseException) -> None:
        """A condition or template raised: cancel working orders and stop."""
        self.error = error
        self._cancel_chains(self._orders.chains, f"failed: {error!r}")
        self.state = TreeState.FAILED
        self._record(now_ns, "failed", self.active.name, self.active.name, repr(error))
        self._finished(now_ns)

    def _cancel_chains(self, chains: Iterable[Chain], reason: str) -> None:
        ids = chain_ids(chains)
        if ids:
            self._withdrawn |= ids
            self._queue(CancelWorking(order_ids=frozenset(ids), reason=reason))

    def _queue(self, command: Command) -> None:
        outbox = self._outbox
        if outbox is None:
            self._outbox = [command]
        else:
            outbox.append(command)

    def still_wanted(self, command: SendPayload) -> bool:
        """Whether a payload held for its activation window is still to be sent: the
        tree is live, not in overtime elsewhere, and has not withdrawn the order (a
        sibling branch taken, a cancel) while it waited."""
        if self.state.is_final or (self.in_overtime and command.node != self.active.name):
            return False
        return command.payload.request.cl_order_id not in self._withdrawn

    # -- order bookkeeping -----------------------------------------------------------------

    def last_order_of(self, node: str) -> tuple[str, str, str] | None:
        """``(account_id, symbol, live cl_order_id)`` of the last order ``node`` placed."""
        return self._orders.last_order_of(node)

    def all_order_ids(self) -> frozenset[str]:
        """Chain and live client ids of every order the tree placed (to cancel what is left)."""
        return self._orders.all_ids()

    def order_ids(self, node: str | None = None) -> list[str]:
        """Live client ids of the orders placed by ``node`` (every node if ``None``)."""
        return self._orders.live_ids(node)

    def on_result(
        self,
        command: SendPayload,
        order: Order | None,
        error: BaseException | None,
        now_ns: int,
    ) -> bool:
        """The executor answered for ``command``: book it and move on if the node is through.

        True when commands are waiting in the outbox (as :meth:`update` says), so the
        engine takes them only then."""
        node = command.node
        payload = command.payload
        request = payload.request
        self._orders.answered(payload, order, error)
        left = self._in_flight.get(node, 0)  # of the node's payloads, still unanswered
        if left:
            left -= 1
            self._in_flight[node] = left
        if self.state in _FINAL or (self.in_overtime and node != self.active.name):
            # Late answer after the tree moved away: make sure nothing is left working.
            if order is not None and isinstance(request, NewOrder):
                self._cancel_chains(
                    [c for c in self._orders.chains if c.live_id == request.cl_order_id],
                    "late order",
                )
            return self._outbox is not None
        if error is not None:
            if isinstance(request, CancelOrder | CancelAll):
                self._record(now_ns, "cancel_failed", node, node, repr(error))
            else:
                self.fail(now_ns, error)
                return self._outbox is not None
        found = self.nodes.get(node)
        mode = found.advance_on if found is not None else None
        fills = (mode or self.advance_on) is AdvanceOn.FILLED
        if (
            fills
            and order is not None
            and isinstance(request, NewOrder)
            and order.state is not OrderState.FILLED
        ):
            if order.state.is_final:
                self.fail(now_ns, _unfilled(node, order))
                return self._outbox is not None
            self._awaiting_fill.setdefault(node, set()).add(order.chain_id or order.cl_order_id)
        if (
            self.state is _FIRING
            and not left  # (nothing since it was read changes the count)
            and node == self.active.name
            and node not in self._awaiting_fill
        ):
            reason = "payloads filled" if fills else "payloads through"
            self._record(now_ns, "arm", node, node, reason)
            self._arm(now_ns)
        return self._outbox is not None

    def check_fills(self, ctx: StrategyContext) -> None:
        """Under ``AdvanceOn.FILLED``: settle the orders nodes wait on, from ``ctx.router``.

        A filled order is through; one that ended otherwise fails the tree. When the
        active node has nothing left to wait for, it is armed.
        """
        lookup = getattr(ctx.router, "order", None)
        now_ns = ctx.now_ns
        if lookup is None:
            self.fail(
                now_ns,
                EcError(
                    "advance_on=FILLED needs a router that can look up an order by id"
                    " (ExecutorRouter has order())"
                ),
            )
            return
        for node, ids in list(self._awaiting_fill.items()):
            for order_id in list(ids):
                order = lookup(order_id)
                if order is None or not order.state.is_final:
                    continue
                if order.state is not OrderState.FILLED:
                    self.fail(now_ns, _unfilled(node, order))
                    return
                ids.discard(order_id)
            if not ids:
                del self._awaiting_fill[node]
        active = self.active.name
        if (
            self.state is TreeState.FIRING
            and not self._in_flight.get(active)
            and active not in self._awaiting_fill
        ):
            self._record(now_ns, "arm", active, active, "payloads filled")
            self._arm(now_ns)


def _unfilled(node: str, order: Order) -> EcError:
    return EcError(
        f"node {node!r}: order {order.cl_order_id} ended {order.state.value} before it"
        f" filled ({order.filled_qty} of {order.qty}; advance_on=FILLED)"
    )
