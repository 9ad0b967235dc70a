"""Checks an action tree before it may trade: every defect is reported at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ec_core.strategy.action import ActionNode
from ec_core.strategy.errors import InvalidTreeError, TreeProblem

__all__ = ["resolve_tree"]

Edges = dict[str, tuple[tuple[str, Callable[..., bool], ActionNode], ...]]


def resolve_tree(
    root: ActionNode,
    *,
    overtime_cond: object | None,
    overtime_node: ActionNode | None,
    nodes: Iterable[ActionNode] = (),
    timeout_ns: object | None = None,
) -> tuple[dict[str, ActionNode], Edges]:
    """Return the nodes by name and the resolved branches of every node.

    Raises :class:`InvalidTreeError` listing every problem found: duplicate names,
    transitions to missing nodes, malformed transitions, cycles, nodes given in
    ``nodes`` that cannot be reached, an overtime node without a condition or a
    timeout (or the reverse), a timeout that is not a whole number of nanoseconds >= 0.
    """
    if (
        isinstance(root, ActionNode)
        and not root.transitions
        and overtime_node is None
        and overtime_cond is None
        and timeout_ns is None
        and isinstance(nodes, tuple)
        and not nodes
    ):
        # one node, nothing to check: a strategy's one-shot order action (built per action)
        return {root.name: root}, {root.name: ()}
    declared_nodes = tuple(nodes)
    given: list[tuple[str, object]] = [("root", root), *(("node", n) for n in declared_nodes)]
    if overtime_node is not None:
        given.append(("overtime_node", overtime_node))
    not_nodes = [
        TreeProblem(code="bad_node", nodes=(role,), detail=f"not an ActionNode: {node!r}")
        for role, node in given
        if not isinstance(node, ActionNode)
    ]
    if not_nodes:  # everything below walks nodes: stop before it trips on one
        raise InvalidTreeError(not_nodes)
    nodes = declared_nodes
    problems: list[TreeProblem] = []
    by_name: dict[str, ActionNode] = {}

    def register(node: ActionNode) -> None:
        known = by_name.get(node.name)
        if known is None:
            by_name[node.name] = node
        elif known is not node:
            problems.append(TreeProblem(code="duplicate_node", nodes=(node.name,)))

    # Every node object we can see: the declared ones, then those referenced by object.
    declared = list(nodes)
    stack: list[object] = [root, *declared]
    if overtime_node is not None:
        stack.append(overtime_node)
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if not isinstance(node, ActionNode):
            problems.append(
                TreeProblem(code="bad_transition", nodes=(repr(node),), detail="not an ActionNode")
            )
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        register(node)
        for _, value in _items(node):
            child = value[1] if isinstance(value, tuple) and len(value) == 2 else None
            if isinstance(child, ActionNode):
                stack.append(child)

    edges: Edges = {}
    for name, node in by_name.items():
        branches = []
        for branch, raw in _items(node):
            if not (isinstance(raw, tuple) and len(raw) == 2 and callable(raw[0])):
                problems.append(
                    TreeProblem(
                        code="bad_transition",
                        nodes=(name, branch),
                        detail="a transition must be (condition, child)",
                    )
                )
                continue
            cond, child = raw
            if isinstance(child, str):
                target = by_name.get(child)
                if target is None:
                    problems.append(
                        TreeProblem(
                            code="missing_node",
                            nodes=(name, child),
                            detail=f"branch {branch!r} names a node that does not exist",
                        )
                    )
                    continue
                child = target
            elif not isinstance(child, ActionNode):
                problems.append(
                    TreeProblem(
                        code="bad_transition",
                        nodes=(name, branch),
                        detail=f"child must be an ActionNode or a node name, got {child!r}",
                    )
                )
                continue
            branches.append((branch, cond, child))
        edges[name] = tuple(branches)

    if not any(p.code == "duplicate_node" for p in problems):  # names are ambiguous otherwise
        problems.extend(_cycles(root, overtime_node, edges))

    reachable: set[str] = set()
    walk = [root.name] + ([overtime_node.name] if overtime_node is not None else [])
    while walk:
        name = walk.pop()
        if name in reachable:
            continue
        reachable.add(name)
        walk.extend(child.name for _, _, child in edges.get(name, ()))
    for node in declared:
        if node.name not in reachable:
            problems.append(TreeProblem(code="unreachable_node", nodes=(node.name,)))

    if (overtime_node is None) != (overtime_cond is None and timeout_ns is None):
        problems.append(
            TreeProblem(
                code="overtime_incomplete",
                nodes=(overtime_node.name,) if overtime_node is not None else (),
                detail="give an overtime node and its condition or timeout_ns, or none of them",
            )
        )
    if timeout_ns is not None and (
        type(timeout_ns) is not int or timeout_ns < 0  # a bool is no timeout either
    ):
        problems.append(
            TreeProblem(
                code="overtime_incomplete",
                nodes=(),
                detail=f"timeout_ns must be an int of nanoseconds >= 0, got {timeout_ns!r}",
            )
        )
    if overtime_cond is not None and not callable(overtime_cond):
        problems.append(
            TreeProblem(code="overtime_incomplete", nodes=(), detail="overtime_cond not callable")
        )
    if problems:
        raise InvalidTreeError(problems)
    return by_name, edges


def _items(node: ActionNode) -> list[tuple[str, object]]:
    """Transitions as plain objects: user input is checked, not trusted to match the types."""
    return list(node.transitions.items())


def _cycles(root: ActionNode, overtime: ActionNode | None, edges: Edges) -> list[TreeProblem]:
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = dict.fromkeys(edges, white)
    found: list[TreeProblem] = []
    for start in [root.name] + ([overtime.name] if overtime is not None else []) + list(edges):
        if colour.get(start, white) != white:
            continue
        path: list[str] = [start]
        iters = [iter(edges.get(start, ()))]
        colour[start] = grey
        while iters:
            step = next(iters[-1], None)
            if step is None:
                colour[path.pop()] = black
                iters.pop()
                continue
            child = step[2].name
            state = colour.get(child, white)
            if state == grey:
                loop = [*path[path.index(child) :], child]
                found.append(TreeProblem(code="cycle", nodes=tuple(loop)))
            elif state == white:
                colour[child] = grey
                path.append(child)
                iters.append(iter(edges.get(child, ())))
    return found
